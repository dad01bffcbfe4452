"""Подмешивается в сервер чата через PYTHONPATH: селектор — как на Windows.

DefaultSelector — select, и select, как в Windows, не берёт больше 512 сокетов
сразу (ValueError). Так на Linux видно, что шаг 6 не даёт обработчику больше
сокетов, чем select в Windows выдержит."""

import selectors

WINDOWS_LIMIT = 512
_select = selectors.SelectSelector.select


def select(self, timeout=None):
    if len(self._readers | self._writers) > WINDOWS_LIMIT:
        raise ValueError("too many file descriptors in select()")
    return _select(self, timeout)


selectors.SelectSelector.select = select
selectors.DefaultSelector = selectors.SelectSelector
