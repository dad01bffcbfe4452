"""Генератор нагрузки: все клиенты стенда в одном потоке над epoll.

* `Client` — одно соединение генератора: буферы, состояние, карта доставок.
* `Load` — все соединения к одному серверу и цикл событий над ними:
  `connect`, `register` (пачками, до ответа 202), `settle` (ждать тишины),
  `burst` (все шлют как можно быстрее), `paced` (ровный или пуассоновский
  темп), `drain`
  (дождаться доставок или `quiet` секунд тишины). Строки режутся по b"\\n";
  каждая строка чата сверяется с учётом (ledger.Ledger), остальные — ответы
  сервера, оповещения, probe (на него клиент отвечает presence) или мусор.

Нагрузку даёт ОДИН поток: неблокирующие сокеты под `selectors` (epoll),
отправка по расписанию в том же цикле — генератор не спорит сам с собой за
GIL. Время прихода берётся из ядра (SO_TIMESTAMPNS: когда байты легли в сокет
получателя), поэтому очередь в цикле разбора в задержку не попадает.
"""

from __future__ import annotations

import json
import random
import re
import selectors
import socket
import struct
import time

from .config import BenchError
from .ledger import MARK_BYTES, PROBE_BYTES, Ledger, presence_line
from .servers import ServerProcess

# Время прихода из ядра: в Python нет имени для этой опции, число — из Linux.
SO_TIMESTAMPNS = 35
ANCILLARY_SIZE = socket.CMSG_SPACE(16)
RECV_SIZE = 256 * 1024
# Ответ сервера на запрос — строка с кодом; 100 — оповещение, а не ответ.
REPLY_BYTES = b'"response": '
NOTICE_BYTES = b'"response": 100'
PACE_SEED = 15  # зерно пуассоновского расписания: одно на все прогоны


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
        "replies",
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
        self.replies = 0  # ответов сервера на запросы (код не 100)


class Load:
    """Все соединения генератора к одному серверу и цикл событий над ними.

    progress — куда раз в секунду писать status() (ход работы в stderr)."""

    def __init__(self, server: ServerProcess, progress) -> None:
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
                f"{self.server.spec.label}: не удалось подключиться: {error}"
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
                continue
            # Не строка чата. Проверки — только здесь: строк чата в пачке сотни
            # тысяч, и генератор — узкое место сценария 1.
            if REPLY_BYTES in line and NOTICE_BYTES not in line:
                client.replies += 1
            if line and (self.inspect or client.state != "registered"):
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
        """Регистрирует клиентов пачками, каждую — до ответа 202 всем."""
        for start in range(0, len(clients), batch):
            chunk = clients[start : start + batch]
            self.begin_register(chunk)
            while not self.registered(chunk, deadline):
                self.poll(0.05)

    def begin_register(self, clients: list[Client]) -> None:
        """Шлёт presence; шагу 0 нечего отвечать — его клиенты в чате сразу."""
        for client in clients:
            client.state = "registering"
            self.send(client, presence_line(client.name))
        if not self.server.answers:
            for client in clients:
                client.state = "registered"

    def registered(self, clients: list[Client], deadline: float) -> bool:
        """Все ли получили ответ на presence; отказ или срок — BenchError."""
        if any(c.state == "registering" for c in clients):
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{self.server.spec.label}: регистрация не закончилась вовремя"
                )
            return False
        refused = [c.name for c in clients if c.state != "registered"]
        if refused:
            raise BenchError(
                f"{self.server.spec.label}: сервер не принял имена {refused[:5]}"
            )
        return True

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
        self,
        senders: list[Client],
        rate: float,
        seconds: float,
        deadline: float,
        poisson: bool = False,
    ) -> int:
        """Темп `rate` сообщений в секунду на всех; возвращает неотправленные.

        poisson=False — ровно через 1/rate с. True — как у независимых людей:
        те же rate × seconds сообщений в случайные моменты окна (пуассоновский
        поток с известным числом событий); расписание одно для всех серверов.
        При ровном темпе сообщения почти не застают сервер занятым предыдущим,
        и очередь — обычная часть задержки под нагрузкой — в замер не попадает.
        """
        total = round(rate * seconds)
        if poisson:
            chance = random.Random(PACE_SEED)
            offsets = sorted(chance.uniform(0, seconds) for _ in range(total))
        else:
            offsets = [number / rate for number in range(total)]
        start = time.monotonic()
        for number, offset in enumerate(offsets):
            due = start + offset
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
