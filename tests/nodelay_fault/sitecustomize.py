"""Подмешивается в сервер чата через PYTHONPATH: первый setsockopt(TCP_NODELAY)
падает с EINVAL — так macOS отвечает на сокет, который клиент успел оборвать,
пока соединение ждало в очереди listen. На Linux этого не воспроизвести иначе."""

import errno
import socket

_setsockopt = socket.socket.setsockopt
_failed = False


def setsockopt(self, level, option, value, *rest):
    global _failed
    if option == socket.TCP_NODELAY and not _failed:
        _failed = True
        raise OSError(errno.EINVAL, "Invalid argument")
    return _setsockopt(self, level, option, value, *rest)


socket.socket.setsockopt = setsockopt
