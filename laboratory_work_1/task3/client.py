r"""Задание 3: клиент скачивает страницу по HTTP через «голый» сокет.

Клиент делает то же, что браузер, только без отрисовки:

1. открывает TCP-соединение с сервером;
2. отправляет голову GET-запроса: строку запроса, заголовки Host и
   Connection: close и пустую строку (тела у GET нет);
3. читает ответ, пока сервер не закроет соединение (Connection: close
   обещает, что после ответа сервер закроет его сам);
4. делит ответ по первой пустой строке на голову и тело, берёт из тела ровно
   Content-Length байтов (если заголовок есть) и декодирует их из UTF-8.

Печатает строку статуса, пустую строку и страницу. Код выхода 0 — сервер
ответил 200, иначе 1 (и строка «Ошибка: …» в stderr). Ctrl+C, пока ответа
нет, — «Прервано.» и код 0. Символ, которого нет в кодировке консоли
(например, «—» в cp866), печатается как «?», а не роняет клиента.
"""

import argparse
import errno
import socket
import sys
from urllib.parse import quote

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
TIMEOUT = 10.0  # секунд ждём соединения и каждого куска ответа
RECV_SIZE = 4096


def build_request(host: str, port: int, path: str) -> bytes:
    """Голова GET-запроса; пустая строка в конце говорит «запрос окончен»."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",  # в HTTP/1.1 обязателен
        "User-Agent: lab1-task3-client",
        "Connection: close",  # один запрос — одно соединение
        "",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def receive_all(sock: socket.socket) -> bytes:
    """Читает, пока сервер не закроет соединение (recv вернёт b"")."""
    chunks = []
    while chunk := sock.recv(RECV_SIZE):
        chunks.append(chunk)
    return b"".join(chunks)


def parse_response(raw: bytes) -> tuple[str, int, bytes]:
    """Делит ответ на строку статуса, код статуса и тело
    (ровно Content-Length байтов)."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ValueError("в ответе нет пустой строки после заголовков")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)  # «HTTP/1.1», «200», «OK»
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"непонятная строка статуса «{status_line}»")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        if len(body) < length:
            raise ValueError(f"ответ оборван: пришло {len(body)} байт из {length}")
        body = body[:length]
    return status_line, int(parts[1]), body


def request_path(text: str) -> str:
    """Тип аргумента --path: путь от «/»; пробелы и кириллицу кодируем как %XX,
    как браузер."""
    if not text.startswith("/"):
        raise argparse.ArgumentTypeError("путь должен начинаться с «/»")
    return quote(text, safe="/?&=%:@+,;")


def port_number(text: str) -> int:
    """Тип аргумента --port: целое от 1 до 65535."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 1 до 65535")
    return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="Клиент задания 3: скачивает страницу по HTTP и печатает её."
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="адрес сервера (по умолчанию %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="порт сервера (по умолчанию %(default)s)",
    )
    parser.add_argument(
        "--path",
        type=request_path,
        default="/",
        help="путь страницы на сервере (по умолчанию %(default)s)",
    )
    return parser.parse_args(argv)


def network_problem(error: OSError, host: str, address: str) -> str:
    """Сбой сети → понятная русская строка вместо «[Errno 111] …» от ОС."""
    if isinstance(error, socket.gaierror):  # DNS не знает такого имени
        return f"не удалось найти узел «{host}» — имя написано верно?"
    if isinstance(error, ConnectionRefusedError):
        return f"{address} не принимает соединения — сервер запущен?"
    if isinstance(error, TimeoutError):
        return f"сервер {address} не ответил за {TIMEOUT:g} с"
    if isinstance(error, (ConnectionResetError, ConnectionAbortedError)):
        return f"сервер {address} оборвал соединение"
    if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"узел {address} недоступен: нет пути по сети"
    return f"не удалось получить страницу с {address}: {error.strerror or error}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Консоль Windows в cp866 или cp1251 не знает «—» и эмодзи: пусть будет «?»,
    # а не UnicodeEncodeError посреди страницы.
    sys.stdout.reconfigure(errors="replace")
    address = f"{args.host}:{args.port}"
    try:
        with socket.create_connection((args.host, args.port), timeout=TIMEOUT) as sock:
            sock.sendall(build_request(args.host, args.port, args.path))
            raw = receive_all(sock)
    except KeyboardInterrupt:  # Ctrl+C, пока ждём сервер, — не ошибка
        print("Прервано.", file=sys.stderr)
        return 0
    except OSError as error:
        print(f"Ошибка: {network_problem(error, args.host, address)}", file=sys.stderr)
        return 1
    try:
        status_line, status, body = parse_response(raw)
    except ValueError as error:
        print(f"Ошибка: непонятный ответ сервера: {error}", file=sys.stderr)
        return 1
    print(status_line)
    print()
    print(body.decode("utf-8", errors="replace").rstrip("\n"))
    if status != 200:
        print(f"Ошибка: сервер ответил «{status_line}»", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
