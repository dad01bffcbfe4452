"""Вход и выход (сценарий 7): сколько раз в секунду сервер впускает и выпускает.

Один цикл — подключиться → presence → дождаться 202 → quit → дождаться, пока
сервер закроет соединение → закрыть своё. `parallel` клиентов идут одновременно,
каждый начинает новый цикл, как только кончил прошлый, `seconds` секунд подряд.
Имена у циклов разные («rq0», «rq1», …): имя прошлого цикла сервер мог ещё не
освободить, и это был бы не 409, а наша ошибка.

Всё в одном потоке: неблокирующие connect и send под `selectors`. Цикл,
который не кончился за `cycle_timeout` (сервер завис или не ответил), считается
неудачным; замер кончается не позже `seconds + cycle_timeout`.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import time

from .ledger import json_line, percentiles, presence_line

QUIT_LINE = json_line({"action": "quit"})


class Cycle:
    """Один вход-выход: сокет, имя, стадия, принятое и время начала."""

    __slots__ = ("sock", "name", "stage", "inbox", "started_ns")

    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.name = name
        self.stage = "connect"  # connect → presence → quit
        self.inbox = b""
        self.started_ns = time.perf_counter_ns()


def begin_connect(
    address: tuple[str, int], nodelay: bool = False
) -> socket.socket | int:
    """Неблокирующий connect. Сокет — подключение идёт (чем кончилось, скажут
    готовность к записи и SO_ERROR); число — код errno отказа, сокет закрыт."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    code = sock.connect_ex(address)
    if code not in (0, errno.EINPROGRESS):
        sock.close()
        return code
    return sock


def register_quit(
    address: tuple[str, int], parallel: int, seconds: float, cycle_timeout: float
) -> dict:
    """Циклы вход-выход в течение seconds; итог: сколько, в секунду, задержки."""
    selector = selectors.DefaultSelector()
    cycles: list[Cycle] = []
    durations: list[int] = []
    failures: dict[str, int] = {}
    count = 0

    def start() -> None:
        nonlocal count
        name = f"rq{count}"
        count += 1
        sock = begin_connect(address, nodelay=True)
        if isinstance(sock, int):
            failures["connect"] = failures.get("connect", 0) + 1
            return
        cycle = Cycle(sock, name)
        selector.register(sock, selectors.EVENT_WRITE, cycle)
        cycles.append(cycle)

    def say(cycle: Cycle, data: bytes) -> bool:
        try:
            cycle.sock.send(data)  # строка маленькая — влезет в пустой буфер
            return True
        except OSError:
            finish(cycle, "ошибка записи")
            return False

    def finish(cycle: Cycle, failure: str | None) -> None:
        selector.unregister(cycle.sock)
        cycle.sock.close()
        cycles.remove(cycle)
        if failure is None:
            durations.append(time.perf_counter_ns() - cycle.started_ns)
        else:
            failures[failure] = failures.get(failure, 0) + 1
        if time.monotonic() < stop_at:
            start()

    started = time.monotonic()
    stop_at = started + seconds
    last_done = started
    for _ in range(parallel):
        start()
    while cycles and time.monotonic() < stop_at + cycle_timeout:
        for key, _mask in selector.select(0.05):
            cycle = key.data
            if cycle.stage == "connect":
                if cycle.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    finish(cycle, "connect")
                    continue
                if say(cycle, presence_line(cycle.name)):
                    cycle.stage = "presence"
                    selector.modify(cycle.sock, selectors.EVENT_READ, cycle)
                continue
            try:
                data = cycle.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                if cycle.stage == "quit":
                    last_done = time.monotonic()
                    finish(cycle, None)
                else:
                    finish(cycle, "закрыто до 202")
                continue
            *lines, cycle.inbox = (cycle.inbox + data).split(b"\n")
            for line in lines:
                try:
                    code = json.loads(line).get("response")
                except (ValueError, AttributeError):
                    code = None
                if cycle.stage == "presence" and code == 202:
                    if not say(cycle, QUIT_LINE):
                        break
                    cycle.stage = "quit"
                elif cycle.stage == "presence" and code in (400, 409):
                    finish(cycle, f"ответ {code}")
                    break
        now_ns = time.perf_counter_ns()
        for cycle in [c for c in cycles if now_ns - c.started_ns > cycle_timeout * 1e9]:
            finish(cycle, "не кончился за срок")
    for cycle in list(cycles):
        selector.unregister(cycle.sock)
        cycle.sock.close()
        failures["не кончился за срок"] = failures.get("не кончился за срок", 0) + 1
    selector.close()
    elapsed = max(1e-9, last_done - started)
    return {
        "cycles": len(durations),
        "failed": sum(failures.values()),
        "failures": failures,
        "seconds": round(elapsed, 3),
        "cycles_per_s": round(len(durations) / elapsed) if durations else 0,
        **percentiles(durations),
    }
