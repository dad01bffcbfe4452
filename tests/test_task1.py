"""Задание 1: приветствие по UDP — настоящие сервер и клиент, плюс «сырые»
UDP-сокеты."""

from __future__ import annotations

import re
import socket
import sys
import time

import pytest
from support import PYTHON, lab_program, program_env, start_server, wait_until

CLIENT = lab_program("task1", "client.py")
SERVER = lab_program("task1", "server.py")

not_on_windows = pytest.mark.skipif(
    sys.platform == "win32",
    reason="на Windows SIGINT одному процессу не послать (Ctrl+C — на всю консоль)",
)


def run_client(launch, port: int, *args: str):
    return launch([PYTHON, CLIENT, "--host", "127.0.0.1", "--port", str(port), *args])


@pytest.fixture
def silent_server():
    """UDP-сокет, который только принимает дейтаграммы и никогда не отвечает."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def drain(sock: socket.socket) -> list[bytes]:
    """Все дейтаграммы, уже лежащие в приёмном буфере сокета."""
    sock.setblocking(False)
    received = []
    while True:
        try:
            received.append(sock.recv(65536))
        except BlockingIOError:
            return received


def test_client_gets_greeting_and_server_logs_message(launch):
    server = start_server(launch, "task1")
    assert "UDP" in server.stderr.splitlines()[0]
    client = run_client(launch, server.port)
    assert client.wait_exit() == 0
    assert client.stdout == "Ответ сервера: Hello, client\n"
    assert client.stderr == ""
    server.wait_for(r"INFO Сообщение от 127\.0\.0\.1:\d+: 'Hello, server'", "stderr")


def test_several_concurrent_clients_are_all_served(launch):
    server = start_server(launch, "task1")
    clients = [run_client(launch, server.port) for _ in range(5)]
    for client in clients:
        assert client.wait_exit() == 0
        assert client.stdout == "Ответ сервера: Hello, client\n"
    wait_until(
        lambda: (
            server.count(r"Сообщение от 127\.0\.0\.1:\d+: 'Hello, server'", "stderr")
            == 5
        ),
        message=lambda: server.stderr,
    )
    # у каждого клиента свой сокет, а значит, свой порт отправителя
    assert len(set(re.findall(r"Сообщение от 127\.0\.0\.1:(\d+):", server.stderr))) == 5


def test_silent_server_client_retries_then_gives_up(launch, silent_server):
    port = silent_server.getsockname()[1]
    started = time.monotonic()
    client = run_client(launch, port, "--timeout", "0.2", "--retries", "2")
    assert client.wait_exit() == 1
    elapsed = time.monotonic() - started
    # 1 попытка + 2 повтора по 0.2 с
    assert 0.6 <= elapsed < 3.0, elapsed
    assert drain(silent_server) == [b"Hello, server"] * 3
    lines = client.stderr.splitlines()
    assert lines[:2] == [
        "Нет ответа за 0.2 с, отправляю ещё раз (попытка 2 из 3)",
        "Нет ответа за 0.2 с, отправляю ещё раз (попытка 3 из 3)",
    ]
    assert (
        lines[2] == f"Ошибка: сервер 127.0.0.1:{port} не ответил "
        "(попыток: 3, ожидание каждой: 0.2 с)."
    )
    assert len(lines) == 3
    assert client.stdout == ""


def test_zero_retries_means_single_attempt(launch, silent_server):
    port = silent_server.getsockname()[1]
    client = run_client(launch, port, "--timeout", "0.1", "--retries", "0")
    assert client.wait_exit() == 1
    assert drain(silent_server) == [b"Hello, server"]
    assert client.stderr.splitlines() == [
        f"Ошибка: сервер 127.0.0.1:{port} не ответил "
        "(попыток: 1, ожидание каждой: 0.1 с)."
    ]


def test_nobody_listening_is_reported_at_once(launch):
    # Закрытый UDP-порт: ICMP «порт недоступен»
    # приходит сразу, ждать все попытки не нужно.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    client = run_client(launch, port, "--timeout", "3", "--retries", "3")
    assert client.wait_exit() == 1
    assert time.monotonic() - started < 2.5
    assert (
        client.stderr == f"Ошибка: сервер 127.0.0.1:{port} недоступен: "
        "на этом порту никто не слушает.\n"
    )
    client.assert_no_traceback()


def test_garbage_and_huge_datagrams_do_not_kill_server(launch):
    server = start_server(launch, "task1")
    address = ("127.0.0.1", server.port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.settimeout(5)
        raw.sendto(b"\xff\xfe\xc3 \nbad", address)  # не UTF-8 и с переводом строки
        # Отвечаем любой дейтаграмме разумной длины
        assert raw.recv(1024) == b"Hello, client"
        raw.sendto(b"x" * 5000, address)  # длиннее MAX_DATAGRAM — без ответа
        raw.sendto(b"", address)  # пустая дейтаграмма — законна в UDP
        assert raw.recv(1024) == b"Hello, client"  # это ответ на пустую, не на длинную
    server.wait_for(
        r"Сообщение от 127\.0\.0\.1:\d+: '\ufffd\ufffd\ufffd \\nbad'", "stderr"
    )
    if sys.platform == "win32":
        # Windows не отдаёт обрезанную дейтаграмму: recvfrom бросает WSAEMSGSIZE,
        # и адрес отправителя теряется вместе с ней.
        too_long = r"WARNING Сбой при обмене дейтаграммой: дейтаграмма длиннее буфера"
    else:
        too_long = r"WARNING 127\.0\.0\.1:\d+ прислал дейтаграмму длиннее 1024 байт"
    server.wait_for(too_long, "stderr")
    client = run_client(launch, server.port)
    assert client.wait_exit() == 0
    assert client.stdout == "Ответ сервера: Hello, client\n"
    assert server.running
    # Каждая строка лога — одна дейтаграмма:
    # перевод строки из дейтаграммы не разорвал лог.
    assert all(line[:2].isdigit() for line in server.stderr.splitlines())
    server.assert_no_traceback()


def test_port_in_use_is_one_line_error(launch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        server = launch([PYTHON, SERVER, "--host", "127.0.0.1", "--port", str(port)])
        assert server.wait_exit() == 1
    assert (
        server.stderr
        == f"Ошибка: не удалось занять 127.0.0.1:{port}: порт уже занят.\n"
    )
    assert server.stdout == ""


@not_on_windows
def test_ctrl_c_stops_server_cleanly(launch):
    server = start_server(launch, "task1")
    server.interrupt()
    assert server.wait_exit() == 0
    assert server.stderr.splitlines()[-1].endswith("INFO Сервер остановлен.")
    server.assert_no_traceback()


@not_on_windows
def test_ctrl_c_while_client_waits(launch, silent_server):
    client = run_client(launch, silent_server.getsockname()[1], "--timeout", "5")
    silent_server.settimeout(5)
    assert silent_server.recv(1024) == b"Hello, server"
    client.wait_blocked()  # уже ждёт ответа, а не только отправил
    client.interrupt()
    assert client.wait_exit() == 0
    assert client.stderr == "Прервано.\n"
    client.assert_no_traceback()


@pytest.mark.parametrize("program", [SERVER, CLIENT])
def test_help(launch, program):
    shown = launch([PYTHON, program, "--help"])
    assert shown.wait_exit() == 0
    assert "--host" in shown.stdout and "--port" in shown.stdout
    assert "по умолчанию 5001" in shown.stdout


@pytest.mark.parametrize(
    "option",
    [
        ["--timeout", "0"],
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["--timeout", "1e12"],
        ["--retries", "-1"],
        ["--port", "70000"],
        ["--host", "ä" * 64 + ".ru"],  # часть имени длиннее 63 символов
        ["--host", "сервер..рф"],  # пустая часть имени
    ],
)
def test_client_rejects_bad_options(launch, option):
    client = launch([PYTHON, CLIENT, *option])
    assert client.wait_exit() == 2
    # одна строка: «Ошибка: --timeout: … (справка: client.py --help)»
    assert client.stderr.startswith(f"Ошибка: {option[0]}: "), client.stderr
    assert len(client.stderr.splitlines()) == 1
    client.assert_no_traceback()


# --- Сбои сети: одна строка по-русски, без английского текста от системы ------


def test_client_unknown_host_is_one_russian_line(launch):
    client = launch(
        [PYTHON, CLIENT, "--host", "no-such-host.invalid", "--timeout", "0.2"]
    )
    assert client.wait_exit() == 1
    assert client.stderr == (
        "Ошибка: не удалось связаться с no-such-host.invalid:5001: "
        "имя хоста не найдено (нет такого имени или недоступен DNS).\n"
    )
    assert client.stdout == ""


def test_client_broadcast_address_is_one_russian_line(launch):
    # Отправка на широковещательный адрес без SO_BROADCAST запрещена:
    # PermissionError (EACCES), на Windows — WSAEACCES.
    client = launch([PYTHON, CLIENT, "--host", "255.255.255.255", "--timeout", "0.2"])
    assert client.wait_exit() == 1
    lines = client.stderr.splitlines()
    assert len(lines) == 1, client.stderr
    assert lines[0].startswith("Ошибка: не удалось связаться с 255.255.255.255:5001: ")
    assert "Permission denied" not in lines[0]
    client.assert_no_traceback()


def test_server_unknown_host_is_one_russian_line(launch):
    server = launch([PYTHON, SERVER, "--host", "no-such-host.invalid", "--port", "0"])
    assert server.wait_exit() == 1
    assert server.stderr == (
        "Ошибка: не удалось занять no-such-host.invalid:0: "
        "имя хоста не найдено (нет такого имени или недоступен DNS).\n"
    )


def test_server_foreign_address_is_one_russian_line(launch):
    # 192.0.2.1 — адрес для документации (RFC 5737), у нашей машины его нет.
    server = launch([PYTHON, SERVER, "--host", "192.0.2.1", "--port", "0"])
    assert server.wait_exit() == 1
    assert server.stderr == (
        "Ошибка: не удалось занять 192.0.2.1:0: у этого компьютера нет такого адреса.\n"
    )


# --- Консоль не в UTF-8 (cp866 у cmd.exe, cp1251 при перенаправлении в файл) --


def test_client_survives_console_without_the_reply_characters(launch, silent_server):
    port = silent_server.getsockname()[1]
    client = launch(
        [PYTHON, CLIENT, "--port", str(port), "--timeout", "5"],
        env=program_env(PYTHONIOENCODING="cp866", PYTHONUTF8="0"),
    )
    silent_server.settimeout(5)
    _, address = silent_server.recvfrom(1024)
    # «✓» и «�» (на месте байта 0xFF) в cp866 не записать.
    silent_server.sendto("Hello, client ✓ ".encode() + b"\xff", address)
    assert client.wait_exit() == 0, client.stderr
    # Program читает вывод как UTF-8: сравниваем с тем, что получится из cp866.
    shown = "Ответ сервера: Hello, client ? ?\n".encode("cp866")
    assert client.stdout == shown.decode("utf-8", errors="replace")
    assert client.stderr == ""


def test_server_rejects_a_host_name_dns_cannot_carry(launch):
    server = launch([PYTHON, SERVER, "--host", "ä" * 64 + ".ru", "--port", "0"])
    assert server.wait_exit() == 2
    assert "такого имени хоста не бывает" in server.stderr
    server.assert_no_traceback()
