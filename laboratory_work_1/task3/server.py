r"""Задание 3: HTTP-сервер на «голом» сокете отдаёт страницу из index.html.

HTTP/1.1 — это текст поверх TCP. Браузер присылает «голову» запроса: строку
запроса (метод, путь, версия), заголовки и пустую строку, которая голову
заканчивает::

    GET / HTTP/1.1\r\n
    Host: 127.0.0.1:8080\r\n
    \r\n

Ответ устроен так же: строка статуса, заголовки, пустая строка и тело — байты
страницы. Длину тела сервер сообщает в Content-Length, и считается она в
БАЙТАХ: русская буква в UTF-8 занимает два байта, поэтому len(str) не годится.

Как работает сервер:

* страница читается из index.html рядом с server.py один раз при запуске
  (правка файла видна после перезапуска сервера);
* каждое соединение обслуживает отдельный поток: пока один клиент тянет
  с запросом, остальные получают страницу сразу;
* голова запроса читается кусками, пока не придёт пустая строка: TCP — поток
  байтов, и запрос может прийти по частям; голова длиннее MAX_HEAD_BYTES —
  ответ 431; клиент, который молчит дольше --timeout секунд, отключается;
* строки головы кончаются на \r\n, но принимается и одиночный \n (RFC 9112
  это разрешает): так пишет обычный nc, без ключа -C;
* страница отдаётся по путям / и /index.html (строка запроса ?x=1 не мешает),
  на остальные пути — 404. Файлы по пути из запроса сервер не открывает
  вовсе, поэтому «GET /../server.py» ничего лишнего не выдаст;
* методы GET и HEAD (HEAD — те же заголовки, но без тела), остальные — 405
  с заголовком Allow; непонятная строка запроса — 400;
* один запрос — одно соединение: в ответе Connection: close, после ответа
  сервер закрывает соединение.
"""

import argparse
import logging
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Рядом с server.py, а не в cwd.
PAGE_FILE = Path(__file__).resolve().with_name("index.html")
PAGE_PATHS = ("/", "/index.html")  # пути, по которым отдаётся страница
ALLOWED_METHODS = ("GET", "HEAD")
# Строка запроса + заголовки + пустая строка; больше — ответ 431.
MAX_HEAD_BYTES = 8 * 1024
READ_TIMEOUT = 10.0  # секунд ждём очередной кусок запроса (по умолчанию для --timeout)
# Секунд ждём очередной кусок, дочитывая лишнее после ответа (finish()).
LINGER_TIMEOUT = 1.0
LINGER_BYTES = 64 * 1024  # и не больше стольких байтов
LINGER_SECONDS = 2.0  # и не дольше стольких секунд в сумме
RECV_SIZE = 4096
HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
# Строка запроса: МЕТОД, пробел, путь из видимых ASCII-символов, пробел, версия.
# Пробелы, управляющие символы и кириллицу браузер в пути кодирует как %XX.
REQUEST_LINE = re.compile(r"([A-Z]+) (/[!-~]*) (HTTP/1\.[01])")
# Пустая строка в конце головы: \r\n\r\n, а от nc без -C — \n\n.
HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass
class Response:
    """HTTP-ответ: статус, тело в байтах, его тип и дополнительные заголовки."""

    status: HTTPStatus
    body: bytes
    content_type: str = TEXT_TYPE
    headers: tuple[str, ...] = ()

    def encode(self, with_body: bool = True) -> bytes:
        lines = [
            f"HTTP/1.1 {self.status.value} {self.status.phrase}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",  # в байтах, а не в символах
            "Connection: close",
            *self.headers,
        ]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        return head + self.body if with_body else head  # на HEAD — только голова


class HttpError(Exception):
    """Запрос не обслужить: готовый ответ-ошибка с коротким пояснением."""

    def __init__(
        self, status: HTTPStatus, message: str, headers: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        text = f"{status.value} {status.phrase}: {message}\n"
        self.response = Response(status, text.encode("utf-8"), TEXT_TYPE, headers)


def read_head(conn: socket.socket) -> bytes:
    """Читает запрос до пустой строки и возвращает голову без неё."""
    received = b""
    # Копим куски, пока не придёт пустая строка, но не больше предела.
    while not HEAD_END.search(received) and len(received) < MAX_HEAD_BYTES:
        chunk = conn.recv(RECV_SIZE)
        if not chunk:  # клиент закрыл соединение, не договорив
            raise ConnectionError("клиент ушёл, не прислав запрос целиком")
        received += chunk
    end = HEAD_END.search(received)
    # Последний кусок мог перевалить за предел: меряем саму голову,
    # а не только накопленное.
    if end is None or end.end() > MAX_HEAD_BYTES:
        raise HttpError(
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
            f"голова запроса длиннее {MAX_HEAD_BYTES} байт",
        )
    return received[: end.start()]


def parse_request_line(head: bytes) -> tuple[str, str]:
    """Из головы запроса — метод и путь; непонятная строка запроса — 400."""
    # \r перед \n — часть конца строки.
    first_line = head.split(b"\n", 1)[0].removesuffix(b"\r")
    request_line = first_line.decode("latin-1")  # latin-1 декодирует любые байты
    match = REQUEST_LINE.fullmatch(request_line)
    if match is None:
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            "строка запроса должна выглядеть как «GET / HTTP/1.1»",
        )
    method, target, _version = match.groups()
    return method, target


def choose_response(method: str, target: str, page: bytes) -> Response:
    """Решает, что ответить на метод и путь: страницу, 405 или 404."""
    if method not in ALLOWED_METHODS:
        raise HttpError(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"метод {method} не поддерживается",
            (f"Allow: {', '.join(ALLOWED_METHODS)}",),
        )
    path = target.split("?", 1)[0]  # строка запроса ?x=1 на выбор страницы не влияет
    if path not in PAGE_PATHS:
        raise HttpError(HTTPStatus.NOT_FOUND, "такой страницы нет")
    return Response(HTTPStatus.OK, page, HTML_TYPE)


def finish(conn: socket.socket) -> None:
    """Закрывает соединение так, чтобы ответ дошёл до клиента целиком.

    Если закрыть сокет, в котором остались непрочитанные байты (например,
    хвост слишком длинного запроса), ядро пошлёт клиенту RST, и тот может
    потерять ещё не прочитанный ответ. Поэтому сначала говорим «я всё»
    (shutdown на запись), а потом недолго дочитываем то, что клиент ещё шлёт.
    """
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(LINGER_TIMEOUT)
        # Общий срок: и капающий по байту клиент не держит поток.
        deadline = time.monotonic() + LINGER_SECONDS
        drained = 0
        while drained < LINGER_BYTES and time.monotonic() < deadline:
            chunk = conn.recv(RECV_SIZE)
            if not chunk:  # клиент тоже закрыл соединение
                break
            drained += len(chunk)
    except OSError:
        pass  # клиент уже ушёл или молчит — ответ всё равно отправлен


def serve_client(
    conn: socket.socket, address: tuple[str, int], page: bytes, timeout: float
) -> None:
    """Обслуживает одно соединение (в своём потоке): запрос, ответ, закрытие."""
    peer = f"{address[0]}:{address[1]}"
    with conn:
        try:
            conn.settimeout(timeout)  # молчащий клиент не держит поток вечно
            method, target = "-", "-"  # пока строка запроса не разобрана
            try:
                head = read_head(conn)
                method, target = parse_request_line(head)
                response = choose_response(method, target, page)
            except HttpError as error:
                response = error.response
            conn.sendall(response.encode(with_body=method != "HEAD"))
            logging.info("%s %s %s → %d", peer, method, target, response.status)
            finish(conn)
        except TimeoutError:
            logging.info("%s молчит дольше %g с — закрываем соединение", peer, timeout)
        except OSError as error:
            logging.info("%s: соединение оборвалось (%s)", peer, error)


def open_listener(host: str, port: int) -> socket.socket:
    """Создаёт слушающий TCP-сокет."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":
            # Перезапуск сразу после остановки: старые соединения в TIME_WAIT
            # не держат порт.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen()
    except OSError:
        listener.close()
        raise
    return listener


def port_number(text: str) -> int:
    """Тип аргумента --port: целое от 0 до 65535."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 0 до 65535")
    return port


def positive_seconds(text: str) -> float:
    """Тип аргумента --timeout: число секунд больше нуля и не больше часа."""
    seconds = float(text)
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("таймаут должен быть от 0 до 3600 секунд")
    return seconds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="HTTP-сервер задания 3: отдаёт страницу index.html по HTTP/1.1."
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="адрес, на котором слушать (по умолчанию %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="TCP-порт (по умолчанию %(default)s; 0 — любой свободный)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=READ_TIMEOUT,
        help="сколько секунд ждать запрос от клиента (по умолчанию %(default)g)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl+C — даже при запуске из скрипта с &: там SIGINT «игнорируется».
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        page = PAGE_FILE.read_bytes()  # байты как есть: их длина и есть Content-Length
    except OSError as error:
        print(
            f"Ошибка: не удалось прочитать страницу {PAGE_FILE}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    try:
        listener = open_listener(args.host, args.port)
    except OSError as error:
        print(
            f"Ошибка: не удалось занять {args.host}:{args.port}: "
            f"{error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    host, port = listener.getsockname()
    logging.info(
        "Сервер слушает %s:%d — откройте http://%s:%d/ в браузере",
        host,
        port,
        host,
        port,
    )
    with listener:
        try:
            while True:
                conn, address = listener.accept()
                # Поток-демон: при остановке сервера недообслуженные соединения
                # просто закроются.
                threading.Thread(
                    target=serve_client,
                    args=(conn, address, page, args.timeout),
                    daemon=True,
                ).start()
        except KeyboardInterrupt:
            logging.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
