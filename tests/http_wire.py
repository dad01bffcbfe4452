"""HTTP «на проводе» для тестов заданий 3 и 5: сырой запрос → байты ответа → разбор.

Тесты нарочно не пользуются http.client: им нужно слать запросы по частям,
с мусором и без обязательных заголовков, и видеть ответ байт в байт.
"""

from __future__ import annotations

import socket
import time


def exchange(
    port: int, *pieces: bytes, pause: float = 0.0, timeout: float = 10.0
) -> bytes:
    """Шлёт куски запроса (с паузами между ними) и читает ответ до закрытия
    соединения."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # Каждый кусок — свой сегмент
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for index, piece in enumerate(pieces):
            if index and pause:
                time.sleep(pause)
            sock.sendall(piece)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def split(raw: bytes, head_request: bool = False) -> tuple[str, dict[str, str], bytes]:
    """Ответ → строка статуса, заголовки (имена в нижнем регистре), тело."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    assert separator, raw
    status_line, *lines = head.decode("ascii").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if not head_request:  # на HEAD тела нет, а Content-Length — как у GET
        assert headers.get("content-length") == str(len(body)), (
            "Content-Length — это длина тела в байтах"
        )
    return status_line, headers, body


def get(
    port: int, target: str = "/", method: str = "GET"
) -> tuple[str, dict[str, str], bytes]:
    request = f"{method} {target} HTTP/1.1\r\nHost: test\r\n\r\n".encode("ascii")
    return split(exchange(port, request), head_request=method == "HEAD")


def padded_get(size: int) -> bytes:
    """GET-запрос ровно в size байт вместе с пустой строкой: длину добирает заголовок
    X-Filler."""
    start, end = b"GET / HTTP/1.1\r\nX-Filler: ", b"\r\n\r\n"
    return start + b"a" * (size - len(start) - len(end)) + end


def read_request(conn: socket.socket) -> bytes:
    """Поддельный сервер читает голову запроса клиента (до пустой строки)."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = conn.recv(4096)
        assert chunk, f"клиент закрыл соединение, прислав {received!r}"
        received += chunk
    return received


def trickle_after_answer(
    port: int, request: bytes, limit: float = 8.0
) -> tuple[bytes, float]:
    """Получает ответ, потом шлёт по байту раз в 0,1 с, пока сервер не оборвёт
    соединение.

    Возвращает ответ и сколько секунд сервер терпел капли после него: дочитывание
    перед закрытием должно быть ограничено и по времени, а не только по объёму.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):  # ответ и FIN: сервер сказал всё
            answer += chunk
        started = time.monotonic()
        try:
            while time.monotonic() - started < limit:
                sock.send(b"x")  # по байту — чаще, чем истекает таймаут одного recv
                time.sleep(0.1)
        except OSError:  # сервер закрыл сокет: на новые байты ядро ответило RST
            return answer, time.monotonic() - started
    raise AssertionError(f"сервер принимал байты после ответа дольше {limit} с")
