"""Враждебный ввод (сценарий 6): блокирующие сокеты в отдельных потоках.

* `LineConn` — блокирующее соединение проверки: отправка без исключений,
  коды ответов с дедлайном (на probe отвечает presence).
* Наборы ввода: `WRONG_BEFORE_REGISTRATION` и `WRONG_AFTER_REGISTRATION` —
  правильный JSON неверной формы (каждой строке положен ответ 400),
  `INVALID_UTF8`, `ESCAPE_NAMES`, `ESCAPE_TEXT` — escape-последовательности.
* `HostileProbes` — восемь проверок, каждая в своём потоке: мусор, битый UTF-8,
  длинная строка, запросы неверной формы до и после регистрации, escape в
  именах и текстах, обрывы посреди строки. Результат — список
  {"check", "ok", "detail"}.
* `still_answers` — сервер после атаки принимает новых.

Проверки не знают, что умеет сервер: сервер без нужной защиты их просто не
проходит (и это видно в отчёте), стенд при этом укладывается в свои сроки.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time

from .ledger import json_line, presence_line


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
    json_line({"action": "msg", "to": "#general", "message": "я" * 501}).rstrip(b"\n"),
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
            codes = conn.responses(quiet=self.cfg["answer_quiet"])
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
                json_line(
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


def still_answers(address: tuple[str, int], timeout: float) -> bool:
    """Сервер после атаки жив: новое соединение регистрируется."""
    try:
        conn = LineConn(address, time.monotonic() + timeout)
    except OSError:
        return False
    ok = conn.register("h_alive")
    conn.close()
    return ok
