r"""Задание 5: журнал оценок — веб-сервер на «голом» сокете, GET и POST.

Что умеет сервер:

* GET / — HTML-страница из шаблона index.html: форма «дисциплина + оценка»
  и все оценки, сгруппированные по дисциплинам;
* POST / — принимает форму (application/x-www-form-urlencoded), проверяет
  и сохраняет оценку, а в ответ шлёт 303 See Other с Location: / — шаблон
  Post/Redirect/Get: браузер сам запросит страницу GET-ом, и кнопка
  «Обновить» не отправит форму второй раз. Ошибка в форме — та же страница
  со статусом 400, сообщением и введёнными значениями;
* GET /grades.json — те же оценки в JSON: их печатает client.py list;
* HEAD на / и /grades.json — те же заголовки, что у GET, но без тела.

Запрос читается так же, как в задании 3: голова — до пустой строки (конец
строки — \r\n или одиночный \n, как у nc без -C). У POST
есть тело, и его длину клиент обязан сообщить в Content-Length: нет
заголовка — 411, не число или повторён — 400, больше MAX_BODY_BYTES — 413
(тело тогда не читаем вовсе), Transfer-Encoding — 501 (его мы не умеем).
Начало тела могло прийти вместе с головой, остальное дочитываем recv-ами,
пока не наберётся ровно Content-Length байтов.

Пределы. На голову — общий срок (--head-timeout), на тело — срок,
растущий с его длиной (--body-timeout, --body-min-rate), как у mod_reqtimeout
в Apache: кто не успел — 408. Соединений одновременно — не больше
--max-clients, лишним — 503 с Retry-After. В журнале — не больше
MAX_DISCIPLINES дисциплин и MAX_GRADES оценок у каждой.

Всё, что прислал пользователь, попадает в HTML только через html.escape:
дисциплина «<script>…» показывается как текст, а не выполняется.

Хранение. Оценки живут в памяти (словарь «дисциплина → список оценок») и
в JSON-файле (--data). Каждое соединение обслуживает свой поток, поэтому
добавление идёт под замком: один поток за раз строит новый словарь,
записывает его в файл и только потом подменяет старый. Ответ 303 уходит
после записи — значит, подтверждённая оценка уже на диске. Файл пишется
атомарно: во временный файл рядом, flush + fsync, затем os.replace и fsync
папки — на диске всегда лежит либо старая, либо новая полная версия, даже
если сервер убьют посреди записи. При запуске: файла нет — начинаем с
пустого журнала (с предупреждением); файл испорчен (не JSON, не журнал,
повторы ключей, выход за пределы) — выходим с ошибкой и не трогаем его:
чужие данные молча не перезаписываем.
"""

import argparse
import errno
import html
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlsplit

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
# Файлы ищем рядом с server.py, а не в текущей папке.
HERE = Path(__file__).resolve().parent
TEMPLATE_FILE = HERE / "index.html"
DEFAULT_DATA_FILE = HERE / "grades.json"
# Строка запроса + заголовки + пустая строка; больше — ответ 431.
MAX_HEAD_BYTES = 8 * 1024
MAX_BODY_BYTES = 10 * 1024  # тело POST; больше — ответ 413
MAX_DISCIPLINE_LENGTH = 100  # символов в названии дисциплины
# Пределы журнала: страница и файл не растут без конца, GET остаётся быстрым.
MAX_DISCIPLINES = 200
MAX_GRADES = 100  # оценок у одной дисциплины
GRADES = (2, 3, 4, 5)  # допустимые оценки
# «5» → 5; «05», «5.0», «пять» — нет.
GRADE_BY_TEXT = {str(grade): grade for grade in GRADES}
# Сроки, как у mod_reqtimeout в Apache; не успел — 408.
HEAD_TIMEOUT = 10.0  # секунд на всю голову, как бы медленно она ни капала
BODY_TIMEOUT = 10.0  # секунд на тело — не меньше этого…
BODY_MIN_RATE = 500  # …и не меньше длина / столько байтов в секунду
SEND_TIMEOUT = 10.0  # секунд на отправку ответа клиенту, который не читает
MAX_CLIENTS = 100  # соединений одновременно (потоков); лишним — 503
RETRY_AFTER = 1  # секунд: заголовок Retry-After в ответе 503
# accept с таймаутом: на Windows иначе не прервать Ctrl+C (см. задание 1).
ACCEPT_TICK = 0.5
ACCEPT_RETRY_PAUSE = 0.1  # секунд пауза, если accept не хватило ресурсов
ACCEPT_LOG_INTERVAL = 10.0  # и не чаще раза в столько секунд пишем об этом
# Нехватка ресурсов при accept: подождать, пока потоки их вернут.
OUT_OF_RESOURCES = {
    errno.EMFILE: "кончились дескрипторы файлов процесса",
    errno.ENFILE: "кончились дескрипторы файлов в системе",
    errno.ENOBUFS: "ядру не хватает памяти на сокет",
    errno.ENOMEM: "ядру не хватает памяти",
}
# Секунд ждём очередной кусок, дочитывая лишнее после ответа (finish()).
LINGER_TIMEOUT = 1.0
LINGER_BYTES = 64 * 1024  # и не больше стольких байтов
LINGER_SECONDS = 2.0  # и не дольше стольких секунд в сумме
RECV_SIZE = 4096
HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
# RFC 9111 §5.2.2.5: не хранить в кэше — страница меняется с каждым POST.
NO_STORE = "Cache-Control: no-store"
# Строка запроса: МЕТОД, пробел, цель из видимых ASCII-символов, пробел, версия.
REQUEST_LINE = re.compile(r"([A-Z]+) ([!-~]+) (HTTP/1\.[01])")
# RFC 9110 §5.1: имя заголовка — token, без пробелов (и перед двоеточием).
FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# RFC 9110 §5.5: в значении — видимые символы, пробел и таб; CR и NUL — нет.
FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
# Заголовки, которые не могут повторяться (RFC 9112 §3.2 и §6.3).
SINGLE_FIELDS = ("host", "content-length")
# Пустая строка в конце головы: \r\n\r\n, а от nc без -C — \n\n.
HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass
class Request:
    """Разобранная голова запроса."""

    method: str
    target: str  # цель как прислана: «/путь?…» или «http://хост/путь?…»
    path: str  # путь без строки запроса
    headers: dict[str, str]  # имена заголовков — в нижнем регистре
    body_start: bytes  # начало тела, пришедшее вместе с головой


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
            # RFC 9110 §6.6.1: Date в каждом ответе, время — по Гринвичу.
            f"Date: {formatdate(usegmt=True)}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",  # в байтах, а не в символах
            "Connection: close",
            *self.headers,
        ]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        return head + self.body if with_body else head  # на HEAD — только голова


@dataclass
class Limits:
    """Сроки и пределы из параметров запуска."""

    head_timeout: float
    body_timeout: float
    body_min_rate: float
    max_clients: int


class HttpError(Exception):
    """Запрос не обслужить: готовый ответ-ошибка с коротким пояснением."""

    def __init__(
        self, status: HTTPStatus, message: str, headers: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        text = f"{status.value} {status.phrase}: {message}\n"
        self.response = Response(status, text.encode("utf-8"), TEXT_TYPE, headers)


class JournalError(Exception):
    """Файл оценок нельзя прочитать или в нём не журнал."""


class JournalFull(Exception):
    """Журнал упёрся в предел: MAX_DISCIPLINES или MAX_GRADES."""


# --- хранение -----------------------------------------------------------------


def normalize(discipline: str) -> str:
    """Одна дисциплина — одна запись: «й» одним символом и «и» + знак бреве
    сводятся к одному виду (NFC)."""
    return unicodedata.normalize("NFC", discipline)


def unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """object_pairs_hook для json: повтор ключа — ошибка, а не тихая потеря."""
    result = {}
    for key, value in pairs:
        key = normalize(key)
        if key in result:
            raise ValueError(f"ключ «{key}» встречается дважды")
        result[key] = value
    return result


def journal_problem(data: object) -> str:
    """Пустая строка — прочитанное из JSON похоже на журнал, иначе — что не так."""
    if not isinstance(data, dict) or not all(
        isinstance(marks, list)
        and len(marks) > 0
        # type(mark) is int: не True и не 4.0
        and all(type(mark) is int and mark in GRADES for mark in marks)
        for marks in data.values()
    ):
        return 'нужен объект {"дисциплина": [оценки от 2 до 5], …}'
    if len(data) > MAX_DISCIPLINES:
        return f"дисциплин больше {MAX_DISCIPLINES}"
    if any(len(marks) > MAX_GRADES for marks in data.values()):
        return f"у дисциплины больше {MAX_GRADES} оценок"
    return ""


def load_grades(path: Path) -> dict[str, list[int]] | None:
    """Читает журнал из файла; None — файла ещё нет (первый запуск)."""
    try:
        data = json.loads(
            path.read_text(encoding="utf-8"), object_pairs_hook=unique_keys
        )
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise JournalError(f"{path} — папка, а не файл оценок") from None
    except PermissionError:
        raise JournalError(f"нет прав на чтение файла оценок {path}") from None
    except OSError as error:
        raise JournalError(
            f"не удалось прочитать файл оценок {path}: {error.strerror or error}"
        ) from None
    except ValueError as error:  # и JSONDecodeError, и UnicodeDecodeError
        raise JournalError(f"файл оценок {path} повреждён ({error})") from None
    except RecursionError:  # [[[[…]]]] глубже, чем позволяет стек разбора
        raise JournalError(
            f"файл оценок {path} повреждён (слишком глубокая вложенность)"
        ) from None
    problem = journal_problem(data)
    if problem:
        raise JournalError(f"в файле {path} не журнал: {problem}")
    return data


def sync_directory(folder: Path) -> None:
    """fsync папки: новое имя файла — запись в папке, и её тоже надо сбросить
    на диск."""
    if sys.platform == "win32":
        return  # на Windows папку через os.open не открыть; этот шаг там пропускаем
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save_grades(path: Path, grades: dict[str, list[int]]) -> None:
    """Записывает журнал атомарно: временный файл рядом → fsync → os.replace →
    fsync папки."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(grades, file, ensure_ascii=False, indent=2)
            file.flush()  # из буфера Python — в ядро
            os.fsync(file.fileno())  # из ядра — на диск
        os.replace(temporary, path)  # подмена одним шагом: половины файла не бывает
    except OSError:
        # Например, кончилось место: недописанный временный файл не оставляем.
        temporary.unlink(missing_ok=True)
        raise
    sync_directory(path.parent)  # и само переименование — на диск


def check_room(grades: dict[str, list[int]], discipline: str) -> None:
    """Есть ли в журнале место для ещё одной оценки; нет — JournalFull."""
    marks = grades.get(discipline)
    if marks is None and len(grades) >= MAX_DISCIPLINES:
        raise JournalFull(f"В журнале уже {MAX_DISCIPLINES} дисциплин — это предел.")
    if marks is not None and len(marks) >= MAX_GRADES:
        raise JournalFull(f"У этой дисциплины уже {MAX_GRADES} оценок — это предел.")


class Journal:
    """Оценки в памяти и на диске; добавление — под замком."""

    def __init__(self, path: Path, grades: dict[str, list[int]]) -> None:
        self.path = path
        self._grades = grades
        self._lock = threading.Lock()

    def grades(self) -> dict[str, list[int]]:
        # Словарь никто не меняет на месте (add подменяет его целиком),
        # поэтому читателям замок не нужен: они видят целый снимок.
        return self._grades

    def add(self, discipline: str, grade: int) -> None:
        # Один писатель за раз: иначе два потока, прочитав один и тот же
        # словарь, запишут каждый свою версию, и одна оценка потеряется.
        with self._lock:
            check_room(self._grades, discipline)
            updated = dict(self._grades)
            # Новый список, а не append: старый снимок могут сейчас читать
            # другие потоки.
            updated[discipline] = updated.get(discipline, []) + [grade]
            save_grades(self.path, updated)  # сначала на диск…
            # …потом в память: если запись упала, журнал не изменился.
            self._grades = updated


@dataclass
class Service:
    """Всё, что нужно потоку соединения, кроме самого соединения."""

    journal: Journal
    template: Template
    limits: Limits
    slots: threading.Semaphore  # свободные места: не больше max_clients потоков


# --- HTTP: чтение запроса -------------------------------------------------------


def receive(conn: socket.socket, deadline: float, what: str) -> bytes:
    """Один recv, но не позже срока deadline (time.monotonic()); опоздал — 408."""
    try:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        conn.settimeout(left)  # ждём не дольше, чем осталось до срока
        chunk = conn.recv(RECV_SIZE)
    except TimeoutError:
        raise HttpError(HTTPStatus.REQUEST_TIMEOUT, f"срок на {what} истёк") from None
    if not chunk:  # клиент закрыл соединение, не договорив
        raise ConnectionError(f"клиент ушёл, не дослав {what}")
    return chunk


def read_head(conn: socket.socket, timeout: float) -> tuple[bytes, bytes]:
    """Читает запрос до пустой строки; возвращает голову и начало тела."""
    # Срок — на всю голову: кто шлёт по байту, не продлевает его.
    deadline = time.monotonic() + timeout
    received = b""
    # Копим куски, пока не придёт пустая строка, но не больше предела.
    while not HEAD_END.search(received) and len(received) < MAX_HEAD_BYTES:
        received += receive(conn, deadline, "голову запроса")
    end = HEAD_END.search(received)
    # Последний кусок мог перевалить за предел: меряем саму голову,
    # а не только накопленное.
    if end is None or end.end() > MAX_HEAD_BYTES:
        raise HttpError(
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
            f"голова запроса длиннее {MAX_HEAD_BYTES} байт",
        )
    return received[: end.start()], received[end.end() :]


def bad_request(message: str) -> HttpError:
    return HttpError(HTTPStatus.BAD_REQUEST, message)


def target_path(target: str) -> str:
    """Путь из цели запроса: «/путь?…» или «http://хост/путь?…»."""
    if target.startswith("/"):
        return target.split("?", 1)[0]
    # RFC 9112 §3.2.2: абсолютную форму сервер обязан принимать.
    try:
        parts = urlsplit(target)
    except ValueError:  # например, «http://[::1» — скобка не закрыта
        raise bad_request("цель запроса — не путь и не URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise bad_request("цель запроса — не путь и не URL")
    return parts.path or "/"


def parse_headers(lines: list[str]) -> dict[str, str]:
    """Заголовки: имя (в нижнем регистре) → значение; ошибки формата — 400."""
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise bad_request("в заголовке нет двоеточия")
        # RFC 9112 §5.1: пробел перед двоеточием — 400 (§5.2: и в начале строки).
        if not FIELD_NAME.fullmatch(name):
            raise bad_request(f"неправильное имя заголовка «{name}»")
        if not FIELD_VALUE.fullmatch(value):
            raise bad_request(f"в заголовке {name} управляющие символы")
        name = name.lower()
        if name in SINGLE_FIELDS and name in headers:
            raise bad_request(f"заголовок {name} повторяется")
        headers[name] = value.strip()
    return headers


def check_framing(version: str, headers: dict[str, str]) -> None:
    """Правила HTTP/1.1 о Host и длине тела."""
    # RFC 9112 §3.2: запрос HTTP/1.1 без Host — 400.
    if version == "HTTP/1.1" and "host" not in headers:
        raise bad_request("в запросе HTTP/1.1 нужен заголовок Host")
    if "transfer-encoding" in headers:
        # RFC 9112 §6.3: и Transfer-Encoding, и Content-Length — 400.
        if "content-length" in headers:
            raise bad_request("Transfer-Encoding вместе с Content-Length")
        # RFC 9112 §6.1: Transfer-Encoding в HTTP/1.0 — 400.
        if version == "HTTP/1.0":
            raise bad_request("Transfer-Encoding в запросе HTTP/1.0")
        # RFC 9112 §6.1: непонятное кодирование (нам — любое) — 501.
        raise HttpError(
            HTTPStatus.NOT_IMPLEMENTED,
            "Transfer-Encoding не поддерживается — пришлите Content-Length",
        )


def parse_head(head: bytes, body_start: bytes) -> Request:
    """Разбирает строку запроса и заголовки; непонятное — 400."""
    # latin-1 декодирует любые байты; что в них допустимо, проверяем сами.
    # Конец строки — \r\n или одиночный \n: сводим оба к \n и режем по нему.
    text = head.decode("latin-1").replace("\r\n", "\n")
    request_line, *header_lines = text.split("\n")
    match = REQUEST_LINE.fullmatch(request_line)
    if match is None:
        raise bad_request("строка запроса должна выглядеть как «GET / HTTP/1.1»")
    method, target, version = match.groups()
    path = target_path(target)
    headers = parse_headers(header_lines)
    check_framing(version, headers)
    return Request(method, target, path, headers, body_start)


def read_body(conn: socket.socket, request: Request, limits: Limits) -> bytes:
    """Дочитывает тело ровно до Content-Length байтов."""
    length_text = request.headers.get("content-length")
    if length_text is None:
        raise HttpError(HTTPStatus.LENGTH_REQUIRED, "нужен заголовок Content-Length")
    if not (length_text.isascii() and length_text.isdigit()):
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "Content-Length должен быть целым числом байтов"
        )
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        raise HttpError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"тело запроса длиннее {MAX_BODY_BYTES} байт",
        )
    # Срок растёт с длиной тела, но не короче body_timeout.
    seconds = max(limits.body_timeout, length / limits.body_min_rate)
    deadline = time.monotonic() + seconds
    body = request.body_start
    while len(body) < length:
        body += receive(conn, deadline, "тело запроса")
    return body[:length]


# --- страница и форма -------------------------------------------------------------


def parse_form(body: bytes) -> tuple[str, str]:
    """Из тела формы — дисциплина и оценка в виде текста (ещё не проверенные)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except ValueError:  # не UTF-8 — ни в самом теле, ни в %XX
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "тело формы должно быть в UTF-8"
        ) from None
    # split() без аргументов режет по любым пробелам и переводам строк: лишние — прочь.
    discipline = normalize(" ".join(fields.get("discipline", [""])[0].split()))
    grade_text = fields.get("grade", [""])[0].strip()
    return discipline, grade_text


def check_form(discipline: str, grade_text: str) -> str:
    """Пустая строка — форма в порядке, иначе — что исправить."""
    if not discipline:
        return "Укажите дисциплину."
    if len(discipline) > MAX_DISCIPLINE_LENGTH:
        return f"Название дисциплины длиннее {MAX_DISCIPLINE_LENGTH} символов."
    if not discipline.isprintable():
        return "В названии дисциплины есть непечатаемые символы."
    if grade_text not in GRADE_BY_TEXT:
        return "Оценка должна быть целым числом от 2 до 5."
    return ""


def render_rows(grades: dict[str, list[int]]) -> str:
    """Строки таблицы: дисциплина, её оценки и средний балл."""
    if not grades:
        return '<tr><td colspan="3">Оценок пока нет — добавьте первую.</td></tr>'
    rows = []
    for discipline, marks in grades.items():
        average = f"{sum(marks) / len(marks):.2f}".replace(".", ",")  # 4,50 — по-русски
        marks_text = ", ".join(str(mark) for mark in marks)
        rows.append(
            f"<tr><td>{html.escape(discipline)}</td>"
            f"<td>{marks_text}</td><td>{average}</td></tr>"
        )
    # С отступом, как в шаблоне: исходник страницы читается.
    return "\n      ".join(rows)


def render_page(
    template: Template,
    grades: dict[str, list[int]],
    message: str = "",
    discipline: str = "",
    grade_text: str = "",
) -> bytes:
    """Страница журнала; всё пользовательское — через html.escape."""
    message_html = f'<p class="error">{html.escape(message)}</p>' if message else ""
    page = template.substitute(
        message=message_html,
        # escape заменяет и кавычки: из value="…" не выйти.
        discipline=html.escape(discipline),
        grade=html.escape(grade_text),
        rows=render_rows(grades),
    )
    return page.encode("utf-8")


# --- HTTP: ответы -------------------------------------------------------------


def add_grade(conn: socket.socket, request: Request, service: Service) -> Response:
    """POST /: проверить форму, сохранить оценку, перенаправить на страницу."""
    journal, template = service.journal, service.template
    discipline, grade_text = parse_form(read_body(conn, request, service.limits))
    problem = check_form(discipline, grade_text)
    if problem:
        page = render_page(template, journal.grades(), problem, discipline, grade_text)
        return Response(HTTPStatus.BAD_REQUEST, page, HTML_TYPE, (NO_STORE,))
    try:
        journal.add(discipline, GRADE_BY_TEXT[grade_text])
    except JournalFull as full:
        page = render_page(
            template, journal.grades(), str(full), discipline, grade_text
        )
        return Response(HTTPStatus.CONFLICT, page, HTML_TYPE, (NO_STORE,))
    except OSError as error:
        logging.error("Не удалось записать %s: %s", journal.path, error)
        raise HttpError(
            HTTPStatus.INTERNAL_SERVER_ERROR, "не удалось сохранить оценку"
        ) from None
    saved = "Оценка сохранена.\n".encode("utf-8")
    # Location: / — иди на страницу.
    return Response(HTTPStatus.SEE_OTHER, saved, TEXT_TYPE, ("Location: /",))


def route(conn: socket.socket, request: Request, service: Service) -> Response:
    """Выбирает ответ по пути и методу; на HEAD — тот же ответ, что на GET."""
    journal = service.journal
    if request.path == "/grades.json":
        if request.method not in ("GET", "HEAD"):
            raise HttpError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"метод {request.method} не поддерживается",
                ("Allow: GET, HEAD",),
            )
        body = json.dumps(journal.grades(), ensure_ascii=False, indent=2).encode(
            "utf-8"
        )
        return Response(HTTPStatus.OK, body, JSON_TYPE, (NO_STORE,))
    if request.path != "/":
        raise HttpError(HTTPStatus.NOT_FOUND, "такой страницы нет")
    if request.method in ("GET", "HEAD"):
        page = render_page(service.template, journal.grades())
        return Response(HTTPStatus.OK, page, HTML_TYPE, (NO_STORE,))
    if request.method == "POST":
        return add_grade(conn, request, service)
    raise HttpError(
        HTTPStatus.METHOD_NOT_ALLOWED,
        f"метод {request.method} не поддерживается",
        ("Allow: GET, HEAD, POST",),
    )


def finish(conn: socket.socket) -> None:
    """Закрывает соединение так, чтобы ответ дошёл до клиента целиком.

    Если закрыть сокет, в котором остались непрочитанные байты (например,
    тело, которое мы отвергли с 413), ядро пошлёт клиенту RST, и тот может
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


def serve_client(conn: socket.socket, peer: str, service: Service) -> None:
    """Обслуживает одно соединение (в своём потоке): запрос, ответ, закрытие."""
    try:
        request_line, method = "-", "-"  # пока строка запроса не разобрана
        try:
            request = parse_head(*read_head(conn, service.limits.head_timeout))
            request_line, method = f"{request.method} {request.target}", request.method
            response = route(conn, request, service)
        except HttpError as error:
            response = error.response
        conn.settimeout(SEND_TIMEOUT)  # клиент, который не читает, не держит поток
        conn.sendall(response.encode(with_body=method != "HEAD"))
        logging.info("%s %s → %d", peer, request_line, response.status)
        finish(conn)
    except OSError as error:  # и TimeoutError из sendall
        logging.info("%s: соединение оборвалось (%s)", peer, error)


def refuse(conn: socket.socket, reason: str) -> None:
    """503 прямо из главного потока: без нового потока и не дожидаясь клиента."""
    response = HttpError(
        HTTPStatus.SERVICE_UNAVAILABLE, reason, (f"Retry-After: {RETRY_AFTER}",)
    ).response
    with conn:
        conn.setblocking(False)  # ни recv, ни send не ждут
        try:
            # Что клиент уже прислал — прочитать: иначе close пошлёт RST вместо 503.
            conn.recv(LINGER_BYTES)
        except OSError:
            pass
        try:
            # Ответ короткий и весь ложится в пустой буфер сокета.
            conn.sendall(response.encode())
        except OSError:
            pass


def run_client(conn: socket.socket, peer: str, service: Service) -> None:
    """Тело потока: обслужить соединение, закрыть его и вернуть место."""
    try:
        with conn:
            serve_client(conn, peer, service)
    finally:
        service.slots.release()


def start_client(conn: socket.socket, peer: str, service: Service) -> None:
    """Отдаёт соединение новому потоку; мест или потоков нет — 503."""
    if not service.slots.acquire(blocking=False):
        logging.warning(
            "%s → 503: все места заняты (--max-clients %d)",
            peer,
            service.limits.max_clients,
        )
        refuse(conn, "сервер занят, попробуйте через секунду")
        return
    # Поток-демон не держит процесс при остановке; файл при этом не
    # пострадает: запись атомарна (в худшем случае останется .tmp).
    thread = threading.Thread(
        target=run_client,
        args=(conn, peer, service),
        daemon=True,
    )
    try:
        thread.start()
    except RuntimeError as error:  # система не дала потока
        service.slots.release()
        logging.error("%s → 503: не удалось запустить поток (%s)", peer, error)
        refuse(conn, "сервер перегружен, попробуйте через секунду")


def accept_failed(error: OSError, last_logged: float) -> float:
    """Сбой accept: пишем в журнал не чаще ACCEPT_LOG_INTERVAL; при нехватке
    ресурсов ждём, пока потоки их вернут. Возвращает время последней записи."""
    now = time.monotonic()
    reason = OUT_OF_RESOURCES.get(error.errno, "сбой accept")
    if now - last_logged >= ACCEPT_LOG_INTERVAL:
        logging.error("Не удалось принять соединение: %s (%s)", reason, error)
        last_logged = now
    if error.errno in OUT_OF_RESOURCES:
        time.sleep(ACCEPT_RETRY_PAUSE)
    return last_logged


def serve_forever(listener: socket.socket, service: Service) -> None:
    """Главный цикл: принимает соединения и раздаёт их потокам."""
    listener.settimeout(ACCEPT_TICK)
    last_logged = float("-inf")  # о первом сбое пишем сразу
    while True:
        try:
            conn, address = listener.accept()
        except TimeoutError:  # просто тик: даём Ctrl+C сработать
            continue
        except OSError as error:
            last_logged = accept_failed(error, last_logged)
            continue
        peer = f"{address[0]}:{address[1]}"
        start_client(conn, peer, service)


# --- запуск -------------------------------------------------------------------


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


def bind_problem(error: OSError) -> str:
    """Почему не удалось занять адрес — по-русски для частых случаев."""
    if error.errno == errno.EADDRINUSE:
        return "порт уже занят — другой программой или вторым сервером"
    if error.errno == errno.EACCES:
        return "нет прав на этот порт (порты до 1024 — только администратору)"
    if error.errno == errno.EADDRNOTAVAIL:
        return "у этого компьютера нет такого адреса"
    if isinstance(error, socket.gaierror):
        return "адрес не найден"
    return str(error.strerror or error)


def port_number(text: str) -> int:
    """Тип аргумента --port: целое от 0 до 65535."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 0 до 65535")
    return port


def positive_number(text: str) -> float:
    """Тип аргументов-сроков: число больше нуля."""
    value = float(text)
    if not value > 0 or value == float("inf"):  # not >: отсекает и nan
        raise argparse.ArgumentTypeError("нужно число больше нуля")
    return value


def positive_integer(text: str) -> int:
    """Тип аргумента --max-clients: целое больше нуля."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("нужно целое больше нуля")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="Веб-сервер задания 5: журнал оценок, форма (POST) "
        "и страница (GET)."
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
        "--data",
        type=Path,
        default=DEFAULT_DATA_FILE,
        metavar="ПУТЬ",
        help="JSON-файл с оценками (по умолчанию grades.json рядом с server.py)",
    )
    parser.add_argument(
        "--head-timeout",
        type=positive_number,
        default=HEAD_TIMEOUT,
        metavar="С",
        help="секунд на голову запроса целиком (по умолчанию %(default)g)",
    )
    parser.add_argument(
        "--body-timeout",
        type=positive_number,
        default=BODY_TIMEOUT,
        metavar="С",
        help="секунд на тело — не меньше этого (по умолчанию %(default)g)",
    )
    parser.add_argument(
        "--body-min-rate",
        type=positive_number,
        default=BODY_MIN_RATE,
        metavar="Б/С",
        help="…и не меньше длина тела / столько байтов в секунду "
        "(по умолчанию %(default)g)",
    )
    parser.add_argument(
        "--max-clients",
        type=positive_integer,
        default=MAX_CLIENTS,
        metavar="N",
        help="соединений одновременно, лишним — 503 (по умолчанию %(default)s)",
    )
    return parser.parse_args(argv)


def announce(
    listener: socket.socket, path: Path, grades: dict[str, list[int]] | None
) -> None:
    """Первая строка — адрес, который действительно занят; затем — что с журналом."""
    host, port = listener.getsockname()
    logging.info(
        "Сервер слушает %s:%d — откройте http://%s:%d/ в браузере",
        host,
        port,
        host,
        port,
    )
    if grades is None:
        logging.warning("Файла %s нет — начинаем с пустого журнала", path)
    else:
        logging.info("Журнал %s: дисциплин — %d", path, len(grades))


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
        template = Template(TEMPLATE_FILE.read_text(encoding="utf-8"))
    except OSError as error:
        print(
            f"Ошибка: не удалось прочитать шаблон {TEMPLATE_FILE}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    try:
        grades = load_grades(args.data)
    except JournalError as error:
        print(
            f"Ошибка: {error}. Исправьте или удалите файл — сервер его не перезапишет.",
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
    limits = Limits(
        args.head_timeout, args.body_timeout, args.body_min_rate, args.max_clients
    )
    # Мест — max_clients: поток берёт место при старте и возвращает в конце.
    slots = threading.Semaphore(args.max_clients)
    service = Service(Journal(args.data, grades or {}), template, limits, slots)
    with listener:
        # Первая строка — уже внутри try: Ctrl+C сразу после неё тоже штатный.
        try:
            announce(listener, args.data, grades)
            serve_forever(listener, service)
        except KeyboardInterrupt:
            logging.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
