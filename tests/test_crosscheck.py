"""Сверка задержки со стороны (tools/chatbench/crosscheck.py) на крошечном размере.

* против финального сервера задания 4: клиенты в двух процессах, каждое
  сообщение после разгона дошло до каждого другого участника, перцентили есть;
* против поддельного сервера, который придерживает каждую рассылку на
  HOLD секунд: сверка видит эту задержку целиком — время отправки берётся у
  отправителя, а не из ответа сервера.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

import pytest
from support import PYTHON, ROOT, start_server

CROSSCHECK = ROOT / "tools" / "chatbench" / "crosscheck.py"
TINY = [
    "--clients",
    "4",
    "--procs",
    "2",
    "--rate",
    "60",
    "--seconds",
    "0.3",
    "--warmup",
    "0.1",
    "--quiet",
    "0.3",
    "--settle",
    "0.05",
    "--json",
]
HOLD = 0.08  # столько поддельный сервер держит каждую рассылку

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SO_TIMESTAMPNS — только Linux"
)


def crosscheck(port: int) -> dict:
    done = subprocess.run(
        [PYTHON, CROSSCHECK, "--port", str(port), *TINY],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_message_reaches_every_other_member_of_the_final_server(launch):
    server = start_server(launch, "task4", "-q")
    result = crosscheck(server.port)
    assert result["sent"] >= 15  # 60 сообщ./с × 0,3 с, с запасом на округление
    assert result["expected"] == result["sent"] * 3
    assert result["delivered"] == result["expected"]
    assert result["lost"] == 0
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]


class HoldingServer:
    """Поддельный чат: 202 на presence, 200 на msg, а рассылку — через HOLD с."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.members: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # слушатель закрыт: тест кончился
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                request = json.loads(line)
                if request["action"] == "presence":
                    with self.lock:
                        self.members.append(conn)
                    self.send(conn, {"response": 202})
                    continue
                self.send(conn, {"response": 200})
                relayed = dict(request, **{"from": "кто-то"})
                with self.lock:
                    others = [m for m in self.members if m is not conn]
                timer = threading.Timer(HOLD, self.relay, (others, relayed))
                timer.daemon = True
                timer.start()

    def relay(self, others: list, message: dict) -> None:
        for member in others:
            self.send(member, message)

    def send(self, conn: socket.socket, message: dict) -> None:
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode()
        with self.lock:
            try:
                conn.sendall(data)
            except OSError:  # клиент сверки уже ушёл
                pass


def test_latency_counts_the_time_a_server_holds_a_message():
    server = HoldingServer()
    try:
        result = crosscheck(server.port)
    finally:
        server.listener.close()
    assert result["lost"] == 0
    assert result["p50_ms"] >= HOLD * 1000
