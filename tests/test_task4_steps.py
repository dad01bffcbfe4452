"""Задание 4, путь по шагам: недостатки типичного решения доказаны, а не описаны.

Каждый тест — свойство, которого ждёт от чата пользователь («сообщение
приходит целым», «молчун никого не держит»). Тест запускается на каждом шаге;
на шагах до того, который свойство приносит, он отмечен как ожидаемый провал
(xfail, strict): так видно, что недостаток шага 0 настоящий и что исправляет
его именно названный шаг.

Собеседники говорят так, как говорит клиент своего шага: на шаге 0 — строка
«имя: текст» без конца строки, и каждый recv считается сообщением (так
печатает клиент шага 0); с шага 1 — JIM.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time

import pytest
from chat_steps import STEPS, fixed_by, has, server_path, step_dir, task_name
from support import PYTHON, ROOT, free_port, program_env, start_server, wait_until

HEAR_TIMEOUT = 2.0  # столько ждём сообщений, которые должны прийти сразу


def start(launch, step: str, *args: str):
    """Сервер шага на свободном порту (порт — из первой строки его журнала)."""
    return start_server(launch, task_name(step), *args)


class Peer:
    """Собеседник на голом сокете, который говорит на языке своего шага."""

    def __init__(self, server, step: str, name: str, *, small_buffers=False) -> None:
        self.step, self.name = step, name
        self.jim = has(step, "jim")
        self.sock = socket.socket()
        if small_buffers:  # до connect: окно и MSS договариваются при подключении
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            if hasattr(socket, "TCP_MAXSEG"):
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        accepted = server.count("Подключение", "stdout") + 1  # до connect: без гонки
        self.sock.connect(("127.0.0.1", server.port))
        self.inbox = b""
        if self.jim:
            self.send_jim("presence", user={"account_name": name})
            assert self.hear_replies(1) == [202]
        else:  # на шаге 0 не с кем здороваться: ждём, пока сервер нас принял
            wait_until(lambda: server.count("Подключение", "stdout") >= accepted)

    def send_jim(self, action: str, **fields) -> None:
        message = {"action": action, "time": time.time(), **fields}
        self.sock.sendall(json.dumps(message, ensure_ascii=False).encode() + b"\n")

    def wire(self, text: str, claim: str | None = None) -> bytes:
        """Байты одного сообщения в #general; claim — чужое имя, которым подписаться."""
        if not self.jim:
            return f"{claim or self.name}: {text}".encode()
        message = {"action": "msg", "time": time.time(), "to": "#general"}
        message |= {"message": text} | ({"from": claim} if claim else {})
        return json.dumps(message, ensure_ascii=False).encode() + b"\n"

    def say(self, *texts: str, claim: str | None = None) -> None:
        """Все тексты одним sendall — как их отправил бы быстрый клиент."""
        self.sock.sendall(b"".join(self.wire(text, claim) for text in texts))

    def _chunk(self, deadline: float) -> bytes | None:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        self.sock.settimeout(left)
        try:  # клиент шага 0 читает recv(1024)
            return self.sock.recv(65536 if self.jim else 1024) or None
        except (TimeoutError, ConnectionError):
            return None

    def hear(self, count: int, timeout: float = HEAR_TIMEOUT, until=None) -> list[str]:
        """Что увидит пользователь: «имя: текст» по сообщению, не больше count
        (или пока until(услышанное) не станет истиной)."""
        heard: list[str] = []
        deadline = time.monotonic() + timeout
        enough = until or (lambda heard: len(heard) >= count)
        while not enough(heard):
            if not self.jim:  # клиент шага 0 печатает каждый recv как сообщение
                chunk = self._chunk(deadline)
                if chunk is None:
                    break
                heard.append(chunk.decode("utf-8", errors="replace"))
                continue
            message = self._next_jim(deadline)
            if message is None:
                break
            if message.get("action") == "msg":
                heard.append(f"{message['from']}: {message['message']}")
        return heard

    def hear_replies(self, count: int, timeout: float = HEAR_TIMEOUT) -> list[int]:
        """Коды ответов на свои запросы (уведомления 100 и сообщения пропускаем)."""
        codes: list[int] = []
        deadline = time.monotonic() + timeout
        while len(codes) < count:
            message = self._next_jim(deadline)
            if message is None:
                break
            if message.get("response", 100) != 100:
                codes.append(message["response"])
        return codes

    def _next_jim(self, deadline: float) -> dict | None:
        while b"\n" not in self.inbox:
            chunk = self._chunk(deadline)
            if chunk is None:
                return None
            self.inbox += chunk
        line, _, self.inbox = self.inbox.partition(b"\n")
        return json.loads(line)

    def close(self) -> None:
        self.sock.close()


@fixed_by("jim", "recv отдаёт сколько пришло: быстрые сообщения склеиваются")
def test_messages_sent_quickly_arrive_one_by_one(launch, step):
    """Быстрые сообщения не склеиваются."""
    server = start(launch, step)
    alice, bob = Peer(server, step, "alice"), Peer(server, step, "bob")
    alice.say("раз", "два", "три")
    assert bob.hear(3) == ["alice: раз", "alice: два", "alice: три"]


@fixed_by("jim", "recv(1024) режет длинное сообщение на куски")
def test_a_long_message_arrives_whole(launch, step):
    """Длинное сообщение — целиком."""
    server = start(launch, step)
    alice, bob = Peer(server, step, "alice"), Peer(server, step, "bob")
    text = "€" * 400  # 1200 байт; «alice: » и 339 знаков — ровно 1024 байта
    alice.say(text)
    assert bob.hear(1) == [f"alice: {text}"]


@fixed_by("jim", "буква, разрезанная между двумя recv, роняет decode и поток клиента")
def test_a_letter_cut_between_two_segments_arrives_and_the_sender_lives(launch, step):
    """Полбуквы в сегменте — не беда."""
    server = start(launch, step)
    alice, bob = Peer(server, step, "alice"), Peer(server, step, "bob")
    data = alice.wire("мягкий знак")
    cut = data.index("мягкий".encode()) + 1  # посреди двухбайтовой «м»
    alice.sock.sendall(data[:cut])
    time.sleep(0.05)  # вторая половина — отдельным сегментом TCP (TCP_NODELAY)
    alice.sock.sendall(data[cut:])
    alice.say("я ещё здесь")
    assert bob.hear(2) == ["alice: мягкий знак", "alice: я ещё здесь"]


@fixed_by("jim", "имя пишет сам клиент — значит, любое")
def test_nobody_can_speak_under_another_name(launch, step):
    """Чужим именем не подписаться."""
    server = start(launch, step)
    alice, bob = Peer(server, step, "alice"), Peer(server, step, "bob")
    carol = Peer(server, step, "carol")
    alice.say("верни долг", claim="bob")
    assert carol.hear(1) == ["alice: верни долг"]
    assert bob.hear(1) == ["alice: верни долг"]


@fixed_by("slow_readers", "кто не читает, тот останавливает каждого, кто ему пишет")
def test_a_client_that_does_not_read_stalls_nobody(launch, step):
    """Молчун никого не держит."""
    args = ["--max-backlog", "65536"] if has(step, "slow_readers") else []
    server = start(launch, step, *args)
    stalled = Peer(server, step, "stalled", small_buffers=True)  # и больше не читает
    alice, bob = Peer(server, step, "alice"), Peer(server, step, "bob")
    line = "alice: " + "x" * 500
    alice.sock.settimeout(HEAR_TIMEOUT)  # сервер перестал читать alice — не виснем
    batches = 0
    for _ in range(20):  # 20 пачек по 50 сообщений — около 0,5 МБ молчуну
        try:
            alice.say(*[line.removeprefix("alice: ")] * 50)
        except TimeoutError:
            break
        heard = bob.hear(0, until=lambda heard: "".join(heard).count(line) >= 50)
        if "".join(heard).count(line) < 50:
            break
        if alice.jim:  # ответы 200 alice читает: иначе она сама станет молчуном
            alice.hear_replies(50)
        batches += 1
    stalled.close()
    assert batches == 20


def test_the_overview_table_of_steps_is_up_to_date():
    """Таблица шагов на обзорной странице собрана из нынешних файлов и тестов."""
    checked = subprocess.run(
        [PYTHON, ROOT / "tools" / "steps_table.py", "--check"],
        env=program_env(),  # вывод — UTF-8 и на Windows, где консоль в cp1252
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr


def assert_one_russian_line(program, start: str) -> None:
    """Отказ — одна строка «Ошибка: …» без английского текста ОС, код не 0."""
    assert program.wait_exit() != 0
    program.assert_no_traceback()
    lines = program.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), program.stderr
    # «Address already in use», «Connection refused», «[Errno 98]»
    assert not re.search(r"[A-Za-z]{3,}", lines[0]), lines[0]


@pytest.mark.parametrize("step", STEPS)
def test_a_taken_port_is_one_russian_line(launch, step):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        server = launch([PYTHON, server_path(step), "--port", str(port)])
        assert_one_russian_line(server, "Ошибка: не удалось занять")


@pytest.mark.parametrize("step", ["00-typical", "01-minimal"])
def test_a_client_without_a_server_says_so_in_one_russian_line(launch, step):
    client = launch([PYTHON, step_dir(step) / "client.py", "--port", str(free_port())])
    if step == "00-typical":  # этот клиент спрашивает имя до подключения
        client.write_line("alice")
    assert_one_russian_line(client, "Ошибка: не удалось подключиться")
