"""Задание 3: HTTP-сервер на сокете отдаёт index.html; клиент скачивает страницу.

Сервер и клиент запускаются как подпроцессы; «враждебные» запросы (по частям,
мусор, чужие методы, огромные заголовки, выход за пределы папки) шлём сырыми
сокетами и смотрим на байты ответа.
"""

from __future__ import annotations

import re
import socket
import struct
import sys
import time
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import pytest
from browser import Browser, require_chromium
from http_wire import (
    exchange,
    get,
    read_request,
    split,
    trickle_after_answer,
)
from hypothesis import given
from hypothesis import strategies as st
from support import (
    PYTHON,
    Program,
    free_port,
    lab_program,
    program_env,
    start_server,
    wait_until,
)

PAGE_FILE = lab_program("task3", "index.html")
PAGE = PAGE_FILE.read_bytes()
SERVER_SOURCE_MARKERS = (b"import socket", b"def main", b"REQUEST_LINE")
MAX_HEAD_BYTES = 8 * 1024  # предел головы в server.py, вместе с пустой строкой


# --- помощники ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(module_launch):
    """Один сервер на все проверки, которым не важно его состояние."""
    return start_server(module_launch, "task3")


def run_client(launch, *args: str, **env: str) -> tuple[int, Program]:
    client = launch(
        [PYTHON, lab_program("task3", "client.py"), *args], env=program_env(**env)
    )
    return client.wait_exit(), client


def padded_get_with_host(size: int) -> bytes:
    """GET ровно в size байт, как padded_get, но с обязательным в HTTP/1.1 Host."""
    start, end = b"GET / HTTP/1.1\r\nHost: test\r\nX-Filler: ", b"\r\n\r\n"
    return start + b"a" * (size - len(start) - len(end)) + end


# --- страница -------------------------------------------------------------------


def test_page_is_sent_byte_for_byte_with_length_in_bytes(server):
    assert len(PAGE) > len(PAGE.decode("utf-8")), "на странице должна быть кириллица"
    status_line, headers, body = get(server.port)
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-length"] == str(len(PAGE))
    assert headers["connection"] == "close"
    assert body == PAGE


@pytest.mark.parametrize("target", ["/index.html", "/?x=1", "/index.html?a=b&c=%D0%B4"])
def test_index_html_and_query_string_give_the_page(server, target):
    status_line, _, body = get(server.port, target)
    assert status_line == "HTTP/1.1 200 OK"
    assert body == PAGE


def test_head_sends_headers_without_body(server):
    status_line, headers, body = get(server.port, "/", method="HEAD")
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["content-length"] == str(len(PAGE))
    assert body == b""


def test_request_split_into_pieces_is_answered(server):
    raw = exchange(
        server.port,
        b"GE",
        b"T / HT",
        b"TP/1.1\r\nHost: te",
        b"st\r\n\r",
        b"\n",
        pause=0.03,
    )
    status_line, _, body = split(raw)
    assert status_line == "HTTP/1.1 200 OK"
    assert body == PAGE


@pytest.mark.parametrize(
    "pieces",
    [
        [b"GET / HTTP/1.1\nHost: test\n\n"],  # nc без -C: строки кончаются одним \n
        # так же, но построчно, как набирают руками
        [b"GET / HTTP/1.1\n", b"Host: test\n", b"\n"],
        [b"GET / HTTP/1.1\r\nHost: test\n\r\n"],  # вперемешку
    ],
)
def test_bare_lf_line_endings_are_accepted(server, pieces):
    status_line, _, body = split(exchange(server.port, *pieces, pause=0.03))
    assert status_line == "HTTP/1.1 200 OK"
    assert body == PAGE


def test_page_is_valid_html5_without_external_resources():
    class Checker(HTMLParser):
        VOID = {"meta", "link", "br", "img", "input", "hr"}

        def __init__(self) -> None:
            super().__init__()
            self.open_tags: list[str] = []
            self.seen: dict[str, dict[str, str | None]] = {}

        def handle_starttag(self, tag, attrs):
            attributes = dict(attrs)
            self.seen.setdefault(tag, attributes)
            for name in ("src", "href"):
                assert not (attributes.get(name) or "").startswith(("http", "//")), (
                    tag,
                    attributes,
                )
            if tag not in self.VOID:
                self.open_tags.append(tag)

        def handle_endtag(self, tag):
            assert self.open_tags and self.open_tags[-1] == tag, (tag, self.open_tags)
            self.open_tags.pop()

    text = PAGE.decode("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    checker = Checker()
    checker.feed(text)
    checker.close()
    assert checker.open_tags == []
    assert checker.seen["html"]["lang"] == "ru"
    assert checker.seen["meta"]["charset"] == "utf-8"
    assert "style" in checker.seen and "script" not in checker.seen


# --- ошибки ---------------------------------------------------------------------


def test_unknown_path_is_404(server):
    status_line, headers, body = get(server.port, "/nope")
    assert status_line == "HTTP/1.1 404 Not Found"
    assert headers["content-length"] == str(len(body))


@pytest.mark.parametrize(
    "target",
    [
        "/../server.py",
        "/%2e%2e/server.py",
        "/..%2fserver.py",
        "/server.py",
        "/../task3/server.py",
        "/../../README.md",
    ],
)
def test_path_traversal_gives_404_and_no_file(server, target):
    status_line, _, body = get(server.port, target)
    assert status_line == "HTTP/1.1 404 Not Found"
    for marker in SERVER_SOURCE_MARKERS:
        assert marker not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_are_405_with_allow(server, method):
    status_line, headers, _ = get(server.port, "/", method=method)
    assert status_line == "HTTP/1.1 405 Method Not Allowed"
    assert headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET index.html HTTP/1.1\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"get / HTTP/1.1\r\n\r\n",
        b"GET /\xd0\xb4 HTTP/1.1\r\n\r\n",
        b"\x00\xff\xfe\r\n\r\n",
        b"\r\n\r\n",
    ],
)
def test_malformed_request_line_is_400(server, request_bytes):
    status_line, _, body = split(exchange(server.port, request_bytes))
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert "строка запроса".encode("utf-8") in body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nX-Filler: " + b"a" * 20_000 + b"\r\n\r\n",
        b"x" * 20_000,  # без пустой строки вовсе
    ],
)
def test_oversized_head_is_431(server, request_bytes):
    status_line, _, _ = split(exchange(server.port, request_bytes))
    assert status_line == "HTTP/1.1 431 Request Header Fields Too Large"


@pytest.mark.parametrize(
    "extra, expected",
    [
        (0, "HTTP/1.1 200 OK"),
        (1, "HTTP/1.1 431 Request Header Fields Too Large"),
        (3, "HTTP/1.1 431 Request Header Fields Too Large"),
    ],
)
def test_head_limit_is_exact_even_when_the_end_arrives_past_it(server, extra, expected):
    raw = padded_get_with_host(MAX_HEAD_BYTES + extra)
    assert len(raw) == MAX_HEAD_BYTES + extra
    # Одним sendall: конец — в последнем куске
    assert split(exchange(server.port, raw))[0] == expected


def test_silent_client_does_not_block_others(server):
    with socket.create_connection(("127.0.0.1", server.port)) as silent:
        silent.sendall(b"GET / HT")  # начал и замолчал
        started = time.monotonic()
        status_line, _, _ = get(server.port)
        assert status_line == "HTTP/1.1 200 OK"
        assert time.monotonic() - started < 2


def test_silent_client_is_disconnected_after_timeout(launch):
    server = start_server(launch, "task3", "--head-timeout", "0.3")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as silent:
        # Сервер закрыл соединение сам, ничего не ответив
        assert silent.recv(1024) == b""
    server.wait_for(r"молчит дольше 0\.3 с", stream="stderr")
    assert get(server.port)[0] == "HTTP/1.1 200 OK"


def test_trickling_client_is_cut_off_after_the_answer(server):
    """Дочитывание после ответа ограничено и по времени: капля в секунду не держит
    поток."""
    answer, seconds = trickle_after_answer(
        server.port, b"GET /nope HTTP/1.1\r\nHost: test\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert seconds < 4


def test_client_gone_mid_request_does_not_break_server(server):
    with socket.create_connection(("127.0.0.1", server.port)) as quitter:
        quitter.sendall(b"GET / HTTP/1.1\r\n")
    server.wait_for(r"клиент ушёл", stream="stderr")
    assert get(server.port)[0] == "HTTP/1.1 200 OK"


# --- правила HTTP/1.1 (RFC 9110, RFC 9112) ------------------------------------------


def with_host(*lines: str, version: str = "HTTP/1.1") -> bytes:
    """GET / с заданными строками заголовков (Host — забота вызывающего)."""
    return "\r\n".join([f"GET / {version}", *lines, "", ""]).encode("latin-1")


@pytest.mark.parametrize(
    "request_bytes, expected",
    [
        # RFC 9112 §5.1: пробел перед двоеточием
        (with_host("Host : test"), "400 Bad Request"),
        (with_host("Host: test", "X-Thing\t: 1"), "400 Bad Request"),
        # RFC 9112 §5.2: строка-продолжение (obs-fold)
        (with_host("Host: test", "X-Thing: 1", " 2"), "400 Bad Request"),
        # RFC 9110 §5.5: управляющие символы в значении
        (with_host("Host: test", "X-Thing: a\x00b"), "400 Bad Request"),
        (with_host("Host: test", "X-Thing: a\rb"), "400 Bad Request"),
        # RFC 9112 §3.2: Host в HTTP/1.1 ровно один
        (with_host(), "400 Bad Request"),
        (with_host("Host: a", "Host: b"), "400 Bad Request"),
        (with_host("Host: a", "HOST: a"), "400 Bad Request"),
        (with_host(version="HTTP/1.0"), "200 OK"),
        # RFC 9112 §3.2.2: абсолютный URL в строке запроса
        (b"GET http://127.0.0.1:8080/ HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK"),
        (b"GET http://example.com HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK"),
        (b"GET http://h/index.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK"),
        (b"GET http://h/nope HTTP/1.1\r\nHost: x\r\n\r\n", "404 Not Found"),
        (b"GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request"),
        # RFC 9112 §6.3: Content-Length — одно число
        (with_host("Host: x", "Content-Length: 0"), "200 OK"),
        (
            with_host("Host: x", "Content-Length: 0", "Content-Length: 0"),
            "400 Bad Request",
        ),
        (
            with_host("Host: x", "Content-Length: 0", "Content-Length: 5"),
            "400 Bad Request",
        ),
        (with_host("Host: x", "Content-Length: 0, 0"), "400 Bad Request"),
        (with_host("Host: x", "Content-Length: -1"), "400 Bad Request"),
        (with_host("Host: x", "Content-Length: \xb2"), "400 Bad Request"),
        # RFC 9112 §6.1: Transfer-Encoding
        (with_host("Host: x", "Transfer-Encoding: chunked") + b"0\r\n\r\n", "200 OK"),
        (
            with_host("Host: x", "Transfer-Encoding: chunked", "Content-Length: 5"),
            "400 Bad Request",
        ),
        (with_host("Host: x", "Transfer-Encoding: gzip"), "501 Not Implemented"),
        (
            with_host("Host: x", "Transfer-Encoding: gzip, chunked"),
            "501 Not Implemented",
        ),
        (
            with_host("Host: x", "Transfer-Encoding: chunked, chunked"),
            "400 Bad Request",
        ),
        (
            with_host("Transfer-Encoding: chunked", version="HTTP/1.0"),
            "400 Bad Request",
        ),
    ],
)
def test_rfc_rules_on_the_wire(server, request_bytes, expected):
    started = time.time()
    status_line, headers, _ = split(exchange(server.port, request_bytes))
    assert status_line == f"HTTP/1.1 {expected}"
    assert_date_is_now(headers, started)


def assert_date_is_now(headers: dict[str, str], started: float) -> None:
    """RFC 9110 §6.6.1: Date в формате IMF-fixdate, по Гринвичу, и верное время."""
    assert headers["date"].endswith(" GMT"), headers
    sent = parsedate_to_datetime(headers["date"]).timestamp()
    assert started - 1 <= sent <= time.time() + 1


def test_every_response_has_a_date(server):
    started = time.time()
    for target, method in [
        ("/", "GET"),
        ("/", "HEAD"),
        ("/nope", "GET"),
        ("/", "POST"),
    ]:
        _, headers, _ = get(server.port, target, method=method)
        assert_date_is_now(headers, started)


# --- сроки ---------------------------------------------------------------------------


def drip_head(port: int, interval: float, limit: float) -> tuple[bytes, float]:
    """Шлёт голову запроса по байту раз в interval секунд, пока сервер не ответит.

    Возвращает ответ и сколько секунд прошло с первого байта. Голова бесконечна
    (заголовок X-Drip не кончается), так что ответить сервер может только сам —
    по сроку.
    """
    head = b"GET / HTTP/1.1\r\nHost: test\r\nX-Drip: " + b"a" * 10_000
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.monotonic()
        for byte in head:
            assert time.monotonic() - started < limit, "сервер терпит капли без конца"
            sock.sendall(bytes([byte]))
            sock.settimeout(interval)  # ждём ответа не дольше, чем до новой капли
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            sock.settimeout(limit)
            while chunk := sock.recv(65536):
                answer += chunk
            return answer, time.monotonic() - started
    raise AssertionError("голова кончилась раньше, чем сервер ответил")


def test_dripping_head_gets_408_within_the_head_deadline(launch):
    """Капля раньше, чем истечёт срок одного recv, не продлевает срок всей головы."""
    server = start_server(launch, "task3", "--head-timeout", "0.5")
    answer, seconds = drip_head(server.port, interval=0.05, limit=5)
    status_line, _, body = split(answer)
    assert status_line == "HTTP/1.1 408 Request Timeout"
    assert "за 0.5 с".encode() in body
    assert 0.4 < seconds < 3
    server.wait_for(r"- - → 408", stream="stderr")
    assert get(server.port)[0] == "HTTP/1.1 200 OK"


# --- пределы: соединения, дескрипторы, потоки -------------------------------------

posix_only = pytest.mark.skipif(
    sys.platform == "win32",
    reason="пределы процесса (RLIMIT_*) задаёт модуль resource — его нет на Windows",
)

# Пределы процесса ставит сам процесс и делает exec (тот же pid становится
# сервером): Program не принимает preexec_fn. argv[1] — «ИМЯ=число,…».
WITH_LIMITS = (
    "import os, resource, sys\n"
    "for limit in sys.argv[1].split(','):\n"
    "    name, value = limit.split('=')\n"
    "    resource.setrlimit(getattr(resource, name), (int(value), int(value)))\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


def start_limited_server(launch, limits: str, *args: str) -> Program:
    """Сервер задания 3 с пределами процесса limits («RLIMIT_NOFILE=64»)."""
    server = launch(
        [
            PYTHON,
            "-c",
            WITH_LIMITS,
            limits,
            lab_program("task3", "server.py"),
            "--port",
            "0",
            *args,
        ]
    )
    match = server.wait_for(r"127\.0\.0\.1:(\d+)", stream="stderr")
    server.port = int(match.group(1))
    return server


def status_or_none(port: int) -> str | None:
    """Строка статуса ответа на GET / или None, если соединение не удалось."""
    try:
        return get(port)[0]
    except (OSError, AssertionError):
        return None


def hold_connections(port: int, count: int) -> list[socket.socket]:
    """Открывает count соединений, каждое начинает запрос и замолкает."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET / HT")
        held.append(sock)
    return held


@posix_only
def test_running_out_of_file_descriptors_does_not_stop_the_server(launch):
    server = start_limited_server(launch, "RLIMIT_NOFILE=64", "--max-clients", "1000")
    port = server.port
    held = hold_connections(port, 80)  # больше, чем процессу можно открыть файлов
    try:
        server.wait_for(r"Не удалось принять соединение", stream="stderr")
        assert server.running
    finally:
        for sock in held:
            sock.close()
    # Соединения закрылись — дескрипторы вернулись, сервер снова принимает.
    wait_until(lambda: status_or_none(port) == "HTTP/1.1 200 OK")
    # Пока дескрипторов нет, accept падает раз за разом, а в журнале — одна строка.
    assert server.count(r"Не удалось принять соединение", stream="stderr") == 1
    server.assert_no_traceback()


def test_connections_over_the_cap_get_503_with_retry_after(launch):
    server = start_server(launch, "task3", "--max-clients", "2")
    held = hold_connections(server.port, 2)  # accept берёт их первыми: очередь FIFO
    try:
        status_line, headers, body = get(server.port)
        assert status_line == "HTTP/1.1 503 Service Unavailable"
        assert headers["retry-after"] == "1"
        assert "сервер перегружен".encode() in body
        server.wait_for(r"все места заняты — ответ 503", stream="stderr")
    finally:
        for sock in held:
            sock.close()
    # Занятые места освобождаются, когда их потоки закрывают соединения.
    wait_until(lambda: status_or_none(server.port) == "HTTP/1.1 200 OK")
    server.assert_no_traceback()


@pytest.mark.skipif(
    sys.platform != "linux", reason="предел RLIMIT_AS соблюдает только Linux"
)
def test_no_thread_for_a_connection_means_503_not_a_crash(launch):
    """Стек потока — 100 МБ адресов, а всего процессу их дано 350 МБ: третий-
    четвёртый поток система уже не даст, и Thread.start() бросит RuntimeError."""
    megabyte = 1024 * 1024
    server = start_limited_server(
        launch,
        f"RLIMIT_STACK={100 * megabyte},RLIMIT_AS={350 * megabyte}",
    )
    held = hold_connections(server.port, 6)  # каждое держит свой поток
    try:
        server.wait_for(r"система не дала нового потока — ответ 503", stream="stderr")
        last = held[-1]  # на него потока точно не хватило
        answer = b""
        while chunk := last.recv(65536):
            answer += chunk
        status_line, headers, _ = split(answer)
        assert status_line == "HTTP/1.1 503 Service Unavailable"
        assert headers["retry-after"] == "1"
    finally:
        for sock in held:
            sock.close()
    wait_until(lambda: status_or_none(server.port) == "HTTP/1.1 200 OK")
    server.assert_no_traceback()


# --- клиент ---------------------------------------------------------------------


def test_client_prints_status_and_page(server, launch):
    code, client = run_client(launch, "--port", str(server.port))
    assert code == 0, client.stderr
    assert client.stdout.startswith("HTTP/1.1 200 OK\n\n<!DOCTYPE html>")
    assert "Привет от сервера на сокетах!" in client.stdout
    assert client.stdout.rstrip("\n").endswith("</html>")
    assert client.stderr == ""


def test_client_with_query_string_and_cyrillic_path(server, launch):
    code, client = run_client(
        launch, "--port", str(server.port), "--path", "/?имя=мир и пробел"
    )
    assert code == 0, client.stderr
    server.wait_for(
        r"GET /\?%D0%B8%D0%BC%D1%8F=%D0%BC%D0%B8%D1%80%20%D0%B8%20%D0%BF",
        stream="stderr",
    )


@pytest.mark.parametrize("path", ["/nope", "/../server.py"])
def test_client_reports_error_status(server, launch, path):
    code, client = run_client(launch, "--port", str(server.port), "--path", path)
    assert code == 1
    assert client.stdout.startswith("HTTP/1.1 404 Not Found\n")
    assert client.stderr.strip() == "Ошибка: сервер ответил «HTTP/1.1 404 Not Found»"


def test_client_without_server_says_error(launch):
    code, client = run_client(launch, "--port", str(free_port()))
    assert code == 1
    assert client.stderr.startswith("Ошибка: ")
    assert client.stderr.count("\n") == 1
    client.assert_no_traceback()


def test_client_survives_a_console_without_the_characters(server, launch):
    """Консоль Windows в cp866 не знает «—»: клиент печатает «?», а не падает."""
    code, client = run_client(
        launch, "--port", str(server.port), PYTHONIOENCODING="cp866"
    )
    assert code == 0, client.stderr
    title = "Работа с сокетами — задание 3"
    seen = title.encode("cp866", errors="replace").decode("utf-8", errors="replace")
    assert seen in client.stdout
    client.assert_no_traceback()


def test_client_unknown_host_is_one_russian_line(launch):
    code, client = run_client(launch, "--host", "nonexistent.invalid")
    assert code == 1
    assert client.stderr == (
        "Ошибка: не удалось найти узел «nonexistent.invalid» — имя написано верно?\n"
    )


def test_client_reset_by_server_is_one_russian_line(launch):
    with socket.create_server(("127.0.0.1", 0)) as rude_server:
        rude_server.settimeout(10)
        port = rude_server.getsockname()[1]
        client = launch(
            [PYTHON, lab_program("task3", "client.py"), "--port", str(port)]
        )
        conn, _ = rude_server.accept()
        conn.settimeout(10)
        read_request(conn)
        # SO_LINGER с нулём: close() шлёт RST вместо FIN — «соединение сброшено».
        linger = "HH" if sys.platform == "win32" else "ii"  # struct linger в ОС
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack(linger, 1, 0))
        conn.close()
        assert client.wait_exit() == 1
    assert client.stderr == f"Ошибка: сервер 127.0.0.1:{port} оборвал соединение\n"


def test_client_ctrl_c_while_waiting_exits_cleanly(launch):
    with socket.create_server(("127.0.0.1", 0)) as silent_server:  # принимает и молчит
        silent_server.settimeout(10)
        client = launch(
            [
                PYTHON,
                lab_program("task3", "client.py"),
                "--port",
                str(silent_server.getsockname()[1]),
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


def test_client_rejects_relative_path(launch):
    code, client = run_client(launch, "--path", "index.html")
    assert code == 2
    assert "путь должен начинаться с «/»" in client.stderr


# --- запуск и остановка сервера -----------------------------------------------------


def test_server_logs_requests_and_stops_on_ctrl_c(launch):
    server = start_server(launch, "task3")
    assert server.stderr.splitlines()[0].endswith(
        f"Сервер слушает 127.0.0.1:{server.port} — "
        f"откройте http://127.0.0.1:{server.port}/ в браузере"
    )
    get(server.port, "/nope")
    server.wait_for(r"INFO 127\.0\.0\.1:\d+ GET /nope → 404", stream="stderr")
    server.interrupt()
    assert server.wait_exit() == 0
    assert server.stderr.rstrip().endswith("Сервер остановлен.")
    server.assert_no_traceback()


def test_busy_port_is_a_clear_error(server, launch):
    second = launch(
        [PYTHON, lab_program("task3", "server.py"), "--port", str(server.port)]
    )
    assert second.wait_exit() == 1
    assert second.stderr == (
        f"Ошибка: не удалось занять 127.0.0.1:{server.port}: "
        "порт уже занят — может быть, сервер уже запущен?\n"
    )
    second.assert_no_traceback()


def test_page_is_served_whatever_the_working_directory(launch, tmp_path):
    server = launch(
        [PYTHON, lab_program("task3", "server.py"), "--port", "0"], cwd=tmp_path
    )
    port = int(server.wait_for(r"127\.0\.0\.1:(\d+)", stream="stderr").group(1))
    assert get(port)[2] == PAGE


@pytest.mark.parametrize("program", ["server.py", "client.py"])
def test_help_is_in_russian(launch, program):
    shown = launch([PYTHON, lab_program("task3", program), "--help"])
    assert shown.wait_exit() == 0
    # argparse переносит строки
    assert re.search(r"по\s+умолчанию\s+8080", shown.stdout), shown.stdout


# --- браузер -------------------------------------------------------------------------


@pytest.mark.browser
def test_chromium_shows_the_page(server, tmp_path):
    with Browser(require_chromium(), width=1000, height=700) as browser:
        browser.open(f"http://127.0.0.1:{server.port}/")
        assert browser.status() == 200
        assert browser.evaluate("document.characterSet") == "UTF-8"
        assert browser.evaluate("document.documentElement.lang") == "ru"
        assert browser.evaluate("document.title") == "Работа с сокетами — задание 3"
        text = browser.evaluate("document.body.innerText")
        assert "Привет от сервера на сокетах!" in text
        assert "Почему длина — в байтах" in text
        # Встроенный CSS применился: заголовок окрашен, карточка ограничена по ширине.
        assert (
            browser.evaluate("getComputedStyle(document.querySelector('h1')).color")
            == "rgb(55, 48, 163)"
        )
        assert (
            browser.evaluate(
                "document.querySelector('main').getBoundingClientRect().width"
            )
            < 1000
        )
        shot = browser.screenshot(tmp_path / "page.png")
        assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# --- свойства: случайные и испорченные запросы (hypothesis) --------------------------

FUZZ_HEAD_TIMEOUT = 0.3  # недописанный запрос стоит примеру доли секунды
# 2000 примеров профиля fuzz идут дольше общего предела в минуту (pyproject.toml).
FUZZ_TEST_TIMEOUT = 600
STATUS_LINE = re.compile(r"HTTP/1\.1 ([1-5]\d\d) [A-Za-z -]+")
ANSWERS_TO_BAD_REQUESTS = {400, 404, 405, 408, 431, 501}


@pytest.fixture(scope="module")
def quick_server(module_launch):
    """Один сервер на все примеры: каждый пример — миллисекунды, а не запуск."""
    return start_server(
        module_launch, "task3", "--head-timeout", str(FUZZ_HEAD_TIMEOUT)
    )


def ask_and_check(port: int, request: bytes) -> int:
    """Шлёт запрос и проверяет, что ответ — правильный HTTP/1.1 и пришёл не позже
    срока головы; возвращает код статуса. Затем сервер должен отдать страницу."""
    started = time.monotonic()
    raw = exchange(port, request, timeout=FUZZ_HEAD_TIMEOUT + 5)
    assert time.monotonic() - started < FUZZ_HEAD_TIMEOUT + 3, "ответ позже срока"
    head, separator, body = raw.partition(b"\r\n\r\n")
    assert separator, raw
    status_line, *lines = head.decode("ascii").split("\r\n")
    match = STATUS_LINE.fullmatch(status_line)
    assert match, status_line
    headers = dict(line.split(": ", 1) for line in lines)
    assert headers["Connection"] == "close"
    assert headers["Date"].endswith(" GMT")
    # На HEAD тела нет, а Content-Length — как у GET.
    assert int(headers["Content-Length"]) == len(body) or body == b""
    assert get(port)[0] == "HTTP/1.1 200 OK", "после примера сервер не отвечает"
    return int(match.group(1))


@pytest.mark.fuzz
@pytest.mark.timeout(FUZZ_TEST_TIMEOUT)
@given(junk=st.binary(max_size=300))
def test_random_bytes_get_a_well_formed_answer(quick_server, junk):
    code = ask_and_check(quick_server.port, junk + b"\r\n\r\n")
    assert code in ANSWERS_TO_BAD_REQUESTS | {200}


# Части запроса: (текст, годится ли). Негодные построены так, что годными стать
# не могут: управляющий символ, пробел или чужой байт стоит внутри, а не с края.
TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
CONTROL = st.sampled_from([chr(c) for c in [*range(0, 9), *range(10, 32), 127]])
TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
RESERVED = {"host", "content-length", "transfer-encoding"}
NAME = st.text(st.sampled_from(TCHAR), min_size=1, max_size=20).filter(
    lambda name: name.lower() not in RESERVED
)


def good(strategy):
    return strategy.map(lambda text: (text, True))


def bad(strategy):
    return strategy.map(lambda text: (text, False))


METHODS = st.one_of(
    good(st.sampled_from(["GET", "HEAD"])),
    bad(st.sampled_from(["POST", "PUT", "DELETE", "OPTIONS", "BREW"])),  # 405
    bad(
        st.text(st.characters(max_codepoint=0xFF), max_size=10).filter(
            lambda method: not re.fullmatch(r"[A-Z]+", method)
        )
    ),
)
TARGETS = st.one_of(
    good(st.sampled_from(["/", "/index.html", "http://127.0.0.1:8080/"])),
    good(
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E)).map(
            lambda query: "/?" + query
        )
    ),
    bad(st.just("/nope")),  # 404
    bad(
        st.tuples(TEXT, st.sampled_from([" ", "\x00", "\x7f", "\xff", "\t"]), TEXT).map(
            lambda parts: "/" + "".join(parts)
        )
    ),
)
VERSIONS = st.one_of(
    good(st.sampled_from(["HTTP/1.1", "HTTP/1.0"])),
    bad(st.sampled_from(["HTTP/1.2", "HTTP/2", "http/1.1", "HTTP/1.1 ", ""])),
)
FIELDS = st.one_of(
    good(st.tuples(NAME, TEXT).map(lambda field: f"{field[0]}: {field[1]}")),
    # Длинная строка: вся голова может выйти за 8 КиБ (тогда 431).
    good(st.integers(0, 9000).map(lambda size: "X-Long: " + "a" * size)),
    bad(st.tuples(NAME, TEXT).map(lambda field: f"{field[0]} : {field[1]}")),
    bad(
        st.tuples(NAME, TEXT, CONTROL).map(
            lambda field: f"{field[0]}: {field[1]}{field[2]}x"
        )
    ),
    bad(st.tuples(NAME, CONTROL, NAME).map(lambda field: "".join(field) + ": 1")),
    bad(TEXT.map(lambda text: " " + text)),  # строка-продолжение (obs-fold)
)


@pytest.mark.fuzz
@pytest.mark.timeout(FUZZ_TEST_TIMEOUT)
@given(
    method=METHODS,
    target=TARGETS,
    version=VERSIONS,
    hosts=st.integers(0, 2),
    fields=st.lists(FIELDS, max_size=4),
    newline=st.sampled_from(["\r\n", "\n"]),
    complete=st.sampled_from([True] * 7 + [False]),  # без пустой строки — 408
)
def test_mutated_requests_get_the_right_kind_of_answer(
    quick_server, method, target, version, hosts, fields, newline, complete
):
    host_lines = [("Host: test", True)] * hosts
    request_line = (f"{method[0]} {target[0]} {version[0]}", True)
    lines = [request_line, *host_lines, *fields]
    head = newline.join(line for line, _ in lines) + newline
    request = (head + newline if complete else head).encode("latin-1")
    fine = (
        all(ok for _, ok in [method, target, version, *fields])
        and (hosts == 1 or (hosts == 0 and version[0] == "HTTP/1.0"))
        and complete
        and len(request) <= MAX_HEAD_BYTES
    )
    code = ask_and_check(quick_server.port, request)
    if fine:
        assert code == 200, request
    else:
        assert code in ANSWERS_TO_BAD_REQUESTS, request
