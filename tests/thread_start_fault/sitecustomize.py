"""Подмешивается в сервер задания 2 через PYTHONPATH: первые THREAD_START_FAILURES
вызовов Thread.start() бросают RuntimeError, как при нехватке памяти или при
пределе числа процессов (RLIMIT_NPROC): «can't start new thread».

Так тест проверяет, что сервер переживает отказ системы дать поток, без того
чтобы на самом деле исчерпать потоки машины, на которой идут и другие тесты.
"""

import os
import threading

failures_left = int(os.environ.get("THREAD_START_FAILURES", "0"))
real_start = threading.Thread.start


def failing_start(self: threading.Thread) -> None:
    global failures_left
    if failures_left > 0:
        failures_left -= 1
        raise RuntimeError("can't start new thread")
    real_start(self)


threading.Thread.start = failing_start
