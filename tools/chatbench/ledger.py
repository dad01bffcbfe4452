"""Учёт доставок: что отправлено, что дошло, когда и в каком виде.

* Текст сообщения стенда — «b|номер|отправитель|время_нс|заполнитель»
  (`MARK`, `PADS`): номер — индекс в учёте, время — когда сообщение ушло.
* `Ledger` — учёт одной замеренной фазы: карта доставок каждого получателя,
  задержки, потерянные и искажённые строки.
* `Ledger.summary` — строка отчёта фазы. Доставок/с считаются по **активному
  окну**: от первой отправки до последней доставки. Сколько стенд потом ждал
  пропавшего (`quiet` секунд тишины), в скорость не входит — потери и
  искажения стоят рядом отдельными числами, а ожидание — в `waited_s`.
* `merge_rounds` — несколько раундов одного сервера в одну строку: суммы,
  доставки/с за сумму активных окон, перцентили по всем доставкам вместе.
* `percentiles` — p50, p99 и максимум задержек.
"""

from __future__ import annotations

import array
import itertools
import json
import math
import re
import time

from .config import BenchError

MARK = "b|"
MARK_BYTES = b'"b|'
PROBE_BYTES = b'"probe"'
# Заполнитель с кириллицей: строки честно идут в UTF-8; сдвиг зависит от номера.
_PAD_BASE = "Привет, мир! Hello, world! Съешь ещё этих мягких булок. 0123456789 "
PADS = [_PAD_BASE[k:] + _PAD_BASE[:k] for k in range(17)]
# Строка чата в том виде, в каком её пишет json.dumps (серверы шагов 1+ и наши
# клиенты; шаг 0 пересылает строку клиента как есть — без from).
CHAT_LINE = re.compile(
    rb'\{"action": "msg", "time": [0-9.e+-]+, (?:"from": "([^"\\]*)", )?'
    rb'"to": "#general", "message": "b\|(\d+)\|([^"\\]*)"\}'
)


def json_line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode()


def presence_line(name: str) -> bytes:
    return json_line(
        {
            "action": "presence",
            "time": round(time.time(), 3),
            "user": {"account_name": name, "status": "в сети"},
        }
    )


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
    """Учёт одной фазы: что отправлено, что дошло, с какой задержкой, что искажено.

    receivers — клиенты с полями index, state и marks (их карты доставок
    заводит учёт); names — имена всех клиентов по index.
    """

    def __init__(self, receivers: list, names: list[str], capacity: int) -> None:
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
        self.first_send_ns: int | None = None
        self.last_delivery_ns = 0

    def next_message(self, sender, stamp: int | None = None) -> str:
        """Текст очередного сообщения и его учёт (stamp — время отправки, нс)."""
        msg_id = len(self.stamps)
        if msg_id >= self.capacity:
            raise BenchError("стенд отправил больше сообщений, чем рассчитал")
        stamp = time.time_ns() if stamp is None else stamp
        if self.first_send_ns is None:
            self.first_send_ns = stamp
        tail = f"{sender.index}|{stamp}|{PADS[msg_id % len(PADS)]}"
        self.stamps.append(stamp)
        self.senders.append(sender.index)
        self.tails.append(tail.encode())
        alive = sum(1 for c in self.receivers if c.state == "registered")
        self.expected += alive - (1 if sender.marks is not None else 0)
        return f"{MARK}{msg_id}|{tail}"

    def chat_line(self, receiver, line: bytes, arrived: int) -> bool:
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
        """Строка отчёта фазы; gave_up_ns — когда стенд перестал ждать доставок.

        Скорость — по активному окну (первая отправка → последняя доставка):
        ожидание пропавшего после последней доставки её не меняет.
        """
        lost = max(0, self.expected - self.delivered)
        first = self.first_send_ns
        active = waited = 0.0
        if first is not None:
            if self.delivered and self.last_delivery_ns > first:
                active = (self.last_delivery_ns - first) / 1e9
            waited = max(0, gave_up_ns - max(self.last_delivery_ns, first)) / 1e9
        return {
            "sent": len(self.stamps),
            "expected": self.expected,
            "delivered": self.delivered,
            "lost": lost,
            "corrupted": self.corrupted + self.duplicates,
            "seconds": round(active, 4),
            "waited_s": round(waited, 3),
            "deliveries_per_s": round(self.delivered / active) if active else 0,
            **percentiles(self.latencies),
        }


def merge_rounds(rounds: list[tuple[dict, array.array]]) -> dict:
    """Раунды одного сервера → одна строка: суммы, доставки/с за сумму активных окон,
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
        "waited_s",
    ):
        merged[key] = round(sum(row[key] for row in rows), 3)
    seconds = sum(row["seconds"] for row in rows)
    merged["seconds"] = round(seconds, 4)
    merged["deliveries_per_s"] = round(merged["delivered"] / seconds) if seconds else 0
    merged["generator_late_ms"] = max(row["generator_late_ms"] for row in rows)
    merged.update(percentiles(itertools.chain.from_iterable(lat for _, lat in rounds)))
    merged["rounds"] = [
        {
            "deliveries_per_s": row["deliveries_per_s"],
            "p99_ms": row["p99_ms"],
            "lost": row["lost"],
        }
        for row in rows
    ]
    return merged
