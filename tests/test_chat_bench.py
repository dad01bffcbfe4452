"""Нагрузочный стенд чата (tools/chat_bench.py) в крошечном размере.

Это не замер скорости: числа на общей машине шумят. Тесты доказывают, что
стенд считает честно и что защиты сервера задания 4 срабатывают: ни одно
сообщение не теряется и не искажается, медленного читателя отключают,
молчунов закрывают по таймауту рукопожатия, на враждебный ввод сервер
отвечает верными кодами и не пропускает escape-последовательности. А на
наивном ретрансляторе тот же стенд видит мусор и утечки — значит, его
проверки умеют проваливаться.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from support import PYTHON, ROOT, program_env, start_server, wait_until

BENCH = ROOT / "tools" / "chat_bench.py"
sys.path.insert(0, str(BENCH.parent))

import chat_bench  # noqa: E402


def run_bench(out, *args: str) -> dict:
    """Прогон стенда подпроцессом, как из терминала; возвращает его JSON."""
    result = subprocess.run(
        [PYTHON, BENCH, "--scale", "tiny", "--out", str(out), "--json", "-q", *args],
        cwd=ROOT,
        env=program_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)


def run_of(report: dict, number: int, kind: str = "task4") -> dict:
    scenario = next(s for s in report["scenarios"] if s["number"] == number)
    return scenario["runs"][kind]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Все шесть сценариев в крошечном размере против нашего сервера."""
    out = tmp_path_factory.mktemp("bench")
    return out, run_bench(out, "--servers", "task4")


def test_report_is_written_as_json_and_markdown(tiny):
    out, report = tiny
    assert [s["number"] for s in report["scenarios"]] == [1, 2, 3, 4, 5, 6]
    assert json.loads((out / "chat_bench.json").read_text(encoding="utf-8")) == report
    markdown = (out / "chat_bench.md").read_text(encoding="utf-8")
    assert "| Сценарий | Сервер | Доставок/с | p50, мс | p99, мс |" in markdown
    assert "```mermaid\nxychart-beta" in markdown
    machine = report["machine"]
    for fact in (
        machine["cpu"],
        f"ядер {machine['cores']}",
        f"Python {machine['python']}",
        "python tools/chat_bench.py --scale tiny",
    ):
        assert fact in markdown
    assert (out / "logs" / "scenario1-task4.log").is_file()


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6])
def test_every_message_arrives_intact(tiny, number):
    _, report = tiny
    row = run_of(report, number)
    assert row["delivered"] == row["expected"] > 0, row
    assert (row["lost"], row["corrupted"], row["unsent"]) == (0, 0, 0), row
    assert row["tracebacks"] == 0, row
    assert (
        row["p99_ms"] is not None and row["peak_threads"] > 0 and row["peak_rss_mb"] > 0
    )


def test_stalled_reader_is_disconnected_and_memory_stays_bounded(tiny):
    _, report = tiny
    row = run_of(report, 4)
    rounds = chat_bench.SCALES["tiny"]["stalled"]["rounds"]
    # Каждый раунд — свой молчун: к началу раунда он в чате, к концу отключён.
    assert row["stalled_total"] == len(row["rounds"]) == rounds
    assert row["stalled_present"] == row["stalled_disconnected"] == rounds
    assert row["stalled_kernel_mb"] > 0  # буферы ядра заполнены до раунда
    assert row["rss_growth_mb"] < 64


def test_stalled_reader_is_compared_with_scenario_1_rounds_on_the_same_server(tiny):
    """Раунды сценария 1 идут через один с раундами с молчуном — с ними и сравнение."""
    _, report = tiny
    row = run_of(report, 4)
    assert len(row["plain_rounds"]) == len(row["rounds"])
    assert row["plain_lost"] == 0 and row["plain_deliveries_per_s"] > 0
    target = next(
        t
        for t in report["targets"]
        if t["target"] == "доставок/с остальным ≥ 0,9× сценария 1"
    )
    ratio = row["deliveries_per_s"] / row["plain_deliveries_per_s"]
    assert target["value"].startswith(f"{ratio:.2f}×")
    assert "медиана по парам раундов" in target["value"]
    assert target["met"] is (ratio >= 0.9)


def test_rounds_are_merged_into_one_row(tiny):
    """Итог раундов: суммы доставок и доставки/с за всё время раундов."""
    _, report = tiny
    row = run_of(report, 1)
    assert len(row["rounds"]) == chat_bench.SCALES["tiny"]["burst"]["rounds"]
    assert row["delivered"] == row["expected"] > 0
    assert row["deliveries_per_s"] == round(row["delivered"] / row["seconds"])
    slowest = min(r["deliveries_per_s"] for r in row["rounds"])
    fastest = max(r["deliveries_per_s"] for r in row["rounds"])
    assert slowest * 0.99 <= row["deliveries_per_s"] <= fastest * 1.01


def test_scale_scenario_runs_both_servers_round_by_round(tmp_path):
    """Сценарий 3: оба сервера одновременно, раунды через один; p99 — по всем
    раундам."""
    report = run_bench(tmp_path, "--scenarios", "3")
    rounds = chat_bench.SCALES["tiny"]["scale"]["rounds"]
    ours, naive = run_of(report, 3), run_of(report, 3, "naive")
    for row in (ours, naive):
        assert len(row["rounds"]) == rounds
        assert row["lost"] == row["corrupted"] == 0
    target = next(t for t in report["targets"] if t["target"] == "p99 не хуже наивного")
    assert target["met"] is (ours["p99_ms"] <= naive["p99_ms"])
    assert f"из {rounds})" in target["value"]


def test_idle_connections_are_closed_after_the_handshake_timeout(tiny):
    _, report = tiny
    row = run_of(report, 5)
    assert row["idle_closed"] == row["idle_total"] > 0
    first, last = row["idle_closed_after_s"]
    assert (
        0.95 * row["handshake_timeout_s"]
        <= first
        <= last
        < row["handshake_timeout_s"] + 5
    )


def test_hostile_checks_pass_and_no_escape_reaches_chatters(tiny):
    _, report = tiny
    row = run_of(report, 6)
    failed = [check for check in row["checks"] if not check["ok"]]
    assert not failed
    assert row["checks_total"] == 10
    assert row["escapes_leaked"] == 0


def test_targets_are_evaluated_for_our_server(tiny):
    _, report = tiny
    targets = report["targets"]
    assert {t["scenario"] for t in targets} == {1, 2, 3, 4, 5, 6}
    # Без наивного в прогоне сравнений с ним нет; всё остальное вычислено.
    assert not any("наивн" in t["target"] for t in targets)
    assert all(t["met"] in (True, False) for t in targets)


def test_bench_catches_what_the_naive_relay_lets_through(tmp_path):
    """Тот же стенд на наивном ретрансляторе: мусор и escape доходят, ответов нет."""
    row = run_of(
        run_bench(tmp_path, "--servers", "naive", "--scenarios", "6"), 6, "naive"
    )
    assert row["corrupted"] > 0  # случайные байты и строка в 1 МиБ разосланы болтающим
    assert row["escapes_leaked"] > 0  # presence с ESC в имени разослан как есть
    checks = {check["check"]: check["ok"] for check in row["checks"]}
    assert checks["invalid_utf8"] is False and checks["server_alive"] is False


def test_naive_relay_forwards_raw_bytes_to_everyone_else(launch):
    relay = launch(
        [PYTHON, BENCH, "--naive-relay", "--host", "127.0.0.1", "--port", "0"]
    )
    port = int(relay.wait_for(r"127\.0\.0\.1:(\d+)", "stderr").group(1))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as alice,
        socket.create_connection(("127.0.0.1", port), timeout=5) as bob,
    ):
        # Когда «ping» от второго дошёл до первого, в списке ретранслятора уже оба.
        bob.sendall(b"ping")
        assert alice.recv(1024) == b"ping"
        # Границ строк ретранслятор не знает: половина строки уходит половиной.
        alice.sendall("полстроки без конца".encode())
        received = b""
        while len(received) < len("полстроки без конца".encode()):
            received += bob.recv(1024)
        assert received == "полстроки без конца".encode()
        alice.settimeout(0.2)
        with pytest.raises(socket.timeout):
            alice.recv(1024)  # себе ретранслятор не шлёт
    relay.interrupt()
    assert relay.wait_exit() == 0
    assert "Ретранслятор остановлен." in relay.stderr
    relay.assert_no_traceback()


class Chatter:
    """Зарегистрированный участник #general, который копит всё, что ему пришло."""

    def __init__(self, port: int, name: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(chat_bench.presence_line(name))
        self.data = b""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        wait_until(
            lambda: b'"response": 202' in self.data,
            message=f"{name} не зарегистрирован",
        )

    def _read(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            self.data += chunk

    def messages(self) -> list[dict]:
        return [json.loads(line) for line in self.data.split(b"\n") if line]


def test_hostile_input_against_a_running_server(launch):
    """Враждебные проверки стенда — обычным тестом против сервера из фикстуры."""
    server = start_server(launch, "task4", "-q")
    alice, bob = Chatter(server.port, "alice"), Chatter(server.port, "bob")
    config = dict(
        chat_bench.SCALES["tiny"]["hostile"], wrong_shapes=100, resets=2, escape_msgs=4
    )
    probes = chat_bench.HostileProbes(
        ("127.0.0.1", server.port), config, time.monotonic() + 10, victim="alice"
    )
    probes.start()
    probes.join()
    failed = [result for result in probes.results if not result["ok"]]
    assert len(probes.results) == 8 and not failed, failed
    for chatter in (alice, bob):
        # Все строки разбираются (сервер не переслал мусор), и нигде нет ESC, BEL, CSI…
        messages = chatter.messages()
        assert not any(chat_bench.has_control_chars(message) for message in messages)
    texts = [m["message"] for m in alice.messages() if m.get("from") == "h_escape"]
    assert texts and all(text.startswith("[2J[H[31mзло ") for text in texts)
    assert server.running
    server.assert_no_traceback()
