"""Подмешивается в клиент чата через PYTHONPATH: в библиотеке под readline нет
rl_clear_visible_line — как в libedit на macOS или в GNU readline старше 7.0.
Клиент тогда сам считает, сколько строк экрана занимает строка ввода.
"""

import ctypes


class WithoutClearLine(ctypes.CDLL):
    def __getattr__(self, name: str):
        if name == "rl_clear_visible_line":
            raise AttributeError(name)
        return super().__getattr__(name)


ctypes.CDLL = WithoutClearLine
