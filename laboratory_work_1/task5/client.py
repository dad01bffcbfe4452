r"""Задание 5: клиент журнала оценок — POST и GET через «голый» сокет.

Две команды:

* ``client.py add ДИСЦИПЛИНА ОЦЕНКА`` — отправляет оценку так же, как форма
  в браузере: POST / с телом ``discipline=…&grade=…`` в кодировке
  application/x-www-form-urlencoded (кириллица — байты UTF-8 в виде %XX).
  Сервер отвечает 303 — оценка сохранена; 400 — форма не прошла проверку
  (409 — журнал полон), и клиент печатает сообщение сервера со страницы;
* ``client.py list`` — запрашивает GET /grades.json (те же оценки, что на
  странице, но в JSON — разбирать его проще и надёжнее, чем HTML) и печатает
  их по дисциплинам: «Физика: 5, 4».

Оценку клиент сам не проверяет: это дело сервера (запрос можно послать
и без нашего клиента). Каждый запрос — своё соединение (Connection: close):
клиент отправляет запрос и читает ответ, пока сервер не закроет соединение.
Ctrl+C, пока ответа нет, — «Прервано.» и код 0. Частые сбои связи —
одна строка «Ошибка: …» по-русски и код 1.
"""

import argparse
import errno
import html
import json
import re
import socket
import sys
from urllib.parse import urlencode

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
TIMEOUT = 10.0  # секунд ждём соединения и каждого куска ответа
RECV_SIZE = 4096
FORM_TYPE = "application/x-www-form-urlencoded"
# Сообщение сервера на странице с ошибкой формы (статус 400 или 409).
ERROR_MESSAGE = re.compile(r'<p class="error">(.*?)</p>', re.DOTALL)


def build_request(
    host: str, port: int, method: str, path: str, body: bytes = b""
) -> bytes:
    """Запрос целиком: голова и (для POST) тело формы."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    if method == "POST":
        lines += [
            f"Content-Type: {FORM_TYPE}",
            f"Content-Length: {len(body)}",  # длина в байтах
        ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def parse_response(raw: bytes) -> tuple[int, str, bytes]:
    """Делит ответ на код статуса, строку статуса и тело
    (ровно Content-Length байтов)."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ValueError("в ответе нет пустой строки после заголовков")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)  # «HTTP/1.1», «303», «See Other»
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
    return int(parts[1]), status_line, body


def exchange(host: str, port: int, request: bytes) -> tuple[int, str, bytes]:
    """Отправляет запрос и читает ответ, пока сервер не закроет соединение."""
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(RECV_SIZE):
            chunks.append(chunk)
    return parse_response(b"".join(chunks))


def add_grade(args: argparse.Namespace) -> int:
    """Команда add: POST / с формой; 303 — сохранено, 400 — сообщение сервера."""
    body = urlencode({"discipline": args.discipline, "grade": args.grade}).encode(
        "ascii"
    )
    status, status_line, page = exchange(
        args.host, args.port, build_request(args.host, args.port, "POST", "/", body)
    )
    if status == 303:  # See Other: сохранено, сервер отправляет на страницу журнала
        print(f"Оценка сохранена: {args.discipline} — {args.grade}")
        return 0
    found = ERROR_MESSAGE.search(page.decode("utf-8", errors="replace"))
    reason = (
        html.unescape(found.group(1)) if found else f"сервер ответил «{status_line}»"
    )
    print(f"Ошибка: {reason}", file=sys.stderr)
    return 1


def is_grades(data: object) -> bool:
    """Похоже ли присланное на журнал: объект, где у каждой дисциплины список целых."""
    return isinstance(data, dict) and all(
        isinstance(marks, list) and all(type(mark) is int for mark in marks)  # не True
        for marks in data.values()
    )


def list_grades(args: argparse.Namespace) -> int:
    """Команда list: GET /grades.json и печать оценок по дисциплинам."""
    status, status_line, body = exchange(
        args.host, args.port, build_request(args.host, args.port, "GET", "/grades.json")
    )
    if status != 200:
        print(f"Ошибка: сервер ответил «{status_line}»", file=sys.stderr)
        return 1
    grades = json.loads(body.decode("utf-8"))  # {"Физика": [5, 4], …}
    if not is_grades(grades):
        raise ValueError("в /grades.json не объект «дисциплина: [оценки]»")
    if not grades:
        print("Оценок пока нет.")
    for discipline, marks in grades.items():
        print(f"{discipline}: {', '.join(str(mark) for mark in marks)}")
    return 0


def port_number(text: str) -> int:
    """Тип аргумента --port: целое от 1 до 65535."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 1 до 65535")
    return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="Клиент задания 5: добавляет и показывает оценки."
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
    commands = parser.add_subparsers(dest="command", required=True, metavar="КОМАНДА")
    add = commands.add_parser("add", help="добавить оценку: add ДИСЦИПЛИНА ОЦЕНКА")
    add.add_argument("discipline", metavar="ДИСЦИПЛИНА", help="название дисциплины")
    add.add_argument("grade", metavar="ОЦЕНКА", help="оценка от 2 до 5")
    add.set_defaults(run=add_grade)
    show = commands.add_parser("list", help="показать все оценки по дисциплинам")
    show.set_defaults(run=list_grades)
    return parser.parse_args(argv)


def connection_problem(error: OSError, host: str, address: str) -> str:
    """Частые сбои связи — одной строкой по-русски."""
    if isinstance(error, ConnectionRefusedError):
        return f"{address} не принимает соединения — сервер запущен?"
    if isinstance(error, TimeoutError):
        return f"сервер {address} не ответил за {TIMEOUT:g} с"
    if isinstance(error, socket.gaierror):
        return f"не удалось найти адрес «{host}»"
    if isinstance(error, (ConnectionResetError, ConnectionAbortedError)):
        return f"сервер {address} оборвал соединение"
    if isinstance(error, BrokenPipeError):
        return f"сервер {address} закрыл соединение, не дочитав запрос"
    if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"до {address} нет пути — сеть недоступна"
    return f"нет связи с {address}: {error.strerror or error}"


def main(argv: list[str] | None = None) -> int:
    # Символ, которого нет в кодировке терминала (cp1251, cp866), — «?», а не сбой.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(errors="replace")
    args = parse_args(argv)
    address = f"{args.host}:{args.port}"
    try:
        return args.run(args)
    except KeyboardInterrupt:  # Ctrl+C, пока ждём сервер, — не ошибка
        print("Прервано.", file=sys.stderr)
        return 0
    except OSError as error:
        print(
            f"Ошибка: {connection_problem(error, args.host, address)}", file=sys.stderr
        )
    except ValueError as error:
        # Битый HTTP-ответ, не-JSON или не журнал в /grades.json.
        print(f"Ошибка: непонятный ответ сервера: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
