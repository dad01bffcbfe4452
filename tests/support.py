"""Помощники тестов: настоящие программы как подпроцессы и ожидание с дедлайном.

Тесты запускают программы лабораторной так же, как человек: `python server.py`,
`python client.py`, и смотрят на то, что те печатают. Здесь лежит то, что нужно
всем тестам:

* `Program` — подпроцесс, чей stdout и stderr читают фоновые потоки, так что
  тест может ждать нужную строку, не блокируясь на `read()`;
* `wait_until` — ожидание условия с дедлайном вместо `sleep` «на удачу»;
* `start_server` — запуск сервера задания на свободном порту (`--port 0`):
  сервер сам пишет в первой строке адрес, который он занял.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "laboratory_work_1"
PYTHON = sys.executable

# Адрес, который сервер называет в первой строке лога: «… 127.0.0.1:40123 …».
BOUND_ADDRESS = re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b")

DEFAULT_TIMEOUT = 10.0

T = TypeVar("T")


def program_env(**extra: str) -> dict[str, str]:
    """Окружение для подпроцессов: вывод без буфера и в UTF-8 на любой локали."""
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", PYTHONUTF8="1")
    env.update(extra)
    return env


def wait_until(
    predicate: Callable[[], T],
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.005,
    message: str | Callable[[], str] = "условие не выполнилось",
) -> T:
    """Ждёт, пока `predicate()` вернёт истину, и возвращает её; по дедлайну —
    AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"за {timeout} с: {text}")
        time.sleep(interval)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """Свободный порт на 127.0.0.1 (для случаев, где `--port 0` не подходит)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Stream:
    """Накопитель вывода одного потока (stdout или stderr) подпроцесса."""

    def __init__(self, pipe) -> None:
        self._pipe = pipe
        self._data = bytearray()
        self._cond = threading.Condition()
        self.closed = False
        self.cursor = 0  # позиция в тексте, с которой ищет `expect`
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while True:
            chunk = (
                self._pipe.read1(65536)
                if hasattr(self._pipe, "read1")
                else self._pipe.read(65536)
            )
            with self._cond:
                if not chunk:
                    self.closed = True
                    self._cond.notify_all()
                    return
                self._data += chunk
                self._cond.notify_all()

    @property
    def text(self) -> str:
        with self._cond:
            return self._data.decode("utf-8", errors="replace")

    def wait(
        self, predicate: Callable[[str], T], timeout: float, describe: Callable[[], str]
    ) -> T:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self._data.decode("utf-8", errors="replace"))
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"за {timeout} с: {describe()}")
                if self.closed:
                    # Больше ничего не придёт: проверим ещё раз и сдадимся.
                    value = predicate(self._data.decode("utf-8", errors="replace"))
                    if value:
                        return value
                    raise AssertionError(f"поток закрылся: {describe()}")
                self._cond.wait(min(left, 0.1))

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class Program:
    """Настоящая программа в подпроцессе: пишем ей в stdin, ждём строк из
    stdout/stderr."""

    def __init__(
        self,
        args: list[str | os.PathLike],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.args = [str(a) for a in args]
        self.process = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env or program_env(),
        )
        self._streams = {
            "stdout": _Stream(self.process.stdout),
            "stderr": _Stream(self.process.stderr),
        }
        self.port: int | None = None

    # --- вывод -------------------------------------------------------------
    @property
    def stdout(self) -> str:
        return self._streams["stdout"].text

    @property
    def stderr(self) -> str:
        return self._streams["stderr"].text

    def _describe(self, what: str) -> Callable[[], str]:
        return lambda: (
            f"{what}\n--- {' '.join(self.args)}\n--- stdout:\n{self.stdout}"
            f"\n--- stderr:\n{self.stderr}"
        )

    def wait_for(
        self,
        pattern: str,
        stream: str = "stdout",
        timeout: float = DEFAULT_TIMEOUT,
        flags: int = 0,
    ) -> re.Match:
        """Ждёт, пока во всём выводе потока найдётся `pattern` (регулярное
        выражение)."""
        regex = re.compile(pattern, flags)
        return self._streams[stream].wait(
            regex.search,
            timeout,
            self._describe(f"не дождались {pattern!r} в {stream}"),
        )

    def expect(
        self,
        pattern: str,
        stream: str = "stdout",
        timeout: float = DEFAULT_TIMEOUT,
        flags: int = 0,
    ) -> re.Match:
        """Как `wait_for`, но ищет после предыдущего совпадения `expect` в этом
        потоке."""
        regex = re.compile(pattern, flags)
        accumulator = self._streams[stream]
        start = accumulator.cursor
        match = accumulator.wait(
            lambda text: regex.search(text, start),
            timeout,
            self._describe(
                f"не дождались {pattern!r} в {stream} после позиции {start}"
            ),
        )
        accumulator.cursor = match.end()
        return match

    def count(self, pattern: str, stream: str = "stdout") -> int:
        return len(re.findall(pattern, self._streams[stream].text))

    # --- ввод --------------------------------------------------------------
    def write_line(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode("utf-8") + b"\n")
        self.process.stdin.flush()

    def close_stdin(self) -> None:
        """Ctrl+D: конец ввода."""
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass

    # --- жизнь процесса ----------------------------------------------------
    def wait_blocked(self) -> None:
        """На Linux ждёт, пока главный поток процесса уснёт в системном вызове:
        подсказка напечатана раньше, чем программа начала ждать ввода или ответа.

        SIGINT, пришедший в это окно, Python заметит, только когда вызов вернётся, —
        а ввода не будет, и тест ждал бы вечно. Человек за терминалом в окно
        в микросекунды не попадает; без /proc (macOS) тест просто не ждёт.
        """
        stat = Path(f"/proc/{self.process.pid}/stat")
        if stat.exists():
            wait_until(lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "S")

    def interrupt(self) -> None:
        """Ctrl+C: SIGINT, как из терминала.

        На Windows SIGINT одному процессу не послать (есть только CTRL_C_EVENT на
        всю консоль, вместе с самим pytest): там тест с Ctrl+C пропускается."""
        if sys.platform == "win32":
            pytest.skip("на Windows Ctrl+C одному процессу не послать")
        self.process.send_signal(signal.SIGINT)

    def wait_exit(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Ждёт завершения и возвращает код выхода (вывод дочитывается до конца)."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                self._describe(f"процесс не завершился за {timeout} с")()
            ) from None
        for accumulator in self._streams.values():
            accumulator.join(timeout)
        return code

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.running:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                if pipe:
                    pipe.close()
            except OSError:
                pass

    def assert_no_traceback(self) -> None:
        for name in ("stdout", "stderr"):
            assert "Traceback" not in self._streams[name].text, self._describe(
                f"трассировка в {name}"
            )()


def lab_program(task: str, name: str) -> Path:
    """Путь к программе задания: lab_program("task4", "server.py")."""
    return LAB / task / name


def start_server(
    launch: Callable[..., Program],
    task: str,
    *args: str,
    timeout: float = DEFAULT_TIMEOUT,
) -> Program:
    """Запускает server.py задания на свободном порту и узнаёт порт из его первой
    строки."""
    server = launch(
        [
            PYTHON,
            lab_program(task, "server.py"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            *args,
        ]
    )

    def bound_port() -> int | None:
        for text in (server.stderr, server.stdout):
            first_line = text.split("\n", 1)[0] if "\n" in text else ""
            match = BOUND_ADDRESS.search(first_line)
            if match:
                return int(match.group(2))
        if not server.running:
            raise AssertionError(
                server._describe("сервер завершился, не назвав адрес")()
            )
        return None

    server.port = wait_until(
        bound_port,
        timeout,
        message=server._describe("сервер не назвал адрес в первой строке"),
    )
    return server


# Хвост обёрток `python -c ОБЁРТКА программа.py …`, которые подменяют что-то в
# окружении программы: после подмены запустить её так же, как `python путь/
# программа.py`, — с её папкой первой в sys.path (там лежит russian_argparse).
# В sys.argv к этому месту должны остаться только программа и её аргументы.
RUN_PROGRAM = """
import os, runpy, sys
sys.path.insert(0, os.path.dirname(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
"""
