"""Задание 4, сервер чата: проверки на уровне протокола, «сырыми» сокетами.

Сервер запускается настоящий (`python server.py --port 0`), клиенты — обычные
TCP-сокеты теста: так видно ровно то, что уходит по проводу.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from chat_steps import has, on_steps, server_path, task_name
from support import (
    BOUND_ADDRESS,
    PYTHON,
    free_port,
    lab_program,
    program_env,
    start_server,
    wait_until,
)

CLIENT = lab_program("task4", "client.py")
LINE_TIMEOUT = 5.0


def request(action: str, **fields) -> dict:
    return {"action": action, "time": time.time(), **fields}


def presence(name) -> dict:
    return request("presence", user={"account_name": name, "status": "тест"})


def batch(messages) -> bytes:
    """Запросы одной пачкой байт: строки JSON подряд, кириллица как есть."""
    return b"".join(
        json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n"
        for message in messages
    )


class Raw:
    """Клиент чата на голом сокете: шлёт байты, читает строки JSON с дедлайном."""

    opened: list[socket.socket] = []  # закрывает фикстура close_raw_sockets

    def __init__(
        self, port: int, name: str | None = None, *, small_buffers: bool = False
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        Raw.opened.append(self.sock)
        if small_buffers:  # до connect: окно и MSS договариваются при подключении
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            # На loopback MSS 64 КБ, и ядро сервера даёт сокету буфер отправки ~4 МБ;
            # с MSS как в интернете буфер — обычные ~100 КБ, и очередь сервера
            # растёт быстро.
            if hasattr(socket, "TCP_MAXSEG"):
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""
        if name is not None:
            self.send(presence(name))
            reply = self.reply()
            assert reply["response"] == 202, reply

    def send(self, message) -> None:
        self.sock.sendall(message if isinstance(message, bytes) else batch([message]))

    def line(self, timeout: float = LINE_TIMEOUT) -> bytes | None:
        """Следующая строка без "\\n"; None — сервер закрыл соединение."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"за {timeout} с нет строки; в буфере {self.buffer[:300]!r}"
                )
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def next(self, timeout: float = LINE_TIMEOUT) -> dict:
        line = self.line(timeout)
        assert line is not None, "сервер закрыл соединение"
        return json.loads(line)

    def reply(self, timeout: float = LINE_TIMEOUT) -> dict:
        """Следующее, что не уведомление 100 (уведомления о входе/выходе других
        пропускаем)."""
        while True:
            message = self.next(timeout)
            if message.get("response") != 100:
                return message

    def expect(self, predicate, timeout: float = LINE_TIMEOUT) -> dict:
        """Первое сообщение, для которого predicate истинен; остальные пропускает."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    def ask(self, message) -> dict:
        self.send(message)
        return self.reply()

    def wait_closed(self, timeout: float = LINE_TIMEOUT) -> list[dict]:
        """Дочитывает до конца соединения; возвращает всё, что пришло."""
        received = []
        deadline = time.monotonic() + timeout
        while (line := self.line(max(0.01, deadline - time.monotonic()))) is not None:
            received.append(json.loads(line))
        return received

    def reset(self) -> None:
        """Обрыв с RST, как при падении машины клиента."""
        self.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        self.sock.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(autouse=True)
def close_raw_sockets():
    yield
    while Raw.opened:
        Raw.opened.pop().close()


def chat_server(launch, step: str, *args):
    """Сервер шага step (см. chat_steps.py) на свободном порту."""
    return start_server(launch, task_name(step), *args)


def faulty_chat_server(launch, step: str, fault: str):
    """Сервер шага step с подменой из tests/<fault>/sitecustomize.py: папка идёт
    первой в PYTHONPATH, и Python загружает её модуль при запуске."""
    folder = Path(__file__).parent / fault
    return start_server(
        lambda args: launch(args, env=program_env(PYTHONPATH=str(folder))),
        task_name(step),
    )


def is_msg(message: dict) -> bool:
    return message.get("action") == "msg"


def unsafe_chars(text: str) -> list[str]:
    """Символы, которых в чате быть не должно: Cc, Cf (кроме ZWJ/ZWNJ), Cs, Zl, Zp."""
    return [
        char
        for char in text
        if char not in "\u200c\u200d"
        and unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
    ]


@on_steps("rooms")
def test_room_message_reaches_everyone_else_and_private_message_one(launch, step):
    server = chat_server(launch, step)
    alice, bob, carol = (Raw(server.port, name) for name in ("alice", "bob", "carol"))
    alice.send(
        request("msg", to="#general", message="Всем привет!", **{"from": "admin"})
    )
    # Свой текст в комнату отправитель назад не получает: первым ему приходит ответ 200.
    assert alice.reply() == {"response": 200, "alert": "Доставлено, получателей: 2"}
    for peer in (bob, carol):
        message = peer.expect(is_msg)
        assert message["from"] == "alice"  # а не «admin»: from ставит сервер
        assert (message["to"], message["message"]) == ("#general", "Всем привет!")
        assert isinstance(message["time"], float)
    # Личное сообщение; имя адресата — без учёта регистра.
    assert alice.ask(request("msg", to="BOB", message="секрет"))["response"] == 200
    assert bob.expect(is_msg) | {"time": 0} == {
        "action": "msg",
        "time": 0,
        "from": "alice",
        "to": "bob",
        "message": "секрет",
    }
    # Кэрол его не получила: следующим ей приходит уже ответ на её запрос.
    assert carol.ask(request("users"))["users"] == ["alice", "bob", "carol"]
    assert alice.ask(request("msg", to="dave", message="эй"))["response"] == 404
    # Журнал читает поток теста из канала: строка могла ещё не дойти — ждём её.
    server.wait_for(r"alice → #general: доставлено, получателей: 2", "stderr")
    server.assert_no_traceback()


@on_steps("rooms")
def test_rooms_join_leave_users_rooms(launch, step):
    server = chat_server(launch, step)
    alice, bob = Raw(server.port, "alice"), Raw(server.port, "bob")
    # Уведомление о входе bob — до ответа на join: их порядок сервер не обещает.
    alice.expect(lambda m: m.get("alert") == "bob вошёл в чат")
    assert alice.ask(request("join", room="#Python")) == {
        "response": 200,
        "alert": "Вы вошли в #python",
        "room": "#python",
    }
    assert bob.ask(request("msg", to="#python", message="можно?")) == {
        "response": 403,
        "error": "Вы не в этой комнате",
    }
    assert bob.ask(request("msg", to="#nowhere", message="эй"))["response"] == 404
    assert bob.ask(request("join", room="#python"))["response"] == 200
    assert alice.next() == {"response": 100, "alert": "bob вошёл в #python"}
    assert bob.ask(request("users", room="#python"))["users"] == ["alice", "bob"]
    assert bob.ask(request("rooms")) == {
        "response": 200,
        "alert": "Комнаты (2)",
        "rooms": ["#general", "#python"],
    }
    assert bob.ask(request("msg", to="#python", message="в комнате"))["response"] == 200
    assert alice.next()["message"] == "в комнате"
    assert alice.ask(request("leave", room="#python"))["response"] == 200
    assert bob.next() == {"response": 100, "alert": "alice вышел из #python"}
    assert (
        alice.ask(request("msg", to="#python", message="а теперь?"))["response"] == 403
    )
    assert alice.ask(request("leave", room="#python"))["response"] == 404
    assert alice.ask(request("leave", room="#nowhere"))["response"] == 404
    for bad in ("python", "#", "#" + "x" * 26, "#a b", "#\x1b[31m", 5):
        assert alice.ask(request("join", room=bad))["response"] == 400, bad
    assert alice.ask(request("users", room="#nowhere"))["response"] == 404
    assert bob.ask(request("leave", room="#python"))["response"] == 200
    assert bob.ask(request("rooms"))["rooms"] == ["#general"]  # пустая комната исчезла
    server.wait_for("alice вошёл в #python", "stderr")
    server.assert_no_traceback()


@on_steps()
def test_names_unique_case_insensitive_and_valid(launch, step):
    server = chat_server(launch, step)
    alisa = Raw(server.port, "Алиса")  # держим ссылку: иначе сокет закроется
    guest = Raw(server.port)
    assert guest.ask(presence("аЛИСА")) == {
        "response": 409,
        "error": "Имя аЛИСА уже занято",
    }
    for bad in ("", "a b", "x" * 26, "ali\x1bce", "ali\u202ece", "al/ice", 42, None):
        assert guest.ask(presence(bad))["response"] == 400, bad
    assert guest.ask(request("presence"))["response"] == 400
    assert guest.ask(request("msg", to="#general", message="я тут"))["response"] == 401
    # «й» из двух кодовых точек (и + кратка) приводится к одной (NFC) и подходит.
    reply = guest.ask(presence("Андре" + "и\u0306" + "_2-x"))
    assert reply["response"] == 202 and "Андрей_2-x" in reply["alert"]
    longest = Raw(server.port)
    assert longest.ask(presence("x" * 25))["response"] == 202
    if has(step, "rooms"):  # списка пользователей и журнала ошибок до шага 2 нет
        everyone = ["x" * 25, "Алиса", "Андрей_2-x"]
        assert alisa.ask(request("users"))["users"] == everyone
        server.wait_for("ошибка 409", "stderr")
        server.wait_for("ошибка 401", "stderr")


@on_steps()
def test_framing_split_segments_and_glued_messages(launch, step):
    server = chat_server(launch, step)
    alice, bob = Raw(server.port, "алиса"), Raw(server.port, "боб")
    line = (
        json.dumps(
            request("msg", to="#general", message="Съешь ещё этих мягких булок"),
            ensure_ascii=False,
        ).encode("utf-8")
        + b"\n"
    )
    cut = line.index("мягких".encode("utf-8")) + 1  # посреди двухбайтовой «м»
    for piece in (line[:5], line[5:cut], line[cut:-1], line[-1:]):
        alice.send(piece)
        time.sleep(0.03)  # отдельные сегменты TCP (TCP_NODELAY)
    assert bob.expect(is_msg)["message"] == "Съешь ещё этих мягких булок"
    # Четвёртый запрос в той же пачке — presence «я на связи»: его знает и шаг 1.
    glued = [request("msg", to="#general", message=f"№{i}") for i in range(3)]
    alice.send(batch([*glued, presence("алиса")]))
    assert [bob.expect(is_msg)["message"] for _ in range(3)] == ["№0", "№1", "№2"]
    replies = [alice.reply() for _ in range(5)]
    assert [reply["response"] for reply in replies] == [200] * 5
    assert replies[-1] == {"response": 200, "alert": "На связи"}


@on_steps("hostile")
def test_control_and_format_characters_are_stripped(launch, step):
    server = chat_server(launch, step)
    alice, bob = Raw(server.port, "alice"), Raw(server.port, "bob")
    dirty = (
        "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07при\u200bвет\u202e!\x9b31m\x7f\r\n\t"
        "\u2028\u2066\ufeff\U000e0041 👩\u200d💻 \ud800end"
    )
    # \ud800 → "\\ud800"
    alice.send(json.dumps(request("msg", to="bob", message=dirty)).encode() + b"\n")
    assert alice.reply()["response"] == 200
    text = bob.expect(is_msg)["message"]
    assert text == "[2J]0;pwned]52;c;ZXZpbA==привет!31m 👩\u200d💻 end"
    assert not unsafe_chars(text)
    empty_when_cleaned = "\x1b\x07\u202e"
    assert (
        alice.ask(request("msg", to="bob", message=empty_when_cleaned))["response"]
        == 400
    )
    assert alice.ask(request("msg", to="bob", message="я" * 501))["response"] == 400
    assert alice.ask(request("msg", to="bob", message="я" * 500))["response"] == 200
    assert alice.ask(request("msg", to="bob", message=""))["response"] == 400


@on_steps("hostile")
def test_bad_requests_get_400_and_connection_survives(launch, step):
    server = chat_server(launch, step)
    raw = Raw(server.port)
    bad_lines = [
        b"not json at all",
        b'\xff\xfe{"action": "rooms"}',  # не UTF-8
        '{"action": "rooms", "x": "\xe9"}'.encode("latin-1"),
        b"[1, 2, 3]",
        b'"presence"',
        b'{"action": 5}',
        b'{"no_action": true}',
        b'{"action": "dance"}',
        b'{"action": "presence", "user": "alice"}',
        b'{"action": "presence", "user": {"account_name": ["alice"]}}',
        b'{"action": "presence", "time": "now", "user": {"account_name": "alice"}}',
        b"[" * 2000 + b"]" * 2000,  # глубже, чем разрешает рекурсия json
        b'{"action": "rooms"} trailing',
    ]
    for line in bad_lines:
        raw.send(line + b"\n")
        reply = raw.next()
        assert reply["response"] == 400 and reply["error"], (line[:40], reply)
    raw.send(b"\n\r\n   \n")  # пустые строки молча пропускаются
    assert raw.ask(presence("alice"))["response"] == 202
    for fields in (
        {"to": 5, "message": "x"},
        {"to": "bob"},
        {"message": "x"},
        {"to": "#general", "message": []},
    ):
        assert raw.ask(request("msg", **fields))["response"] == 400, fields
    assert raw.ask(request("join"))["response"] == 400
    assert raw.ask(presence("alice")) == {"response": 200, "alert": "На связи"}
    server.wait_for("ошибка 400", "stderr")
    server.assert_no_traceback()


@on_steps("hostile")
def test_line_length_limit(launch, step):
    server = chat_server(launch, step)
    raw = Raw(server.port, "alice")
    exact = json.dumps(request("msg", to="#general", message="ровно 4096")).encode()
    exact = exact[:-1] + b" " * (4096 - len(exact)) + b"}"
    assert len(exact) == 4096
    raw.send(exact + b"\n")
    assert raw.reply()["response"] == 200
    raw.send(exact[:-1] + b" }\n")  # 4097 байт
    assert raw.reply()["response"] == 400
    assert raw.wait_closed() == []
    # Без конца строки: сервер не ждёт, пока придут все 100 КБ.
    endless = Raw(server.port, "bob")
    try:
        endless.send(b'{"action": "msg", "message": "' + b"a" * 100_000)
    except ConnectionError:  # сервер мог уже закрыть соединение
        pass
    assert [message["response"] for message in endless.wait_closed()] == [400]
    server.wait_for(r"bob отключился: строка длиннее 4096 байт", "stderr")
    server.assert_no_traceback()


@on_steps("hostile")
def test_handshake_timeout(launch, step):
    server = chat_server(launch, step, "--handshake-timeout", "0.5")
    started = time.monotonic()
    silent = Raw(server.port)
    assert [message["response"] for message in silent.wait_closed()] == [408]
    assert 0.4 < time.monotonic() - started < 3
    server.wait_for(r"не представился за 0.5 с", "stderr")


@on_steps("hostile")
def test_a_taken_name_restarts_the_handshake_timer_garbage_does_not(launch, step):
    """Кто подбирает свободное имя, тот не молчит: отказ 409 даёт срок заново."""
    server = chat_server(launch, step, "--handshake-timeout", "1")
    alice = Raw(server.port, "alice")  # noqa: F841 — держим имя занятым
    guest = Raw(server.port)
    started = time.monotonic()
    # 409 в 0,7 с — срок до 1,7; 409 в 1,4 — до 2,4; 400 в 2,0 срока не продлевает.
    attempts = [(0.7, "ALICE", 409), (1.4, "alice", 409), (2.0, "два слова", 400)]
    for at, name, code in [*attempts, (2.1, "bob", 202)]:
        time.sleep(max(0.0, started + at - time.monotonic()))  # человек думает
        assert guest.ask(presence(name))["response"] == code, name
    assert "не представился" not in server.stderr
    server.assert_no_traceback()


def presence_until_closed(raw: Raw, name: str, pause: float) -> tuple[list, float]:
    """Шлёт presence(name) раз в pause секунд, пока сервер не закроет соединение;
    возвращает коды ответов и сколько прошло секунд."""
    started, codes = time.monotonic(), []
    while time.monotonic() - started < LINE_TIMEOUT:
        try:
            raw.send(presence(name))
        except OSError:
            break
        line = raw.line()
        if line is None:
            break
        codes.append(json.loads(line)["response"])
        if codes[-1] == 408:
            break
        time.sleep(pause)
    return codes, time.monotonic() - started


@on_steps("hostile")
def test_invalid_presence_does_not_extend_the_handshake(launch, step):
    server = chat_server(launch, step, "--handshake-timeout", "0.6")
    codes, elapsed = presence_until_closed(Raw(server.port), "два слова", 0.1)
    assert codes[-1] == 408 and set(codes[:-1]) == {400}, codes
    assert 0.5 < elapsed < 1.2, elapsed
    server.wait_for(r"не представился за 0.6 с", "stderr")


@on_steps("hostile")
def test_a_taken_name_extends_the_handshake_a_limited_number_of_times(launch, step):
    server = chat_server(launch, step, "--handshake-timeout", "0.3")
    alice = Raw(server.port, "alice")  # noqa: F841 — держим имя занятым
    codes, elapsed = presence_until_closed(Raw(server.port), "alice", 0.2)
    # Продления в 0,2 0,4 0,6 0,8 1,0 с — срок 1,3 с; дальше 409 его не продлевает.
    assert codes[-1] == 408 and set(codes[:-1]) == {409}, codes
    assert 1.1 < elapsed < 2.0, elapsed


@on_steps("hostile")
def test_idle_user_gets_probe_then_dropped(launch, step):
    server = chat_server(launch, step, "--idle-timeout", "1")
    raw = Raw(server.port, "sleepy")
    started = time.monotonic()
    assert raw.next()["action"] == "probe"
    assert 0.4 < time.monotonic() - started < 1
    # Ответ на probe; часы — до отправки: сервер услышит его не раньше
    answered = time.monotonic()
    assert raw.ask(presence("sleepy")) == {"response": 200, "alert": "На связи"}
    received = raw.wait_closed()
    assert [m.get("action") or m.get("response") for m in received] == ["probe", 408]
    assert 0.9 < time.monotonic() - answered < 3
    server.wait_for(r"sleepy отключился: молчал дольше 1 с", "stderr")


def thread_count(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("Threads:")[1].split()[0])


@on_steps("hostile")
@pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="нужен /proc (Linux)"
)
def test_abrupt_disconnects_leave_no_threads_behind(launch, step):
    server = chat_server(launch, step)
    pid = server.process.pid
    # Главный поток и писатели: с шага 4 — один, у окончательного сервера — два;
    # у шага 6 — два обработчика, а своего потока у соединения нет.
    base = 1 + (2 if has(step, "final") else 1 if has(step, "slow_readers") else 0)
    per_conn = 0 if has(step, "pool") else 1
    wait_until(lambda: thread_count(pid) == base, message="главный поток и писатели")
    witness = Raw(server.port, "witness")
    reset, dropped = Raw(server.port, "reset"), Raw(server.port, "dropped")
    unnamed = Raw(server.port)
    client = launch([PYTHON, CLIENT, "--port", str(server.port), "--name", "killed"])
    client.wait_for("/help — команды")
    wait_until(
        lambda: thread_count(pid) == base + 5 * per_conn, message="поток на соединение"
    )
    reset.send(b'{"action": "msg", "to": "#gen')  # полстроки — и обрыв
    reset.reset()
    # RST заметит чтение («соединение сброшено»). Остальные уходят после: иначе
    # уведомление о них, отправленное reset, может первым забрать ошибку сброса
    # (ядро сообщает её один раз), и поток чтения reset увидел бы просто конец
    # данных раньше, чем писавший успел записать причину.
    server.wait_for(r"reset отключился: (соединение сброшено|ошибка записи)", "stderr")
    dropped.send(b'{"action": "msg", "to": "#general", "mess')
    dropped.close()
    unnamed.reset()
    client.process.kill()  # kill -9
    gone = set()
    while len(gone) < 3:
        gone.add(witness.expect(lambda m: "вышел" in m.get("alert", ""))["alert"])
    assert gone == {
        "reset вышел из чата",
        "dropped вышел из чата",
        "killed вышел из чата",
    }
    assert (
        witness.ask(request("msg", to="#general", message="я ещё здесь"))["response"]
        == 200
    )
    assert witness.ask(request("users"))["users"] == ["witness"]
    wait_until(
        lambda: thread_count(pid) == base + per_conn,
        message=lambda: f"потоков {thread_count(pid)}, а не {base + per_conn}",
    )
    server.assert_no_traceback()


def slow_was_cut(server) -> bool:
    """Сервер отключил slow — ждём строку лога недолго: она идёт вслед за пачкой."""
    try:
        server.wait_for("slow отключён: не читает", "stderr", timeout=0.3)
    except AssertionError:
        return False
    return True


@on_steps("slow_readers")
def test_stalled_reader_is_dropped_and_others_run_at_full_speed(launch, step):
    server = chat_server(launch, step, "--max-backlog", "65536")
    # Представился — и больше не читает
    slow = Raw(server.port, "slow", small_buffers=True)
    witness = Raw(server.port, "witness")
    flooder = Raw(server.port, "flooder")
    text = "ж" * 500  # 1000 байт на сообщение
    fifty = batch([request("msg", to="#general", message=text)] * 50)
    slowest, notices = 0.0, []
    for _ in range(20):  # до 1 МБ; сервер должен сдаться гораздо раньше
        started = time.monotonic()
        flooder.send(fifty)
        received = 0
        while received < 50:
            message = witness.next()
            if is_msg(message):
                assert message["message"] == text
                received += 1
            else:
                notices.append(message)
        slowest = max(slowest, time.monotonic() - started)
        assert [flooder.reply()["response"] for _ in range(50)] == [200] * 50
        if slow_was_cut(server):  # дальше никто не пишет: «вышел» должно уйти само
            break
    else:
        pytest.fail("медленного клиента так и не отключили:\n" + server.stderr[-2000:])
    assert slowest < 2.0, f"пачка из 50 сообщений шла {slowest:.2f} с"
    departures = [notice for notice in notices if "вышел" in notice["alert"]]
    if not departures:  # уведомление не ждёт следующего сообщения в чате
        departures.append(witness.next(timeout=2.0))
    assert departures == [{"response": 100, "alert": "slow вышел из чата"}]
    server.wait_for(r"WARNING slow отключён: не читает, очередь \d+ байт", "stderr")
    server.wait_for(r"slow отключился: не читает", "stderr")
    slow.wait_closed(timeout=10)  # ядро отдаст то, что успело уйти, и конец потока
    assert witness.ask(request("users"))["users"] == ["flooder", "witness"]
    server.assert_no_traceback()


@on_steps("slow_readers")
def test_a_reader_who_quits_gets_every_acknowledged_message(launch, step):
    """200 на msg — обещание: уходящий по quit получит всё, что ему подтвердили,
    даже если к этому мигу оно ещё не влезло в его сокет."""
    server = chat_server(launch, step, "--max-backlog", str(8 * 1024 * 1024))
    reader = Raw(server.port, "reader", small_buffers=True)  # пока не читает
    sender = Raw(server.port, "sender")
    texts = [f"{number:04d} " + "ж" * 490 for number in range(1000)]  # ~1 МБ
    sender.send(batch(request("msg", to="#general", message=text) for text in texts))
    assert [sender.reply()["response"] for _ in texts] == [200] * len(texts)
    reader.send(request("quit"))
    received = reader.wait_closed(timeout=15)
    assert [message["message"] for message in received if is_msg(message)] == texts
    server.wait_for(r"reader отключился", "stderr")
    server.assert_no_traceback()


@on_steps("slow_readers")
@pytest.mark.skipif(
    sys.platform == "win32",
    reason="на Windows SIGINT одному процессу не послать (Ctrl+C — на всю консоль)",
)
def test_ctrl_c_tells_everyone_and_port_is_free_again(launch, step):
    server = chat_server(launch, step)
    alice, guest = Raw(server.port, "alice"), Raw(server.port)
    bob = launch([PYTHON, CLIENT, "--port", str(server.port), "--name", "bob"])
    bob.wait_for("/help — команды")
    server.interrupt()
    assert server.wait_exit() == 0
    goodbye = {"response": 100, "alert": "Сервер останавливается"}
    assert goodbye in alice.wait_closed() and goodbye in guest.wait_closed()
    assert "Сервер остановлен." in server.stderr
    server.assert_no_traceback()
    bob.wait_for(r"\* Сервер останавливается")
    bob.wait_for(r"^Ошибка: сервер закрыл соединение$", "stderr", flags=re.M)
    assert bob.wait_exit() == 1
    bob.assert_no_traceback()
    # Последний --port побеждает
    again = chat_server(launch, step, "--port", str(server.port))
    assert again.port == server.port
    assert Raw(again.port).ask(presence("alice"))["response"] == 202


@on_steps()
def test_port_in_use_is_one_line_and_exit_1(launch, step):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = launch([PYTHON, server_path(step), "--port", str(port)])
        assert server.wait_exit() == 1
    lines = server.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Ошибка: не удалось занять"), lines
    assert str(port) in lines[0]
    if step == "final":  # по-русски, а не «Address already in use» от ОС
        assert lines[0].endswith(": порт уже занят — может быть, сервер уже запущен?")
    assert server.stdout == ""


@on_steps("final")
def test_help_and_bad_arguments(launch, step):
    server = server_path(step)
    helped = launch([PYTHON, server, "--help"])
    assert helped.wait_exit() == 0
    for flag in (
        "--handshake-timeout",
        "--idle-timeout",
        "--max-backlog",
        "--max-total-backlog",
        "--max-clients",
        "--max-rooms",
        "--log-level",
        "--quiet",
    ):
        assert flag in helped.stdout
    assert "порт" in helped.stdout
    # Без проверки inf и 1e300 сервер запустился бы, а каждое соединение падало
    # бы с OverflowError в селекторе; 0.5 байта очереди превращались бы в 0.
    bad = [
        ("--idle-timeout", "0"),
        ("--idle-timeout", "inf"),
        ("--idle-timeout", "nan"),
        ("--handshake-timeout", "1e300"),
        ("--handshake-timeout", "86401"),
        ("--max-backlog", "0.5"),
        ("--max-backlog", "0"),
    ]
    wrong = [
        launch([PYTHON, server, "--port", "0", flag, value]) for flag, value in bad
    ]
    for (flag, value), program in zip(bad, wrong, strict=True):
        assert program.wait_exit(timeout=5) == 2, (flag, value)
        assert program.stderr.startswith(f"Ошибка: {flag}: "), program.stderr
        program.assert_no_traceback()


@on_steps("final")
def test_quiet_server_still_names_its_address(launch, step):
    server = chat_server(launch, step, "-q")
    alice, bob = Raw(server.port, "alice"), Raw(server.port, "bob")
    assert alice.ask(request("msg", to="#general", message="тихо"))["response"] == 200
    assert bob.expect(is_msg)["message"] == "тихо"
    assert alice.ask(request("msg", to="nobody", message="?"))["response"] == 404
    server.wait_for(r"WARNING alice: ошибка 404", "stderr")
    assert "доставлено" not in server.stderr and "представился" not in server.stderr


# У шага 6 поток не у соединения, а у многих: застрявший на журнале обработчик
# держит всех своих клиентов, и проверять тут нечего. Порядок у него проще: ответ
# и рассылки идут в очередь соединения через один и тот же поток.
@on_steps("rooms", until="pool")
def test_join_reply_comes_before_messages_of_the_room(launch, step):
    """Ответ на join приходит раньше сообщений комнаты, даже если поток вошедшего
    застрял.

    Застрять поток заставляем честно, снаружи: не читаем журнал сервера. Канал
    stderr переполняется, и каждый поток, который пишет в журнал, встаёт в
    write(). Поток alice входит в комнату, рассылает уведомление и встаёт на
    строке журнала «alice вошёл в #x»; всё, что он не отправил до неё, не уйдёт,
    пока журнал не читают. А сообщение bob в #x уходит alice до того, как поток
    bob встанет на своей строке журнала.
    """
    server = subprocess.Popen(
        [PYTHON, server_path(step), "--host", "127.0.0.1", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=program_env(),
    )
    try:
        port = int(BOUND_ADDRESS.search(server.stderr.readline().decode()).group(2))
        alice, bob, filler = Raw(port, "alice"), Raw(port, "bob"), Raw(port, "filler")
        assert bob.ask(request("join", room="#x"))["response"] == 200
        # Забиваем журнал: каждый отказ 404 — строка WARNING, а её пишут раньше ответа.
        total = 3000  # ~200 КБ журнала, канал вмещает 64 КБ
        filler.send(batch([request("msg", to="nobody", message="?")] * total))
        answered = 0
        filler.sock.settimeout(0.5)
        try:
            while True:  # ответы идут, пока журнал не встал
                chunk = filler.sock.recv(65536)
                assert chunk, "сервер закрыл соединение"
                answered += chunk.count(b"\n")
        except TimeoutError:
            pass
        assert answered < total, "журнал не переполнился — проверять нечего"
        alice.send(request("join", room="#x"))
        # Поток alice уже после замка
        bob.expect(lambda m: m.get("alert") == "alice вошёл в #x")
        bob.send(request("msg", to="#x", message="добро пожаловать"))
        assert alice.reply() == {
            "response": 200,
            "alert": "Вы вошли в #x",
            "room": "#x",
        }
        assert alice.reply()["message"] == "добро пожаловать"
    finally:
        server.kill()
        server.communicate(timeout=5)


# --- пределы окончательного сервера (шаг 5) -------------------------------------


def flood(sender: Raw, to: str, count: int) -> list[int]:
    """count сообщений по ~1 КБ адресату to; возвращает коды ответов."""
    sender.send(batch([request("msg", to=to, message="ж" * 500)] * count))
    return [sender.reply()["response"] for _ in range(count)]


@on_steps("final")
def test_over_the_total_backlog_the_biggest_non_reader_goes_first(launch, step):
    server = chat_server(
        launch, step, "--max-backlog", str(64 * 2**20), "--max-total-backlog", "2000000"
    )
    # Писатель назначается по очереди подключения: big и small (1-е и 3-е) — у
    # одного писателя, его доля общего предела — 1 000 000 байт.
    big = Raw(server.port, "big", small_buffers=True)
    sender = Raw(server.port, "sender")
    small = Raw(server.port, "small", small_buffers=True)
    for _ in range(60):  # до 6 МБ; предел сработает гораздо раньше
        assert flood(sender, "#general", 50) == [200] * 50  # обоим поровну
        if set(flood(sender, "big", 50)) != {200}:  # big — ещё столько же; 404 — ушёл
            break
    else:
        pytest.fail("общий предел очередей не сработал:\n" + server.stderr[-2000:])
    server.wait_for(r"WARNING big отключён: не читает, а очереди всех", "stderr")
    assert sender.ask(request("users"))["users"] == ["sender", "small"]
    assert "small отключён" not in server.stderr
    big.wait_closed(timeout=10)
    small.close()
    server.assert_no_traceback()


@on_steps("final")
def test_a_socket_broken_before_accept_does_not_stop_the_server(launch, step):
    """На macOS setsockopt(TCP_NODELAY) падает на сокете, который клиент оборвал,
    пока тот ждал в очереди listen; сервер закрывает такой сокет и живёт дальше."""
    server = faulty_chat_server(launch, step, "nodelay_fault")
    assert Raw(server.port).wait_closed() == []  # первому — сразу закрытый сокет
    assert Raw(server.port).ask(presence("alice"))["response"] == 202
    assert server.running
    server.assert_no_traceback()


@on_steps("final")
def test_rooms_are_bounded_per_user_and_in_total(launch, step):
    server = chat_server(launch, step, "--max-rooms", "3")
    alice, bob = Raw(server.port, "alice"), Raw(server.port, "bob")
    for room in ("#a", "#b"):  # с #general — три комнаты
        assert alice.ask(request("join", room=room))["response"] == 200
    refused = alice.ask(request("join", room="#c"))
    assert refused["response"] == 503, refused
    assert bob.ask(request("join", room="#a"))["response"] == 200  # в готовую — можно
    # У одного пользователя — не больше 100 комнат, #general тоже считается.
    crowded = chat_server(launch, step)
    carol = Raw(crowded.port, "carol")
    carol.send(batch(request("join", room=f"#r{k}") for k in range(100)))
    codes = [carol.reply()["response"] for _ in range(100)]
    assert codes == [200] * 99 + [403], codes


@on_steps("final")
def test_connections_over_the_cap_get_503_and_room_returns(launch, step):
    server = chat_server(launch, step, "--max-clients", "2")
    alice, guest = Raw(server.port, "alice"), Raw(server.port)
    extra = Raw(server.port)
    assert extra.wait_closed() == [
        {"response": 503, "error": "Сервер переполнен, зайдите позже"}
    ]
    server.wait_for(r"Отказ 127\.0\.0\.1:\d+: соединений уже 2", "stderr")
    guest.close()
    server.wait_for(r"отключился", "stderr")
    assert Raw(server.port).ask(presence("bob"))["response"] == 202
    assert alice.ask(request("users"))["users"] == ["alice", "bob"]


@pytest.mark.skipif(sys.platform == "win32", reason="на Windows этот select настоящий")
@on_steps("pool")
def test_a_worker_never_holds_more_sockets_than_windows_select_takes(launch, step):
    """select в Windows берёт не больше 512 сокетов: у обработчика — не больше 500
    соединений, лишнему — 503, а не ValueError, который убил бы обработчик."""
    raise_descriptor_limit(1200)
    server = faulty_chat_server(launch, step, "windows_select")
    crowd = [Raw(server.port) for _ in range(1000)]  # по 500 у каждого обработчика
    for raw in crowd:  # каждое соединение обслужено: запрос до presence — 401
        raw.send(request("users"))
    assert {raw.reply()["response"] for raw in crowd} == {401}
    assert Raw(server.port).wait_closed()[0]["response"] == 503
    crowd.pop().close()
    server.wait_for(r"отключился: закрыл соединение", "stderr")
    assert Raw(server.port, "alice").ask(request("users"))["users"] == ["alice"]
    for raw in crowd:
        raw.close()
    server.assert_no_traceback()


@on_steps("pool")
def test_a_worker_that_dies_stops_the_server_loudly(launch, step):
    """Ошибка в коде обработчика убивает его поток, а с ним — обслуживание его
    клиентов. Сервер не работает дальше вполсилы: останавливается с понятной
    строкой и кодом 1, и клиент видит конец соединения, а не тишину."""
    server = faulty_chat_server(launch, step, "worker_fault")
    guest = Raw(server.port)
    guest.send(request("users"))  # соединение у обработчика — и тот падает
    assert server.wait_exit() == 1
    server.wait_for(r"Ошибка: обработчик worker-0 упал, сервер остановлен", "stderr")
    assert guest.wait_closed(timeout=1.0) == []


def raise_descriptor_limit(wanted: int) -> None:
    """Поднимает мягкий предел дескрипторов теста до wanted (если жёсткий даёт)."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"предел дескрипторов {hard}, а нужно {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.mark.skipif(sys.platform == "win32", reason="ulimit и sh есть только в POSIX")
@on_steps("final")
def test_out_of_descriptors_the_server_logs_rarely_and_recovers(launch, step):
    port = free_port()
    # 40 дескрипторов на процесс: после трёх десятков соединений accept упадёт EMFILE.
    server = launch(
        [
            "sh",
            "-c",
            'ulimit -n 40 && exec "$0" "$@"',
            PYTHON,
            server_path(step),
            "--port",
            str(port),
        ]
    )
    server.wait_for("Сервер слушает", "stderr")
    crowd = [Raw(port) for _ in range(60)]
    server.wait_for("Не удалось принять соединение", "stderr")
    for raw in crowd:
        raw.close()
    # Лишние соединения ждали в очереди listen: сервер примет их, увидит конец —
    # и снова обслуживает.
    Raw(port, "alice")
    assert server.count("Не удалось принять соединение", "stderr") == 1
    assert server.running
    server.assert_no_traceback()
