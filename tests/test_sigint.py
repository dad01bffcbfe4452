"""Ctrl+C останавливает каждый сервер, даже запущенный из скрипта с `&`.

Оболочка без управления заданиями ставит фоновой программе SIGINT
«игнорировать», и Python тогда не ставит своего обработчика: `kill -INT` (и
Ctrl+C, если программу потом вернули на передний план) ничего бы не сделал.
Тест повторяет это честно: `trap '' INT` в sh, затем `exec` сервера.
"""

from __future__ import annotations

import shutil

import pytest
from support import BOUND_ADDRESS, PYTHON, lab_program, wait_until

# Задание 4 проверяет Ctrl+C своим тестом (test_task4_server.py) на каждом шаге.
SERVERS = ["task1", "task2", "task3", "task5"]


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
