"""Ctrl+C останавливает каждый сервер, даже запущенный из скрипта с `&`
и даже так, как его доставляет Windows.

Оболочка без управления заданиями ставит фоновой программе SIGINT
«игнорировать», и Python тогда не ставит своего обработчика: `kill -INT` (и
Ctrl+C, если программу потом вернули на передний план) ничего бы не сделал.
Тест повторяет это честно: `trap '' INT` в sh, затем `exec` сервера.

На Windows Ctrl+C не прерывает блокирующий `recvfrom`/`accept` главного потока
(CPython issue 85609): обработчик сработает, только когда вызов вернётся сам.
Второй тест воспроизводит это на Linux и macOS (см. `LIKE_WINDOWS`).

Сигнал тестам посылает `Popen.send_signal(SIGINT)`, а на Windows так нельзя
(там есть только CTRL_C_EVENT на всю консоль), поэтому там тесты пропускаются.
"""

from __future__ import annotations

import shutil
import sys

import pytest
from support import (
    BOUND_ADDRESS,
    PYTHON,
    RUN_PROGRAM,
    lab_program,
    start_server,
    wait_until,
)

# Задание 4 проверяет Ctrl+C своим тестом (test_task4_server.py) на каждом шаге.
SERVERS = ["task1", "task2", "task3", "task5"]
# Серверы, которые ждут в recvfrom/accept с тиком (см. страницу задания 1,
# «Почему сервер ждёт с таймаутом»); задание 4 — в test_task4_server.py.
TICKING_SERVERS = ["task1", "task2", "task3", "task5"]

# Как на Windows: SIGINT принимает не главный поток, и системный вызов главного
# потока он не прерывает. Ядро отдаёт сигнал потоку, который его не блокирует:
# заводим такой поток-«приёмник», блокируем SIGINT в главном и запускаем в нём
# сервер. Обработчик Python выполнит главный поток, но только вернувшись в Python.
LIKE_WINDOWS = (
    """
import signal, sys, threading
threading.Thread(target=threading.Event().wait, daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
sys.argv = sys.argv[1:]
"""
    + RUN_PROGRAM
)

not_on_windows = pytest.mark.skipif(
    sys.platform == "win32",
    reason="на Windows нет SIGINT для одного процесса: Popen.send_signal не умеет",
)


@not_on_windows
@pytest.mark.skipif(shutil.which("sh") is None, reason="нужна POSIX-оболочка sh")
@pytest.mark.parametrize("task", SERVERS)
def test_sigint_stops_a_server_started_with_sigint_ignored(launch, task, tmp_path):
    server_path = lab_program(task, "server.py")
    extra = ["--data", str(tmp_path / "grades.json")] if task == "task5" else []
    command = " ".join(
        [f"'{PYTHON}'", f"'{server_path}'", "--host 127.0.0.1 --port 0", *extra]
    )
    server = launch(["sh", "-c", f"trap '' INT; exec {command}"])
    wait_until(
        lambda: BOUND_ADDRESS.search(server.stderr + server.stdout),
        message="сервер не назвал адрес",
    )
    server.interrupt()
    assert server.wait_exit(timeout=5) == 0, server.stderr
    server.assert_no_traceback()


@not_on_windows
@pytest.mark.parametrize("task", TICKING_SERVERS)
def test_sigint_that_does_not_interrupt_the_wait_still_stops_server(
    launch, task, tmp_path
):
    extra = ["--data", str(tmp_path / "grades.json")] if task == "task5" else []
    server = start_server(
        lambda args: launch([args[0], "-c", LIKE_WINDOWS, *args[1:]]), task, *extra
    )
    server.interrupt()
    # Тик — полсекунды; без тика сервер ждал бы дейтаграмму вечно.
    assert server.wait_exit(timeout=5) == 0, server.stderr
    assert server.stderr.splitlines()[-1].endswith("INFO Сервер остановлен.")
    server.assert_no_traceback()
