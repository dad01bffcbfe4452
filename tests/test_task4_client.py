"""Задание 4, клиент чата: настоящие client.py, которыми «печатают» через stdin.

Сервер — настоящий server.py на свободном порту; в одном тесте вместо него
поддельный сервер теста, который шлёт клиенту escape-последовательности.
"""

from __future__ import annotations

import json
import re
import socket
import time
import unicodedata
from pathlib import Path

import pytest
from chat_steps import has, on_steps, task_name
from support import (
    PYTHON,
    free_port,
    lab_program,
    program_env,
    start_server,
    wait_until,
)
from test_task4_server import Raw, close_raw_sockets, presence, request  # noqa: F401 — фикстура

CLIENT = lab_program("task4", "client.py")
SLOW_FLUSH = Path(__file__).parent / "slow_flush"
SIGNAL_ELSEWHERE = Path(__file__).parent / "signal_elsewhere"
NO_PTHREAD_KILL = Path(__file__).parent / "no_pthread_kill"
READY = r"/help — команды"  # подсказку клиент печатает, когда поток приёма уже запущен
TIME = r"\[\d\d:\d\d:\d\d\]"


def chat_server(launch, *args, step: str = "final"):
    """Сервер шага step; окончательный клиент работает с каждым шагом, начиная с 1."""
    return start_server(launch, task_name(step), *args)


def client(launch, port: int, name: str):
    """Клиент, которого сервер уже принял и который ждёт ввода."""
    program = launch([PYTHON, CLIENT, "--port", str(port), "--name", name])
    program.wait_for(READY)
    return program


def assert_exits(program, code: int) -> None:
    assert program.wait_exit() == code, program.stderr
    program.assert_no_traceback()


@on_steps("rooms")
def test_two_users_chat_in_general_and_privately(launch, step):
    server = chat_server(launch, step=step)
    alice, bob, carol = (
        client(launch, server.port, name) for name in ("alice", "bob", "carol")
    )
    alice.wait_for(r"\* carol вошёл в чат")
    alice.write_line("Привет всем! Как дела?")
    bob.expect(rf"{TIME} #general alice: Привет всем! Как дела\?\n")
    carol.expect(r"#general alice: Привет всем!")
    alice.write_line("/msg bob только тебе")
    bob.expect(rf"{TIME} \(лично\) alice: только тебе\n")
    bob.write_line("Отлично")
    alice.expect(r"#general bob: Отлично")
    carol.expect(r"#general bob: Отлично")
    # Своё сообщение alice назад не получила, а личное не попало к carol:
    # ответ bob пришёл бы позже них.
    assert "alice: Привет" not in alice.stdout
    assert "только тебе" not in carol.stdout
    alice.write_line("/msg dave эй")
    alice.expect(r"Ошибка 404: Нет такого пользователя")
    for program in (alice, bob, carol):
        program.assert_no_traceback()


@on_steps("rooms")
def test_rooms_commands(launch, step):
    server = chat_server(launch, step=step)
    alice, bob = (
        client(launch, server.port, "alice"),
        client(launch, server.port, "bob"),
    )
    alice.write_line("/join Python")  # «#» клиент допишет сам
    alice.expect(r"\* Вы вошли в #python")
    alice.write_line("только для питонистов")  # текущая комната — последняя, куда вошли
    alice.write_line("/users")  # ответ придёт, когда сообщение выше уже разослано
    alice.expect(r"Пользователи #python \(1\): alice")
    bob.write_line("/join #python")
    bob.expect(r"\* Вы вошли в #python")
    alice.expect(r"\* bob вошёл в #python")
    alice.write_line("теперь есть кому")
    bob.expect(r"#python alice: теперь есть кому")
    bob.write_line("/users")
    bob.expect(r"Пользователи #python \(2\): alice, bob")
    bob.write_line("/rooms")
    bob.expect(r"Комнаты \(2\): #general, #python")
    alice.write_line("/leave")
    alice.expect(r"\* Вы вышли из #python")
    bob.expect(r"\* alice вышел из #python")
    alice.write_line("снова в общем")  # после /leave текущая — снова #general
    bob.expect(r"#general alice: снова в общем")
    alice.write_line("/leave #python")
    alice.expect(r"Ошибка 404: Вы не в комнате #python")
    alice.write_line("/msg #python подглядываю")
    alice.expect(r"Ошибка 403: Вы не в этой комнате")
    alice.write_line("/join #с пробелом")
    alice.expect(r"Ошибка 400: Комната")
    alice.write_line("я" * 501)
    alice.expect(r"Ошибка 400: Текст — от 1 до 500 символов")
    alice.write_line("/dance")
    alice.expect(r"Неизвестная команда")
    alice.write_line("/help")
    alice.expect(r"/msg ИМЯ текст")
    assert "только для питонистов" not in bob.stdout  # bob тогда ещё не был в комнате
    alice.write_line("/users")
    alice.expect(r"Пользователи #general \(2\): alice, bob")
    alice.assert_no_traceback()


@on_steps()
def test_taken_and_invalid_names_are_asked_again(launch, step):
    server = chat_server(launch, step=step)
    alice = client(launch, server.port, "alice")
    second = launch([PYTHON, CLIENT, "--port", str(server.port), "--name", "ALICE"])
    second.expect(r"Ошибка 409: Имя ALICE уже занято")
    second.expect(r"Ваше имя: ")
    second.write_line("два слова")
    second.expect(r"Ошибка 400: Имя — от 1 до 25 букв")
    second.write_line("Алиса")
    second.expect(r"Добро пожаловать, Алиса!")
    alice.expect(r"\* Алиса вошёл в чат")
    second.write_line("Съешь же ещё этих мягких французских булок, да выпей чаю")
    alice.expect(
        r"#general Алиса: Съешь же ещё этих мягких французских булок, да выпей чаю"
    )
    # Без --name клиент спросит
    nameless = launch([PYTHON, CLIENT, "--port", str(server.port)])
    nameless.expect(r"Ваше имя: ")
    nameless.write_line("Борис")
    nameless.expect(r"Добро пожаловать, Борис!")
    second.assert_no_traceback()


@on_steps()
def test_quit_ctrl_d_and_ctrl_c_exit_cleanly(launch, step):
    server = chat_server(launch, step=step)
    watcher = client(launch, server.port, "watcher")
    quitter, closer, breaker = (
        client(launch, server.port, name) for name in ("quitter", "closer", "breaker")
    )
    quitter.write_line("/quit")
    closer.close_stdin()  # Ctrl+D
    breaker.interrupt()  # Ctrl+C
    for program in (quitter, closer, breaker):
        assert_exits(program, 0)
        assert "Вы вышли из чата." in program.stdout
    # Причину отключения журнал называет со шага 2.
    reason = r": вышел \(quit\)" if has(step, "rooms") else ""
    for name in ("quitter", "closer", "breaker"):
        watcher.wait_for(rf"\* {name} вышел из чата")
        server.wait_for(rf"{name} отключился{reason}", "stderr")
    # До входа в чат Ctrl+D тоже выход без ошибки.
    nameless = launch([PYTHON, CLIENT, "--port", str(server.port)])
    nameless.expect(r"Ваше имя: ")
    nameless.close_stdin()
    assert_exits(nameless, 0)


def test_ctrl_c_lost_inside_input_is_repeated(launch, tmp_path):
    """Ctrl+C, пришедший, пока input() сбрасывает stdout, input() проглотит;
    будильник клиента повторяет сигнал, и клиент всё равно выходит."""
    server = chat_server(launch)
    mark = tmp_path / "flushing"
    env = program_env(PYTHONPATH=str(SLOW_FLUSH), SLOW_FLUSH_MARK=str(mark))
    breaker = launch(
        [PYTHON, CLIENT, "--port", str(server.port), "--name", "breaker"], env=env
    )
    breaker.wait_for(READY)
    wait_until(mark.exists, message="клиент так и не позвал input()")
    breaker.interrupt()  # Ctrl+C посреди сброса stdout внутри input()
    assert_exits(breaker, 0)
    assert "Вы вышли из чата." in breaker.stdout


def main_thread_waits_in_read(pid: int) -> bool:
    """Главный поток процесса pid спит в чтении канала (Linux: /proc/…/wchan)."""
    return "pipe" in Path(f"/proc/{pid}/wchan").read_text()


@pytest.mark.skipif(
    not Path("/proc/self/wchan").exists(),
    reason="нужен /proc/PID/wchan (Linux): по нему видно, что input() уже ждёт",
)
def test_ctrl_c_delivered_to_another_thread_still_exits(launch, tmp_path):
    """SIGINT, доставленный не главному потоку, не прерывает read() в input();
    о нём будильник узнаёт из сигнального сокета и будит главный поток сам."""
    server = chat_server(launch)
    trigger = tmp_path / "interrupt"
    env = program_env(
        PYTHONPATH=str(SIGNAL_ELSEWHERE), SIGNAL_ELSEWHERE_TRIGGER=str(trigger)
    )
    breaker = launch(
        [PYTHON, CLIENT, "--port", str(server.port), "--name", "breaker"], env=env
    )
    breaker.wait_for(READY)
    pid = breaker.process.pid
    wait_until(lambda: main_thread_waits_in_read(pid), message="input() не ждёт")
    trigger.touch()  # Ctrl+C достаётся потоку из sitecustomize
    assert_exits(breaker, 0)
    assert "Вы вышли из чата." in breaker.stdout


@on_steps("hostile")
def test_client_answers_probe_and_stays(launch, step):
    server = chat_server(launch, "--idle-timeout", "1", step=step)
    alice = client(launch, server.port, "alice")
    mute = Raw(server.port, "mute")  # пришёл позже alice и на probe не отвечает
    assert [m.get("action") or m.get("response") for m in mute.wait_closed()] == [
        "probe",
        408,
    ]
    # Молчи alice так же, её отключили бы ещё раньше; а она на связи.
    alice.write_line("/users")
    alice.expect(r"Пользователи #general \(1\): alice")
    assert "alice отключился" not in server.stderr
    alice.assert_no_traceback()


def test_server_gone_and_server_unreachable(launch):
    server = chat_server(launch)
    alice = client(launch, server.port, "alice")
    server.process.kill()  # kill -9: ни уведомления, ни quit
    alice.wait_for(r"^Ошибка: сервер закрыл соединение$", "stderr", flags=re.M)
    assert_exits(alice, 1)
    port = free_port()
    lonely = launch([PYTHON, CLIENT, "--port", str(port), "--name", "alice"])
    assert_exits(lonely, 1)
    lines = lonely.stderr.strip().splitlines()
    assert lines == [
        f"Ошибка: не удалось подключиться к 127.0.0.1:{port}: "
        "соединение отклонено — сервер запущен?"
    ]
    # Имя, которого нет в DNS (.invalid не существует по RFC 6761), — по-русски.
    nowhere = launch(
        [PYTHON, CLIENT, "--host", "chat.invalid", "--port", "7777", "--name", "al"]
    )
    assert_exits(nowhere, 1)
    assert nowhere.stderr.strip().splitlines() == [
        "Ошибка: не удалось подключиться к chat.invalid:7777: "
        "нет такого узла — адрес написан верно?"
    ]
    # Порт вне 0–65535 — тоже одна строка, а не OverflowError с трассировкой.
    wrong = launch([PYTHON, CLIENT, "--port", "99999", "--name", "alice"])
    assert_exits(wrong, 1)
    lines = wrong.stderr.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:99999" in lines[0], lines


def test_server_gone_without_pthread_kill_exits_without_enter(launch):
    """Как на Windows: сигнал главному потоку не послать, input() ждёт Enter, —
    о пропавшем сервере клиент всё равно сообщает и выходит сам, с кодом 1."""
    server = chat_server(launch)
    env = program_env(PYTHONPATH=str(NO_PTHREAD_KILL))
    alice = launch(
        [PYTHON, CLIENT, "--port", str(server.port), "--name", "alice"], env=env
    )
    alice.wait_for(READY)
    alice.wait_blocked()  # input() уже ждёт строку
    server.process.kill()
    assert_exits(alice, 1)
    assert alice.stderr == "Ошибка: сервер закрыл соединение\n"


def test_client_strips_control_characters_from_a_hostile_server(launch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(10)
        program = launch(
            [PYTHON, CLIENT, "--port", str(listener.getsockname()[1]), "--name", "eve"]
        )
        conn, _ = listener.accept()
    with conn:
        conn.settimeout(10)
        hello = json.loads(conn.makefile("rb").readline())
        assert hello["action"] == "presence" and hello["user"]["account_name"] == "eve"
        evil = (
            "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07"
            "\u202e\x9b31m\r\x08\u2028\u200b\ufeff"
        )
        lines = [
            {"response": 202, "alert": "Добро пожаловать" + evil},
            {
                "action": "msg",
                "time": time.time(),
                "from": "mallory" + evil,
                "to": "#general" + evil,
                "message": "привет" + evil + "👩\u200d💻",
            },
            {
                "action": "msg",
                "time": "вчера",
                "from": ["не", "строка"],
                "to": None,
                "message": 42,
            },
            {"response": 100, "alert": "уведомление" + evil},
            {"response": "404\x1b[5m", "error": "ошибка" + evil},
            "не объект",
        ]
        data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        data += b"{oops\n\xff\xfe\n"  # не JSON и не UTF-8 — клиент пропустит
        conn.sendall(
            data + json.dumps({"response": 100, "alert": "конец"}).encode() + b"\n"
        )
        program.wait_for(r"\* конец")
    # Сервер закрыл соединение — клиент говорит об этом и выходит с кодом 1.
    program.wait_for(r"Ошибка: сервер закрыл соединение", "stderr")
    assert_exits(program, 1)
    out = program.stdout
    # Что остаётся от evil: видимые, безвредные символы
    seen = "[2J]0;pwned]52;c;ZXZpbA==31m"
    # ZWJ в эмодзи остаётся
    assert f"#general{seen} mallory{seen}: привет{seen}👩\u200d💻\n" in out
    assert f"* уведомление{seen}\n" in out and f"Ошибка 404[5m: ошибка{seen}\n" in out
    assert re.search(rf"{TIME} \(лично\) \['не', 'строка'\]: 42", out)
    bad = [
        char
        for char in out + program.stderr
        if char != "\n"
        and char != "\u200d"
        and unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
    ]
    assert bad == [], bad


def test_client_help_and_long_input(launch):
    helped = launch([PYTHON, CLIENT, "--help"])
    assert helped.wait_exit() == 0
    assert "--name" in helped.stdout and "имя" in helped.stdout
    server = chat_server(launch)
    alice = client(launch, server.port, "alice")
    watcher = Raw(server.port, "watcher")
    # Длиннее 4096 байт: клиент не шлёт, а объясняет
    alice.write_line("/msg " + "x" * 5000 + " привет")
    alice.expect(r"Ошибка: слишком длинно")
    alice.write_line("ещё здесь")
    assert watcher.expect(lambda m: m.get("action") == "msg")["message"] == "ещё здесь"
    assert watcher.ask(request("users"))["users"] == ["alice", "watcher"]
    assert watcher.ask(presence("watcher"))["response"] == 200
    alice.assert_no_traceback()


def test_next_command_waits_for_the_reply_to_the_previous_one(launch):
    """Ответ на команду печатается до следующего приглашения: клиент ждёт его, но не
    вечно."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(10)
        program = launch(
            [PYTHON, CLIENT, "--port", str(listener.getsockname()[1]), "--name", "eve"]
        )
        conn, _ = listener.accept()
    with conn:
        buffer = b""

        def next_request(timeout: float) -> dict:
            nonlocal buffer
            conn.settimeout(timeout)
            while b"\n" not in buffer:
                chunk = conn.recv(65536)
                assert chunk, "клиент закрыл соединение"
                buffer += chunk
            line, _, buffer = buffer.partition(b"\n")
            return json.loads(line)

        assert next_request(10)["action"] == "presence"
        conn.sendall(
            json.dumps({"response": 202, "alert": "Добро пожаловать"}).encode() + b"\n"
        )
        program.wait_for(READY)
        # Три строки сразу, как из буфера ввода
        for line in ("/rooms", "/users", "/join #next"):
            program.write_line(line)
        assert next_request(10)["action"] == "rooms"
        # Пока нет ответа на /rooms, /users не уходит
        with pytest.raises(socket.timeout):
            next_request(0.3)
        conn.sendall(
            json.dumps(
                {"response": 200, "alert": "Комнаты (1)", "rooms": ["#general"]},
                ensure_ascii=False,
            ).encode()
            + b"\n"
        )
        assert next_request(10)["action"] == "users"
        # На /users ответа не будет: клиент ждёт REPLY_TIMEOUT, не дольше
        answered = time.monotonic()
        assert next_request(10)["action"] == "join"
        assert 1.5 < time.monotonic() - answered < 5
    program.wait_for(r"Комнаты \(1\): #general")
    program.assert_no_traceback()


def test_name_is_asked_before_connecting(launch):
    """Без --name клиент подключается, только когда имя набрано: сервер не ждёт
    человека."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        program = launch([PYTHON, CLIENT, "--port", str(listener.getsockname()[1])])
        program.expect(r"Ваше имя: ")
        listener.settimeout(0.5)
        with pytest.raises(socket.timeout):  # имя спрошено, а подключения нет
            listener.accept()
        program.write_line("eve")
        listener.settimeout(10)
        conn, _ = listener.accept()
    with conn:
        hello = json.loads(conn.makefile("rb").readline())
        assert hello["action"] == "presence" and hello["user"]["account_name"] == "eve"
    program.assert_no_traceback()


def test_server_gave_up_waiting_for_a_new_name(launch):
    """Сервер не дождался нового имени и закрыл соединение: клиент подключается
    снова и входит с набранным именем, а не выходит с ошибкой."""
    server = chat_server(launch, "--handshake-timeout", "0.5")
    alice = Raw(server.port, "alice")  # noqa: F841 — держим имя занятым
    slow = launch([PYTHON, CLIENT, "--port", str(server.port), "--name", "alice"])
    slow.expect(r"Ошибка 409: Имя alice уже занято")
    slow.expect(r"Ваше имя: ")
    server.wait_for(r"не представился за 0.5 с", "stderr")  # человек думал дольше
    slow.write_line("bob")
    slow.expect(r"\* Сервер не дождался имени — подключаемся снова")
    slow.expect(r"Добро пожаловать, bob!")
    slow.wait_for(READY)
    slow.write_line("я здесь")
    assert alice.expect(lambda m: m.get("action") == "msg")["message"] == "я здесь"
    assert slow.count(r"Ваше имя: ") == 1
    slow.close_stdin()
    assert_exits(slow, 0)
    assert slow.stderr == ""


def test_silent_address_is_not_a_chat_server(launch):
    """По адресу слушают, но на presence молчат (не сервер чата): клиент не висит,
    а через --register-timeout пишет одну строку «Ошибка: …» и выходит с кодом 1."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        program = launch(
            [PYTHON, CLIENT, "--port", str(port), "--name", "eve"]
            + ["--register-timeout", "0.3"]
        )
        listener.settimeout(10)
        conn, _ = listener.accept()
        with conn:
            assert program.wait_exit(timeout=5) == 1
    assert program.stderr.strip().splitlines() == [
        "Ошибка: сервер не ответил на presence за 0.3 с — "
        "по этому адресу точно сервер чата?"
    ]
    program.assert_no_traceback()
    # Срок — положительное конечное число секунд: nan и 0 сокет не примет.
    for wrong in ("nan", "0"):
        bad = launch([PYTHON, CLIENT, "--name", "eve", "--register-timeout", wrong])
        assert bad.wait_exit() == 2
        assert "нужно число секунд больше 0" in bad.stderr
        bad.assert_no_traceback()
