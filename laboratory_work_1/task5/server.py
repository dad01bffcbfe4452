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
заголовка — 411, не число — 400, больше MAX_BODY_BYTES — 413 (тело тогда
не читаем вовсе). Начало тела могло прийти вместе с головой, остальное
дочитываем recv-ами, пока не наберётся ровно Content-Length байтов.

Всё, что прислал пользователь, попадает в HTML только через html.escape:
дисциплина «<script>…» показывается как текст, а не выполняется.

Хранение. Оценки живут в памяти (словарь «дисциплина → список оценок») и
в JSON-файле (--data). Каждое соединение обслуживает свой поток, поэтому
добавление идёт под замком: один поток за раз строит новый словарь,
записывает его в файл и только потом подменяет старый. Ответ 303 уходит
после записи — значит, подтверждённая оценка уже на диске. Файл пишется
атомарно: во временный файл рядом, flush + fsync, затем os.replace и fsync
папки — на диске всегда лежит либо старая, либо новая полная версия, даже
если сервер убьют посреди записи. При запуске: файла нет — начинаем с пустого журнала
(с предупреждением); файл испорчен — выходим с ошибкой и не трогаем его:
чужие данные молча не перезаписываем.
"""

import argparse
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
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

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
GRADES = (2, 3, 4, 5)  # допустимые оценки
# «5» → 5; «05», «5.0», «пять» — нет.
GRADE_BY_TEXT = {str(grade): grade for grade in GRADES}
READ_TIMEOUT = 10.0  # секунд ждём очередной кусок запроса
# Секунд ждём очередной кусок, дочитывая лишнее после ответа (finish()).
LINGER_TIMEOUT = 1.0
LINGER_BYTES = 64 * 1024  # и не больше стольких байтов
LINGER_SECONDS = 2.0  # и не дольше стольких секунд в сумме
RECV_SIZE = 4096
HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
# Строка запроса: МЕТОД, пробел, путь из видимых ASCII-символов, пробел, версия.
REQUEST_LINE = re.compile(r"([A-Z]+) (/[!-~]*) (HTTP/1\.[01])")
# Пустая строка в конце головы: \r\n\r\n, а от nc без -C — \n\n.
HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass
class Request:
    """Разобранная голова запроса."""

    method: str
    target: str  # путь как прислан, со строкой запроса ?…
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


class JournalError(Exception):
    """Файл оценок нельзя прочитать или в нём не журнал."""


# --- хранение -----------------------------------------------------------------


def is_journal(data: object) -> bool:
    """Похоже ли прочитанное из JSON на журнал: {"дисциплина": [оценки 2..5], …}."""
    return isinstance(data, dict) and all(
        isinstance(marks, list)
        and len(marks) > 0
        # type(mark) is int: не True и не 4.0
        and all(type(mark) is int and mark in GRADES for mark in marks)
        for marks in data.values()
    )


def load_grades(path: Path) -> dict[str, list[int]] | None:
    """Читает журнал из файла; None — файла ещё нет (первый запуск)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise JournalError(
            f"не удалось прочитать файл оценок {path}: {error.strerror}"
        ) from None
    except ValueError as error:  # и JSONDecodeError, и UnicodeDecodeError
        raise JournalError(f"файл оценок {path} повреждён ({error})") from None
    if not is_journal(data):
        raise JournalError(
            f"в файле {path} не журнал: нужен объект "
            f'{{"дисциплина": [оценки от 2 до 5], …}}'
        )
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
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(grades, file, ensure_ascii=False, indent=2)
        file.flush()  # из буфера Python — в ядро
        os.fsync(file.fileno())  # из ядра — на диск
    os.replace(temporary, path)  # подмена одним шагом: половины файла не бывает
    sync_directory(path.parent)  # и само переименование — на диск


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
            updated = dict(self._grades)
            # Новый список, а не append: старый снимок могут сейчас читать
            # другие потоки.
            updated[discipline] = updated.get(discipline, []) + [grade]
            save_grades(self.path, updated)  # сначала на диск…
            # …потом в память: если запись упала, журнал не изменился.
            self._grades = updated


# --- HTTP: чтение запроса -------------------------------------------------------


def read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    """Читает запрос до пустой строки; возвращает голову и начало тела."""
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
    return received[: end.start()], received[end.end() :]


def parse_head(head: bytes, body_start: bytes) -> Request:
    """Разбирает строку запроса и заголовки; непонятное — 400."""
    # latin-1 декодирует любые байты; что в них допустимо, проверяем сами.
    # Конец строки — \r\n или одиночный \n: сводим оба к \n и режем по нему.
    text = head.decode("latin-1").replace("\r\n", "\n")
    request_line, *header_lines = text.split("\n")
    match = REQUEST_LINE.fullmatch(request_line)
    if match is None:
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            "строка запроса должна выглядеть как «GET / HTTP/1.1»",
        )
    method, target, _version = match.groups()
    headers = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise HttpError(HTTPStatus.BAD_REQUEST, "в заголовке нет двоеточия")
        headers[name.strip().lower()] = value.strip()
    path = target.split("?", 1)[0]
    return Request(method, target, path, headers, body_start)


def read_body(conn: socket.socket, request: Request) -> bytes:
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
    body = request.body_start
    while len(body) < length:
        chunk = conn.recv(RECV_SIZE)
        if not chunk:
            raise ConnectionError("клиент ушёл, не дослав тело запроса")
        body += chunk
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
    discipline = " ".join(fields.get("discipline", [""])[0].split())
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


def add_grade(
    conn: socket.socket, request: Request, journal: Journal, template: Template
) -> Response:
    """POST /: проверить форму, сохранить оценку, перенаправить на страницу."""
    discipline, grade_text = parse_form(read_body(conn, request))
    problem = check_form(discipline, grade_text)
    if problem:
        page = render_page(template, journal.grades(), problem, discipline, grade_text)
        return Response(HTTPStatus.BAD_REQUEST, page, HTML_TYPE)
    try:
        journal.add(discipline, GRADE_BY_TEXT[grade_text])
    except OSError as error:
        logging.error("Не удалось записать %s: %s", journal.path, error)
        raise HttpError(
            HTTPStatus.INTERNAL_SERVER_ERROR, "не удалось сохранить оценку"
        ) from None
    saved = "Оценка сохранена.\n".encode("utf-8")
    # Location: / — иди на страницу.
    return Response(HTTPStatus.SEE_OTHER, saved, TEXT_TYPE, ("Location: /",))


def route(
    conn: socket.socket, request: Request, journal: Journal, template: Template
) -> Response:
    """Выбирает ответ по пути и методу; на HEAD — тот же ответ, что на GET."""
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
        return Response(HTTPStatus.OK, body, JSON_TYPE)
    if request.path != "/":
        raise HttpError(HTTPStatus.NOT_FOUND, "такой страницы нет")
    if request.method in ("GET", "HEAD"):
        return Response(
            HTTPStatus.OK, render_page(template, journal.grades()), HTML_TYPE
        )
    if request.method == "POST":
        return add_grade(conn, request, journal, template)
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


def serve_client(
    conn: socket.socket, address: tuple[str, int], journal: Journal, template: Template
) -> None:
    """Обслуживает одно соединение (в своём потоке): запрос, ответ, закрытие."""
    peer = f"{address[0]}:{address[1]}"
    with conn:
        try:
            conn.settimeout(READ_TIMEOUT)  # молчащий клиент не держит поток вечно
            request_line, method = "-", "-"  # пока строка запроса не разобрана
            try:
                request = parse_head(*read_head(conn))
                request_line, method = (
                    f"{request.method} {request.target}",
                    request.method,
                )
                response = route(conn, request, journal, template)
            except HttpError as error:
                response = error.response
            conn.sendall(response.encode(with_body=method != "HEAD"))
            logging.info("%s %s → %d", peer, request_line, response.status)
            finish(conn)
        except TimeoutError:
            logging.info(
                "%s молчит дольше %g с — закрываем соединение", peer, READ_TIMEOUT
            )
        except OSError as error:
            logging.info("%s: соединение оборвалось (%s)", peer, error)


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


def port_number(text: str) -> int:
    """Тип аргумента --port: целое от 0 до 65535."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 0 до 65535")
    return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
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
    if grades is None:
        logging.warning("Файла %s нет — начинаем с пустого журнала", args.data)
        grades = {}
    else:
        logging.info("Журнал %s: дисциплин — %d", args.data, len(grades))
    journal = Journal(args.data, grades)
    with listener:
        try:
            while True:
                conn, address = listener.accept()
                # Поток-демон не держит процесс при остановке; файл при этом не
                # пострадает: запись атомарна (в худшем случае останется .tmp).
                threading.Thread(
                    target=serve_client,
                    args=(conn, address, journal, template),
                    daemon=True,
                ).start()
        except KeyboardInterrupt:
            logging.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
