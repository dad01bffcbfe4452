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
  с запросом, остальные получают страницу сразу; соединений одновременно не
  больше --max-clients, лишним — ответ 503 с Retry-After;
* голова запроса читается кусками, пока не придёт пустая строка: TCP — поток
  байтов, и запрос может прийти по частям; голова длиннее MAX_HEAD_BYTES —
  ответ 431; не пришла целиком за --head-timeout секунд — 408, а клиент, не
  приславший ни байта, просто отключается;
* строки головы кончаются на \r\n, но принимается и одиночный \n (RFC 9112
  это разрешает): так пишет обычный nc, без ключа -C;
* заголовки проверяются, как RFC 9112 требует от сервера: ровно один Host,
  без пробела перед двоеточием, непротиворечивая длина тела — иначе 400;
* страница отдаётся по путям / и /index.html (строка запроса ?x=1 не мешает,
  абсолютный URL http://хост/ — тоже), на остальные пути — 404. Файлы по пути
  из запроса сервер не открывает вовсе, поэтому «GET /../server.py» ничего
  лишнего не выдаст;
* методы GET и HEAD (HEAD — те же заголовки, но без тела), остальные — 405
  с заголовком Allow; непонятная строка запроса — 400;
* один запрос — одно соединение: в ответе Connection: close, после ответа
  сервер закрывает соединение.
"""

import argparse
import errno
import logging
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Рядом с server.py, а не в cwd.
PAGE_FILE = Path(__file__).resolve().with_name("index.html")
PAGE_PATHS = ("/", "/index.html")  # пути, по которым отдаётся страница
ALLOWED_METHODS = ("GET", "HEAD")
# Строка запроса + заголовки + пустая строка; больше — ответ 431.
MAX_HEAD_BYTES = 8 * 1024
# Секунд на всю голову запроса, как бы медленно ни капали байты (--head-timeout).
HEAD_TIMEOUT = 20.0
SEND_TIMEOUT = 10.0  # секунд ждём, пока ответ уйдёт клиенту
MAX_CLIENTS = 100  # соединений одновременно (--max-clients); лишним — 503
RETRY_AFTER = 1  # через столько секунд просим повторить запрос после 503
ACCEPT_TICK = 0.5  # accept ждёт не дольше: иначе на Windows не прервать Ctrl+C
ACCEPT_PAUSE = 0.1  # пауза после сбоя accept: ресурсы не освобождаются мгновенно
ACCEPT_LOG_INTERVAL = 10.0  # о сбоях accept пишем не чаще раза в столько секунд
# Сбои accept, когда у процесса или системы кончились дескрипторы или память:
# сервер не виноват, нужно переждать, пока соединения закроются.
OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
# Секунд ждём очередной кусок, дочитывая лишнее после ответа (finish()).
LINGER_TIMEOUT = 1.0
LINGER_BYTES = 64 * 1024  # и не больше стольких байтов
LINGER_SECONDS = 2.0  # и не дольше стольких секунд в сумме
RECV_SIZE = 4096
HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
# Строка запроса: МЕТОД, пробел, цель, пробел, версия. Цель — путь от «/» или
# абсолютный URL, из видимых ASCII-символов: пробелы, управляющие символы и
# кириллицу браузер в пути кодирует как %XX.
REQUEST_LINE = re.compile(r"([A-Z]+) (/[!-~]*|https?://[!-~]+) (HTTP/1\.[01])")
# Имя заголовка — token (RFC 9110 §5.1): латиница, цифры и !#$%&'*+-.^_`|~.
FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Значение: видимые символы, пробел, табуляция и байты 0x80–0xFF (RFC 9110 §5.5).
FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
DIGITS = re.compile(r"[0-9]+")
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
            # RFC 9110 §6.6.1: сервер с часами обязан слать Date в каждом ответе.
            f"Date: {formatdate(usegmt=True)}",
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


class NoRequest(Exception):
    """Клиент соединился, но за отведённый срок не прислал ни байта."""


def receive_before(conn: socket.socket, deadline: float) -> bytes:
    """recv, который ждёт не дольше срока deadline (по часам time.monotonic)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    conn.settimeout(left)
    return conn.recv(RECV_SIZE)


def read_head(conn: socket.socket, head_timeout: float) -> bytes:
    """Читает запрос до пустой строки и возвращает голову без неё."""
    # Срок на всю голову, а не на каждый recv: иначе клиент, присылающий
    # по байту в секунду, держал бы поток часами.
    deadline = time.monotonic() + head_timeout
    received = b""
    # Копим куски, пока не придёт пустая строка, но не больше предела.
    while not HEAD_END.search(received) and len(received) < MAX_HEAD_BYTES:
        try:
            chunk = receive_before(conn, deadline)
        except TimeoutError:
            if not received:  # ни байта: браузеры так держат соединения про запас
                raise NoRequest from None
            raise HttpError(
                HTTPStatus.REQUEST_TIMEOUT,
                f"голова запроса не пришла целиком за {head_timeout:g} с",
            ) from None
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


def head_lines(head: bytes) -> list[str]:
    """Голова → строки без концов строк; latin-1 декодирует любые байты."""
    return [line.removesuffix("\r") for line in head.decode("latin-1").split("\n")]


def parse_request_line(line: str) -> tuple[str, str, str]:
    """Строка запроса → метод, цель, версия; непонятная строка — 400."""
    match = REQUEST_LINE.fullmatch(line)
    if match is None:
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            "строка запроса должна выглядеть как «GET / HTTP/1.1»",
        )
    method, target, version = match.groups()
    return method, target, version


def parse_fields(lines: list[str]) -> dict[str, list[str]]:
    """Строки заголовков → {имя в нижнем регистре: все его значения}."""
    fields: dict[str, list[str]] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        # RFC 9112 §5.1: пробел перед двоеточием — 400 (прокси мог понять иначе).
        # RFC 9112 §5.2: строка-продолжение с пробелом в начале — тоже 400.
        if not colon or not FIELD_NAME.fullmatch(name):
            raise HttpError(
                HTTPStatus.BAD_REQUEST,
                "заголовок должен выглядеть как «Имя: значение», "
                "без пробелов в имени и перед двоеточием",
            )
        value = value.strip(" \t")
        # RFC 9110 §5.5: CR, LF, NUL и другие управляющие символы в значении — 400.
        if not FIELD_VALUE.fullmatch(value):
            raise HttpError(
                HTTPStatus.BAD_REQUEST, f"в значении заголовка {name} лишние символы"
            )
        fields.setdefault(name.lower(), []).append(value)
    return fields


def check_host(fields: dict[str, list[str]], version: str) -> None:
    """Host обязателен в HTTP/1.1 и может быть только один."""
    hosts = fields.get("host", [])
    # RFC 9112 §3.2: HTTP/1.1 без Host или больше одного Host — 400.
    if len(hosts) > 1 or (version == "HTTP/1.1" and not hosts):
        raise HttpError(HTTPStatus.BAD_REQUEST, "нужен ровно один заголовок Host")


def check_body_length(fields: dict[str, list[str]], version: str) -> None:
    """Проверяет заголовки, которые задают длину тела запроса.

    Тело сервер не читает, но по этим заголовкам каждый участник пути (прокси,
    сервер) решает, где кончается запрос, и разночтение между ними позволяет
    спрятать в теле второй запрос («request smuggling»).
    """
    lengths = fields.get("content-length", [])
    encodings = fields.get("transfer-encoding", [])
    if encodings:
        # RFC 9112 §6.1: Transfer-Encoding в запросе HTTP/1.0 — длина испорчена.
        if version == "HTTP/1.0":
            raise HttpError(HTTPStatus.BAD_REQUEST, "Transfer-Encoding в HTTP/1.0")
        # RFC 9112 §6.1: и Transfer-Encoding, и Content-Length — сервер вправе
        # отказать; отказываем (400).
        if lengths:
            raise HttpError(
                HTTPStatus.BAD_REQUEST, "и Transfer-Encoding, и Content-Length"
            )
        codings = [c.strip().lower() for value in encodings for c in value.split(",")]
        unknown = [coding for coding in codings if coding and coding != "chunked"]
        # RFC 9112 §6.1: незнакомое кодирование передачи — 501.
        if unknown:
            raise HttpError(
                HTTPStatus.NOT_IMPLEMENTED,
                f"кодирование передачи {unknown[0]} не поддерживается",
            )
        # RFC 9112 §6.3: chunked должен быть последним, и применяют его один раз.
        if codings != ["chunked"]:
            raise HttpError(HTTPStatus.BAD_REQUEST, "Transfer-Encoding: только chunked")
    # RFC 9112 §6.3: несколько Content-Length или не число — 400.
    elif len(lengths) > 1 or (lengths and not DIGITS.fullmatch(lengths[0])):
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "Content-Length — одно неотрицательное число"
        )


def target_path(target: str) -> str:
    """Путь из цели запроса: «/a?x=1» → «/a», «http://хост:8080/a» → «/a»."""
    if target.startswith("/"):
        return target.split("?", 1)[0]  # строка запроса ?x=1 страницу не выбирает
    # RFC 9112 §3.2.2: сервер обязан принимать и абсолютный URL (так шлют прокси).
    try:
        return urlsplit(target).path or "/"
    except ValueError:  # например, «http://[» — незакрытая скобка адреса IPv6
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "непонятный URL в строке запроса"
        ) from None


def choose_response(method: str, target: str, page: bytes) -> Response:
    """Решает, что ответить на метод и путь: страницу, 405 или 404."""
    if method not in ALLOWED_METHODS:
        raise HttpError(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"метод {method} не поддерживается",
            (f"Allow: {', '.join(ALLOWED_METHODS)}",),
        )
    if target_path(target) not in PAGE_PATHS:
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
    conn: socket.socket,
    address: tuple[str, int],
    page: bytes,
    head_timeout: float,
    slots: threading.BoundedSemaphore,
) -> None:
    """Обслуживает одно соединение (в своём потоке): запрос, ответ, закрытие."""
    peer = f"{address[0]}:{address[1]}"
    try:
        with conn:
            method, target = "-", "-"  # пока строка запроса не разобрана
            try:
                first_line, *field_lines = head_lines(read_head(conn, head_timeout))
                method, target, version = parse_request_line(first_line)
                fields = parse_fields(field_lines)
                check_host(fields, version)
                check_body_length(fields, version)
                response = choose_response(method, target, page)
            except HttpError as error:
                response = error.response
            conn.settimeout(SEND_TIMEOUT)
            conn.sendall(response.encode(with_body=method != "HEAD"))
            logging.info("%s %s %s → %d", peer, method, target, response.status)
            finish(conn)
    except NoRequest:
        logging.info("%s молчит дольше %g с — закрываем соединение", peer, head_timeout)
    except OSError as error:
        logging.info("%s: соединение оборвалось (%s)", peer, error)
    finally:
        slots.release()  # место занимает главный поток, освобождает — этот


def turn_away(conn: socket.socket) -> None:
    """Отвечает 503 прямо из главного потока и закрывает соединение.

    Главный поток не должен ждать клиента ни мгновения, поэтому сокет
    неблокирующий: ответ в пару сотен байт сразу ложится в пустой буфер ядра.
    """
    busy = HttpError(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "сервер перегружен, повторите запрос позже",
        (f"Retry-After: {RETRY_AFTER}",),
    )
    with conn:
        conn.setblocking(False)
        try:
            conn.send(busy.response.encode())
            conn.shutdown(socket.SHUT_WR)
            # Уже пришедший запрос вычитываем: закрыть сокет с непрочитанными
            # байтами — значит послать RST (см. finish()).
            for _ in range(LINGER_BYTES // RECV_SIZE):
                if not conn.recv(RECV_SIZE):
                    break
        except OSError:
            pass  # больше ничего не пришло (BlockingIOError) или клиент ушёл


def start_client(
    conn: socket.socket,
    address: tuple[str, int],
    page: bytes,
    head_timeout: float,
    slots: threading.BoundedSemaphore,
) -> None:
    """Отдаёт соединение новому потоку, если есть место и система даёт поток."""
    peer = f"{address[0]}:{address[1]}"
    if not slots.acquire(blocking=False):  # все места заняты — ждать не будем
        logging.warning("%s: все места заняты — ответ 503", peer)
        turn_away(conn)
        return
    # Поток-демон: при остановке сервера недообслуженные соединения
    # просто закроются.
    thread = threading.Thread(
        target=serve_client,
        args=(conn, address, page, head_timeout, slots),
        daemon=True,
    )
    try:
        thread.start()
    except RuntimeError:  # система не дала потока: кончилась память
        slots.release()
        logging.error("%s: система не дала нового потока — ответ 503", peer)
        turn_away(conn)


def serve_forever(
    listener: socket.socket, page: bytes, head_timeout: float, max_clients: int
) -> None:
    """Главный цикл: принимает соединения и раздаёт их потокам."""
    slots = threading.BoundedSemaphore(max_clients)  # свободные места
    quiet_until = 0.0  # до этого момента о сбоях accept не пишем
    while True:
        try:
            conn, address = listener.accept()
        except TimeoutError:  # тик: Python получил управление, Ctrl+C сработает
            continue
        except ConnectionError:  # клиент ушёл, пока ждал в очереди
            continue
        except OSError as error:
            if error.errno not in OUT_OF_RESOURCES:
                raise
            # Пока ресурсов нет, accept падает десять раз в секунду: журнал
            # утонул бы в одинаковых строках.
            if time.monotonic() >= quiet_until:
                logging.warning(
                    "Не удалось принять соединение: %s — ждём, пока закроются "
                    "другие соединения",
                    error.strerror or error,
                )
                quiet_until = time.monotonic() + ACCEPT_LOG_INTERVAL
            time.sleep(ACCEPT_PAUSE)
            continue
        start_client(conn, address, page, head_timeout, slots)


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
    # accept ждёт не дольше тика: на Windows Ctrl+C не прерывает ожидание в ядре.
    listener.settimeout(ACCEPT_TICK)
    return listener


def bind_problem(error: OSError) -> str:
    """Почему не удалось занять порт — по-русски, а не текстом ОС."""
    if error.errno == errno.EADDRINUSE:
        return "порт уже занят — может быть, сервер уже запущен?"
    if error.errno == errno.EADDRNOTAVAIL:
        return "у этого компьютера нет такого адреса"
    return error.strerror or str(error)


def port_number(text: str) -> int:
    """Тип аргумента --port: целое от 0 до 65535."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 0 до 65535")
    return port


def positive_seconds(text: str) -> float:
    """Тип аргумента --head-timeout: секунды больше нуля и не больше часа."""
    seconds = float(text)
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("таймаут должен быть от 0 до 3600 секунд")
    return seconds


def client_count(text: str) -> int:
    """Тип аргумента --max-clients: целое от 1 до 10000."""
    count = int(text)
    if not 1 <= count <= 10_000:
        raise argparse.ArgumentTypeError("число соединений должно быть от 1 до 10000")
    return count


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
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
        "--head-timeout",
        type=positive_seconds,
        default=HEAD_TIMEOUT,
        help="за сколько секунд должна прийти вся голова запроса "
        "(по умолчанию %(default)g)",
    )
    parser.add_argument(
        "--max-clients",
        type=client_count,
        default=MAX_CLIENTS,
        help="сколько соединений обслуживать одновременно; лишним — ответ 503 "
        "(по умолчанию %(default)s)",
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
            f"Ошибка: не удалось занять {args.host}:{args.port}: {bind_problem(error)}",
            file=sys.stderr,
        )
        return 1
    host, port = listener.getsockname()
    with listener:
        try:  # первая строка — уже внутри: Ctrl+C сразу после неё не даст трассировку
            logging.info(
                "Сервер слушает %s:%d — откройте http://%s:%d/ в браузере",
                host,
                port,
                host,
                port,
            )
            serve_forever(listener, page, args.head_timeout, args.max_clients)
        except KeyboardInterrupt:
            logging.info("Сервер остановлен.")
        except OSError as error:  # accept сломался не от нехватки ресурсов
            print(
                f"Ошибка: сервер не может принимать соединения: {error}",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
