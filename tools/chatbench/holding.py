"""Память (сценарий 8): сервер держит тысячи соединений, и мы видим, сколько это стоит.

Каждое соединение шлёт `{"action": "rooms"}` ДО presence и ждёт ответа 401
(«сначала представьтесь»): раз сервер ответил, он принял соединение, прочёл
строку и держит его. Presence не шлём: каждый вход — оповещение всем
остальным, и на тысячах клиентов это N² строк (asyncio разбирает их минутами),
а мерим мы цену соединения, а не рассылки.

Всё в одном потоке: неблокирующие connect под `selectors`; ответа ждут не
больше `in_flight` соединений сразу — очередь accept сервера не
переполняется (иначе ядро роняет SYN, и клиент ждёт повтора секунду). Кто
получил 401, выходит из селектора, но остаётся открытым, пока его не закроет
`Held.close`.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import time

from .churn import begin_connect
from .ledger import json_line

ROOMS_LINE = json_line({"action": "rooms", "time": 0})
UNAUTHORIZED = 401  # «сначала представьтесь»: соединение принято и обслуживается


class Held:
    """Открытые соединения: сокеты, ответившие 401, время каждого и неудачи."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.durations: list[int] = []  # от connect до 401, нс
        self.failures: dict[str, int] = {}
        self.seconds = 0.0  # на все соединения

    def fail(self, why: str) -> None:
        self.failures[why] = self.failures.get(why, 0) + 1

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()


class Pending:
    """Соединение, которое ещё не получило 401."""

    __slots__ = ("sock", "stage", "inbox", "started_ns")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.stage = "connect"  # connect → rooms
        self.inbox = b""
        self.started_ns = time.perf_counter_ns()


def hold_connections(
    address: tuple[str, int],
    count: int,
    in_flight: int,
    deadline: float,
    status,
    on_first=lambda: None,
) -> Held:
    """Открывает count соединений, каждое — до ответа 401; status(Held) — ход
    работы, on_first() — когда ответ получило первое. Не успевшие к deadline
    закрываются и считаются неудачными."""
    held = Held()
    selector = selectors.DefaultSelector()
    pending: set[Pending] = set()
    opened = 0
    started = time.monotonic()

    def start() -> None:
        nonlocal opened
        opened += 1
        sock = begin_connect(address)
        if isinstance(sock, int):
            held.fail(f"connect: {errno.errorcode.get(sock, sock)}")
            return
        waiting = Pending(sock)
        selector.register(sock, selectors.EVENT_WRITE, waiting)
        pending.add(waiting)

    def done(waiting: Pending, failure: str | None) -> None:
        selector.unregister(waiting.sock)
        pending.discard(waiting)
        if failure is None:
            held.sockets.append(waiting.sock)
            held.durations.append(time.perf_counter_ns() - waiting.started_ns)
            if len(held.sockets) == 1:
                on_first()
        else:
            waiting.sock.close()
            held.fail(failure)

    try:
        while (opened < count or pending) and time.monotonic() < deadline:
            while opened < count and len(pending) < in_flight:
                start()
            for key, _mask in selector.select(0.05):
                step(key.data, selector, done)
            status(held)
        for waiting in list(pending):
            done(waiting, "не ответил за срок")
        for _ in range(count - opened):
            held.fail("не успели открыть за срок")
    except BaseException:
        held.close()
        for waiting in list(pending):
            waiting.sock.close()
        raise
    finally:
        selector.close()
    held.seconds = time.monotonic() - started
    return held


def step(waiting: Pending, selector: selectors.BaseSelector, done) -> None:
    """Одно событие соединения: подключилось — шлём rooms; пришло — ждём 401."""
    sock = waiting.sock
    if waiting.stage == "connect":
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            done(waiting, f"connect: {errno.errorcode.get(error, error)}")
            return
        try:
            sock.send(ROOMS_LINE)  # строка маленькая — влезет в пустой буфер
        except OSError:
            done(waiting, "ошибка записи")
            return
        waiting.stage = "rooms"
        selector.modify(sock, selectors.EVENT_READ, waiting)
        return
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return
    except OSError:
        data = b""
    if not data:
        done(waiting, "закрыто до ответа")
        return
    waiting.inbox += data
    if b"\n" in waiting.inbox:
        code = reply_code(waiting.inbox.split(b"\n", 1)[0])
        done(waiting, None if code == UNAUTHORIZED else f"ответ {code}")


def reply_code(line: bytes):
    """Код ответа сервера (503 — соединений больше предела) или «?»."""
    try:
        return json.loads(line).get("response", "?")
    except (ValueError, AttributeError):
        return "?"
