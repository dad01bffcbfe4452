"""Какие серверы мерит стенд и как их запускать.

SERVERS — одна таблица на всех: шаги задания 4 (laboratory_work_1/task4/steps/,
там и шаг 6 — пул потоков), финальный сервер задания и эталон на asyncio
(tools/chatbench/asyncio_server.py).
У каждого сервера в таблице:

* `features` — что он умеет. Сценарий, которому нужно то, чего сервер не умеет,
  не падает, а пишет в отчёт «не умеет» (например, шаг 0 не отвечает на
  presence — войти и выйти ему нечем) или меряет то, что можно (молчунов
  шага 1 никто не закрывает по таймауту — это и видно);
* `options` — флаги командной строки, которые у него есть. Сценарий просит
  флаги словарём (`arguments`), и сервер получает только свои: `--max-backlog`
  — только тот, у кого есть очередь клиента, `-q` — только тот, кто умеет молчать,
  `--max-clients` — только тот, у кого есть предел соединений (у asyncio его нет).

ServerProcess — сервер в подпроцессе: `python3 server.py --host 127.0.0.1 --port 0`,
адрес — из первой строки его лога, память и потоки — из /proc/<pid>/status.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .config import HOST, ROOT, TASK4, BenchError

STEPS = TASK4 / "steps"

# Что умеет сервер (features):
JIM = "jim"  # строки JSON по "\n", отвечает на presence (202), quit
PRIVATE = "private"  # личные сообщения (msg пользователю), комнаты
TIMEOUTS = "timeouts"  # сроки рукопожатия и тишины, probe, предел строки
BACKLOG = "backlog"  # очередь клиента ограничена: кто не читает — отключён


@dataclass(frozen=True)
class ServerSpec:
    key: str  # имя для --servers и ключ в отчёте
    label: str  # для таблиц
    short: str  # для графиков
    path: Path
    features: frozenset[str]
    options: frozenset[str]  # флаги командной строки, которые у сервера есть
    aliases: tuple[str, ...] = ()
    # Ярус: сколько раундов и нужен ли разгон (config.SCALES) — "final",
    # "asyncio" или "step" (шаги 0–4 меряются короче).
    tier: str = "step"

    def can(self, feature: str) -> bool:
        return feature in self.features

    def arguments(self, wanted: dict[str, object]) -> list[str]:
        """Флаги из wanted, которые у сервера есть: {"-q": True, "--x": 5}."""
        args: list[str] = []
        for flag, value in wanted.items():
            if flag in self.options:
                args += [flag] if value is True else [flag, str(value)]
        return args

    @property
    def exists(self) -> bool:
        return self.path.is_file()


_TIMEOUT_FLAGS = {"--handshake-timeout", "--idle-timeout"}
SERVERS = {
    spec.key: spec
    for spec in (
        ServerSpec(
            "00-typical",
            "шаг 0: типичное",
            "шаг 0",
            STEPS / "00-typical" / "server.py",
            frozenset(),
            frozenset(),
            ("step0",),
        ),
        ServerSpec(
            "01-minimal",
            "шаг 1: минимальный",
            "шаг 1",
            STEPS / "01-minimal" / "server.py",
            frozenset({JIM}),
            frozenset(),
            ("step1",),
        ),
        ServerSpec(
            "02-rooms",
            "шаг 2: комнаты",
            "шаг 2",
            STEPS / "02-rooms" / "server.py",
            frozenset({JIM, PRIVATE}),
            frozenset(),
            ("step2",),
        ),
        ServerSpec(
            "03-hostile-input",
            "шаг 3: чужой ввод",
            "шаг 3",
            STEPS / "03-hostile-input" / "server.py",
            frozenset({JIM, PRIVATE, TIMEOUTS}),
            frozenset(_TIMEOUT_FLAGS),
            ("step3",),
        ),
        ServerSpec(
            "04-slow-readers",
            "шаг 4: писатель",
            "шаг 4",
            STEPS / "04-slow-readers" / "server.py",
            frozenset({JIM, PRIVATE, TIMEOUTS, BACKLOG}),
            frozenset(_TIMEOUT_FLAGS | {"--max-backlog"}),
            ("step4",),
        ),
        ServerSpec(
            "final",
            "шаг 5: финальный",
            "финальный",
            TASK4 / "server.py",
            frozenset({JIM, PRIVATE, TIMEOUTS, BACKLOG}),
            frozenset(_TIMEOUT_FLAGS | {"--max-backlog", "--max-clients", "-q"}),
            ("step5", "task4"),
            tier="final",
        ),
        ServerSpec(
            "06-thread-pool",
            "шаг 6: пул потоков",
            "шаг 6",
            STEPS / "06-thread-pool" / "server.py",
            frozenset({JIM, PRIVATE, TIMEOUTS, BACKLOG}),
            frozenset(_TIMEOUT_FLAGS | {"--max-backlog", "--max-clients", "-q"}),
            ("step6", "pool"),
            tier="final",
        ),
        ServerSpec(
            "asyncio",
            "asyncio (эталон)",
            "asyncio",
            Path(__file__).resolve().with_name("asyncio_server.py"),
            frozenset({JIM, PRIVATE, TIMEOUTS, BACKLOG}),
            frozenset(_TIMEOUT_FLAGS | {"--max-backlog", "-q"}),
            tier="asyncio",
        ),
    )
}
ALIASES = {alias: key for key, spec in SERVERS.items() for alias in spec.aliases}


def resolve(name: str) -> str:
    """Имя сервера из --servers (ключ или псевдоним) → ключ таблицы."""
    key = ALIASES.get(name, name)
    if key not in SERVERS:
        raise BenchError(f"нет сервера «{name}»")
    return key


# Адрес в первой строке сервера: «… слушает 127.0.0.1:40123».
BOUND_ADDRESS = re.compile(rb"\b(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (в КиБ) и Threads из /proc/<pid>/status; {} если процесса нет."""
    values = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                key, _, rest = line.partition(b":")
                if key in (b"VmRSS", b"VmHWM", b"Threads"):
                    values[key.decode()] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    return values


def proc_cpu_seconds(pid: int) -> float:
    """Процессорное время процесса (user + system) из /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def shown_path(text: str) -> str:
    """Путь внутри репозитория — относительно корня (для отчёта), остальное как есть."""
    path = Path(text)
    if path.is_absolute() and path.is_relative_to(ROOT):
        return str(path.relative_to(ROOT))
    return text


class ServerProcess:
    """Сервер в подпроцессе: порт из первой строки, лог в файл, пики памяти и
    потоков."""

    def __init__(self, spec: ServerSpec, args: list[str], log_path: Path) -> None:
        self.spec = spec
        self.kind = spec.key
        self.answers = spec.can(JIM)  # шаг 0 ничего не отвечает
        self.command = [
            sys.executable,
            str(spec.path),
            "--host",
            HOST,
            "--port",
            "0",
            *args,
        ]
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "w+b")
        env = dict(
            os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", PYTHONUTF8="1"
        )
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            cwd=ROOT,
            env=env,
        )
        self.pid = self.process.pid
        self.peak_threads = 0
        self.peak_rss_kb = 0
        try:
            self.address = (HOST, self._wait_for_port())
        except BaseException:
            self.stop()
            raise

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()
            if b"\n" in text:
                match = BOUND_ADDRESS.search(text.split(b"\n", 1)[0])
                if match:
                    return int(match.group(2))
                raise BenchError(
                    f"{self.spec.label}: первая строка без адреса: {text[:200]!r}"
                )
            if self.process.poll() is not None:
                raise BenchError(
                    f"{self.spec.label}: сервер завершился при запуске: {text[-500:]!r}"
                )
            time.sleep(0.01)
        raise BenchError(f"{self.spec.label}: сервер не назвал адрес за 15 с")

    def sample(self) -> dict[str, int]:
        values = proc_status(self.pid)
        self.peak_threads = max(self.peak_threads, values.get("Threads", 0))
        self.peak_rss_kb = max(
            self.peak_rss_kb, values.get("VmHWM", 0), values.get("VmRSS", 0)
        )
        return values

    def rss_mb(self) -> float:
        return self.sample().get("VmRSS", 0) / 1024

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", errors="replace")

    def shown_command(self) -> str:
        """Команда сервера для отчёта: python и пути от корня репозитория."""
        return " ".join(
            ["python3", *(shlex.quote(shown_path(a)) for a in self.command[1:])]
        )

    def stop(self) -> str:
        """Ctrl+C, как человек; через 3 с — SIGKILL. Возвращает лог."""
        if self.alive:
            self.sample()
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        return self.log_text()
