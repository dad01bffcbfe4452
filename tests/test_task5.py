"""Задание 5: журнал оценок — GET и POST на сокете, форма, экранирование,
атомарная запись.

Сервер и клиент запускаются как подпроцессы, файл оценок — во временной папке
теста (--data). Проверки «на проводе» идут сырыми сокетами: тело по частям,
без длины, слишком длинное, XSS, 50 одновременных POST и SIGKILL посреди потока
POST-ов (после него файл цел и в нём каждая подтверждённая оценка).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from browser import Browser, require_chromium
from http_wire import (
    exchange,
    get,
    padded_get,
    read_request,
    split,
    trickle_after_answer,
)
from support import PYTHON, Program, free_port, lab_program, start_server, wait_until

TITLE = "Журнал оценок — задание 5"
GRADE_MESSAGE = "Оценка должна быть целым числом от 2 до 5."
MAX_HEAD_BYTES = 8 * 1024  # предел головы в server.py, вместе с пустой строкой
NOT_A_JOURNAL = (
    "Ошибка: непонятный ответ сервера: "
    "в /grades.json не объект «дисциплина: [оценки]»\n"
)
# Запускает server.py, подменив os.replace и os.fsync шпионами:
# они пишут в stderr, что сделано.
FSYNC_SPY = """
import os, runpy, sys
real_fsync, real_replace = os.fsync, os.replace

def fsync(fd):
    real_fsync(fd)
    print("ШПИОН fsync", os.fstat(fd).st_ino, file=sys.stderr, flush=True)

def replace(source, target):
    real_replace(source, target)
    print("ШПИОН replace", target, file=sys.stderr, flush=True)

os.fsync, os.replace = fsync, replace
sys.argv.pop(0)
runpy.run_path(sys.argv[0], run_name="__main__")
"""


# --- помощники ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(module_launch, tmp_path_factory):
    """Один сервер на проверки, которым не важно, что ещё лежит в журнале (дисциплины у
    них свои)."""
    data = tmp_path_factory.mktemp("task5") / "grades.json"
    return start_server(module_launch, "task5", "--data", str(data))


def start(launch, data: Path) -> Program:
    return start_server(launch, "task5", "--data", str(data))


def post_head(port: int, length: int | None, extra: str = "") -> bytes:
    lines = [
        "POST / HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/x-www-form-urlencoded",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")


def post_body(port: int, body: bytes, **kwargs) -> tuple[str, dict[str, str], bytes]:
    return split(exchange(port, post_head(port, len(body)) + body, **kwargs))


def post_form(
    port: int, discipline: str, grade: str
) -> tuple[str, dict[str, str], bytes]:
    return post_body(
        port, urlencode({"discipline": discipline, "grade": grade}).encode("ascii")
    )


def journal(port: int) -> dict[str, list[int]]:
    status_line, headers, body = get(port, "/grades.json")
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "application/json; charset=utf-8"
    return json.loads(body)


def run_client(launch, port: int, *args: str) -> tuple[int, Program]:
    client = launch(
        [PYTHON, lab_program("task5", "client.py"), "--port", str(port), *args]
    )
    return client.wait_exit(), client


# --- клиент: add и list ---------------------------------------------------------


def test_client_adds_and_lists_grades_and_they_survive_restart(launch, tmp_path):
    data = tmp_path / "grades.json"
    server = start(launch, data)
    server.wait_for(
        r"WARNING Файла .*grades\.json нет — начинаем с пустого журнала",
        stream="stderr",
    )
    assert run_client(launch, server.port, "list")[1].stdout == "Оценок пока нет.\n"
    for discipline, grade in [
        ("Физика", "5"),
        ("Web-программирование", "5"),
        ("Физика", "4"),
    ]:
        code, client = run_client(launch, server.port, "add", discipline, grade)
        assert code == 0, client.stderr
        assert client.stdout == f"Оценка сохранена: {discipline} — {grade}\n"
    expected = "Физика: 5, 4\nWeb-программирование: 5\n"
    code, client = run_client(launch, server.port, "list")
    assert (code, client.stdout) == (0, expected)
    assert json.loads(data.read_text(encoding="utf-8")) == {
        "Физика": [5, 4],
        "Web-программирование": [5],
    }

    server.interrupt()
    assert server.wait_exit() == 0
    assert server.stderr.rstrip().endswith("Сервер остановлен.")
    server.assert_no_traceback()
    again = start(launch, data)
    again.wait_for(r"INFO Журнал .*grades\.json: дисциплин — 2", stream="stderr")
    assert run_client(launch, again.port, "list")[1].stdout == expected


@pytest.mark.parametrize(
    "discipline, grade, message",
    [
        ("Физика", "6", GRADE_MESSAGE),
        ("Физика", "пять", GRADE_MESSAGE),
        ("   ", "5", "Укажите дисциплину."),
        ("я" * 101, "5", "Название дисциплины длиннее 100 символов."),
    ],
)
def test_client_prints_server_message_on_400(
    server, launch, discipline, grade, message
):
    code, client = run_client(launch, server.port, "add", discipline, grade)
    assert code == 1
    assert client.stdout == ""
    assert client.stderr == f"Ошибка: {message}\n"


def test_client_without_server_says_error(launch):
    for command in (["list"], ["add", "Физика", "5"]):
        code, client = run_client(launch, free_port(), *command)
        assert code == 1
        assert client.stderr.startswith("Ошибка: ") and client.stderr.count("\n") == 1
        client.assert_no_traceback()


@pytest.mark.parametrize("command", [["list"], ["add", "Физика", "5"]])
def test_client_ctrl_c_while_waiting_exits_cleanly(launch, command):
    with socket.create_server(("127.0.0.1", 0)) as silent_server:  # принимает и молчит
        silent_server.settimeout(10)
        client = launch(
            [
                PYTHON,
                lab_program("task5", "client.py"),
                "--port",
                str(silent_server.getsockname()[1]),
                *command,
            ]
        )
        conn, _ = silent_server.accept()
        with conn:
            conn.settimeout(10)
            read_request(conn)  # клиент отправил запрос и ждёт ответа
            client.interrupt()
            assert client.wait_exit() == 0
    assert (client.stdout, client.stderr) == ("", "Прервано.\n")
    client.assert_no_traceback()


@pytest.mark.parametrize(
    "payload",
    [
        "[5, 4]",
        '{"Физика": 5}',
        '{"Физика": ["5"]}',
        '{"Физика": [true]}',
        "null",
        '"журнал"',
    ],
)
def test_client_list_rejects_json_that_is_not_a_journal(launch, payload):
    body = payload.encode("utf-8")
    reply = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii") + body
    with socket.create_server(("127.0.0.1", 0)) as fake_server:
        fake_server.settimeout(10)
        client = launch(
            [
                PYTHON,
                lab_program("task5", "client.py"),
                "--port",
                str(fake_server.getsockname()[1]),
                "list",
            ]
        )
        conn, _ = fake_server.accept()
        with conn:
            conn.settimeout(10)
            assert read_request(conn).startswith(b"GET /grades.json HTTP/1.1\r\n")
            conn.sendall(reply)
    assert client.wait_exit() == 1
    assert (client.stdout, client.stderr) == ("", NOT_A_JOURNAL)
    client.assert_no_traceback()


# --- GET и POST по проводу --------------------------------------------------------


def test_post_redirects_to_the_page_which_shows_the_grade(server):
    status_line, headers, body = post_form(server.port, "Химия (PRG)", "4")
    assert status_line == "HTTP/1.1 303 See Other"
    assert headers["location"] == "/"
    assert body == "Оценка сохранена.\n".encode("utf-8")
    status_line, headers, page = get(server.port)
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert (
        "<tr><td>Химия (PRG)</td><td>4</td><td>4,00</td></tr>".encode("utf-8") in page
    )
    assert journal(server.port)["Химия (PRG)"] == [4]


def test_grades_are_grouped_by_discipline_with_average(server):
    for grade in ("5", "4", "4"):
        assert (
            post_form(server.port, "Группировка", grade)[0] == "HTTP/1.1 303 See Other"
        )
    page = get(server.port)[2].decode("utf-8")
    assert page.count("<td>Группировка</td>") == 1
    assert "<tr><td>Группировка</td><td>5, 4, 4</td><td>4,33</td></tr>" in page


def test_spaces_in_discipline_are_collapsed_and_100_chars_is_fine(server):
    assert (
        post_form(server.port, "  Теория \n  вероятностей  ", "3")[0]
        == "HTTP/1.1 303 See Other"
    )
    assert post_form(server.port, "ю" * 100, "2")[0] == "HTTP/1.1 303 See Other"
    grades = journal(server.port)
    assert grades["Теория вероятностей"] == [3]
    assert grades["ю" * 100] == [2]


@pytest.mark.parametrize(
    "discipline, grade, message",
    [
        ("", "5", "Укажите дисциплину."),
        (" \t ", "5", "Укажите дисциплину."),
        ("я" * 101, "5", "Название дисциплины длиннее 100 символов."),
        ("Физ\x1b[31mика", "5", "В названии дисциплины есть непечатаемые символы."),
        ("Проверка", "", GRADE_MESSAGE),
        ("Проверка", "1", GRADE_MESSAGE),
        ("Проверка", "6", GRADE_MESSAGE),
        ("Проверка", "4.5", GRADE_MESSAGE),
        ("Проверка", "05", GRADE_MESSAGE),
        # арабско-индийская пятёрка: int() её принял бы
        ("Проверка", "٥", GRADE_MESSAGE),
        ("Проверка", "9" * 5000, GRADE_MESSAGE),  # int() такую строку не разберёт вовсе
    ],
)
def test_invalid_form_gives_400_page_with_message_and_typed_values(
    server, discipline, grade, message
):
    status_line, headers, body = post_form(server.port, discipline, grade)
    page = body.decode("utf-8")
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert f'<p class="error">{message}</p>' in page
    assert f'name="discipline" value="{" ".join(discipline.split())}"' in page
    assert f'name="grade" value="{grade.strip()}"' in page
    assert "Проверка" not in journal(server.port)


def test_form_without_fields_is_400(server):
    status_line, _, body = post_body(server.port, b"foo=bar")
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert "Укажите дисциплину.".encode("utf-8") in body


def test_user_input_is_escaped_on_the_page(server):
    attack = "<script>alert(1)</script>"
    assert post_form(server.port, attack, "3")[0] == "HTTP/1.1 303 See Other"
    page = get(server.port)[2]
    assert b"<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert b"<script>alert(1)" not in page
    # Сохранено как есть, экранируется только при показе
    assert journal(server.port)[attack] == [3]

    breakout = '"><script>alert(2)</script>'
    status_line, _, page = post_form(server.port, breakout, '7"><b>')
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert b'value="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in page
    assert b'value="7&quot;&gt;&lt;b&gt;"' in page
    assert b"<script>" not in page and b"<b>" not in page


def test_body_arriving_in_pieces_is_read_to_content_length(server):
    body = urlencode({"discipline": "По частям", "grade": "5"}).encode("ascii")
    pieces = [post_head(server.port, len(body)), body[:7], body[7:30], body[30:]]
    status_line, _, _ = split(exchange(server.port, *pieces, pause=0.03))
    assert status_line == "HTTP/1.1 303 See Other"
    assert journal(server.port)["По частям"] == [5]


def test_request_line_in_pieces_is_read(server):
    body = urlencode({"discipline": "Голова по частям", "grade": "2"}).encode("ascii")
    raw = post_head(server.port, len(body)) + body
    status_line, _, _ = split(
        exchange(server.port, raw[:3], raw[3:11], raw[11:50], raw[50:], pause=0.03)
    )
    assert status_line == "HTTP/1.1 303 See Other"
    assert journal(server.port)["Голова по частям"] == [2]


class TagBalance(HTMLParser):
    """Проверяет, что теги страницы закрыты в правильном порядке и нет внешних
    ресурсов."""

    VOID = {"meta", "link", "input", "br", "img", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.open_tags: list[str] = []
        self.first: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.first.setdefault(tag, attributes)
        for name in ("src", "href", "action"):
            assert not (attributes.get(name) or "").startswith(("http", "//")), (
                tag,
                attributes,
            )
        if tag not in self.VOID:
            self.open_tags.append(tag)

    def handle_endtag(self, tag):
        assert self.open_tags and self.open_tags[-1] == tag, (tag, self.open_tags)
        self.open_tags.pop()


def test_rendered_pages_are_well_formed_html5(server):
    assert post_form(server.port, "Разметка <i>", "5")[0] == "HTTP/1.1 303 See Other"
    # Журнал и страница с ошибкой
    pages = [get(server.port)[2], post_form(server.port, "", "5")[2]]
    for page in pages:
        text = page.decode("utf-8")
        assert text.startswith("<!DOCTYPE html>")
        checker = TagBalance()
        checker.feed(text)
        checker.close()
        assert checker.open_tags == []
        assert checker.first["html"]["lang"] == "ru"
        assert checker.first["meta"]["charset"] == "utf-8"
        assert checker.first["form"] == {"method": "post", "action": "/"}
        assert "$" not in text, "в шаблоне остался неподставленный $placeholder"
    assert '<p class="error">Укажите дисциплину.</p>' in pages[1].decode("utf-8")


@pytest.mark.parametrize(
    "target, content_type",
    [
        ("/", "text/html; charset=utf-8"),
        ("/grades.json", "application/json; charset=utf-8"),
    ],
)
def test_head_gives_the_get_headers_without_body(server, target, content_type):
    _, _, get_body = get(server.port, target)
    raw = exchange(
        server.port, f"HEAD {target} HTTP/1.1\r\nHost: test\r\n\r\n".encode("ascii")
    )
    status_line, headers, body = split(raw, head_request=True)
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["content-type"] == content_type
    assert headers["content-length"] == str(len(get_body))
    assert body == b""


def test_head_of_unknown_path_is_404_without_body(server):
    raw = exchange(server.port, b"HEAD /nope HTTP/1.1\r\nHost: test\r\n\r\n")
    status_line, headers, body = split(raw, head_request=True)
    assert status_line == "HTTP/1.1 404 Not Found"
    assert int(headers["content-length"]) > 0 and body == b""


def test_bare_lf_line_endings_are_accepted(server):
    body = urlencode({"discipline": "Через nc", "grade": "4"}).encode("ascii")
    head = f"POST / HTTP/1.1\nHost: test\nContent-Length: {len(body)}\n\n".encode(
        "ascii"
    )
    status_line, headers, _ = split(exchange(server.port, head, body, pause=0.03))
    assert status_line == "HTTP/1.1 303 See Other"
    assert headers["location"] == "/"
    assert journal(server.port)["Через nc"] == [4]


def test_cyrillic_page_has_content_length_in_bytes(server):
    _, headers, body = get(server.port)
    assert int(headers["content-length"]) == len(body) > len(body.decode("utf-8"))
    assert f"<title>{TITLE}</title>".encode("utf-8") in body


# --- ошибки протокола ----------------------------------------------------------------


def test_post_without_content_length_is_411(server):
    status_line, _, _ = split(
        exchange(server.port, post_head(server.port, None) + b"discipline=x&grade=5")
    )
    assert status_line == "HTTP/1.1 411 Length Required"


# «²» (байт 0xB2 в latin-1) — для str.isdigit() цифра, а для int() — нет.
@pytest.mark.parametrize("length", ["abc", "-1", "1.5", "", "+5", "²", "5, 5"])
def test_bad_content_length_is_400(server, length):
    raw = post_head(server.port, None, f"Content-Length: {length}\r\n")
    status_line, _, body = split(exchange(server.port, raw + b"discipline=x&grade=5"))
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert "Content-Length".encode() in body


def test_body_over_limit_is_413_and_at_limit_is_fine(server):
    form = urlencode({"discipline": "Ровно 10 КиБ", "grade": "5"}) + "&pad="
    at_limit = (form + "x" * (10 * 1024 - len(form))).encode("ascii")
    assert len(at_limit) == 10 * 1024
    assert post_body(server.port, at_limit)[0] == "HTTP/1.1 303 See Other"
    status_line, _, _ = post_body(server.port, at_limit + b"x")
    assert status_line == "HTTP/1.1 413 Request Entity Too Large"
    status_line, _, _ = post_body(
        server.port, b"discipline=x&grade=5&pad=" + b"x" * 100_000
    )
    assert status_line == "HTTP/1.1 413 Request Entity Too Large"
    assert "Ровно 10 КиБ" in journal(server.port)


def test_huge_declared_length_is_refused_without_waiting_for_body(server):
    started = time.monotonic()
    status_line, _, _ = split(exchange(server.port, post_head(server.port, 10**12)))
    assert status_line == "HTTP/1.1 413 Request Entity Too Large"
    assert time.monotonic() - started < 3


def test_oversized_head_is_431(server):
    raw = b"GET / HTTP/1.1\r\nX-Filler: " + b"a" * 20_000 + b"\r\n\r\n"
    assert (
        split(exchange(server.port, raw))[0]
        == "HTTP/1.1 431 Request Header Fields Too Large"
    )


@pytest.mark.parametrize(
    "extra, expected",
    [
        (0, "HTTP/1.1 200 OK"),
        (1, "HTTP/1.1 431 Request Header Fields Too Large"),
        (3, "HTTP/1.1 431 Request Header Fields Too Large"),
    ],
)
def test_head_limit_is_exact_even_when_the_end_arrives_past_it(server, extra, expected):
    raw = padded_get(MAX_HEAD_BYTES + extra)
    assert len(raw) == MAX_HEAD_BYTES + extra
    # Одним sendall: конец — в последнем куске
    assert split(exchange(server.port, raw))[0] == expected


def test_trickling_client_is_cut_off_after_the_answer(server):
    """Дочитывание после ответа ограничено и по времени: капля в секунду не держит
    поток."""
    answer, seconds = trickle_after_answer(
        server.port, b"GET /nope HTTP/1.1\r\nHost: test\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert seconds < 4


@pytest.mark.parametrize(
    "target, method",
    [
        ("/nope", "GET"),
        ("/nope", "POST"),
        ("/../server.py", "GET"),
        ("/%2e%2e/grades.json", "GET"),
        ("/index.html", "GET"),
    ],
)
def test_unknown_path_is_404(server, target, method):
    status_line, _, body = get(server.port, target, method)
    assert status_line == "HTTP/1.1 404 Not Found"
    assert b"import socket" not in body


@pytest.mark.parametrize(
    "target, method, allow",
    [
        ("/", "PUT", "GET, HEAD, POST"),
        ("/", "DELETE", "GET, HEAD, POST"),
        ("/grades.json", "POST", "GET, HEAD"),
        ("/grades.json", "PUT", "GET, HEAD"),
    ],
)
def test_other_methods_are_405_with_allow(server, target, method, allow):
    status_line, headers, _ = get(server.port, target, method)
    assert status_line == "HTTP/1.1 405 Method Not Allowed"
    assert headers["allow"] == allow


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"POST / HTTP/1.1 x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHeader without colon\r\n\r\n",
    ],
)
def test_malformed_request_is_400(server, raw):
    assert split(exchange(server.port, raw))[0] == "HTTP/1.1 400 Bad Request"


@pytest.mark.parametrize(
    "body", [b"discipline=\xff\xfe&grade=5", b"discipline=%FF%FE&grade=5"]
)
def test_form_not_in_utf8_is_400(server, body):
    status_line, _, answer = post_body(server.port, body)
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert "UTF-8".encode() in answer


# --- одновременность и устойчивость файла ---------------------------------------------


def test_fifty_simultaneous_posts_lose_nothing(launch, tmp_path):
    data = tmp_path / "grades.json"
    server = start(launch, data)
    clients = 50
    barrier = threading.Barrier(clients)
    statuses: list[str] = []

    def send(number: int) -> None:
        body = urlencode(
            {"discipline": f"Поток {number % 5}", "grade": str(2 + number % 4)}
        ).encode("ascii")
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
            barrier.wait(10)  # все соединения открыты — отправляем разом
            sock.sendall(post_head(server.port, len(body)) + body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        statuses.append(answer.split(b"\r\n", 1)[0].decode())

    threads = [
        threading.Thread(target=send, args=(number,)) for number in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == ["HTTP/1.1 303 See Other"] * clients
    expected = {
        f"Поток {group}": sorted(2 + number % 4 for number in range(group, clients, 5))
        for group in range(5)
    }
    assert {
        name: sorted(marks) for name, marks in journal(server.port).items()
    } == expected
    on_disk = json.loads(data.read_text(encoding="utf-8"))
    assert {name: sorted(marks) for name, marks in on_disk.items()} == expected


def test_sigkill_during_posts_keeps_every_confirmed_grade(launch, tmp_path):
    data = tmp_path / "grades.json"
    server = start(launch, data)
    confirmed: list[str] = []
    lock = threading.Lock()

    def keep_posting(worker: int) -> None:
        for number in range(10_000):
            discipline = f"Убит {worker}-{number}"
            try:
                status_line = post_form(server.port, discipline, "3")[0]
            except (OSError, AssertionError):
                return  # сервер убит
            if status_line == "HTTP/1.1 303 See Other":
                with lock:
                    confirmed.append(discipline)

    workers = [
        threading.Thread(target=keep_posting, args=(worker,)) for worker in range(6)
    ]
    for worker in workers:
        worker.start()
    wait_until(
        lambda: len(confirmed) >= 60,
        timeout=20,
        message="сервер не подтвердил 60 оценок",
    )
    server.process.kill()  # SIGKILL: без finally и без atexit, посреди записи
    for worker in workers:
        worker.join(20)
    on_disk = json.loads(data.read_text(encoding="utf-8"))  # файл цел: это полный JSON
    missing = [name for name in confirmed if on_disk.get(name) != [3]]
    assert missing == [], f"подтверждённые 303 оценки пропали: {missing[:5]}"

    again = start(launch, data)
    assert journal(again.port) == on_disk


def test_folder_is_synced_after_replace(launch, tmp_path):
    """Новое имя файла — запись в папке: после os.replace сервер сбрасывает на диск и
    папку."""
    data = tmp_path / "grades.json"
    server = launch(
        [
            PYTHON,
            "-c",
            FSYNC_SPY,
            lab_program("task5", "server.py"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data",
            str(data),
        ]
    )
    port = int(
        server.wait_for(r"Сервер слушает 127\.0\.0\.1:(\d+)", stream="stderr").group(1)
    )
    assert post_form(port, "Переживёт сбой питания", "5")[0] == "HTTP/1.1 303 See Other"
    server.wait_for(
        rf"ШПИОН replace {re.escape(str(data))}\n"
        rf".*ШПИОН fsync {tmp_path.stat().st_ino}\n",
        stream="stderr",
        flags=re.DOTALL,
    )


def test_data_file_is_replaced_not_rewritten_in_place(launch, tmp_path):
    """Атомарная запись: новый файл подменяет старый (новый inode), временного не
    остаётся."""
    data = tmp_path / "grades.json"
    server = start(launch, data)
    assert post_form(server.port, "Первая", "5")[0] == "HTTP/1.1 303 See Other"
    first = data.stat().st_ino
    assert post_form(server.port, "Вторая", "4")[0] == "HTTP/1.1 303 See Other"
    assert data.stat().st_ino != first
    assert sorted(path.name for path in tmp_path.iterdir()) == ["grades.json"]
    assert json.loads(data.read_text(encoding="utf-8")) == {
        "Первая": [5],
        "Вторая": [4],
    }


@pytest.mark.parametrize(
    "content, problem",
    [
        ("{не json", "повреждён"),
        ('{"Физика": [5', "повреждён"),
        ("[5, 4]", "не журнал"),
        ('{"Физика": "5"}', "не журнал"),
        ('{"Физика": [7]}', "не журнал"),
        ('{"Физика": [4.0]}', "не журнал"),
        ('{"Физика": [true]}', "не журнал"),
        ('{"Физика": []}', "не журнал"),
    ],
)
def test_corrupt_data_file_stops_server_and_is_left_untouched(
    launch, tmp_path, content, problem
):
    data = tmp_path / "grades.json"
    data.write_text(content, encoding="utf-8")
    server = launch(
        [PYTHON, lab_program("task5", "server.py"), "--port", "0", "--data", str(data)]
    )
    assert server.wait_exit() == 1
    assert server.stderr.startswith("Ошибка: ") and server.stderr.count("\n") == 1
    assert problem in server.stderr
    assert server.stderr.rstrip().endswith(
        "Исправьте или удалите файл — сервер его не перезапишет."
    )
    assert data.read_text(encoding="utf-8") == content
    assert [path.name for path in tmp_path.iterdir()] == ["grades.json"]
    server.assert_no_traceback()


def test_unreadable_data_path_is_a_clear_error(launch, tmp_path):
    server = launch(
        [
            PYTHON,
            lab_program("task5", "server.py"),
            "--port",
            "0",
            "--data",
            str(tmp_path),
        ]
    )
    assert server.wait_exit() == 1
    assert server.stderr.startswith(
        f"Ошибка: не удалось прочитать файл оценок {tmp_path}"
    )
    server.assert_no_traceback()


def test_failed_save_is_500_and_journal_stays_unchanged(launch, tmp_path):
    server = start(launch, tmp_path / "no-such-folder" / "grades.json")
    status_line, _, body = post_form(server.port, "Не сохранится", "5")
    assert status_line == "HTTP/1.1 500 Internal Server Error"
    assert "не удалось сохранить оценку".encode("utf-8") in body
    server.wait_for(r"ERROR Не удалось записать .*grades\.json", stream="stderr")
    assert journal(server.port) == {}
    assert get(server.port)[0] == "HTTP/1.1 200 OK"


# --- запуск -------------------------------------------------------------------------


def test_first_line_names_the_address_and_requests_are_logged(server):
    first = server.stderr.splitlines()[0]
    assert first.endswith(
        f"Сервер слушает 127.0.0.1:{server.port} — "
        f"откройте http://127.0.0.1:{server.port}/ в браузере"
    )
    get(server.port, "/nope?x=1")
    server.wait_for(r"INFO 127\.0\.0\.1:\d+ GET /nope\?x=1 → 404", stream="stderr")


def test_busy_port_is_a_clear_error(server, launch, tmp_path):
    second = launch(
        [
            PYTHON,
            lab_program("task5", "server.py"),
            "--port",
            str(server.port),
            "--data",
            str(tmp_path / "grades.json"),
        ]
    )
    assert second.wait_exit() == 1
    assert second.stderr.startswith(
        f"Ошибка: не удалось занять 127.0.0.1:{server.port}"
    )
    second.assert_no_traceback()


@pytest.mark.parametrize("program", ["server.py", "client.py"])
def test_help_is_in_russian(launch, program):
    shown = launch([PYTHON, lab_program("task5", program), "--help"])
    assert shown.wait_exit() == 0
    # argparse переносит строки
    assert re.search(r"по\s+умолчанию\s+8081", shown.stdout), shown.stdout


# --- браузер -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with Browser(require_chromium(), width=1000, height=800) as opened:
        yield opened


def fill_form(browser: Browser, discipline: str, grade: str) -> None:
    browser.evaluate(
        f"document.querySelector('[name=discipline]').value = {json.dumps(discipline)}"
    )
    browser.evaluate(
        f"document.querySelector('[name=grade]').value = {json.dumps(grade)}"
    )


@pytest.mark.browser
def test_browser_submits_form_and_sees_grade_after_redirect(server, browser):
    url = f"http://127.0.0.1:{server.port}/"
    browser.open(url)
    assert browser.status() == 200
    assert browser.evaluate("document.title") == TITLE
    fill_form(browser, "Браузерная дисциплина", "5")
    browser.navigate_by("document.querySelector('button[type=submit]').click()")
    assert browser.evaluate("location.href") == url
    assert browser.status() == 200
    # Post/Redirect/Get: POST получил 303, и браузер сам пришёл за страницей GET-ом.
    assert (
        browser.evaluate("performance.getEntriesByType('navigation')[0].redirectCount")
        == 1
    )
    rows = browser.evaluate(
        "[...document.querySelectorAll('tr')].map(row => row.innerText)"
    )
    assert "Браузерная дисциплина\t5\t5,00" in rows
    # «Обновить» после PRG не отправляет форму повторно.
    browser.navigate_by("location.reload()")
    assert journal(server.port)["Браузерная дисциплина"] == [5]


@pytest.mark.browser
def test_browser_shows_validation_error_and_escapes_input(server, browser):
    browser.open(f"http://127.0.0.1:{server.port}/")
    fill_form(browser, "", "7")
    # submit() минует проверку браузера
    browser.navigate_by("document.querySelector('form').submit()")
    assert browser.status() == 400
    assert (
        browser.evaluate("document.querySelector('.error').innerText")
        == "Укажите дисциплину."
    )
    assert browser.evaluate("document.querySelector('[name=grade]').value") == "7"

    attack = "<img src=x onerror=\"document.title = 'взлом'\">"
    fill_form(browser, attack, "4")
    browser.navigate_by("document.querySelector('form').submit()")
    assert browser.status() == 200
    assert browser.evaluate("document.title") == TITLE
    assert browser.evaluate("document.querySelectorAll('table img').length") == 0
    cells = browser.evaluate(
        "[...document.querySelectorAll('td')].map(cell => cell.innerText)"
    )
    assert attack in cells
