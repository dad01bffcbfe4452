"""Подмешивается в сервер чата через PYTHONPATH: ошибка в коде обработчика.

Селектор, в котором есть соединение клиента (не только будильник), бросает
RuntimeError в первом же select — так поток-обработчик шага 6 падает на ошибке,
которой в сервере быть не должно."""

import selectors

_Selector = selectors.DefaultSelector


class FaultySelector(_Selector):
    def select(self, timeout=None):
        if len(self.get_map()) > 1:
            raise RuntimeError("сбой для теста: ошибка в коде обработчика")
        return super().select(timeout)


selectors.DefaultSelector = FaultySelector
