"""Задание 2: математический сервис по TCP — клиент в обоих режимах и протокол «сырыми»
сокетами."""

from __future__ import annotations

import json
import math
import re
import select
import socket
import struct
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import (
    PYTHON,
    ROOT,
    RUN_PROGRAM,
    Program,
    free_port,
    lab_program,
    program_env,
    start_server,
    wait_until,
)

CLIENT = lab_program("task2", "client.py")
SERVER = lab_program("task2", "server.py")
MAX_LINE_BYTES = 1024  # то же, что в server.py


@pytest.fixture(scope="module")
def shared_server(module_launch):
    """Один сервер на модуль: большинству проверок всё равно, чей он."""
    return start_server(module_launch, "task2")


@pytest.fixture
def server(shared_server):
    """Общий сервер; после теста проверяем, что он жив и не напечатал трассировку."""
    log_start = len(shared_server.stderr)
    yield shared_server
    assert shared_server.running, shared_server.stderr
    assert "Traceback" not in shared_server.stderr[log_start:], shared_server.stderr[
        log_start:
    ]


def run_client(launch, port: int, *args: str) -> Program:
    return launch([PYTHON, CLIENT, "--host", "127.0.0.1", "--port", str(port), *args])


class Wire:
    """Клиент протокола «вручную»: байты в сокет, ответы по строкам."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, op, args) -> None:
        self.send(json.dumps({"op": op, "args": args}).encode() + b"\n")

    def response(self) -> dict:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            assert chunk, (
                f"сервер закрыл соединение, не ответив; пришло: {self.buffer!r}"
            )
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line.decode("utf-8"))

    def closed_by_server(self) -> bool:
        """Дочитывает до конца: True, если сервер закрыл соединение (FIN или RST)."""
        try:
            while self.sock.recv(4096):
                pass
        except ConnectionResetError:
            pass
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def wire(server):
    connection = Wire(server.port)
    yield connection
    connection.close()


# --- командная строка: все операции и все случаи квадратного уравнения --------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["pythagoras", "3", "4"], "Гипотенуза: c = 5"),
        (["pythagoras", "1", "1"], "Гипотенуза: c = 1.414213562"),
        (["quadratic", "1", "-3", "2"], "D = 1 > 0, два корня: x1 = 2, x2 = 1"),
        (["quadratic", "1", "2", "1"], "D = 0, один корень: x = -1"),
        (
            ["quadratic", "1", "2", "5"],
            "D = -16 < 0, действительных корней нет; "
            "комплексные корни: x1 = -1 + 2i, x2 = -1 - 2i",
        ),
        (
            ["quadratic", "1", "0", "1"],
            "D = -4 < 0, действительных корней нет; "
            "комплексные корни: x1 = 0 + 1i, x2 = 0 - 1i",
        ),
        (["quadratic", "0", "2", "-4"], "a = 0, уравнение линейное: x = 2"),
        (["quadratic", "0", "5", "0"], "a = 0, уравнение линейное: x = 0"),  # не «-0»
        (
            ["quadratic", "0", "0", "0"],
            "a = b = c = 0: подходит любое x, решений бесконечно много",
        ),
        (["quadratic", "0", "0", "5"], "a = b = 0, c ≠ 0: решений нет"),
        # b² ≫ 4ac: по школьной формуле малый корень вышел бы -7.45e-09 вместо -1e-08
        (
            ["quadratic", "1", "1e8", "1"],
            "D = 1e+16 > 0, два корня: x1 = -1e-08, x2 = -100000000",
        ),
        (["trapezoid", "3", "5", "2"], "Площадь трапеции: S = 8"),
        (["trapezoid", "0.1", "0.2", "1"], "Площадь трапеции: S = 0.15"),
        # десятичная запятая
        (["parallelogram", "2,5", "4"], "Площадь параллелограмма: S = 10"),
    ],
)
def test_cli_operations(launch, server, args, expected):
    client = run_client(launch, server.port, *args)
    assert client.wait_exit() == 0, client.stderr
    assert client.stdout == expected + "\n"
    assert client.stderr == ""


def test_cli_server_error_goes_to_stderr(launch, server):
    client = run_client(launch, server.port, "pythagoras", "-3", "4")
    assert client.wait_exit() == 1
    assert client.stdout == ""
    assert client.stderr == "Ошибка: параметр a — длина, он должен быть больше нуля.\n"
    server.wait_for(
        r"'\{\"op\": \"pythagoras\", \"args\": \[-3\.0, 4\.0\]\}' → \{\"ok\": false",
        "stderr",
    )


def test_cli_overflow_is_reported(launch, server):
    client = run_client(launch, server.port, "trapezoid", "1e308", "1e308", "2")
    assert client.wait_exit() == 1
    assert (
        client.stderr
        == "Ошибка: числа слишком велики: результат не помещается в float.\n"
    )


@pytest.mark.parametrize("bad", ["x", "nan", "inf"])
def test_cli_rejects_non_numbers_locally(launch, bad):
    # Сервер не нужен: до сети дело не доходит.
    client = run_client(launch, free_port(), "pythagoras", bad, "4")
    assert client.wait_exit() == 1
    assert client.stderr.startswith(f"Ошибка: «{bad}» — не ")
    assert len(client.stderr.splitlines()) == 1


def test_cli_wrong_number_of_arguments_is_usage_error(launch):
    client = run_client(launch, free_port(), "parallelogram", "1")
    assert client.wait_exit() == 2
    assert client.stderr == (
        "Ошибка: не хватает аргументов: h (справка: client.py parallelogram --help)\n"
    )
    client.assert_no_traceback()


def test_server_unreachable(launch):
    port = free_port()
    client = run_client(launch, port, "pythagoras", "3", "4")
    assert client.wait_exit() == 1
    assert (
        client.stderr == f"Ошибка: нет связи с сервером 127.0.0.1:{port}: "
        "сервер не запущен или порт закрыт.\n"
    )


# --- меню --------------------------------------------------------------------


def test_interactive_menu(launch, server):
    log_start = len(server.stderr)
    client = run_client(launch, server.port)
    client.expect(r"Подключено к серверу 127\.0\.0\.1:\d+\.")
    client.expect(r"2\. Квадратное уравнение")
    client.expect(r"0\. Выход\nВаш выбор: ")
    client.write_line("7")
    client.expect(r"Ошибка: нет пункта «7», введите число от 0 до 4\.", "stderr")
    client.write_line("2")
    client.expect(r"a \(коэффициент при x²\) = ")
    client.write_line("abc")
    client.expect(r"Ошибка: «abc» — не число, введите ещё раз\.", "stderr")
    client.expect(r"a \(коэффициент при x²\) = ")
    client.write_line("1")
    client.expect(r"b \(коэффициент при x\) = ")
    client.write_line("-3")
    client.expect(r"c \(свободный член\) = ")
    client.write_line("2")
    client.expect(r"D = 1 > 0, два корня: x1 = 2, x2 = 1\n")
    # ошибка сервера не завершает меню
    client.expect(r"Ваш выбор: ")
    client.write_line("1")
    client.write_line("0")
    client.write_line("4")
    client.expect(r"Ошибка: параметр a — длина, он должен быть больше нуля\.", "stderr")
    client.expect(r"Ваш выбор: ")
    client.write_line("4")
    client.write_line("2")
    client.write_line("3")
    client.expect(r"Площадь параллелограмма: S = 6\n")
    client.write_line("0")
    assert client.wait_exit() == 0
    assert client.stdout.endswith("Ваш выбор: До свидания.\n")
    client.assert_no_traceback()
    # все три запроса пришли по одному соединению
    log = wait_until(
        lambda: (text := server.stderr[log_start:]).count("Отключился") and text
    )
    peers = re.findall(r"INFO (127\.0\.0\.1:\d+): '", log)
    assert len(peers) == 3 and len(set(peers)) == 1, log
    assert log.count("Подключился") == 1


@pytest.mark.parametrize("how", ["ctrl_d", "ctrl_c"])
def test_interactive_menu_ends_cleanly(launch, server, how):
    client = run_client(launch, server.port)
    client.expect(r"Ваш выбор: ")
    client.write_line("3")
    client.expect(r"a \(первое основание\) = ")
    if how == "ctrl_d":
        client.close_stdin()
    else:
        client.wait_blocked()
        client.interrupt()
    assert client.wait_exit() == 0
    assert client.stdout.endswith("\nДо свидания.\n")
    client.assert_no_traceback()


def test_menu_reports_server_gone(launch):
    own = start_server(launch, "task2")
    client = run_client(launch, own.port)
    client.expect(r"Ваш выбор: ")
    own.interrupt()
    assert own.wait_exit() == 0
    for line in ["1", "3", "4"]:
        client.write_line(line)
    assert client.wait_exit() == 1
    assert client.stderr.startswith(
        f"Ошибка: нет связи с сервером 127.0.0.1:{own.port}: "
    )
    assert len(client.stderr.splitlines()) == 1
    client.assert_no_traceback()


# --- протокол «сырыми» сокетами ----------------------------------------------


def test_raw_valid_request_and_result_shape(wire):
    wire.request("quadratic", [1, -3, 2])
    assert wire.response() == {
        "ok": True,
        "result": {"case": "two_roots", "discriminant": 1.0, "roots": [2.0, 1.0]},
        "text": "D = 1 > 0, два корня: x1 = 2, x2 = 1",
    }
    wire.request("quadratic", [1, 2, 5])
    assert wire.response()["result"] == {
        "case": "complex_roots",
        "discriminant": -16.0,
        "roots": [{"re": -1.0, "im": 2.0}, {"re": -1.0, "im": -2.0}],
    }


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            b"hello, server",
            'запрос не JSON; нужна строка вида {"op": "pythagoras", "args": [3, 4]}',
        ),
        (b"\xff\xfe garbage", "запрос не в кодировке UTF-8"),
        (
            b"[" * (MAX_LINE_BYTES - 1),
            'запрос не JSON; нужна строка вида {"op": "pythagoras", "args": [3, 4]}',
        ),
        (
            b"[3, 4]",
            'запрос должен быть объектом JSON с полями "op" (строка) и "args" (список)',
        ),
        (
            b'{"op": "pythagoras"}',
            'запрос должен быть объектом JSON с полями "op" (строка) и "args" (список)',
        ),
        (
            b'{"op": "pythagoras", "args": "3 4"}',
            'запрос должен быть объектом JSON с полями "op" (строка) и "args" (список)',
        ),
        (
            b'{"op": "cube", "args": [2]}',
            "неизвестная операция 'cube'; "
            "есть: pythagoras, quadratic, trapezoid, parallelogram",
        ),
        (
            b'{"op": "pythagoras", "args": ["x", 4]}',
            'параметр a должен быть числом, а не "x"',
        ),
        (
            b'{"op": "pythagoras", "args": [3, "4"]}',
            'параметр b должен быть числом, а не "4"',
        ),
        (
            b'{"op": "pythagoras", "args": [true, 4]}',
            "параметр a должен быть числом, а не true",
        ),
        (
            b'{"op": "quadratic", "args": [1, null, 2]}',
            "параметр b должен быть числом, а не null",
        ),
        (
            b'{"op": "pythagoras", "args": [NaN, 4]}',
            "параметр a должен быть конечным числом",
        ),
        (
            b'{"op": "pythagoras", "args": [3, 1e999]}',
            "параметр b должен быть конечным числом",
        ),
        (
            b'{"op": "pythagoras", "args": [3, -Infinity]}',
            "параметр b должен быть конечным числом",
        ),
        (
            b'{"op": "pythagoras", "args": [1' + b"0" * 400 + b", 4]}",
            "параметр a слишком велик",
        ),
        (
            b'{"op": "pythagoras", "args": [-3, 4]}',
            "параметр a — длина, он должен быть больше нуля",
        ),
        (
            b'{"op": "trapezoid", "args": [3, 4, 0]}',
            "параметр h — длина, он должен быть больше нуля",
        ),
        (
            b'{"op": "pythagoras", "args": [3]}',
            "операции pythagoras нужно 2 параметра (a, b), а пришло 1",
        ),
        (
            b'{"op": "parallelogram", "args": [1, 2, 3]}',
            "операции parallelogram нужно 2 параметра (a, h), а пришло 3",
        ),
        (
            b'{"op": "quadratic", "args": []}',
            "операции quadratic нужно 3 параметра (a, b, c), а пришло 0",
        ),
        (
            b'{"op": "trapezoid", "args": [1e308, 1e308, 2]}',
            "числа слишком велики: результат не помещается в float",
        ),
    ],
    ids=[
        "garbage",
        "not_utf8",
        "deep_nesting",
        "not_object",
        "no_args",
        "args_not_list",
        "unknown_op",
        "letter",
        "string_number",
        "bool",
        "null",
        "nan",
        "overflow_literal",
        "minus_infinity",
        "huge_int",
        "negative_length",
        "zero_length",
        "missing_arg",
        "extra_arg",
        "empty_args",
        "result_overflow",
    ],
)
def test_raw_bad_request_gets_error_and_connection_goes_on(wire, line, error):
    wire.send(line + b"\n")
    assert wire.response() == {"ok": False, "error": error}
    wire.request("parallelogram", [2, 3])
    assert wire.response()["text"] == "Площадь параллелограмма: S = 6"


def test_raw_negative_coefficients_are_fine_for_quadratic(wire):
    wire.request("quadratic", [-1, 0, 4])
    assert wire.response()["text"] == "D = 16 > 0, два корня: x1 = 2, x2 = -2"


def test_raw_two_requests_in_one_segment(wire):
    wire.send(
        b'{"op": "pythagoras", "args": [5, 12]}\n'
        b'{"op": "parallelogram", "args": [2, 3]}\n'
    )
    assert wire.response()["text"] == "Гипотенуза: c = 13"
    assert wire.response()["text"] == "Площадь параллелограмма: S = 6"


def test_raw_request_split_across_segments(wire):
    request = '{"op": "trapezoid", "args": [1, 2, 4]}\n'.encode()
    for piece in (request[:5], request[5:20], request[20:]):
        wire.send(piece)
        time.sleep(0.02)  # чтобы куски ушли разными сегментами
    assert wire.response()["text"] == "Площадь трапеции: S = 6"


def test_raw_cyrillic_split_inside_a_character(wire):
    # Строку режем по b"\n" до декодирования: разрезанная буква «ф» не ломает запрос.
    request = '{"op": "ф", "args": []}\n'.encode()
    cut = request.index("ф".encode()) + 1
    wire.send(request[:cut])
    time.sleep(0.02)
    wire.send(request[cut:])
    assert wire.response()["error"].startswith("неизвестная операция 'ф'")


def test_raw_over_long_line_gets_error_and_close(server, wire):
    wire.send(b'{"op": "pythagoras", "args": [' + b"1, " * 2000)
    assert wire.response() == {
        "ok": False,
        "error": f"строка запроса длиннее {MAX_LINE_BYTES} байт; соединение закрыто",
    }
    assert wire.closed_by_server()
    server.wait_for(
        rf"WARNING 127\.0\.0\.1:\d+: строка запроса длиннее {MAX_LINE_BYTES} байт",
        "stderr",
    )


def test_raw_line_at_the_limit_is_accepted(wire):
    request = b'{"op": "pythagoras", "args": [3, 4]}'
    wire.send(request + b" " * (MAX_LINE_BYTES - len(request)) + b"\n")
    assert wire.response()["text"] == "Гипотенуза: c = 5"


def test_slow_client_does_not_block_others(launch, server, wire):
    wire.send(b'{"op": "pythagoras", "ar')  # полстроки — и тишина
    started = time.monotonic()
    client = run_client(launch, server.port, "pythagoras", "6", "8")
    assert client.wait_exit(timeout=5) == 0
    assert client.stdout == "Гипотенуза: c = 10\n"
    assert time.monotonic() - started < 3
    # Медленный клиент дописал строку — и тоже получил ответ
    wire.send(b'gs": [3, 4]}\n')
    assert wire.response()["text"] == "Гипотенуза: c = 5"


def test_abrupt_disconnect_does_not_hurt_server(server):
    # Клиент отправил запрос и сразу сбросил соединение (RST): сервер живёт дальше.
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(b'{"op": "pythagoras", "args": [3, 4]}\n' * 50)
        sock.close()
    wire = Wire(server.port)
    wire.request("pythagoras", [3, 4])
    assert wire.response()["ok"] is True
    wire.close()


# --- жизнь сервера -------------------------------------------------------------


def test_server_logs_bound_address_and_clients(server):
    first = server.stderr.splitlines()[0]
    assert first.endswith(f"INFO Сервер слушает 127.0.0.1:{server.port}")
    wire = Wire(server.port)
    wire.request("pythagoras", [3, 4])
    wire.response()
    local_port = wire.sock.getsockname()[1]
    wire.close()
    server.wait_for(rf"INFO Подключился 127\.0\.0\.1:{local_port}\n", "stderr")
    server.wait_for(rf"INFO Отключился 127\.0\.0\.1:{local_port}\n", "stderr")


def test_silent_client_is_disconnected_after_idle_timeout(launch):
    own = start_server(launch, "task2", "--idle-timeout", "1")
    silent = Wire(own.port)  # подключился и молчит
    active = Wire(own.port)  # спрашивает каждые 0.3 с — дольше таймаута в сумме
    started = time.monotonic()
    for _ in range(5):
        active.request("pythagoras", [3, 4])
        assert active.response()["text"] == "Гипотенуза: c = 5"
        # Пауза меньше таймаута: таймаут считает тишину, а не время соединения
        time.sleep(0.3)
    assert time.monotonic() - started > 1.2
    silent.sock.settimeout(5)
    assert silent.sock.recv(1) == b""  # сервер закрыл молчащее соединение (FIN)
    local_port = silent.sock.getsockname()[1]
    own.wait_for(
        rf"INFO 127\.0\.0\.1:{local_port} молчит дольше 1 с — закрываем соединение\n",
        "stderr",
    )
    # активное соединение живо, и новые клиенты обслуживаются
    active.request("parallelogram", [2, 3])
    assert active.response()["text"] == "Площадь параллелограмма: S = 6"
    client = run_client(launch, own.port, "pythagoras", "6", "8")
    assert client.wait_exit() == 0 and client.stdout == "Гипотенуза: c = 10\n"
    assert own.running
    own.assert_no_traceback()
    silent.close()
    active.close()


# Запускает программу с маленьким пределом открытых файлов (RLIMIT_NOFILE).
LOW_NOFILE = (
    """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
sys.argv = sys.argv[2:]
"""
    + RUN_PROGRAM
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE есть только в POSIX")
def test_accept_failure_does_not_kill_server(launch):
    # Сервер с пределом в 16 дескрипторов: соединения,
    # которым их не хватило, ждут в очереди.
    own = start_server(
        lambda args, **kwargs: launch(
            [PYTHON, "-c", LOW_NOFILE, "16", *args[1:]], **kwargs
        ),
        "task2",
    )
    connections = []
    while "Не удалось принять соединение" not in own.stderr:
        assert len(connections) < 16, own.stderr
        connections.append(Wire(own.port))
        local_port = connections[-1].sock.getsockname()[1]
        wait_until(
            # port=local_port: лямбда запоминает порт этого витка цикла
            lambda port=local_port: (
                f"Подключился 127.0.0.1:{port}\n" in own.stderr
                or "Не удалось принять соединение" in own.stderr
            ),
            message=lambda: own.stderr,
        )
    own.wait_for(
        r"WARNING Не удалось принять соединение: \[Errno \d+\] Too many open files",
        "stderr",
    )
    # Ещё столько же соединений сверх предела: все ждут в очереди ядра,
    # а сервер повторяет accept — и не пишет о каждом сбое.
    connections += [Wire(own.port) for _ in range(16)]
    time.sleep(0.3)  # окно, за которое accept успевает сбоить несколько раз
    # Соединение в очереди: запрос ждёт, пока сервер его примет
    waiting = connections.pop()
    waiting.request("pythagoras", [3, 4])
    for connection in connections:
        connection.close()  # освободили дескрипторы на сервере
    assert waiting.response()["text"] == "Гипотенуза: c = 5"
    recovered = own.wait_for(
        r"INFO Приём соединений восстановлен; сбоев accept подряд: (\d+)\n", "stderr"
    )
    assert int(recovered.group(1)) >= 2, own.stderr
    assert own.stderr.count("Не удалось принять соединение") == 1, own.stderr
    fresh = Wire(own.port)
    fresh.request("parallelogram", [2, 3])
    assert fresh.response()["text"] == "Площадь параллелограмма: S = 6"
    assert own.running
    own.assert_no_traceback()
    for connection in (waiting, fresh):
        connection.close()


def test_max_clients_busy_error_and_slot_comes_back(launch):
    own = start_server(launch, "task2", "--max-clients", "2")
    first, second = Wire(own.port), Wire(own.port)
    wait_until(lambda: own.stderr.count("Подключился") == 2, message=lambda: own.stderr)
    busy = {"ok": False, "error": "сервер занят: уже 2 соединений; попробуйте позже"}
    third = Wire(own.port)
    assert third.response() == busy
    assert third.closed_by_server()
    own.wait_for(r"WARNING 127\.0\.0\.1:\d+: отказ: сервер занят", "stderr")
    # client.py при занятом сервере — одна строка «Ошибка: …»
    client = run_client(launch, own.port, "pythagoras", "3", "4")
    assert client.wait_exit() == 1
    assert client.stderr == f"Ошибка: {busy['error']}.\n"
    # Первые два обслуживаются как ни в чём не бывало
    second.request("pythagoras", [3, 4])
    assert second.response()["text"] == "Гипотенуза: c = 5"
    # Ушёл один — место освободилось
    first.close()
    wait_until(lambda: "Отключился" in own.stderr, message=lambda: own.stderr)
    fourth = Wire(own.port)
    fourth.request("parallelogram", [2, 3])
    assert fourth.response()["text"] == "Площадь параллелограмма: S = 6"
    own.assert_no_traceback()
    for connection in (second, third, fourth):
        connection.close()


def test_thread_start_failure_closes_only_that_connection(launch):
    # sitecustomize из tests/thread_start_fault: первый Thread.start() бросает
    # RuntimeError, как когда система не даёт потока.
    env = program_env(
        PYTHONPATH=str(ROOT / "tests" / "thread_start_fault"),
        THREAD_START_FAILURES="1",
    )
    own = start_server(lambda args, **kwargs: launch(args, env=env, **kwargs), "task2")
    unlucky = Wire(own.port)
    assert unlucky.response() == {
        "ok": False,
        "error": "сервер перегружен: не удалось запустить поток",
    }
    assert unlucky.closed_by_server()
    own.wait_for(
        r"WARNING 127\.0\.0\.1:\d+: отказ: сервер перегружен: не удалось запустить "
        r"поток\n",
        "stderr",
    )
    # Следующее соединение получает поток; место первого не потеряно.
    lucky = Wire(own.port)
    lucky.request("pythagoras", [3, 4])
    assert lucky.response()["text"] == "Гипотенуза: c = 5"
    assert own.running
    own.assert_no_traceback()
    unlucky.close()
    lucky.close()


def test_drip_fed_line_is_cut_off_at_request_timeout(launch):
    own = start_server(
        launch, "task2", "--request-timeout", "0.3", "--idle-timeout", "30"
    )
    dripping = Wire(own.port)
    request = b'{"op": "pythagoras", "args": [3, 4]}' + b" " * 200 + b"\n"
    started = time.monotonic()
    # По байту каждые 0.05 с: тишины нет ни разу, а строка шла бы 12 секунд.
    for byte in request:
        try:
            dripping.send(bytes([byte]))
        except OSError:
            break  # сервер уже закрыл соединение
        readable, _, _ = select.select([dripping.sock], [], [], 0.05)
        if readable:
            break
    cut_off = time.monotonic() - started
    assert dripping.response() == {
        "ok": False,
        "error": "строка запроса не пришла целиком за 0.3 с; соединение закрыто",
    }
    assert dripping.closed_by_server()
    assert 0.3 <= cut_off < 5, cut_off
    own.wait_for(
        r"WARNING 127\.0\.0\.1:\d+: строка запроса не пришла целиком за 0\.3 с",
        "stderr",
    )
    # Между запросами срок строки не идёт: пауза дольше него — не беда.
    patient = Wire(own.port)
    patient.request("pythagoras", [3, 4])
    assert patient.response()["text"] == "Гипотенуза: c = 5"
    time.sleep(0.4)
    patient.request("parallelogram", [2, 3])
    assert patient.response()["text"] == "Площадь параллелограмма: S = 6"
    own.assert_no_traceback()
    dripping.close()
    patient.close()


def test_port_in_use(launch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        own = launch([PYTHON, SERVER, "--host", "127.0.0.1", "--port", str(port)])
        assert own.wait_exit() == 1
    assert (
        own.stderr == f"Ошибка: не удалось занять 127.0.0.1:{port}: порт уже занят.\n"
    )


def test_ctrl_c_stops_server_even_with_connected_clients(launch):
    own = start_server(launch, "task2")
    idle = Wire(own.port)  # подключённый клиент не мешает остановке
    wait_until(lambda: "Подключился" in own.stderr, message=lambda: own.stderr)
    own.interrupt()
    assert own.wait_exit() == 0
    assert own.stderr.splitlines()[-1].endswith("INFO Сервер остановлен.")
    own.assert_no_traceback()
    idle.close()


@pytest.mark.parametrize("program", [SERVER, CLIENT])
def test_help(launch, program):
    shown = launch([PYTHON, program, "--help"])
    assert shown.wait_exit() == 0
    assert "--host" in shown.stdout and "по умолчанию 5002" in shown.stdout


def test_client_help_lists_operations(launch):
    shown = launch([PYTHON, CLIENT, "--help"])
    assert shown.wait_exit() == 0
    for op in ("pythagoras", "quadratic", "trapezoid", "parallelogram"):
        assert op in shown.stdout
    assert "Отрицательные числа пишутся как есть" in shown.stdout


# --- числа на краях float ------------------------------------------------------


def quadratic_roots(port: int, coefficients: list[float]) -> dict:
    wire = Wire(port)
    try:
        wire.request("quadratic", coefficients)
        return wire.response()
    finally:
        wire.close()


# Масштабы k = 10^e от 1e-300 до 1e300 — по сотне порядков на проверку.
SCALE_BLOCKS = [range(start, min(start + 100, 301)) for start in range(-300, 301, 100)]


@pytest.mark.parametrize(
    ("polynomial", "roots"),
    [((1, 3, 2), [-1.0, -2.0]), ((1, 2, 1), [-1.0])],
    ids=["x²+3x+2", "x²+2x+1"],
)
@pytest.mark.parametrize(
    "exponents",
    SCALE_BLOCKS,
    ids=[f"1e{r.start}..1e{r.stop - 1}" for r in SCALE_BLOCKS],
)
def test_quadratic_roots_do_not_depend_on_scale(server, polynomial, roots, exponents):
    # k·(x² + 3x + 2) и k·(x² + 2x + 1) — те же корни при любом k: без
    # масштабирования b² − 4ac пропадал в ноль (ложный двойной корень) или
    # переполнялся («числа слишком велики»).
    wire = Wire(server.port)
    wrong = {}
    for exponent in exponents:
        k = float(f"1e{exponent}")
        wire.request("quadratic", [k * coefficient for coefficient in polynomial])
        answer = wire.response()
        found = answer.get("result", {}).get("roots")
        if found is None or found != pytest.approx(roots, rel=1e-12):
            wrong[exponent] = answer
    wire.close()
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("request_args", "expected"),
    [
        (
            ["quadratic", [1e-200, 3e-200, 2e-200]],
            {
                "case": "two_roots",
                "discriminant": None,  # 1e-400 не помещается в float
                "text": "D > 0, два корня: x1 = -1, x2 = -2",
            },
        ),
        (
            ["quadratic", [1e200, 2e200, 1e200]],
            {"case": "one_root", "text": "D = 0, один корень: x = -1"},
        ),
        (
            ["quadratic", [1e200, 0, 4e200]],
            {
                "case": "complex_roots",
                "text": "D < 0, действительных корней нет; "
                "комплексные корни: x1 = 0 + 2i, x2 = 0 - 2i",
            },
        ),
        (["trapezoid", [1e308, 1e308, 1]], {"area": 1e308}),
        (["trapezoid", [1.7e308, 1.7e308, 1.05]], {"area": 1.7e308 * 1.05}),
        (["parallelogram", [1e300, 1e-300]], {"area": 1e300 * 1e-300}),
        (["pythagoras", [1e308, 1e308]], {"c": math.hypot(1e308, 1e308)}),
        (["pythagoras", [3e-320, 4e-320]], {"c": math.hypot(3e-320, 4e-320)}),
    ],
    ids=[
        "tiny_two_roots",
        "huge_one_root",
        "huge_complex",
        "trapezoid_sum_overflows",
        "trapezoid_near_max",
        "parallelogram_extremes",
        "pythagoras_huge",
        "pythagoras_subnormal",
    ],
)
def test_representable_results_are_computed(wire, request_args, expected):
    wire.request(*request_args)
    answer = wire.response()
    assert answer["ok"] is True, answer
    for key, value in expected.items():
        actual = answer["text"] if key == "text" else answer["result"][key]
        assert actual == value, answer


@pytest.mark.parametrize(
    ("request_args", "error"),
    [
        (["trapezoid", [1e308, 1e308, 2]], "числа слишком велики"),
        (["parallelogram", [1e200, 1e200]], "числа слишком велики"),
        (["pythagoras", [1.5e308, 1.5e308]], "числа слишком велики"),
        (["parallelogram", [1e-200, 1e-200]], "числа слишком малы"),
        (["quadratic", [1e-10, 1e300, 1]], "числа слишком велики"),  # x ≈ -1e310
        # a в 1e600 раз меньше b: при масштабировании a пропадает в ноль
        (["quadratic", [1e-300, 1e300, 1]], "коэффициенты различаются"),
    ],
    ids=[
        "trapezoid",
        "parallelogram",
        "pythagoras",
        "area_underflow",
        "huge_root",
        "coefficients_too_far_apart",
    ],
)
def test_unrepresentable_results_are_clear_errors(wire, request_args, error):
    wire.request(*request_args)
    answer = wire.response()
    assert answer["ok"] is False and answer["error"].startswith(error), answer


magnitudes = st.floats(min_value=1e-3, max_value=1e3)
signs = st.sampled_from([1.0, -1.0])


@pytest.mark.fuzz
@given(
    r1=st.builds(lambda m, s: m * s, magnitudes, signs),
    r2=st.builds(lambda m, s: m * s, magnitudes, signs),
    mantissa=st.floats(min_value=1, max_value=10, exclude_max=True),
    exponent=st.integers(min_value=-300, max_value=300),
)
def test_property_roots_come_back_at_any_scale(
    shared_server, r1, r2, mantissa, exponent
):
    # Корни, близкие друг к другу, плохо обусловлены: крошечная ошибка
    # в коэффициентах сдвигает их на корень из неё. Берём различимые.
    largest = max(abs(r1), abs(r2))
    if abs(r1 - r2) < 1e-3 * largest:
        return
    k = mantissa * 10.0**exponent
    answer = quadratic_roots(shared_server.port, [k, -k * (r1 + r2), k * r1 * r2])
    assert answer["ok"] is True, answer
    assert answer["result"]["case"] == "two_roots", answer
    expected = sorted([r1, r2], reverse=True)
    for found, root in zip(answer["result"]["roots"], expected, strict=True):
        assert abs(found - root) <= 1e-9 * largest, (answer, expected)


# --- клиент: отрицательные числа, кодировка консоли, сетевые ошибки -----------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["quadratic", "1", "-1e-3", "0"],
            "D = 1e-06 > 0, два корня: x1 = 0.001, x2 = 0",
        ),
        # -0,5·x² − 1,5·x + 5 = 0: запятая и число без нуля перед запятой
        (
            ["quadratic", "-,5", "-1,5", "5"],
            "D = 12.25 > 0, два корня: x1 = 2, x2 = -5",
        ),
    ],
    ids=["exponent", "comma"],
)
def test_cli_negative_numbers_without_double_dash(launch, server, args, expected):
    # argparse принял бы «-1e-3» и «-1,5» за флаги: код 2 и английская ошибка.
    client = run_client(launch, server.port, *args)
    assert client.wait_exit() == 0, client.stderr
    assert client.stdout == expected + "\n"


@pytest.mark.parametrize("encoding", ["cp1251", "cp866"])
def test_menu_survives_a_console_without_unicode(launch, server, encoding):
    # В меню есть «²», в ответе на 0·x² + 0·x + 5 — «≠»; в cp1251 и cp866 их нет.
    client = launch(
        [PYTHON, CLIENT, "--host", "127.0.0.1", "--port", str(server.port)],
        env=program_env(PYTHONIOENCODING=encoding),
    )
    for line in ["2", "0", "0", "5", "0"]:
        client.write_line(line)
    assert client.wait_exit() == 0, client.stderr
    assert "c ? 0" in client.stdout  # «≠» заменён на «?», а не уронил клиент
    client.assert_no_traceback()


def test_unknown_host_is_one_russian_line(launch):
    client = launch(
        [PYTHON, CLIENT, "--host", "nonexistent.invalid", "pythagoras", "3", "4"]
    )
    assert client.wait_exit() == 1
    assert client.stderr == (
        "Ошибка: нет связи с сервером nonexistent.invalid:5002: "
        "не удалось найти адрес «nonexistent.invalid».\n"
    )


def test_connection_reset_is_one_russian_line(launch):
    # «Сервер», который читает запрос и сбрасывает соединение (RST).
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        client = run_client(launch, port, "pythagoras", "3", "4")
        listener.settimeout(10)
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            conn.recv(4096)
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        assert client.wait_exit() == 1
    assert client.stderr == (
        f"Ошибка: нет связи с сервером 127.0.0.1:{port}: сервер оборвал соединение.\n"
    )


# --- враждебный ввод (hypothesis) ----------------------------------------------

RUSSIAN = re.compile(r"[а-яё]", re.IGNORECASE)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def ask_and_check_still_serving(port: int, line: bytes) -> list[dict]:
    """Шлёт строку, возвращает ответы на неё, затем проверяет, что сервер
    выполняет правильный запрос (в том же соединении, если оно не закрыто)."""
    wire = Wire(port)
    try:
        wire.send(line + b"\n")
        answers = [wire.response()]
        if len(line) > MAX_LINE_BYTES:
            assert wire.closed_by_server()
            wire.close()
            wire = Wire(port)
        wire.request("pythagoras", [3, 4])
        assert wire.response()["text"] == "Гипотенуза: c = 5"
        return answers
    finally:
        wire.close()


def assert_russian_error(answer: dict) -> None:
    assert set(answer) == {"ok", "error"} and answer["ok"] is False, answer
    assert RUSSIAN.search(answer["error"]), answer


@pytest.mark.fuzz
@given(line=st.binary(max_size=2 * MAX_LINE_BYTES).map(lambda b: b.replace(b"\n", b"")))
def test_property_random_bytes_get_russian_error(shared_server, line):
    for answer in ask_and_check_still_serving(shared_server.port, line):
        assert_russian_error(answer)


@pytest.mark.fuzz
@given(value=json_values)
def test_property_random_json_gets_russian_error(shared_server, value):
    line = json.dumps(value).encode()
    for answer in ask_and_check_still_serving(shared_server.port, line):
        assert_russian_error(answer)


numbers_and_junk = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    json_values,
)


@pytest.mark.fuzz
@given(
    op=st.sampled_from(["pythagoras", "quadratic", "trapezoid", "parallelogram", "x"]),
    args=st.lists(numbers_and_junk, max_size=4),
)
def test_property_any_arguments_get_an_answer(shared_server, op, args):
    # Правильный запрос тоже может получиться: тогда ответ — ok и текст.
    line = json.dumps({"op": op, "args": args}).encode()
    for answer in ask_and_check_still_serving(shared_server.port, line):
        if answer["ok"]:
            assert isinstance(answer["text"], str) and answer["result"], answer
        else:
            assert_russian_error(answer)


@pytest.mark.fuzz
@given(
    literal=st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"]),
    depth=st.integers(min_value=0, max_value=600),
    where=st.sampled_from(["args", "op", "top"]),
)
def test_property_nan_infinity_and_deep_nesting(shared_server, literal, depth, where):
    nested = b"[" * depth + literal + b"]" * depth
    line = {
        "args": b'{"op": "pythagoras", "args": [' + nested + b", 4]}",
        "op": b'{"op": ' + nested + b', "args": [3, 4]}',
        "top": nested,
    }[where]
    for answer in ask_and_check_still_serving(shared_server.port, line):
        assert_russian_error(answer)
