"""Задание 5: журнал оценок — GET и POST на сокете, форма, экранирование,
атомарная запись.

Сервер и клиент запускаются как подпроцессы, файл оценок — во временной папке
теста (--data). Проверки «на проводе» идут сырыми сокетами: тело по частям,
без длины, слишком длинное, XSS, правила RFC 9110/9112 (Host, повторный
Content-Length, Transfer-Encoding, абсолютная цель, Date), сроки на голову и
тело (капли по байту), предел соединений, 50 одновременных POST и SIGKILL
посреди потока POST-ов (после него файл цел и в нём каждая подтверждённая
оценка). Нехватку дескрипторов, потоков, места на диске и Ctrl+C «как на
Windows» тесты устраивают обёртками вокруг server.py (python -c ОБЁРТКА).
"""

from __future__ import annotations

import email.utils
import json
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
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
from hypothesis import given
from hypothesis import strategies as st
from support import (
    PYTHON,
    RUN_PROGRAM,
    Program,
    free_port,
    lab_program,
    program_env,
    start_server,
    wait_until,
)

TITLE = "Журнал оценок — задание 5"
GRADE_MESSAGE = "Оценка должна быть целым числом от 2 до 5."
MAX_HEAD_BYTES = 8 * 1024  # предел головы в server.py, вместе с пустой строкой
NOT_A_JOURNAL = (
    "Ошибка: непонятный ответ сервера: "
    "в /grades.json не объект «дисциплина: [оценки]»\n"
)
# Запускает server.py, подменив os.replace и os.fsync шпионами:
# они пишут в stderr, что сделано.
FSYNC_SPY = (
    """
import os, sys
real_fsync, real_replace = os.fsync, os.replace

def fsync(fd):
    real_fsync(fd)
    print("ШПИОН fsync", os.fstat(fd).st_ino, file=sys.stderr, flush=True)

def replace(source, target):
    real_replace(source, target)
    print("ШПИОН replace", target, file=sys.stderr, flush=True)

os.fsync, os.replace = fsync, replace
sys.argv.pop(0)
"""
    + RUN_PROGRAM
)
# Запускает server.py так, как его видит Windows: Ctrl+C не прерывает accept()
# главного потока. SIGINT в нём заблокирован, сигнал достаётся другому потоку, и
# главный заметит его, только когда accept вернётся сам.
WINDOWS_LIKE_SIGINT = (
    """
import signal, sys, threading
threading.Thread(target=threading.Event().wait, daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
sys.argv.pop(0)
"""
    + RUN_PROGRAM
)
# Мало дескрипторов: RLIMIT_NOFILE = 32, как ulimit -n 32.
LOW_FD_LIMIT = (
    """
import resource, sys
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (32, hard))
sys.argv.pop(0)
"""
    + RUN_PROGRAM
)
# Первый Thread.start() падает, как при нехватке памяти на поток.
THREAD_FAILS_ONCE = (
    """
import sys, threading
real_start, failed = threading.Thread.start, []

def start(self):
    if not failed:
        failed.append(self)
        raise RuntimeError("can't start new thread")
    real_start(self)

threading.Thread.start = start
sys.argv.pop(0)
"""
    + RUN_PROGRAM
)
# Диск переполнен: fsync временного файла падает с ENOSPC.
DISK_FULL = (
    """
import errno, os, sys

def fsync(fd):
    raise OSError(errno.ENOSPC, "No space left on device")

os.fsync = fsync
sys.argv.pop(0)
"""
    + RUN_PROGRAM
)


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


def start_wrapped(launch, wrapper: str, data: Path, *flags: str) -> Program:
    """Запускает server.py внутри обёртки (python -c ОБЁРТКА server.py …)."""
    server = launch(
        [
            PYTHON,
            "-c",
            wrapper,
            lab_program("task5", "server.py"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data",
            str(data),
            *flags,
        ]
    )
    found = server.wait_for(r"Сервер слушает 127\.0\.0\.1:(\d+)", stream="stderr")
    server.port = int(found.group(1))
    return server


def raw_request(port: int, *lines: str, body: bytes = b"") -> tuple[str, bytes]:
    """Запрос из строк головы (и тела) → строка статуса и весь ответ."""
    raw = exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    return split(raw)[0], raw


def drip(port: int, start: bytes, limit: float = 5.0) -> tuple[bytes, float]:
    """Шлёт start, потом по байту раз в 0,05 с, пока сервер не ответит.

    Возвращает ответ и сколько секунд прошло от первого байта до ответа.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        began = time.monotonic()
        sock.sendall(start)
        while not select.select([sock], [], [], 0.05)[0]:
            assert time.monotonic() - began < limit, "сервер терпит капли без конца"
            sock.send(b"a")
        elapsed = time.monotonic() - began
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, elapsed


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
            client.wait_blocked()
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


def test_client_list_survives_a_terminal_without_those_letters(server):
    """cp1251 (консоль Windows) не знает иероглифов: вместо них — «?», а не ошибка."""
    assert (
        post_form(server.port, "日本語 и кириллица", "5")[0] == "HTTP/1.1 303 See Other"
    )
    shown = subprocess.run(
        [PYTHON, lab_program("task5", "client.py"), "--port", str(server.port), "list"],
        capture_output=True,
        env=program_env(PYTHONIOENCODING="cp1251"),
        timeout=10,
    )
    assert shown.returncode == 0, shown.stderr.decode("cp1251", errors="replace")
    assert "??? и кириллица: 5\n" in shown.stdout.decode("cp1251")
    assert shown.stderr == b""


def test_client_says_when_the_server_drops_the_connection(launch):
    with socket.create_server(("127.0.0.1", 0)) as fake_server:
        fake_server.settimeout(10)
        port = fake_server.getsockname()[1]
        client = launch(
            [PYTHON, lab_program("task5", "client.py"), "--port", str(port), "list"]
        )
        conn, _ = fake_server.accept()
        conn.settimeout(10)
        read_request(conn)
        # SO_LINGER с нулём: close шлёт RST — «соединение сброшено».
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    assert client.wait_exit() == 1
    assert client.stderr == f"Ошибка: сервер 127.0.0.1:{port} оборвал соединение\n"
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


def test_disciplines_are_compared_after_nfc_but_lookalikes_stay_apart(server):
    """«Й» одним символом и «И» + бреве — одна дисциплина; латинская «o» вместо
    кириллической — другая, хоть и выглядит так же."""
    composed, decomposed = "Й-тест", "И\u0306-тест"
    cyrillic = "Двойник-тест"
    latin = cyrillic.replace("\u043e", "o")  # кириллическая «о» → латинская «o»
    for discipline, grade in [(composed, "5"), (decomposed, "4"), (cyrillic, "3")]:
        assert post_form(server.port, discipline, grade)[0] == "HTTP/1.1 303 See Other"
    assert post_form(server.port, latin, "2")[0] == "HTTP/1.1 303 See Other"
    grades = journal(server.port)
    assert grades[composed] == [5, 4] and decomposed not in grades
    assert grades[cyrillic] == [3] and grades[latin] == [2]


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
    # HTTP/1.0 — той же длины, что HTTP/1.1, но Host не обязателен.
    raw = padded_get(MAX_HEAD_BYTES + extra).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
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
        ("[" * 100_000 + "]" * 100_000, "слишком глубокая вложенность"),
        ('{"Физика": [5], "Физика": [4]}', "«Физика» встречается дважды"),
        # «й» одним символом и «и» + знак бреве — после NFC одна дисциплина
        ('{"й": [5], "и\u0306": [4]}', "«й» встречается дважды"),
        (json.dumps({f"Д{n}": [5] for n in range(201)}), "дисциплин больше 200"),
        (json.dumps({"Физика": [5] * 101}), "больше 100 оценок"),
    ],
    ids=lambda value: value[:30],
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
    # На Windows папку не открыть «на чтение» — там это «нет прав».
    assert server.stderr.startswith(
        (
            f"Ошибка: {tmp_path} — папка, а не файл оценок.",
            f"Ошибка: нет прав на чтение файла оценок {tmp_path}.",
        )
    )
    assert server.stderr.count("\n") == 1
    server.assert_no_traceback()


def test_failed_write_leaves_no_temporary_file(launch, tmp_path):
    server = start_wrapped(launch, DISK_FULL, tmp_path / "grades.json")
    status_line, _, _ = post_form(server.port, "Диск полон", "5")
    assert status_line == "HTTP/1.1 500 Internal Server Error"
    server.wait_for(r"ERROR Не удалось записать .*No space left", stream="stderr")
    assert list(tmp_path.iterdir()) == []
    assert journal(server.port) == {}


def test_journal_limits_give_409_with_a_message(launch, tmp_path):
    """Журнал ограничен: 200 дисциплин, 100 оценок у каждой — GET не разрастается."""
    data = tmp_path / "grades.json"
    full = {f"Д{n}": [5] for n in range(199)} | {"Полная": [4] * 100}
    data.write_text(json.dumps(full, ensure_ascii=False), encoding="utf-8")
    server = start(launch, data)
    for discipline, message in [
        ("Новая", "В журнале уже 200 дисциплин — это предел."),
        ("Полная", "У этой дисциплины уже 100 оценок — это предел."),
    ]:
        status_line, _, page = post_form(server.port, discipline, "3")
        assert status_line == "HTTP/1.1 409 Conflict"
        assert f'<p class="error">{message}</p>'.encode() in page
    code, client = run_client(launch, server.port, "add", "Новая", "3")
    assert (code, client.stderr) == (
        1,
        "Ошибка: В журнале уже 200 дисциплин — это предел.\n",
    )
    assert post_form(server.port, "Д0", "3")[0] == "HTTP/1.1 303 See Other"
    assert json.loads(data.read_text(encoding="utf-8")) == full | {"Д0": [5, 3]}


def test_failed_save_is_500_and_journal_stays_unchanged(launch, tmp_path):
    server = start(launch, tmp_path / "no-such-folder" / "grades.json")
    status_line, _, body = post_form(server.port, "Не сохранится", "5")
    assert status_line == "HTTP/1.1 500 Internal Server Error"
    assert "не удалось сохранить оценку".encode("utf-8") in body
    server.wait_for(r"ERROR Не удалось записать .*grades\.json", stream="stderr")
    assert journal(server.port) == {}
    assert get(server.port)[0] == "HTTP/1.1 200 OK"


# --- строгий HTTP/1.1 (RFC 9110, RFC 9112) --------------------------------------------


def form(discipline: str) -> bytes:
    return urlencode({"discipline": discipline, "grade": "5"}).encode("ascii")


@pytest.mark.parametrize("first", ["5", "same"])
def test_repeated_content_length_is_400_and_nothing_is_saved(server, first):
    """RFC 9112 §6.3: разные длины — 400; одинаковые повторы сервер тоже отвергает."""
    body = form(f"Две длины {first}")
    status_line, _ = raw_request(
        server.port,
        "POST / HTTP/1.1",
        "Host: test",
        f"Content-Length: {len(body) if first == 'same' else first}",
        f"Content-Length: {len(body)}",
        body=body,
    )
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert f"Две длины {first}" not in journal(server.port)


@pytest.mark.parametrize(
    "header",
    [
        "Content-Length : {length}",  # RFC 9112 §5.1: пробел перед двоеточием
        " X-Folded: y",  # RFC 9112 §5.2: строка-продолжение (obs-fold)
        "X-Bad: a\x00b",  # RFC 9110 §5.5: NUL в значении
        "X-Bad: a\rb",  # и одиночный CR
    ],
)
def test_malformed_header_is_400(server, header):
    body = form("Кривой заголовок")
    lines = ["POST / HTTP/1.1", "Host: test", f"Content-Length: {len(body)}"]
    if header.startswith("Content-Length"):
        lines.pop()
    lines.append(header.format(length=len(body)))
    assert raw_request(server.port, *lines, body=body)[0] == "HTTP/1.1 400 Bad Request"
    assert "Кривой заголовок" not in journal(server.port)


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["GET / HTTP/1.1"], "HTTP/1.1 400 Bad Request"),  # RFC 9112 §3.2
        (["GET / HTTP/1.1", "Host: a", "Host: b"], "HTTP/1.1 400 Bad Request"),
        (["GET / HTTP/1.0"], "HTTP/1.1 200 OK"),  # в HTTP/1.0 Host не обязателен
    ],
)
def test_host_is_required_once_in_http_1_1(server, lines, expected):
    assert raw_request(server.port, *lines)[0] == expected


def test_chunked_body_is_501_and_with_content_length_400(server):
    body = form("По кускам")
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    status_line, raw = raw_request(
        server.port,
        "POST / HTTP/1.1",
        "Host: test",
        "Transfer-Encoding: chunked",
        body=chunked,
    )
    assert status_line == "HTTP/1.1 501 Not Implemented"  # RFC 9112 §6.1
    assert "Content-Length".encode() in raw
    status_line, _ = raw_request(
        server.port,
        "POST / HTTP/1.1",
        "Host: test",
        "Transfer-Encoding: chunked",
        f"Content-Length: {len(body)}",
        body=body,
    )
    assert status_line == "HTTP/1.1 400 Bad Request"  # RFC 9112 §6.3
    assert "По кускам" not in journal(server.port)


def test_absolute_form_target_is_accepted(server):
    """RFC 9112 §3.2.2: «GET http://хост/путь HTTP/1.1» сервер обязан понимать."""
    url = f"http://127.0.0.1:{server.port}"
    status_line, raw = raw_request(server.port, f"GET {url}/ HTTP/1.1", "Host: test")
    assert status_line == "HTTP/1.1 200 OK"
    assert f"<title>{TITLE}</title>".encode() in raw
    status_line, raw = raw_request(
        server.port, f"GET {url}/grades.json?x=1 HTTP/1.1", "Host: test"
    )
    assert status_line == "HTTP/1.1 200 OK"
    assert split(raw)[1]["content-type"] == "application/json; charset=utf-8"
    for target in ("ftp://host/", "http:///", "http://[::1/", "*"):
        status_line, _ = raw_request(server.port, f"GET {target} HTTP/1.1", "Host: x")
        assert status_line == "HTTP/1.1 400 Bad Request", target


@pytest.mark.parametrize(
    "lines",
    [
        ["GET / HTTP/1.1", "Host: test"],
        ["GET /nope HTTP/1.1", "Host: test"],
        ["GARBAGE"],
        ["POST / HTTP/1.1", "Host: test"],
    ],
)
def test_every_response_has_a_date(server, lines):
    """RFC 9110 §6.6.1: Date — в каждом ответе, в формате IMF-fixdate (GMT)."""
    _, raw = raw_request(server.port, *lines)
    date = split(raw)[1]["date"]
    assert date.endswith(" GMT")
    sent = email.utils.parsedate_to_datetime(date)
    assert abs((datetime.now(UTC) - sent).total_seconds()) < 60


@pytest.mark.parametrize("target", ["/", "/grades.json"])
def test_journal_is_not_kept_in_caches(server, target):
    """Страница меняется с каждым POST: кэш не должен показывать старую."""
    assert get(server.port, target)[1]["cache-control"] == "no-store"


# --- сроки, как у mod_reqtimeout ------------------------------------------------------


@pytest.fixture(scope="module")
def hasty_server(module_launch, tmp_path_factory):
    """Сервер с короткими сроками: голова — 0,5 с, тело — 0,5 с или 1000 Б/с."""
    data = tmp_path_factory.mktemp("task5-hasty") / "grades.json"
    return start_server(
        module_launch,
        "task5",
        "--data",
        str(data),
        "--head-timeout",
        "0.5",
        "--body-timeout",
        "0.5",
        "--body-min-rate",
        "1000",
    )


def test_dripping_head_gets_408_when_its_deadline_passes(hasty_server):
    """Срок — на всю голову: байт раз в 0,05 с его не продлевает."""
    answer, elapsed = drip(hasty_server.port, b"GET / HTTP/1.1\r\nX-Drip: ")
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert 0.4 < elapsed < 3


def test_dripping_body_gets_408_when_its_deadline_passes(hasty_server):
    answer, elapsed = drip(hasty_server.port, post_head(hasty_server.port, 200))
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert 0.4 < elapsed < 3


def test_long_body_gets_time_in_proportion_to_its_length(hasty_server):
    """2000 байтов при 1000 Б/с — 2 с, хотя нижний срок всего 0,5 с."""
    body = form("Длинное тело") + b"&pad=" + b"x" * 1900
    pieces = [body[start : start + 200] for start in range(0, len(body), 200)]
    started = time.monotonic()
    raw = exchange(
        hasty_server.port, post_head(hasty_server.port, len(body)), *pieces, pause=0.07
    )
    assert time.monotonic() - started > 0.5  # дольше нижнего срока
    assert split(raw)[0] == "HTTP/1.1 303 See Other"


# --- нехватка ресурсов -------------------------------------------------------------


def test_connections_over_max_clients_get_503_with_retry_after(launch, tmp_path):
    server = start_server(
        launch, "task5", "--data", str(tmp_path / "grades.json"), "--max-clients", "2"
    )
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
    try:
        # accept идёт по порядку: когда очередь дошла до третьего, двое заняли места.
        status_line, headers, body = split(exchange(server.port))
        assert status_line == "HTTP/1.1 503 Service Unavailable"
        assert headers["retry-after"] == "1"
        assert "занят".encode() in body
        server.wait_for(r"WARNING .* → 503: все места заняты", stream="stderr")
    finally:
        for sock in idle:
            sock.close()
    # Молчуны ушли — места вернулись.
    wait_until(lambda: get(server.port)[0] == "HTTP/1.1 200 OK")


def test_failed_thread_start_is_503_and_the_server_goes_on(launch, tmp_path):
    server = start_wrapped(launch, THREAD_FAILS_ONCE, tmp_path / "grades.json")
    assert get(server.port)[0] == "HTTP/1.1 503 Service Unavailable"
    server.wait_for(r"ERROR .* → 503: не удалось запустить поток", stream="stderr")
    assert get(server.port)[0] == "HTTP/1.1 200 OK"
    server.assert_no_traceback()


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE есть только в POSIX")
def test_out_of_descriptors_is_logged_once_and_the_server_recovers(launch, tmp_path):
    server = start_wrapped(launch, LOW_FD_LIMIT, tmp_path / "grades.json")
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(40)]
    try:
        server.wait_for("кончились дескрипторы файлов процесса", stream="stderr")
        time.sleep(0.6)  # accept повторяется раз в 0,1 с — строка должна быть одна
        assert server.count("кончились дескрипторы", stream="stderr") == 1
    finally:
        for sock in idle:
            sock.close()
    assert get(server.port)[0] == "HTTP/1.1 200 OK"
    assert server.running
    server.assert_no_traceback()


@pytest.mark.skipif(sys.platform == "win32", reason="обёртка блокирует SIGINT (POSIX)")
def test_ctrl_c_works_even_when_it_cannot_interrupt_accept(launch, tmp_path):
    """Как на Windows: Ctrl+C не прерывает accept(), сервер замечает его по тику."""
    server = start_wrapped(launch, WINDOWS_LIKE_SIGINT, tmp_path / "grades.json")
    server.wait_for("начинаем с пустого журнала", stream="stderr")  # запуск окончен
    server.interrupt()
    assert server.wait_exit(timeout=5) == 0
    assert server.stderr.rstrip().endswith("Сервер остановлен.")
    server.assert_no_traceback()


# --- свойства (hypothesis): что бы ни пришло, ответ — правильный HTTP ----------------

# Какие статусы сервер вправе дать на любой запрос (см. таблицу маршрутов на странице).
DOCUMENTED_STATUSES = {200, 303, 400, 404, 405, 409, 411, 413, 431, 501}
STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) [A-Za-z ]+\r\n")
VALID_POST = post_head(8081, 29) + b"discipline=%D0%A4&grade=5&x=1"


@pytest.fixture(scope="module")
def fuzz_server(module_launch, tmp_path_factory):
    """Один сервер на все примеры: каждый пример — миллисекунды, а не запуск."""
    data = tmp_path_factory.mktemp("task5-fuzz") / "grades.json"
    server = start_server(module_launch, "task5", "--data", str(data))
    server.data = data
    return server


def send_and_close(port: int, raw: bytes) -> bytes:
    """Шлёт байты, говорит «я всё» (SHUT_WR) и читает ответ до закрытия."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def assert_still_sane(server: Program, answer: bytes) -> None:
    """Ответ — пусто (запрос оборван) или правильный HTTP; файл — журнал; GET жив."""
    if answer:
        match = STATUS_LINE.match(answer)
        assert match and int(match.group(1)) in DOCUMENTED_STATUSES, answer[:200]
        head, separator, body = answer.partition(b"\r\n\r\n")
        assert separator, answer[:200]
        length = re.search(rb"\r\nContent-Length: (\d+)\r\n", head + b"\r\n")
        assert length and len(body) in (0, int(length.group(1)))  # 0 — ответ на HEAD
    if server.data.exists():
        grades = json.loads(server.data.read_text(encoding="utf-8"))
        assert isinstance(grades, dict)
        assert all(set(marks) <= {2, 3, 4, 5} for marks in grades.values())
    assert get(server.port)[0] == "HTTP/1.1 200 OK"


@pytest.mark.fuzz
@given(raw=st.binary(max_size=2000))
def test_random_bytes_get_a_well_formed_answer(fuzz_server, raw):
    assert_still_sane(fuzz_server, send_and_close(fuzz_server.port, raw))


@pytest.mark.fuzz
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(VALID_POST)), st.binary(max_size=3), st.integers(0, 3)
        ),
        min_size=1,
        max_size=5,
    )
)
def test_mutated_post_gets_a_well_formed_answer(fuzz_server, edits):
    """Настоящий POST, в котором заменены, вставлены или удалены несколько байтов."""
    raw = VALID_POST
    for position, inserted, removed in edits:
        raw = raw[:position] + inserted + raw[position + removed :]
    assert_still_sane(fuzz_server, send_and_close(fuzz_server.port, raw))


@pytest.mark.fuzz
@given(
    discipline=st.one_of(
        st.text(max_size=150),
        st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
        # Длинные: около предела в 100 символов и до 18 КБ тела (больше 10 КиБ — 413)
        st.integers(90, 3000).map(lambda length: "я" * length),
    ),
    grade=st.one_of(st.sampled_from(["2", "3", "4", "5"]), st.text(max_size=10)),
    tail=st.one_of(
        st.just(b""),
        st.sampled_from([b"&discipline=%", b"&x=%G1", b"&x=%FF%FE", b"\xff\xfe"]),
        st.binary(max_size=50),
    ),
)
def test_random_form_fields_get_a_documented_answer(
    fuzz_server, discipline, grade, tail
):
    """Дисциплины с управляющими символами, длинные, битый %XX и не-UTF-8."""
    body = urlencode({"discipline": discipline, "grade": grade}).encode() + tail
    answer = send_and_close(
        fuzz_server.port, post_head(fuzz_server.port, len(body)) + body
    )
    assert_still_sane(fuzz_server, answer)
    status = int(STATUS_LINE.match(answer).group(1))
    assert status in (303, 400, 409, 413)


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
    assert second.stderr == (
        f"Ошибка: не удалось занять 127.0.0.1:{server.port}: "
        "порт уже занят — другой программой или вторым сервером\n"
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
