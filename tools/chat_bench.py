#!/usr/bin/env python3
"""Нагрузочный стенд чата задания 4: наш сервер рядом с «обычным лабораторным».

Запуск из корня репозитория:

    python tools/chat_bench.py               # полный прогон, меньше 5 минут на 2 ядрах
    python tools/chat_bench.py --scale tiny  # крошечный прогон (его запускают тесты)
    python tools/chat_bench.py --write-docs  # отчёт для страницы задания 4

Что сравниваем. В одном прогоне, на одной машине, один за другим (в сценарии 3 —
одновременно) стенд поднимает два сервера — оба подпроцессами одного и того же
интерпретатора:

* `task4` — laboratory_work_1/task4/server.py, наш сервер;
* `naive` — «обычное лабораторное решение», встроенное в этот файл
  (`python tools/chat_bench.py --naive-relay --port 0`): поток на клиента,
  `recv(1024)` и рассылка полученных байтов всем остальным в цикле, без
  разбиения на строки, Нейгл не выключен, без таймаутов и ограничений.
  Мы даём ему фору: `sendall` вместо `send`, рассылка по копии списка
  клиентов, ошибка чужого сокета не роняет поток.

Честность сравнения. Оба сервера получают одинаковых клиентов с одинаковыми
строками: регистрацию `presence` наивный ретранслятор просто разошлёт
остальным, а клиенты пропускают непонятные им строки. Темп, объёмы,
таймауты ожидания, ограничение на файлы (RLIMIT_NOFILE) одинаковы; память
и число потоков обоих читаются из /proc/<pid>/status. Поэтому в отчёте
важны отношения чисел, измеренных в одну минуту на одной машине.

Как мерим. Нагрузку даёт ОДИН поток этого процесса: неблокирующие сокеты
под `selectors` (epoll), строки режутся по b"\\n", отправка по расписанию
в том же цикле — генератор не спорит сам с собой за GIL. В текст каждого
сообщения вшиты отправитель, номер и время отправки (`time.time_ns()`),
а время прихода берётся из ядра (SO_TIMESTAMPNS: когда байты легли
в сокет получателя). Поэтому задержка — это работа сервера и сети, а не
очередь в нашем цикле разбора. Каждая доставка отмечается в карте
получателя: «потеряно» = ожидалось − дошло целым; «искажено» = строки,
которые не разбираются или не совпадают с отправленным, плюс дубли и эхо
отправителю.

Сценарии (цели — из задачи, проверяются для нашего сервера):

1. Пропускная способность: 50 клиентов по 100 сообщений как можно быстрее;
   несколько раундов подряд, итог — по всем раундам вместе (один раунд короче
   секунды и шумит).
2. Задержка: 50 клиентов, 400 сообщений в секунду на всех.
3. Масштаб: 1000 клиентов, 10 сообщений в секунду на всех. Оба сервера держат
   своих клиентов одновременно, раунды идут через один: дрейф машины ложится
   на обоих поровну; p99 — по всем раундам вместе.
4. Медленный читатель: раунды сценария 1, и в каждом ещё клиент, который не
   читает. До раунда ему шлют личные сообщения, пока ядро берёт их в буфер его
   сокета (tx_queue в /proc/net/tcp), а раунд адресует ему больше границы
   очереди сервера: отключить его должны посреди раунда. Доставки/с остальных
   сравниваем со сценарием 1 — тот же объём, те же раунды.
5. Наплыв молчунов: 500 соединений без регистрации и 20 болтающих; задержку
   болтающих сравниваем с ней же до наплыва и после него.
6. Враждебный ввод: мусор, битый UTF-8, строка в 1 МиБ, 10 000 запросов
   неверной формы, escape-последовательности, обрывы посреди строки.
"""

from __future__ import annotations

import argparse
import array
import datetime
import gc
import itertools
import json
import math
import os
import platform
import random
import re
import resource
import selectors
import shlex
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK4_SERVER = ROOT / "laboratory_work_1" / "task4" / "server.py"
TASK4_SERVER_PATH = TASK4_SERVER  # --server-path: померить другой вариант сервера
DEFAULT_OUT = ROOT / "tools" / "bench-out"
DOCS_OUT = ROOT / "docs" / "lab1" / "bench"
HOST = "127.0.0.1"

# Адрес в первой строке сервера: «… слушает 127.0.0.1:40123».
BOUND_ADDRESS = re.compile(rb"\b(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b")

# Время прихода из ядра: в Python нет имени для этой опции, число — из Linux.
SO_TIMESTAMPNS = 35
ANCILLARY_SIZE = socket.CMSG_SPACE(16)
RECV_SIZE = 256 * 1024
# Сервер затих: за столько секунд его процессорное время почти не выросло
IDLE_WINDOW = 0.1

# Текст сообщения стенда: «b|номер|отправитель|время_нс|заполнитель».
MARK = "b|"
MARK_BYTES = b'"b|'
PROBE_BYTES = b'"probe"'
# Заполнитель с кириллицей: строки честно идут в UTF-8; сдвиг зависит от номера.
_PAD_BASE = "Привет, мир! Hello, world! Съешь ещё этих мягких булок. 0123456789 "
PADS = [_PAD_BASE[k:] + _PAD_BASE[:k] for k in range(17)]
# Строка чата в том виде, в каком её пишет json.dumps (наш сервер и наши клиенты).
CHAT_LINE = re.compile(
    rb'\{"action": "msg", "time": [0-9.e+-]+, (?:"from": "([^"\\]*)", )?'
    rb'"to": "#general", "message": "b\|(\d+)\|([^"\\]*)"\}'
)

SERVERS = {"task4": "наш (task4)", "naive": "наивный"}

# Размеры сценариев: full — для отчёта, tiny — для тестов (доли секунды).
SCALES = {
    "full": {
        # Пачка длится полсекунды и шумит на ±20 % (на тех же двух ядрах — генератор,
        # машина виртуальная) — поэтому несколько раундов подряд и итог по всем вместе.
        "burst": {"clients": 50, "messages": 100, "rounds": 6},
        "latency": {"clients": 50, "rate": 400, "seconds": 5.0},
        # Оба сервера держат по 1000 клиентов сразу, раунды идут через один.
        "scale": {"clients": 1000, "rate": 10, "seconds": 15.0, "rounds": 5},
        # Граница очереди медленного — меньше, чем ему адресует один раунд сценария 1.
        # Пар раундов больше, чем раундов в сценарии 1: отношение в паре «с молчуном /
        # без» гуляет на ±20 % (машина шумит), а порог — 0,9; по 20 парам разброс
        # итога — около 5 %.
        "stalled": {
            "rcvbuf": 4096,
            "backlog": 1 << 19,
            "step": 1 << 16,
            "text": 400,
            "rounds": 20,
        },
        "flood": {
            "chatters": 20,
            "rate": 200,
            "seconds": 6.0,
            "idle": 500,
            "handshake": 10.0,
        },
        "hostile": {
            "chatters": 20,
            "rate": 100,
            "seconds": 5.0,
            "random_conns": 8,
            "random_bytes": 16384,
            "long_lines": 2,
            "long_size": 1 << 20,
            "wrong_shapes": 10_000,
            "escape_msgs": 200,
            "resets": 40,
        },
        "server_args": ["-q"],
        # сколько ждать новых доставок, прежде чем счесть остальное потерянным
        "quiet": 2.0,
        "settle": 0.3,  # тишина после регистрации, прежде чем начать замер
        "setup": 60.0,  # предел на подключение и регистрацию
        "phase": 60.0,  # предел на одну фазу отправки
        "probe_grace": 5.0,  # сколько враждебные проверки ждут ответа после конца чата
        "alive_timeout": 3.0,  # сколько ждать ответа от сервера после атаки
        "budget": 285.0,  # жёсткий предел на весь прогон
    },
    "tiny": {
        # Сценарию 4 раунд должен адресовать медленному больше границы его очереди.
        "burst": {"clients": 3, "messages": 1500, "rounds": 2},
        "latency": {"clients": 4, "rate": 40, "seconds": 0.3},
        "scale": {"clients": 30, "rate": 20, "seconds": 0.4, "rounds": 2},
        "stalled": {
            "rcvbuf": 4096,
            "backlog": 1 << 18,
            "step": 1 << 15,
            "text": 400,
            "rounds": 2,
        },
        "flood": {
            "chatters": 4,
            "rate": 40,
            "seconds": 0.3,
            "idle": 20,
            "handshake": 1.0,
        },
        "hostile": {
            "chatters": 4,
            "rate": 40,
            "seconds": 0.6,
            "random_conns": 2,
            "random_bytes": 4096,
            "long_lines": 1,
            "long_size": 1 << 20,
            "wrong_shapes": 200,
            "escape_msgs": 10,
            "resets": 4,
        },
        "server_args": ["-q"],
        "quiet": 0.5,
        "settle": 0.1,
        "setup": 10.0,
        "phase": 10.0,
        "probe_grace": 1.5,
        "alive_timeout": 1.0,
        "budget": 90.0,
    },
}


class BenchError(Exception):
    """Ожидаемая ошибка стенда: одна строка «Ошибка: …» и код выхода 1."""


# --------------------------------------------------------------------------
# «Обычное лабораторное решение»
# --------------------------------------------------------------------------


def run_naive_relay(host: str, port: int) -> int:
    """Наивный ретранслятор — так, как его обычно сдают, но с небольшой форой.

    Поток на клиента читает `recv(1024)` и сразу шлёт эти байты всем
    остальным. Границ сообщений он не знает: пришла половина строки — уйдёт
    половина, а два потока, пишущие в один сокет, перемешают куски. Нейгл
    включён, таймаутов нет: один клиент, который не читает, навсегда
    останавливает каждый поток, который попробует ему написать.
    """
    clients: list[socket.socket] = []
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind((host, port))
    except OSError as error:
        print(
            f"Ошибка: не удалось занять {host}:{port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    server.listen()
    bound_host, bound_port = server.getsockname()
    print(
        f"Наивный ретранслятор слушает {bound_host}:{bound_port}",
        file=sys.stderr,
        flush=True,
    )

    def serve(conn: socket.socket) -> None:
        while True:
            try:
                data = conn.recv(1024)
            except OSError:
                break
            if not data:
                break
            for other in list(clients):
                if other is not conn:
                    try:
                        other.sendall(data)
                    except OSError:
                        pass
        clients.remove(conn)
        conn.close()

    try:
        while True:
            conn, _ = server.accept()
            clients.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        print("Ретранслятор остановлен.", file=sys.stderr)
        return 0


# --------------------------------------------------------------------------
# Серверы-подпроцессы и их память из /proc
# --------------------------------------------------------------------------


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


class ServerProcess:
    """Сервер в подпроцессе: порт из первой строки, лог в файл, пики памяти и
    потоков."""

    def __init__(self, kind: str, args: list[str], log_path: Path) -> None:
        self.kind = kind
        self.answers = kind == "task4"  # наивный ретранслятор ничего не отвечает
        if kind == "task4":
            command = [
                sys.executable,
                str(TASK4_SERVER_PATH),
                "--host",
                HOST,
                "--port",
                "0",
                *args,
            ]
        else:
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--naive-relay",
                "--host",
                HOST,
                "--port",
                "0",
            ]
        self.command = command
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "w+b")
        env = dict(
            os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", PYTHONUTF8="1"
        )
        self.process = subprocess.Popen(
            command,
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
                    f"{self.kind}: первая строка без адреса: {text[:200]!r}"
                )
            if self.process.poll() is not None:
                raise BenchError(
                    f"{self.kind}: сервер завершился при запуске: {text[-500:]!r}"
                )
            time.sleep(0.01)
        raise BenchError(f"{self.kind}: сервер не назвал адрес за 15 с")

    def sample(self) -> dict[str, int]:
        values = proc_status(self.pid)
        self.peak_threads = max(self.peak_threads, values.get("Threads", 0))
        self.peak_rss_kb = max(
            self.peak_rss_kb, values.get("VmHWM", 0), values.get("VmRSS", 0)
        )
        return values

    def rss_mb(self) -> float:
        return self.sample().get("VmRSS", 0) / 1024

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", errors="replace")

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


# --------------------------------------------------------------------------
# Генератор нагрузки: клиенты и цикл событий в одном потоке
# --------------------------------------------------------------------------


def presence_line(name: str) -> bytes:
    return (
        json.dumps(
            {
                "action": "presence",
                "time": round(time.time(), 3),
                "user": {"account_name": name, "status": "в сети"},
            },
            ensure_ascii=False,
        )
        + "\n"
    ).encode()


def has_control_chars(value) -> bool:
    """Есть ли в строках ответа управляющие символы C0/C1 (ESC, BEL, CSI…)."""
    if isinstance(value, str):
        return any(ord(ch) < 0x20 or 0x80 <= ord(ch) <= 0x9F for ch in value)
    if isinstance(value, dict):
        return any(
            has_control_chars(k) or has_control_chars(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(has_control_chars(v) for v in value)
    return False


# Управляющий символ в строке как есть: сырой байт C0, C1 в UTF-8 (\xc2\x80–\x9f)
# или escape-последовательность JSON (\u001b, \u009b…).
LEAKED_CONTROL = re.compile(rb"[\x00-\x1f]|\xc2[\x80-\x9f]|\\u00[0189][0-9a-fA-F]")


def raw_line_leaks(line: bytes) -> bool:
    """Несёт ли строка (может, и не разбираемая) управляющие символы."""
    return LEAKED_CONTROL.search(line) is not None


class Client:
    """Одно соединение генератора: буферы, состояние и карта полученных сообщений."""

    __slots__ = (
        "sock",
        "name",
        "index",
        "role",
        "state",
        "inbuf",
        "outbuf",
        "reading",
        "events",
        "marks",
        "opened_at",
        "closed_at",
        "rx_bytes",
        "leaks",
    )

    def __init__(self, sock: socket.socket, name: str, index: int, role: str) -> None:
        self.sock = sock
        self.name = name
        self.index = index
        self.role = role  # chatter | stalled | idle
        # connected | registering | registered | refused | closed
        self.state = "connected"
        self.inbuf = b""
        self.outbuf = b""
        self.reading = True
        self.events = 0
        self.marks: bytearray | None = None  # ставит Ledger тем, чьи доставки считаем
        self.opened_at = time.monotonic()
        self.closed_at: float | None = None
        self.rx_bytes = 0
        self.leaks = 0


def percentiles(latencies) -> dict:
    """p50, p99 и максимум задержек (нс) в миллисекундах; ранг — ближайший сверху."""
    ordered = sorted(latencies)

    def rank(fraction: float) -> float | None:
        if not ordered:
            return None
        index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
        return round(ordered[index] / 1e6, 3)

    return {"p50_ms": rank(0.50), "p99_ms": rank(0.99), "max_ms": rank(1.0)}


class Ledger:
    """Учёт одной фазы: что отправлено, что дошло, с какой задержкой, что искажено."""

    def __init__(
        self, receivers: list[Client], names: list[str], capacity: int
    ) -> None:
        self.names = names
        self.name_bytes = [name.encode() for name in names]
        self.stamps = array.array("q")
        self.senders = array.array("i")
        self.tails: list[bytes] = []  # «отправитель|время|заполнитель» — для сверки
        self.latencies = array.array("q")
        self.receivers = receivers
        for client in receivers:
            client.marks = bytearray(capacity)
        self.capacity = capacity
        self.expected = 0
        self.delivered = 0
        self.corrupted = 0
        self.duplicates = 0
        self.first_send_ns = 0
        self.last_delivery_ns = 0

    def next_message(self, sender: Client) -> str:
        """Текст очередного сообщения «b|номер|отправитель|время_нс|заполнитель» и его
        учёт."""
        msg_id = len(self.stamps)
        if msg_id >= self.capacity:
            raise BenchError("стенд отправил больше сообщений, чем рассчитал")
        stamp = time.time_ns()
        if not self.first_send_ns:
            self.first_send_ns = stamp
        tail = f"{sender.index}|{stamp}|{PADS[msg_id % len(PADS)]}"
        self.stamps.append(stamp)
        self.senders.append(sender.index)
        self.tails.append(tail.encode())
        alive = sum(1 for c in self.receivers if c.state == "registered")
        self.expected += alive - (1 if sender.marks is not None else 0)
        return f"{MARK}{msg_id}|{tail}"

    def chat_line(self, receiver: Client, line: bytes, arrived: int) -> bool:
        """Отмечает доставку; False — строка искажена (не та форма или не тот текст)."""
        # Быстрый путь — строка ровно того вида, что пишет json.dumps: номер и остаток
        # текста сверяем с отправленным одним сравнением байтов. Иначе — честный разбор.
        match = CHAT_LINE.fullmatch(line)
        try:
            if match is not None:
                sender_name, msg_id, tail = match.groups()
                msg_id = int(msg_id)
                sender = self.senders[msg_id]
                valid = tail == self.tails[msg_id] and (
                    sender_name is None or sender_name == self.name_bytes[sender]
                )
            else:
                message = json.loads(line)
                _, msg_id, tail = message["message"].split("|", 2)
                msg_id = int(msg_id)
                sender = self.senders[msg_id]
                name = self.names[sender]
                valid = (
                    msg_id >= 0
                    and message["action"] == "msg"
                    and tail.encode() == self.tails[msg_id]
                    and message.get("from", name) == name
                )
        except Exception:  # обрывок чужой строки может оказаться чем угодно
            valid = False
        marks = receiver.marks
        if marks is None:
            return valid
        if not valid:
            self.corrupted += 1
            return False
        if marks[msg_id] or sender == receiver.index:
            self.duplicates += 1
            return True
        marks[msg_id] = 1
        self.delivered += 1
        self.latencies.append(arrived - self.stamps[msg_id])
        if arrived > self.last_delivery_ns:
            self.last_delivery_ns = arrived
        return True

    @property
    def complete(self) -> bool:
        return self.delivered >= self.expected

    def summary(self, gave_up_ns: int) -> dict:
        lost = max(0, self.expected - self.delivered)
        end = (
            self.last_delivery_ns
            if not lost
            else max(gave_up_ns, self.last_delivery_ns)
        )
        seconds = (
            max(1e-9, (end - self.first_send_ns) / 1e9) if self.first_send_ns else 0.0
        )
        return {
            "sent": len(self.stamps),
            "expected": self.expected,
            "delivered": self.delivered,
            "lost": lost,
            "corrupted": self.corrupted + self.duplicates,
            "seconds": round(seconds, 3),
            "deliveries_per_s": round(self.delivered / seconds) if seconds else 0,
            **percentiles(self.latencies),
        }


class Load:
    """Все соединения генератора и цикл событий над ними (один поток, epoll)."""

    def __init__(self, server: ServerProcess, progress: Progress) -> None:
        self.server = server
        self.progress = progress
        self.selector = selectors.DefaultSelector()
        self.clients: list[Client] = []
        self.names: list[str] = []
        self.ledger: Ledger | None = None
        self.inspect = False  # разбирать ли каждую строку (во время замера)
        # Насколько генератор опоздал с отправкой по расписанию (с)
        self.lateness = 0.0
        self.rx_total = 0
        self.status = lambda: ""
        self._next_sample = 0.0
        self._next_report = time.monotonic() + 1.0

    # --- соединения --------------------------------------------------------
    def connect(
        self, role: str = "chatter", name: str | None = None, rcvbuf: int | None = None
    ) -> Client:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Нагрузка не должна добавлять своих задержек: Нейгл у клиентов выключен.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if role != "idle":
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.settimeout(10)
        try:
            sock.connect(self.server.address)
        except OSError as error:
            sock.close()
            raise BenchError(
                f"{self.server.kind}: не удалось подключиться: {error}"
            ) from None
        sock.setblocking(False)
        index = len(self.clients)
        client = Client(sock, name or f"c{index}", index, role)
        self.clients.append(client)
        self.names.append(client.name)
        self._update_events(client)
        return client

    def _update_events(self, client: Client) -> None:
        events = (selectors.EVENT_READ if client.reading else 0) | (
            selectors.EVENT_WRITE if client.outbuf else 0
        )
        if client.state == "closed":
            events = 0
        if events == client.events:
            return
        if not client.events:
            self.selector.register(client.sock, events, client)
        elif not events:
            self.selector.unregister(client.sock)
        else:
            self.selector.modify(client.sock, events, client)
        client.events = events

    def stop_reading(self, client: Client) -> None:
        client.reading = False
        self._update_events(client)

    def send(self, client: Client, data: bytes) -> None:
        if client.state == "closed":
            return
        if client.outbuf:
            client.outbuf += data
            return
        try:
            sent = client.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._closed(client)
            return
        if sent < len(data):
            client.outbuf = data[sent:]
            self._update_events(client)

    def send_chat(self, client: Client) -> None:
        text = self.ledger.next_message(client)
        self.send(
            client,
            (
                f'{{"action": "msg", "time": {time.time():.3f}, '
                f'"to": "#general", "message": "{text}"}}\n'
            ).encode(),
        )

    def _closed(self, client: Client) -> None:
        if client.state == "closed":
            return
        client.state = "closed"
        client.closed_at = time.monotonic()
        self._update_events(client)

    def close_all(self) -> None:
        for client in self.clients:
            if client.events:
                self.selector.unregister(client.sock)
                client.events = 0
            try:
                client.sock.close()
            except OSError:
                pass
        self.selector.close()

    # --- цикл событий ------------------------------------------------------
    def poll(self, timeout: float) -> None:
        for key, mask in self.selector.select(max(0.0, timeout)):
            client = key.data
            if mask & selectors.EVENT_WRITE:
                self._flush(client)
            if mask & selectors.EVENT_READ and client.state != "closed":
                self._read(client)
        now = time.monotonic()
        if now >= self._next_sample:
            self._next_sample = now + 0.1
            self.server.sample()
            if now >= self._next_report:
                self._next_report = now + 1.0
                self.progress.say(self.status())

    def _flush(self, client: Client) -> None:
        try:
            sent = client.sock.send(client.outbuf)
        except BlockingIOError:
            return
        except OSError:
            self._closed(client)
            return
        client.outbuf = client.outbuf[sent:]
        self._update_events(client)

    def _read(self, client: Client) -> None:
        try:
            data, ancillary, _, _ = client.sock.recvmsg(RECV_SIZE, ANCILLARY_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancillary = b"", []
        if not data:
            self._closed(client)
            return
        self.rx_total += len(data)
        client.rx_bytes += len(data)
        if client.role == "idle":
            # Молчуну сервер ничего слать не должен; если шлёт (наивный рассылает
            # всем) — перестаём его читать, чтобы не тратить на это цикл.
            if client.rx_bytes > 4096:
                self.stop_reading(client)
            return
        if ancillary:
            seconds, nanoseconds = struct.unpack_from("qq", ancillary[0][2])
            arrived = seconds * 1_000_000_000 + nanoseconds
        else:
            arrived = time.time_ns()
        if b"\n" not in data:
            client.inbuf += data
            # «строка» без конца: не копим бесконечно
            if len(client.inbuf) > 16 * 1024 * 1024:
                client.inbuf = b""
                self._garbage(client, b"")
            return
        lines = (client.inbuf + data).split(b"\n")
        client.inbuf = lines.pop()
        for line in lines:
            if MARK_BYTES in line:
                # Целая строка чата — ровно отправленный
                # текст; утечку ищем в искажённых.
                if (
                    self.ledger is not None
                    and not self.ledger.chat_line(client, line, arrived)
                    and self.inspect
                    and raw_line_leaks(line)
                ):
                    client.leaks += 1
            elif line and (self.inspect or client.state != "registered"):
                self._service_line(client, line)
            elif PROBE_BYTES in line:
                self.send(client, presence_line(client.name))

    def _service_line(self, client: Client, line: bytes) -> None:
        """Строка не из чата: ответы сервера, оповещения, проверки связи — или мусор."""
        try:
            message = json.loads(line)
        except ValueError:
            self._garbage(client, line)
            return
        if not isinstance(message, dict):
            self._garbage(client, line)
            return
        if self.inspect and has_control_chars(message):
            client.leaks += 1
        code = message.get("response")
        if client.state == "registering" and code == 202:
            client.state = "registered"
        elif client.state == "registering" and code in (400, 409):
            client.state = "refused"
        elif message.get("action") == "probe":
            self.send(client, presence_line(client.name))

    def _garbage(self, client: Client, line: bytes) -> None:
        if self.inspect and client.marks is not None and self.ledger is not None:
            self.ledger.corrupted += 1
            if raw_line_leaks(line):
                client.leaks += 1

    # --- шаги сценариев ----------------------------------------------------
    def register(self, clients: list[Client], deadline: float, batch: int = 50) -> None:
        """Регистрирует клиентов пачками; наивному нечего отвечать — считаем сразу."""
        for start in range(0, len(clients), batch):
            chunk = clients[start : start + batch]
            for client in chunk:
                client.state = "registering"
                self.send(client, presence_line(client.name))
            if not self.server.answers:
                for client in chunk:
                    client.state = "registered"
                self.poll(0)
                continue
            while any(c.state == "registering" for c in chunk):
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"{self.server.kind}: регистрация не закончилась вовремя"
                    )
                self.poll(0.05)
            refused = [c.name for c in chunk if c.state != "registered"]
            if refused:
                raise BenchError(
                    f"{self.server.kind}: сервер не принял имена {refused[:5]}"
                )

    def settle(self, quiet: float, deadline: float) -> None:
        """Ждёт тишины: оповещения о входе (или разосланные presence) дошли до всех."""
        last_total, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            self.poll(0.02)
            if self.rx_total != last_total:
                last_total, last_change = self.rx_total, time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                return

    def start_phase(self, receivers: list[Client], capacity: int) -> Ledger:
        self.ledger = Ledger(receivers, self.names, capacity)
        self.inspect = True
        self.lateness = 0.0
        return self.ledger

    def end_phase(self) -> None:
        self.inspect = False
        for client in self.clients:
            client.marks = None
        self.ledger = None

    def burst(
        self, senders: list[Client], each: int, quiet: float, deadline: float
    ) -> int:
        """Каждый шлёт `each` сообщений как можно быстрее — по одному за круг цикла,
        пока сокет принимает; если сервер `quiet` секунд ничего не берёт — сдаёмся.
        Возвращает, сколько сообщений так и не ушло.

        Читаем, только когда слать некому: у настоящих клиентов чтение не тормозит
        отправку, а разбор доставок генератору дороже отправки. Читай он между
        кругами — пачка уходила бы то за 0,05 с, то за 0,8 с (смотря по тому, как
        рано сервер начал доставлять), и мы мерили бы генератор. Пока он шлёт,
        доставки ждут в буферах ядра; задержку считаем по отметке ядра о приходе.
        """
        left = {client: each for client in senders}
        last_progress = time.monotonic()
        while left and time.monotonic() < deadline:
            progressed = False
            for client in list(left):
                if client.state == "closed" or client.outbuf:
                    continue
                self.send_chat(client)
                progressed = True
                left[client] -= 1
                if not left[client]:
                    del left[client]
            if progressed:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > quiet:
                break
            else:
                self.poll(0.005)
        return sum(left.values())

    def paced(
        self, senders: list[Client], rate: float, seconds: float, deadline: float
    ) -> int:
        """Ровный темп `rate` сообщений в секунду на всех; возвращает неотправленные."""
        total = round(rate * seconds)
        start = time.monotonic()
        for number in range(total):
            due = start + number / rate
            while True:
                now = time.monotonic()
                if now >= due or now >= deadline:
                    break
                self.poll(due - now)
            if now >= deadline:
                return total - number
            self.lateness = max(self.lateness, now - due)
            sender = senders[(number * 7) % len(senders)]
            if sender.state == "registered":
                self.send_chat(sender)
        return 0

    def drain(self, quiet: float, deadline: float) -> int:
        """Ждёт оставшиеся доставки, пока они идут; возвращает момент, когда сдались
        (нс)."""
        ledger = self.ledger
        last, last_change = -1, time.monotonic()
        while not ledger.complete and time.monotonic() < deadline:
            self.poll(0.02)
            if ledger.delivered != last:
                last, last_change = ledger.delivered, time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                break
        self.poll(0)
        return time.time_ns()


# --------------------------------------------------------------------------
# Враждебные проверки: блокирующие сокеты в отдельных потоках
# --------------------------------------------------------------------------


class LineConn:
    """Блокирующее соединение для проверок: отправка без исключений, ответы с
    дедлайном."""

    def __init__(self, address: tuple[str, int], deadline: float) -> None:
        self.deadline = deadline
        self.sock = socket.create_connection(address, timeout=5)
        self.buffer = b""
        self.closed = False
        self.name = ""

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def responses(
        self, count: int | None = None, quiet: float | None = None
    ) -> list[int]:
        """Коды ответов (кроме оповещений 100): ровно `count`, или пока не станет
        тихо/закрыто."""
        codes: list[int] = []
        last = time.monotonic()
        while not self.closed and (count is None or len(codes) < count):
            now = time.monotonic()
            if now >= self.deadline or (quiet is not None and now - last >= quiet):
                break
            wait = (
                self.deadline - now
                if quiet is None
                else min(self.deadline - now, quiet)
            )
            self.sock.settimeout(max(0.01, wait))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data:
                self.closed = True
                break
            lines = (self.buffer + data).split(b"\n")
            self.buffer = lines.pop()
            for line in lines:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                if message.get("action") == "probe" and self.name:
                    self.send(presence_line(self.name))
                code = message.get("response")
                if isinstance(code, int) and code != 100:
                    codes.append(code)
                    last = time.monotonic()
        return codes

    def register(self, name: str) -> bool:
        self.name = name
        self.send(presence_line(name))
        return self.responses(1) == [202]

    def reset(self) -> None:
        """Обрыв без FIN: SO_LINGER(1, 0) и close() — ядро шлёт RST."""
        try:
            self.sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        except OSError:
            pass
        self.sock.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _json_line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode()


# Запросы правильного JSON, но неверной формы: каждому положен ответ 400.
WRONG_BEFORE_REGISTRATION = [
    b"[]",
    b'"presence"',
    b"42",
    b"null",
    b"{}",
    b'{"action": 42}',
    b'{"action": null}',
    b'{"action": ["presence"]}',
    b'{"action": "presence"}',
    b'{"action": "presence", "user": "x"}',
    b'{"action": "presence", "user": {}}',
    b'{"action": "presence", "user": {"account_name": 7}}',
    b'{"action": "presence", "user": {"account_name": ""}}',
    b'{"action": "presence", "user": {"account_name": "a b"}}',
    b'{"action": "presence", "user": {"account_name": "' + b"x" * 26 + b'"}}',
]
WRONG_AFTER_REGISTRATION = [
    b'{"action": "msg"}',
    b'{"action": "msg", "to": "#general"}',
    b'{"action": "msg", "to": "#general", "message": ""}',
    b'{"action": "msg", "to": "#general", "message": 5}',
    b'{"action": "msg", "to": 5, "message": "x"}',
    b'{"action": "msg", "to": "#general", "message": ["x"]}',
    b'{"action": "msg", "to": "#general", "message": "\\u001b\\u0007"}',
    _json_line({"action": "msg", "to": "#general", "message": "я" * 501}).rstrip(b"\n"),
    b"[]",
    b"{}",
]
INVALID_UTF8 = [
    b"\xff\xfe\xfd",
    b'{"action": "presence", "user": {"account_name": "\xc3\x28"}}',
    b"\xed\xa0\x80",
    b'{"action": "msg", "to": "#general", "message": "\xe2\x82"}',
    b"\xf8\x88\x80\x80\x80",
]
ESCAPE_NAMES = [
    "\x1b[31mRED\x1b[0m",
    "\x1bEVIL\x07",
    "\u009b31mCSI",
    "\x1b]0;title\x07",
]
ESCAPE_TEXT = "\x1b[2J\x1b[H\x1b[31mзло {n}\x07\x1b]0;окно\x07\u009b1m\x08\r\x00конец"


class HostileProbes:
    """Набор враждебных проверок; каждая — поток с блокирующими сокетами."""

    def __init__(
        self, address: tuple[str, int], cfg: dict, deadline: float, victim: str
    ) -> None:
        self.address = address
        self.cfg = cfg
        self.deadline = deadline
        self.victim = victim
        self.results: list[dict] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(check,), daemon=True)
            for check in (
                self.random_bytes,
                self.invalid_utf8,
                self.long_line,
                self.wrong_shapes_unregistered,
                self.wrong_shapes_registered,
                self.escape_names,
                self.escape_texts,
                self.resets,
            )
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(max(0.1, self.deadline - time.monotonic() + 2))

    def _run(self, check) -> None:
        try:
            ok, detail = check()
        except OSError as error:
            ok, detail = False, f"ошибка сокета: {error}"
        with self._lock:
            self.results.append({"check": check.__name__, "ok": ok, "detail": detail})

    def _conn(self) -> LineConn:
        return LineConn(self.address, self.deadline)

    def random_bytes(self):
        rng = random.Random(4)
        conns = [self._conn() for _ in range(self.cfg["random_conns"])]
        # Сначала всем мусор, потом ответы: ожидания тишины идут разом
        for conn in conns:
            data = rng.randbytes(self.cfg["random_bytes"]) + b"\n"
            for start in range(0, len(data), 4096):
                if not conn.send(data[start : start + 4096]):
                    break
        answered, closed, wrong, silent = 0, 0, [], 0
        for conn in conns:
            codes = conn.responses(quiet=0.5)
            wrong += [c for c in codes if c != 400]
            answered += len(codes)
            closed += conn.closed
            silent += not codes and not conn.closed
            conn.close()
        ok = not wrong and not silent
        return ok, (
            f"ответов 400: {answered}, закрыто соединений: {closed}, без ответа и "
            f"закрытия: {silent}, чужих кодов: {wrong[:3]}"
        )

    def invalid_utf8(self):
        conn = self._conn()
        conn.send(b"".join(line + b"\n" for line in INVALID_UTF8) + b"{}\n")
        codes = conn.responses(len(INVALID_UTF8) + 1)
        alive = not conn.closed and conn.register("h_utf8")
        conn.close()
        ok = codes == [400] * (len(INVALID_UTF8) + 1) and alive
        return ok, f"ответы {codes}, соединение живо после: {alive}"

    def long_line(self):
        details = []
        for _ in range(self.cfg["long_lines"]):
            conn = self._conn()
            conn.send(
                b'{"action": "msg", "to": "#general", "message": "'
                + b"A" * self.cfg["long_size"]
            )
            codes = conn.responses()
            conn.close()
            details.append((codes, conn.closed))
        ok = all(closed and all(c == 400 for c in codes) for codes, closed in details)
        seen = sum(codes == [400] for codes, _ in details)
        return (
            ok,
            f"закрыто {sum(c for _, c in details)}/{len(details)}, "
            f"из них с ответом 400: {seen}",
        )

    def _shapes(
        self, conn: LineConn, shapes: list[bytes], count: int
    ) -> tuple[list[int], int]:
        codes: list[int] = []
        sent = 0
        while sent < count and not conn.closed and time.monotonic() < self.deadline:
            batch = min(250, count - sent)
            conn.send(
                b"".join(shapes[(sent + k) % len(shapes)] + b"\n" for k in range(batch))
            )
            sent += batch
            codes += conn.responses(batch)
        return codes, sent

    def wrong_shapes_unregistered(self):
        conn = self._conn()
        codes, sent = self._shapes(
            conn, WRONG_BEFORE_REGISTRATION, self.cfg["wrong_shapes"] // 2
        )
        conn.close()
        bad = len([c for c in codes if c != 400])
        ok = sent == len(codes) and not bad and not conn.closed
        return (
            ok,
            f"отправлено {sent}, ответов {len(codes)}, не 400: {bad}, "
            f"закрыто: {conn.closed}",
        )

    def wrong_shapes_registered(self):
        conn = self._conn()
        if not conn.register("h_shape"):
            conn.close()
            return False, "не удалось зарегистрироваться"
        count = self.cfg["wrong_shapes"] - self.cfg["wrong_shapes"] // 2
        codes, sent = self._shapes(conn, WRONG_AFTER_REGISTRATION, count)
        conn.close()
        bad = sorted(
            {
                (WRONG_AFTER_REGISTRATION[k % len(WRONG_AFTER_REGISTRATION)][:60], c)
                for k, c in enumerate(codes)
                if c != 400
            }
        )
        ok = sent == len(codes) and not bad and not conn.closed
        return (
            ok,
            f"отправлено {sent}, ответов {len(codes)}, не 400: {bad[:3]}, "
            f"закрыто: {conn.closed}",
        )

    def escape_names(self):
        codes = []
        for name in ESCAPE_NAMES:
            conn = self._conn()
            conn.name = name
            conn.send(presence_line(name))
            codes += conn.responses(1)
            conn.close()
        ok = len(codes) == len(ESCAPE_NAMES) and set(codes) <= {202, 400}
        return ok, f"ответы на имена с escape: {codes}"

    def escape_texts(self):
        conn = self._conn()
        if not conn.register("h_escape"):
            conn.close()
            return False, "не удалось зарегистрироваться"
        total = self.cfg["escape_msgs"]
        for number in range(total):
            target = "#general" if number % 2 else self.victim
            conn.send(
                _json_line(
                    {
                        "action": "msg",
                        "time": round(time.time(), 3),
                        "to": target,
                        "message": ESCAPE_TEXT.format(n=number),
                    }
                )
            )
        codes = conn.responses(total)
        conn.close()
        return codes == [
            200
        ] * total, f"отправлено {total}, ответов 200: {codes.count(200)}"

    def resets(self):
        registered = 0
        count = self.cfg["resets"]
        for number in range(count):
            conn = self._conn()
            if number % 2 == 0:
                registered += conn.register(f"h_rst{number}")
                conn.send(b'{"action": "msg", "to": "#general", "mess')
            else:
                conn.send(b'{"action": "presence", "user": {"account_na')
            conn.reset()
        return registered == (
            count + 1
        ) // 2, f"обрывов {count}, из них после регистрации: {registered}"


# --------------------------------------------------------------------------
# Сценарии
# --------------------------------------------------------------------------


class Progress:
    """Строки хода работы в stderr: «[  12.3 с] …»."""

    def __init__(self, quiet: bool = False) -> None:
        self.start = time.monotonic()
        self.quiet = quiet

    def say(self, text: str) -> None:
        if text and not self.quiet:
            print(
                f"[{time.monotonic() - self.start:6.1f} с] {text}",
                file=sys.stderr,
                flush=True,
            )


class Context:
    """Общее для всех сценариев прогона: размер, куда писать логи, бюджет времени."""

    def __init__(
        self, scale: str, servers: list[str], log_dir: Path, progress: Progress
    ) -> None:
        self.scale_name = scale
        self.scale = SCALES[scale]
        self.servers = servers
        self.log_dir = log_dir
        self.progress = progress
        self.deadline = time.monotonic() + self.scale["budget"]
        self.results: dict[int, dict] = {}
        self._stall_plan: dict | None = None

    def stall_plan(self) -> dict:
        """Сценарий 4: сколько байт ядро держит в буферах сокета того, кто не читает.

        На loopback — мегабайты (см. net.ipv4.tcp_wmem): пока они не полны, не
        застрянет ни наивный ретранслятор, ни очередь нашего сервера. Меряем это
        число здесь же на своей паре сокетов: до раунда три четверти его шлём
        медленному разом, остальное — шагами (см. fill_stalled).
        """
        if self._stall_plan is None:
            cfg, stall = self.scale["burst"], self.scale["stalled"]
            fill_line = len(delivered_line("stalled", fill_text(stall["text"])))
            self._stall_plan = {
                "kernel_bytes": kernel_buffer_capacity(stall["rcvbuf"], fill_line),
                "backlog_bytes": stall["backlog"],
                "round_bytes": cfg["clients"] * cfg["messages"] * len(delivered_line()),
            }
        return self._stall_plan

    def start_server(self, number: int, kind: str, args: list[str]) -> ServerProcess:
        args = [*self.scale["server_args"], *args]
        return ServerProcess(kind, args, self.log_dir / f"scenario{number}-{kind}.log")

    def bound(self, seconds: float) -> float:
        """Дедлайн шага: не позже общего бюджета прогона."""
        return min(time.monotonic() + seconds, self.deadline)


def measured(
    server: ServerProcess,
    load: Load,
    ledger: Ledger,
    gave_up_ns: int,
    cpu_before: tuple[float, float],
    unsent: int,
) -> dict:
    row = ledger.summary(gave_up_ns)
    server.sample()
    row.update(
        {
            "unsent": unsent,
            "peak_rss_mb": round(server.peak_rss_kb / 1024, 1),
            "peak_threads": server.peak_threads,
            "server_cpu_s": round(proc_cpu_seconds(server.pid) - cpu_before[0], 2),
            "loadgen_cpu_s": round(time.process_time() - cpu_before[1], 2),
            "escapes_leaked": sum(c.leaks for c in load.clients),
            "generator_late_ms": round(load.lateness * 1000, 1),
        }
    )
    return row


def cpu_now(server: ServerProcess) -> tuple[float, float]:
    return proc_cpu_seconds(server.pid), time.process_time()


def shut_down(server: ServerProcess, load: Load) -> str:
    """Останавливает сервер раньше клиентов (не мерим чужие прощания); возвращает
    лог."""
    log = server.stop()
    load.close_all()
    return log


def finish(server: ServerProcess, load: Load, row: dict) -> dict:
    """Конец сценария: shut_down и то, что из лога и команды попадает в отчёт."""
    log = shut_down(server, load)
    row["tracebacks"] = log.count("Traceback")
    row["command"] = " ".join(
        ["python"] + [shlex.quote(shown_path(a)) for a in server.command[1:]]
    )
    row["log"] = (
        str(server.log_path.relative_to(ROOT))
        if server.log_path.is_relative_to(ROOT)
        else str(server.log_path)
    )
    return row


def open_chatters(ctx: Context, load: Load, count: int) -> list[Client]:
    """Подключает и регистрирует клиентов пачками (таймаут рукопожатия не успеет
    истечь)."""
    chatters: list[Client] = []
    deadline = ctx.bound(ctx.scale["setup"])
    load.status = lambda: (
        f"{SERVERS[load.server.kind]}: зарегистрировано {len(chatters)}/{count}"
    )
    while len(chatters) < count:
        batch = [load.connect() for _ in range(min(50, count - len(chatters)))]
        load.register(batch, deadline)
        chatters += batch
    load.status = lambda: (
        f"{SERVERS[load.server.kind]}: жду, пока разойдутся оповещения о входе"
    )
    load.settle(ctx.scale["settle"], deadline)
    return chatters


def scenario_burst(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 1: все шлют сразу, несколько раундов подряд на одном сервере.

    Первый раунд — разгон, его не считаем: пока ядро не дорастило буферы
    сокетов, а аллокаторы — свои запасы, пачки заметно медленнее.
    """
    cfg = ctx.scale["burst"]
    server = ctx.start_server(number, kind, [])
    load = Load(server, ctx.progress)
    try:
        chatters = open_chatters(ctx, load, cfg["clients"])
        burst_phase(ctx, load, server, chatters, f"{number}. {SERVERS[kind]}, разгон")
        rounds = [
            burst_phase(
                ctx,
                load,
                server,
                chatters,
                f"{number}. {SERVERS[kind]}, раунд {k + 1}/{cfg['rounds']}",
            )
            for k in range(cfg["rounds"])
        ]
        return finish(server, load, merge_rounds(rounds))
    except BaseException:
        shut_down(server, load)
        raise


def scenario_stalled(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 4: раунды сценария 1 с молчуном — через один с раундами без него.

    Каждый раунд с молчуном — новый молчун: он входит в чат, перестаёт читать,
    и до замера ему шлют личные сообщения, пока буферы ядра его сокета не полны.
    Раунд адресует ему больше, чем граница очереди сервера: посреди раунда
    сервер должен его отключить, а остальные — не заметить. С чем сравнивать —
    раунды сценария 1 на этом же сервере: скорость пачек растёт от раунда к
    раунду (ядро растит буферы сокетов), поэтому раунды идут через один, а кто
    первый в паре — по очереди.
    """
    cfg, plan = ctx.scale["burst"], ctx.stall_plan()
    server = ctx.start_server(
        number, kind, ["--max-backlog", str(plan["backlog_bytes"])]
    )
    load = Load(server, ctx.progress)
    try:
        chatters = open_chatters(ctx, load, cfg["clients"])
        burst_phase(ctx, load, server, chatters, f"{number}. {SERVERS[kind]}, разгон")
        rss_before = server.rss_mb()  # рост RSS — от покоя до пика за все раунды
        rounds, plain, present, dropped, kernel = [], [], 0, 0, 0
        total = ctx.scale["stalled"]["rounds"]
        for k in range(total):
            label = f"{number}. {SERVERS[kind]}, раунд {k + 1}/{total}"
            if k % 2 == 0:
                plain.append(
                    burst_phase(ctx, load, server, chatters, label + ", без молчуна")
                )
            slow = load.connect(
                role="stalled",
                name=f"stalled{k}",
                rcvbuf=ctx.scale["stalled"]["rcvbuf"],
            )
            load.register([slow], ctx.bound(ctx.scale["setup"]))
            load.stop_reading(slow)
            kernel = max(
                kernel, fill_stalled(ctx, load, server, chatters[0], slow, label)
            )
            drop_line = f"{slow.name} отключён: не читает"
            present += drop_line not in server.log_text()
            rounds.append(burst_phase(ctx, load, server, chatters, label))
            dropped += stalled_was_dropped(load, slow, ctx)
            if rounds[-1][0]["lost"] or rounds[-1][0]["unsent"]:
                break  # сервер застрял (наивный): следующие раунды застрянут так же
            if k % 2 == 1:
                plain.append(
                    burst_phase(ctx, load, server, chatters, label + ", без молчуна")
                )
        row = merge_rounds(rounds)
        without = merge_rounds(plain)
        row["plain_deliveries_per_s"] = without["deliveries_per_s"]
        row["plain_lost"] = without["lost"] + without["corrupted"]
        row["plain_rounds"] = without["rounds"]
        row["rss_growth_mb"] = round(server.peak_rss_kb / 1024 - rss_before, 1)
        row["stalled_total"] = len(rounds)
        row["stalled_kernel_mb"] = round(kernel / 1024 / 1024, 2)
        row["stalled_present"] = present if server.answers else None
        row["stalled_disconnected"] = dropped
        return finish(server, load, row)
    except BaseException:
        shut_down(server, load)
        raise


def fill_stalled(
    ctx: Context,
    load: Load,
    server: ServerProcess,
    sender: Client,
    slow: Client,
    label: str,
) -> int:
    """Личные сообщения медленному, пока ядро берёт их в буфер его сокета.

    Сколько байт ждут в буфере отправки серверного сокета, видно в /proc/net/tcp
    (tx_queue). Сначала шлём три четверти того, что ядро взяло на пробной паре
    сокетов, потом шагами по cfg["step"]: шаг не прибавил байт в буфере —
    ядро полно, и в очереди самого сервера осталось не больше двух шагов.
    Возвращает, сколько байт держит ядро.
    """
    stall = ctx.scale["stalled"]
    line = (
        f'{{"action": "msg", "to": "{slow.name}", '
        f'"message": "{fill_text(stall["text"])}"}}\n'
    ).encode()
    ports = (server.address[1], slow.sock.getsockname()[1])
    deadline = ctx.bound(ctx.scale["setup"])
    load.status = lambda: f"{label}: заполняю буферы медленного"
    chunk = math.ceil(0.75 * ctx.stall_plan()["kernel_bytes"] / len(line))
    queued = -1
    while time.monotonic() < deadline:
        load.send(sender, line * chunk)
        before, queued = queued, steady_send_queue(load, ports, deadline)
        if queued <= before:
            break
        chunk = max(1, stall["step"] // len(line))
    return queued


def steady_send_queue(load: Load, ports: tuple[int, int], deadline: float) -> int:
    """Ждёт, пока буфер отправки сокета сервера перестанет меняться; его размер в
    байтах."""
    sizes = [-1]
    while time.monotonic() < deadline:
        load.poll(0.02)
        sizes.append(kernel_send_queue(*ports))
        if sizes[-1] == sizes[-2] == sizes[-3]:
            break
    return sizes[-1]


def wait_until_idle(load: Load, server: ServerProcess, deadline: float) -> None:
    """Ждёт, пока процессорное время сервера за IDLE_WINDOW почти не растёт.

    Иначе раунд мог начаться, пока сервер ещё разбирает присланное до него
    (сотни килобайт личных сообщений молчуну), и раунд с молчуном выходил бы
    медленнее на эту чужую работу, а не на самого молчуна.
    """
    before = proc_cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        window_end = time.monotonic() + IDLE_WINDOW
        while (left := window_end - time.monotonic()) > 0:
            load.poll(left)
        now = proc_cpu_seconds(server.pid)
        if now - before <= IDLE_WINDOW / 10:
            return
        before = now


def kernel_send_queue(local_port: int, remote_port: int) -> int:
    """tx_queue сокета 127.0.0.1:local_port → :remote_port из /proc/net/tcp (0 — нет
    такого)."""
    local, remote = f":{local_port:04X}", f":{remote_port:04X}"
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for row in table:
            fields = row.split()
            if fields[1].endswith(local) and fields[2].endswith(remote):
                return int(fields[4].split(":")[0], 16)
    return 0


def phase(
    ctx: Context,
    load: Load,
    server: ServerProcess,
    chatters: list[Client],
    total: int,
    label: str,
    send,
) -> tuple[dict, array.array]:
    """Одна замеренная фаза: send() шлёт до `total` сообщений и возвращает
    неотправленные; потом ждём доставок. Возвращает строку отчёта и задержки
    доставок."""
    ledger = load.start_phase(chatters, total)
    load.status = lambda: (
        f"{label}: отправлено {len(ledger.stamps)}/{total}, "
        f"доставлено {ledger.delivered}/{ledger.expected}"
    )
    before = cpu_now(server)
    unsent = send()
    gave_up = load.drain(ctx.scale["quiet"], ctx.bound(ctx.scale["phase"]))
    row = measured(server, load, ledger, gave_up, before, unsent)
    load.end_phase()
    return row, ledger.latencies


def burst_phase(
    ctx: Context, load: Load, server: ServerProcess, chatters: list[Client], label: str
) -> tuple[dict, array.array]:
    """Один раунд «все шлют сразу» по cfg["messages"] сообщений — с затихшего
    сервера."""
    each = ctx.scale["burst"]["messages"]
    wait_until_idle(load, server, ctx.bound(ctx.scale["setup"]))
    return phase(
        ctx,
        load,
        server,
        chatters,
        len(chatters) * each,
        label,
        lambda: load.burst(
            chatters, each, ctx.scale["quiet"], ctx.bound(ctx.scale["phase"])
        ),
    )


def paced_phase(
    ctx: Context,
    load: Load,
    server: ServerProcess,
    chatters: list[Client],
    cfg: dict,
    seconds: float,
    label: str,
) -> tuple[dict, array.array]:
    """Ровный темп cfg["rate"] сообщений в секунду на всех, `seconds` секунд."""
    return phase(
        ctx,
        load,
        server,
        chatters,
        round(cfg["rate"] * seconds),
        label,
        lambda: load.paced(
            chatters, cfg["rate"], seconds, ctx.bound(seconds + ctx.scale["phase"])
        ),
    )


def merge_rounds(rounds: list[tuple[dict, array.array]]) -> dict:
    """Раунды одного сервера → одна строка: суммы, доставки/с за всё время раундов,
    перцентили по всем доставкам вместе; по раундам — для разброса."""
    rows = [row for row, _ in rounds]
    merged = dict(rows[-1])  # пики RSS и потоков, утечки — накопленные, берём последние
    for key in (
        "sent",
        "expected",
        "delivered",
        "lost",
        "corrupted",
        "unsent",
        "server_cpu_s",
        "loadgen_cpu_s",
    ):
        merged[key] = round(sum(row[key] for row in rows), 2)
    seconds = sum(row["seconds"] for row in rows)
    merged["seconds"] = round(seconds, 3)
    merged["deliveries_per_s"] = round(merged["delivered"] / seconds) if seconds else 0
    merged["generator_late_ms"] = max(row["generator_late_ms"] for row in rows)
    merged.update(percentiles(itertools.chain.from_iterable(lat for _, lat in rounds)))
    merged["rounds"] = [
        {"deliveries_per_s": row["deliveries_per_s"], "p99_ms": row["p99_ms"]}
        for row in rows
    ]
    return merged


def delivered_line(to: str = "#general", text: str | None = None) -> bytes:
    """Строка сообщения в том виде, в каком её получает клиент нашего сервера."""
    stamp = time.time_ns()
    text = text or f"{MARK}10000|10|{stamp}|{PADS[0]}"
    return _json_line(
        {"action": "msg", "time": stamp / 1e9, "from": "c10", "to": to, "message": text}
    )


def fill_text(chars: int) -> str:
    """Текст личного сообщения, которым заполняем буферы медленного (не строка чата)."""
    return ("Заполняю буферы. " * chars)[:chars]


def kernel_buffer_capacity(rcvbuf: int, line_bytes: int) -> int:
    """Сколько байт ядро примет в сокет, чей собеседник не читает (строками по
    line_bytes)."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        with socket.socket() as reader:
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            reader.connect(listener.getsockname())
            writer, _ = listener.accept()
            with writer:
                writer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                writer.setblocking(False)
                chunk, total = b"x" * line_bytes, 0
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    try:
                        total += writer.send(chunk)
                    except BlockingIOError:
                        # Ядро могло ещё не дорастить буфер — проверим ещё раз
                        time.sleep(0.05)
                        try:
                            total += writer.send(chunk)
                        except BlockingIOError:
                            break
                return total


def stalled_was_dropped(load: Load, slow: Client, ctx: Context) -> bool:
    """Дочитывает медленного клиента: если сервер его отключил, за данными будет конец
    потока."""
    if slow.state == "closed":
        return True
    slow.sock.setblocking(True)
    slow.sock.settimeout(ctx.scale["quiet"] / 2)
    deadline = time.monotonic() + 3 * ctx.scale["quiet"]
    try:
        while time.monotonic() < deadline:
            if not slow.sock.recv(RECV_SIZE):
                return True
    except TimeoutError:
        return False
    except OSError:
        return True
    return False


def scenario_latency(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 2: ровный темп на всех клиентов."""
    cfg = ctx.scale["latency"]
    server = ctx.start_server(number, kind, [])
    load = Load(server, ctx.progress)
    try:
        chatters = open_chatters(ctx, load, cfg["clients"])
        row, _ = paced_phase(
            ctx,
            load,
            server,
            chatters,
            cfg,
            cfg["seconds"],
            f"{number}. {SERVERS[kind]}",
        )
        return finish(server, load, row)
    except BaseException:
        shut_down(server, load)
        raise


def scenario_scale(ctx: Context, number: int, kinds: list[str]) -> dict[str, dict]:
    """Сценарий 3: оба сервера держат по тысяче клиентов сразу, раунды — через один.

    Хвост задержки здесь — время одного прохода по тысяче сокетов, и машина
    за полминуты успевает «поплыть» сильнее, чем отличаются серверы. Раунды
    через один (и кто первый — по очереди) ставят оба сервера в одни условия.
    """
    cfg = ctx.scale["scale"]
    # Проверка связи (probe) молчащим дольше половины --idle-timeout — не то, что меряем
    # здесь: 1000 клиентов молчат, пока идут раунды другого сервера.
    servers, loads, chatters = {}, {}, {}
    try:
        for kind in kinds:
            servers[kind] = ctx.start_server(number, kind, ["--idle-timeout", "600"])
            loads[kind] = Load(servers[kind], ctx.progress)
            ctx.progress.say(
                f"{number}. {SERVERS[kind]}: подключаю {cfg['clients']} клиентов"
            )
            chatters[kind] = open_chatters(ctx, loads[kind], cfg["clients"])
        rounds = {kind: [] for kind in kinds}
        for k in range(cfg["rounds"]):
            for kind in kinds if k % 2 == 0 else kinds[::-1]:
                rounds[kind].append(
                    paced_phase(
                        ctx,
                        loads[kind],
                        servers[kind],
                        chatters[kind],
                        cfg,
                        cfg["seconds"] / cfg["rounds"],
                        f"{number}. {SERVERS[kind]}, раунд {k + 1}/{cfg['rounds']}",
                    )
                )
        return {
            kind: finish(servers[kind], loads[kind], merge_rounds(rounds[kind]))
            for kind in kinds
        }
    except BaseException:
        for kind in servers:
            shut_down(servers[kind], loads[kind])
        raise


def scenario_flood(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 5: тот же чат до наплыва молчунов, во время и после, на одном сервере.

    «Без наплыва» — это половина фазы до и половина после (когда сервер уже
    закрыл молчунов): так медленный дрейф машины не ложится на одну сторону.
    """
    cfg = ctx.scale["flood"]
    server = ctx.start_server(
        number, kind, ["--handshake-timeout", str(cfg["handshake"])]
    )
    load = Load(server, ctx.progress)
    try:
        chatters = open_chatters(ctx, load, cfg["chatters"])

        def chat(seconds: float, title: str) -> tuple[dict, array.array]:
            return paced_phase(
                ctx,
                load,
                server,
                chatters,
                cfg,
                seconds,
                f"{number}. {SERVERS[kind]} ({title})",
            )

        calm_before, latencies_before = chat(cfg["seconds"] / 2, "до наплыва")
        ctx.progress.say(f"{number}. {SERVERS[kind]}: открываю {cfg['idle']} молчунов")
        threads = server.sample().get("Threads", 0)
        idle = [load.connect(role="idle", name=f"idle{k}") for k in range(cfg["idle"])]
        opened = time.monotonic()
        # Меряем установившийся наплыв: ждём, пока
        # сервер примет всех (поток на каждого).
        accepted_by = ctx.bound(cfg["handshake"] / 3)
        while (
            server.sample().get("Threads", 0) < threads + len(idle)
            and time.monotonic() < accepted_by
        ):
            load.poll(0.01)
        load.settle(ctx.scale["settle"], accepted_by)
        row, _ = chat(cfg["seconds"], "наплыв")
        # Молчуны: ждём, пока сервер закроет их по таймауту рукопожатия.
        wait_until = min(opened + cfg["handshake"] * 1.2 + 1.0, ctx.deadline)
        load.status = lambda: (
            f"{number}. {SERVERS[kind]}: закрыто молчунов "
            f"{sum(c.state == 'closed' for c in idle)}/{len(idle)}"
        )
        while time.monotonic() < wait_until and any(c.state != "closed" for c in idle):
            load.poll(0.05)
        # Кого перестали читать (наивный их заваливает) — дочитываем
        for client in idle:
            if client.state != "closed" and not client.reading:
                client.reading = True
                load._update_events(client)
        load.poll(0)
        closed_after = [c.closed_at - c.opened_at for c in idle if c.state == "closed"]
        calm_after, latencies_after = chat(cfg["seconds"] / 2, "после наплыва")
        calm = percentiles(latencies_before + latencies_after)
        row["baseline_p99_ms"] = calm["p99_ms"]
        row["baseline_lost"] = sum(
            r["lost"] + r["corrupted"] for r in (calm_before, calm_after)
        )
        row["p99_ratio"] = (
            round(row["p99_ms"] / calm["p99_ms"], 2)
            if row["p99_ms"] and calm["p99_ms"]
            else None
        )
        row["idle_total"] = len(idle)
        row["idle_closed"] = len(closed_after)
        row["idle_closed_after_s"] = (
            [round(min(closed_after), 2), round(max(closed_after), 2)]
            if closed_after
            else None
        )
        row["handshake_timeout_s"] = cfg["handshake"]
        return finish(server, load, row)
    except BaseException:
        shut_down(server, load)
        raise


def scenario_hostile(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 6: чат идёт, а другие соединения шлют мусор и обрываются."""
    cfg = ctx.scale["hostile"]
    server = ctx.start_server(number, kind, [])
    load = Load(server, ctx.progress)
    try:
        chatters = open_chatters(ctx, load, cfg["chatters"])
        total = round(cfg["rate"] * cfg["seconds"])
        ledger = load.start_phase(chatters, total)
        probes = HostileProbes(
            server.address,
            cfg,
            time.monotonic() + cfg["seconds"] + ctx.scale["probe_grace"],
            chatters[0].name,
        )
        load.status = lambda: (
            f"{number}. {SERVERS[kind]}: отправлено {len(ledger.stamps)}/{total}, "
            f"доставлено {ledger.delivered}/{ledger.expected}, "
            f"проверок готово {len(probes.results)}"
        )
        before = cpu_now(server)
        probes.start()
        unsent = load.paced(
            chatters,
            cfg["rate"],
            cfg["seconds"],
            ctx.bound(cfg["seconds"] + ctx.scale["phase"]),
        )
        while probes.running and time.monotonic() < probes.deadline + 2:
            load.poll(0.02)
        probes.join()
        gave_up = load.drain(ctx.scale["quiet"], ctx.bound(ctx.scale["phase"]))
        row = measured(server, load, ledger, gave_up, before, unsent)
        load.end_phase()
        alive = server.alive and still_answers(server, ctx.scale["alive_timeout"])
        checks = sorted(probes.results, key=lambda r: r["check"])
        checks.append(
            {
                "check": "server_alive",
                "ok": alive,
                "detail": "после атаки принимает новых" if alive else "не отвечает",
            }
        )
        row = finish(server, load, row)
        checks.append(
            {
                "check": "no_traceback",
                "ok": row["tracebacks"] == 0,
                "detail": f"трассировок в логе: {row['tracebacks']}",
            }
        )
        row["checks"] = checks
        row["checks_passed"] = sum(c["ok"] for c in checks)
        row["checks_total"] = len(checks)
        return row
    except BaseException:
        shut_down(server, load)
        raise


def still_answers(server: ServerProcess, timeout: float) -> bool:
    """Сервер после атаки жив: новое соединение регистрируется."""
    try:
        conn = LineConn(server.address, time.monotonic() + timeout)
    except OSError:
        return False
    ok = conn.register("h_alive")
    conn.close()
    return ok


# Номер → название и функция. Функция сценария 3 получает сразу все серверы
# (они работают одновременно), остальные — по одному серверу за раз.
SCENARIOS = {
    1: ("Пропускная способность", scenario_burst),
    2: ("Задержка", scenario_latency),
    3: ("Масштаб", scenario_scale),
    4: ("Медленный читатель", scenario_stalled),
    5: ("Наплыв молчунов", scenario_flood),
    6: ("Враждебный ввод", scenario_hostile),
}
PAIRED = {3}


def describe(ctx: Context, number: int) -> str:
    scale = ctx.scale
    if number == 1:
        cfg = scale["burst"]
        return (
            f"{cfg['clients']} клиентов × {cfg['messages']} сообщений, "
            f"как можно быстрее; раундов {cfg['rounds']}, итог — по всем вместе"
        )
    if number == 4:
        cfg, plan = scale["burst"], ctx.stall_plan()
        mb = 1024 * 1024
        return (
            f"{scale['stalled']['rounds']} пар раундов сценария 1 через один: без "
            f"молчуна и с ним — клиентом, который не "
            f"читает (в каждом раунде новый): до раунда ему "
            f"заполнены буферы ядра (на loopback около "
            f"{plan['kernel_bytes'] / mb:.1f} МБ), "
            f"за раунд ему адресовано {plan['round_bytes'] / mb:.2g} МБ при границе "
            f"очереди сервера {plan['backlog_bytes'] / mb:.2g} МБ"
        )
    if number == 2:
        cfg = scale["latency"]
        return (
            f"{cfg['clients']} клиентов, {cfg['rate']} сообщ./с на всех, "
            f"{cfg['seconds']:g} с"
        )
    if number == 3:
        cfg = scale["scale"]
        return (
            f"{cfg['clients']} клиентов, {cfg['rate']} сообщ./с на всех, "
            f"{cfg['seconds']:g} с: {cfg['rounds']} раундов, "
            "серверы работают одновременно и меряются через раунд"
        )
    if number == 5:
        cfg = scale["flood"]
        return (
            f"{cfg['chatters']} болтают ({cfg['rate']} сообщ./с), "
            f"{cfg['idle']} молчунов, таймаут рукопожатия {cfg['handshake']:g} с"
        )
    cfg = scale["hostile"]
    return (
        f"{cfg['chatters']} болтают ({cfg['rate']} сообщ./с), рядом мусор, "
        f"битый UTF-8, строка {cfg['long_size'] // 1024} КиБ, "
        f"{cfg['wrong_shapes']} запросов неверной формы, "
        f"escape-последовательности, {cfg['resets']} обрывов"
    )


# --------------------------------------------------------------------------
# Цели и отчёт
# --------------------------------------------------------------------------


def evaluate_targets(results: dict[int, dict]) -> list[dict]:
    """Цели задачи для нашего сервера: что измерено и выполнено ли."""
    targets = []

    def add(number: int, text: str, value: str, met: bool | None) -> None:
        targets.append({"scenario": number, "target": text, "value": value, "met": met})

    def rows(number: int):
        runs = results.get(number, {}).get("runs", {})
        return runs.get("task4"), runs.get("naive")

    ours, naive = rows(1)
    if ours:
        bad = ours["lost"] + ours["corrupted"]
        add(
            1,
            "0 потерянных и искажённых",
            f"{ours['lost']} / {ours['corrupted']}",
            bad == 0,
        )
        if naive:
            ratio = ours["deliveries_per_s"] / max(1, naive["deliveries_per_s"])
            add(1, "доставок/с ≥ 1,0× наивного", f"{ratio:.2f}×", ratio >= 1.0)
    ours, naive = rows(2)
    if ours:
        p99 = ours["p99_ms"]
        add(
            2,
            "p99 ≤ 5 мс",
            f"{p99} мс",
            p99 is not None and p99 <= 5 and ours["lost"] == 0,
        )
    ours, naive = rows(3)
    if ours:
        add(
            3,
            "каждое сообщение дошло до всех остальных",
            f"потеряно {ours['lost']}, искажено {ours['corrupted']}",
            ours["lost"] + ours["corrupted"] == 0,
        )
        if naive:
            fine = (
                ours["p99_ms"] is not None
                and naive["p99_ms"] is not None
                and ours["p99_ms"] <= naive["p99_ms"]
            )
            pairs = list(zip(ours["rounds"], naive["rounds"], strict=False))
            won = sum(
                1
                for a, b in pairs
                if a["p99_ms"] is not None
                and b["p99_ms"] is not None
                and a["p99_ms"] <= b["p99_ms"]
            )
            add(
                3,
                "p99 не хуже наивного",
                f"{ours['p99_ms']} мс против {naive['p99_ms']} мс "
                f"(по всем раундам; не хуже в {won} раундах из {len(pairs)})",
                fine,
            )
        add(
            3,
            "пик RSS ≤ 256 МБ",
            f"{ours['peak_rss_mb']} МБ",
            ours["peak_rss_mb"] <= 256,
        )
    ours, _ = rows(4)
    if ours:
        base = ours["plain_deliveries_per_s"]
        ratio = ours["deliveries_per_s"] / max(1, base)
        pairs = [
            a["deliveries_per_s"] / max(1, b["deliveries_per_s"])
            for a, b in zip(ours["rounds"], ours["plain_rounds"], strict=False)
        ]
        add(
            4,
            "доставок/с остальным ≥ 0,9× сценария 1",
            f"{ratio:.2f}× ({ours['deliveries_per_s']} против {base} "
            "в раундах сценария 1 "
            f"на том же сервере через один; медиана по парам раундов "
            f"{statistics.median(pairs):.2f}×)",
            ratio >= 0.9 and ours["lost"] + ours["corrupted"] + ours["plain_lost"] == 0,
        )
        total = ours["stalled_total"]
        add(
            4,
            "медленный отключён, пока идёт раунд",
            f"в {ours['stalled_disconnected']} раундах из {total} "
            "(к началу раунда был в чате "
            f"в {ours['stalled_present']})",
            ours["stalled_disconnected"] == ours["stalled_present"] == total,
        )
        add(
            4,
            "рост RSS < 64 МБ",
            f"{ours['rss_growth_mb']} МБ",
            ours["rss_growth_mb"] < 64,
        )
    ours, _ = rows(5)
    if ours:
        ratio = ours["p99_ratio"]
        add(
            5,
            "p99 с наплывом ≤ 1,2× без него",
            f"{ours['p99_ms']} мс против {ours['baseline_p99_ms']} мс ({ratio}×)",
            ratio is not None
            and ratio <= 1.2
            and ours["lost"] + ours["corrupted"] + ours["baseline_lost"] == 0,
        )
        window = ours["idle_closed_after_s"]
        closed_ok = (
            ours["idle_closed"] == ours["idle_total"]
            and window is not None
            and window[0] >= 0.95 * ours["handshake_timeout_s"]
        )
        add(
            5,
            "каждый молчун закрыт по таймауту рукопожатия",
            f"{ours['idle_closed']}/{ours['idle_total']}"
            + (f" через {window[0]}–{window[1]} с" if window else ""),
            closed_ok,
        )
    ours, _ = rows(6)
    if ours:
        add(
            6,
            "верные ответы, без трассировок, сервер жив",
            f"проверок {ours['checks_passed']}/{ours['checks_total']}",
            ours["checks_passed"] == ours["checks_total"],
        )
        add(
            6,
            "escape-последовательности не дошли до других",
            f"{ours['escapes_leaked']}",
            ours["escapes_leaked"] == 0,
        )
        add(
            6,
            "болтающие ничего не потеряли",
            f"потеряно {ours['lost']}, искажено {ours['corrupted']}",
            ours["lost"] + ours["corrupted"] == 0,
        )
    return targets


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def row_note(number: int, row: dict) -> str:
    """Особые числа сценария — в колонку «Прочее»."""
    notes = []
    if row.get("unsent"):
        notes.append(f"не отправлено {row['unsent']}")
    if number == 4:
        notes.append(
            f"медленных отключено {row['stalled_disconnected']}/{row['stalled_total']}"
        )
        notes.append(
            f"без молчуна {row['plain_deliveries_per_s']:,} доставок/с".replace(
                ",", " "
            )
        )
        notes.append(f"рост RSS {fmt(row['rss_growth_mb'])} МБ")
    if len(row.get("rounds", ())) > 1:
        if number == 3:
            notes.append(
                "p99 по раундам "
                + "/".join(fmt(r["p99_ms"], 1) for r in row["rounds"])
                + " мс"
            )
        else:
            notes.append(
                "тыс. доставок/с по раундам "
                + "/".join(f"{r['deliveries_per_s'] / 1000:.0f}" for r in row["rounds"])
            )
    if number == 5:
        notes.append(f"p99 без наплыва {fmt(row['baseline_p99_ms'], 2)} мс")
        closed = row["idle_closed_after_s"]
        notes.append(
            f"молчунов закрыто {row['idle_closed']}/{row['idle_total']}"
            + (f" за {closed[0]}–{closed[1]} с" if closed else "")
        )
    if number == 6:
        notes.append(f"проверок {row['checks_passed']}/{row['checks_total']}")
        notes.append(f"escape дошло {row['escapes_leaked']}")
    if row.get("tracebacks"):
        notes.append(f"трассировок {row['tracebacks']}")
    if row.get("generator_late_ms", 0) >= 5:
        notes.append(f"генератор опаздывал до {fmt(row['generator_late_ms'])} мс")
    notes.append(
        f"CPU сервер/нагрузка {fmt(row['server_cpu_s'])}/{fmt(row['loadgen_cpu_s'])} с"
    )
    return "; ".join(notes)


TABLE_HEADER = [
    "Сценарий",
    "Сервер",
    "Доставок/с",
    "p50, мс",
    "p99, мс",
    "max, мс",
    "Потеряно",
    "Искажено",
    "Пик RSS, МБ",
    "Потоков",
    "Прочее",
]


def table_rows(report: dict) -> list[list[str]]:
    rows = []
    for scenario in report["scenarios"]:
        for kind, row in scenario["runs"].items():
            rows.append(
                [
                    f"{scenario['number']}. {scenario['name']}",
                    SERVERS[kind],
                    f"{row['deliveries_per_s']:,}".replace(",", " "),
                    fmt(row["p50_ms"], 2),
                    fmt(row["p99_ms"], 2),
                    fmt(row["max_ms"], 1),
                    str(row["lost"]),
                    str(row["corrupted"]),
                    fmt(row["peak_rss_mb"]),
                    str(row["peak_threads"]),
                    row_note(scenario["number"], row),
                ]
            )
    return rows


def text_table(report: dict) -> str:
    rows = [TABLE_HEADER[:-1]] + [r[:-1] for r in table_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for scenario in report["scenarios"]:
        for kind, row in scenario["runs"].items():
            note = row_note(scenario["number"], row)
            lines.append(f"  {scenario['number']}. {SERVERS[kind]}: {note}")
    lines.append("")
    lines.append("Цели (наш сервер):")
    for target in report["targets"]:
        mark = {True: "да ", False: "НЕТ", None: " ? "}[target["met"]]
        lines.append(
            f"  [{mark}] {target['scenario']}. {target['target']}: {target['value']}"
        )
    return "\n".join(lines)


def markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def mermaid_chart(title: str, axis: str, labels: list[str], values: list[float]) -> str:
    top = max(values + [1.0]) * 1.1
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'    title "{title}"',
            "    x-axis [" + ", ".join(f'"{label}"' for label in labels) + "]",
            f'    y-axis "{axis}" 0 --> {top:.4g}',
            "    bar [" + ", ".join(f"{value:.4g}" for value in values) + "]",
            "```",
        ]
    )


def markdown_report(report: dict) -> str:
    machine = report["machine"]
    lines = [
        f"Замер {machine['date']}: {machine['cpu']}, ядер {machine['cores']}, "
        f"Python {machine['python']}, {machine['os']}. Команда: `{report['command']}` "
        f"(размер `{report['scale']}`, прогон {report['duration_s']:.0f} с). "
        "Оба сервера — подпроцессы того же интерпретатора на той же машине, "
        "что и генератор нагрузки; в каждом сценарии сначала один сервер, "
        "потом другой, а в сценарии 3 оба работают одновременно и меряются "
        "через раунд. Наивный — «обычное лабораторное решение»: поток на клиента, "
        "`recv(1024)` и `sendall` каждому другому в цикле, без разбиения на строки, "
        "с алгоритмом Нейгла. Наш запущен с `-q`: без строки лога на каждое "
        "сообщение (наивный лог не пишет вовсе).",
        "",
        "Сценарии:",
        "",
    ]
    lines += [
        f"{scenario['number']}. {scenario['name']}: {scenario['description']}."
        for scenario in report["scenarios"]
    ]
    lines += ["", "Команды серверов (номера — сценарии):", ""]
    for kind in SERVERS:
        by_command: dict[str, list[str]] = {}
        for scenario in report["scenarios"]:
            if kind in scenario["runs"]:
                by_command.setdefault(scenario["runs"][kind]["command"], []).append(
                    str(scenario["number"])
                )
        if by_command:
            lines.append(
                f"- {SERVERS[kind]}: "
                + "; ".join(
                    f"{', '.join(numbers)} — `{command}`"
                    for command, numbers in by_command.items()
                )
            )
    lines += [
        "",
        "| " + " | ".join(TABLE_HEADER) + " |",
        "|" + "|".join("---" for _ in TABLE_HEADER) + "|",
    ]
    for row in table_rows(report):
        lines.append("| " + " | ".join(markdown_cell(cell) for cell in row) + " |")
    lines += ["", "| Сценарий | Цель | Измерено | Выполнена |", "|---|---|---|---|"]
    for target in report["targets"]:
        mark = {True: "да", False: "**нет**", None: "не измерено"}[target["met"]]
        lines.append(
            f"| {target['scenario']} | {markdown_cell(target['target'])} | "
            f"{markdown_cell(target['value'])} | {mark} |"
        )
    labels, p99, rate = [], [], []
    for scenario in report["scenarios"]:
        for kind, row in scenario["runs"].items():
            labels.append(
                f"{scenario['number']} {'наш' if kind == 'task4' else 'наивн.'}"
            )
            p99.append(row["p99_ms"] or 0.0)
            rate.append(row["deliveries_per_s"] / 1000)
    if labels:
        lines += [
            "",
            mermaid_chart(
                "p99 задержки доставки, мс (меньше — лучше)", "мс", labels, p99
            ),
            "",
            mermaid_chart(
                "Доставок в секунду, тысяч (больше — лучше)", "тыс./с", labels, rate
            ),
        ]
    if report["notes"]:
        lines += [""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def machine_description() -> dict:
    cpu = platform.processor() or "неизвестный процессор"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def cpu_accounting() -> dict | None:
    """Счётчики процессора: вся машина (/proc/stat) и мы с серверами-подпроцессами."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    own = resource.getrusage(resource.RUSAGE_SELF)
    # Серверы, уже остановленные
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "busy": (user + nice + system + irq + softirq) / tick,
        "steal": steal / tick,
        "ours": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
    }


def foreign_cpu(before: dict | None, after: dict | None, seconds: float) -> dict | None:
    """Сколько процессора за прогон съели чужие процессы: шум, который стоит назвать."""
    if not before or not after:
        return None
    foreign = max(
        0.0, (after["busy"] - before["busy"]) - (after["ours"] - before["ours"])
    )
    capacity = seconds * (os.cpu_count() or 1)
    return {
        "foreign_cpu_s": round(foreign, 1),
        "capacity_s": round(capacity, 1),
        "foreign_share": round(foreign / capacity, 3) if capacity else 0.0,
        "steal_s": round(after["steal"] - before["steal"], 1),
    }


def raise_file_limit() -> int:
    """1000+ сокетов: мягкий предел на файлы поднимаем до жёсткого (его наследуют
    серверы)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def needed_files(ctx: Context, numbers: list[int]) -> int:
    scale = ctx.scale
    need = 0
    if 3 in numbers:  # серверы сценария 3 держат клиентов одновременно
        need = max(need, scale["scale"]["clients"] * len(ctx.servers))
    if 5 in numbers:
        need = max(need, scale["flood"]["chatters"] + scale["flood"]["idle"])
    return need + 100


def run_bench(args) -> dict:
    global TASK4_SERVER_PATH
    progress = Progress(quiet=args.quiet)
    TASK4_SERVER_PATH = Path(args.server_path).resolve()
    if "task4" in args.servers and not TASK4_SERVER_PATH.exists():
        raise BenchError(f"нет сервера задания 4: {shown_path(str(TASK4_SERVER_PATH))}")
    out = Path(args.out)
    ctx = Context(args.scale, args.servers, out / "logs", progress)
    limit = raise_file_limit()
    if limit < needed_files(ctx, args.scenarios):
        raise BenchError(
            f"нужно не меньше {needed_files(ctx, args.scenarios)} открытых файлов, "
            f"а можно только {limit} (ulimit -n)"
        )
    machine = machine_description()
    started = time.monotonic()
    cpu_started = cpu_accounting()
    scenarios = []
    notes = []
    gc_was_enabled = gc.isenabled()
    for number in args.scenarios:
        name, run = SCENARIOS[number]
        entry = {
            "number": number,
            "name": name,
            "description": describe(ctx, number),
            "runs": {},
        }
        # Сценарий 3 получает все серверы разом, остальные — по одному.
        groups = (
            [args.servers] if number in PAIRED else [[kind] for kind in args.servers]
        )
        for kinds in groups:
            who = ", ".join(SERVERS[kind] for kind in kinds)
            if time.monotonic() > ctx.deadline - 5:
                notes.append(
                    f"Сценарий {number} ({who}) пропущен: кончился бюджет времени."
                )
                progress.say(notes[-1])
                continue
            progress.say(f"{number}. {name} — {who}: {entry['description']}")
            gc.collect()
            # Паузы сборщика мусора генератора не должны попасть в задержки
            gc.disable()
            try:
                rows = (
                    run(ctx, number, kinds)
                    if number in PAIRED
                    else {kinds[0]: run(ctx, number, kinds[0])}
                )
            finally:
                if gc_was_enabled:
                    gc.enable()
            for kind, row in rows.items():
                entry["runs"][kind] = row
                progress.say(
                    f"{number}. {SERVERS[kind]}: доставок/с {row['deliveries_per_s']}, "
                    f"p99 {fmt(row['p99_ms'], 2)} мс, потеряно {row['lost']}, "
                    f"искажено {row['corrupted']}, RSS {row['peak_rss_mb']} МБ, "
                    f"потоков {row['peak_threads']}"
                )
        scenarios.append(entry)
        ctx.results[number] = entry
    noise = foreign_cpu(cpu_started, cpu_accounting(), time.monotonic() - started)
    notes.append(
        "Задержка = время прихода в ядро получателя (SO_TIMESTAMPNS) − время отправки, "
        "вшитое в текст; «потеряно» — не дошло целым за "
        f"{ctx.scale['quiet']:g} с тишины после последней отправки; "
        "«искажено» — строки, "
        "которые не разбираются или не совпадают с отправленным (и дубли)."
    )
    notes.append(
        "Доставок/с — целые доставки от первой отправки до последней доставки; если "
        "что-то потеряно — до момента, когда стенд перестал ждать."
    )
    notes.append(
        "В сценариях 1 и 4 отправители не ждут доставки (нагрузка «сколько влезет»), "
        "поэтому задержка там — время в очередях перегруженного сервера; задержку "
        "самого пути сообщения показывают сценарии 2, 3 и 5."
    )
    late = [
        (scenario["number"], kind, row["generator_late_ms"])
        for scenario in scenarios
        for kind, row in scenario["runs"].items()
        if row.get("generator_late_ms", 0) >= 20
    ]
    if late:
        notes.append(
            "Генератор нагрузки сам опаздывал с отправкой по расписанию ("
            + ", ".join(f"сценарий {n}, {SERVERS[k]}: {v:g} мс" for n, k, v in late)
            + "): машину в эти моменты занимало что-то ещё, хвосты задержек там шумные."
        )
    if noise and noise["foreign_share"] >= 0.05:
        notes.append(
            "Машину во время прогона занимали и чужие процессы: "
            f"{noise['foreign_cpu_s']:g} с "
            f"процессора из {noise['capacity_s']:g} ({noise['foreign_share']:.0%}"
            + (
                f", ещё {noise['steal_s']:g} с забрал гипервизор"
                if noise["steal_s"] >= 1
                else ""
            )
            + ") — хвосты задержек шумнее, чем на свободной машине."
        )
    report = {
        "machine": machine,
        "command": args.command,
        "scale": args.scale,
        "duration_s": round(time.monotonic() - started, 1),
        "foreign_load": noise,
        "scenarios": scenarios,
        "targets": evaluate_targets(ctx.results),
        "notes": notes,
    }
    return report


def write_report(report: dict, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "chat_bench.json"
    md_path = directory / "chat_bench.md"
    json_path.write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    md_path.write_text(markdown_report(report), encoding="utf-8")
    return [json_path, md_path]


def parse_scenarios(text: str) -> list[int]:
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "номера сценариев через запятую, например 1,2,6"
        ) from None
    if not numbers or any(n not in SCENARIOS for n in numbers):
        raise argparse.ArgumentTypeError(f"сценарии — числа из {sorted(SCENARIOS)}")
    return sorted(set(numbers))


def parse_servers(text: str) -> list[str]:
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    if not kinds or any(kind not in SERVERS for kind in kinds):
        raise argparse.ArgumentTypeError("серверы: task4, naive или оба через запятую")
    return kinds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Нагрузочный стенд чата задания 4: "
        "наш сервер против наивного ретранслятора."
    )
    parser.add_argument(
        "--scenarios",
        type=parse_scenarios,
        default=sorted(SCENARIOS),
        help="какие сценарии запускать, через запятую (по умолчанию все: 1,2,3,4,5,6)",
    )
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="full",
        help="full — для отчёта, tiny — крошечный прогон для тестов",
    )
    parser.add_argument(
        "--servers",
        type=parse_servers,
        default=["task4", "naive"],
        help="какие серверы мерить: task4, naive (по умолчанию оба)",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="куда писать chat_bench.json, chat_bench.md и логи серверов "
        "(по умолчанию tools/bench-out/)",
    )
    parser.add_argument(
        "--server-path",
        default=str(TASK4_SERVER),
        help="какой server.py мерить как task4 "
        "(по умолчанию laboratory_work_1/task4/server.py)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="записать отчёт в docs/lab1/bench/ для страницы задания 4",
    )
    parser.add_argument(
        "--json", action="store_true", help="напечатать результат как JSON"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="не печатать ход работы"
    )
    parser.add_argument(
        "--naive-relay",
        action="store_true",
        help="не мерить, а запустить наивный ретранслятор (его запускает сам стенд)",
    )
    parser.add_argument("--host", default=HOST, help="адрес наивного ретранслятора")
    parser.add_argument(
        "--port", type=int, default=7777, help="порт наивного ретранслятора"
    )
    return parser


def shown_path(text: str) -> str:
    """Путь внутри репозитория — относительно корня (для отчёта), остальное как есть."""
    path = Path(text)
    if path.is_absolute() and path.is_relative_to(ROOT):
        return str(path.relative_to(ROOT))
    return text


def command_line(argv: list[str]) -> str:
    script = Path(__file__).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    return " ".join(
        ["python", shlex.quote(str(shown))] + [shlex.quote(a) for a in argv]
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.naive_relay:
        return run_naive_relay(args.host, args.port)
    args.command = command_line(argv)
    try:
        report = run_bench(args)
    except BenchError as error:
        print(f"Ошибка: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Прервано.", file=sys.stderr)
        return 1
    written = write_report(report, DOCS_OUT if args.write_docs else Path(args.out))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(text_table(report))
        for path in written:
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            print(f"Записано: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
