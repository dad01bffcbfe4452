"""Нагрузочный стенд чата (tools/chat_bench.py, пакет tools/chatbench/).

Это не замер скорости: числа на общей машине шумят. Тесты доказывают, что
стенд считает честно и что он умеет и хвалить, и ловить:

* крошечный прогон (`--scale tiny`) для четырёх серверов — шаг 0, финальный,
  шаг 6 (пул потоков) и asyncio; прогоны идут подпроцессами одновременно,
  каждый — своя часть сценариев, чтобы все вместе укладывались в несколько
  секунд;
* сценарий 8 (память): финальный, шаг 6 и asyncio держат каждое соединение,
  а память и потоки записаны; шаги 0–4 — «не меряем»; цели шага 6 (против
  asyncio и шага 0) вычислены и напечатаны;
* у финального сервера и эталона на asyncio ни одно сообщение не теряется и не
  искажается, медленного читателя отключают, молчунов закрывают по сроку, на
  враждебный ввод — верные коды; у шага 0 тот же стенд видит мусор, утечки
  escape, зависание из-за одного нечитающего клиента и «не умеет» там, где
  нужен протокол;
* доставки/с считаются по активному окну: хвост ожидания пропавшего (2 с)
  скорость не меняет — проверено на синтетических данных;
* эталон на asyncio проходит маленькую проверку протокола: presence, msg, 409,
  quit, остановка по Ctrl+C.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest
from support import PYTHON, ROOT, program_env, start_server, wait_until

BENCH = ROOT / "tools" / "chat_bench.py"
sys.path.insert(0, str(BENCH.parent))

from chatbench import ledger, report, servers, targets  # noqa: E402
from chatbench.config import SCALES  # noqa: E402
from chatbench.load import has_control_chars  # noqa: E402
from chatbench.probes import HostileProbes  # noqa: E402

TINY = SCALES["tiny"]
# Крошечные прогоны: имя → (серверы, сценарии). Идут одновременно.
TINY_RUNS = {
    "final-a": ("final", "1,2,3,7,8"),
    "final-b": ("final", "4,5,6"),
    # Шаг 6 — в одном прогоне с asyncio: его цели — против asyncio, и раунды
    # сценариев 2 и 3 у них идут по кругу, как в полном прогоне.
    "asyncio-a": ("06-thread-pool,asyncio", "1,2,3,7,8"),
    "asyncio-b": ("asyncio", "4,5,6"),
    "step0": ("step0", "1,4,6,7,8"),
}
MERGED = ["00-typical", "final", "06-thread-pool", "asyncio"]  # порядок SERVERS


def bench_command(out, *args: str) -> list:
    return [PYTHON, BENCH, "--scale", "tiny", "--out", str(out), "--json", "-q", *args]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Все крошечные прогоны разом; имя прогона → (папка отчёта, отчёт)."""
    if not sys.platform.startswith("linux"):
        pytest.skip(
            "стенд берёт память, потоки и очереди сокетов из /proc, а процессор — "
            "из модуля resource: это есть только на Linux"
        )
    started = {}
    for name, (server, scenarios) in TINY_RUNS.items():
        out = tmp_path_factory.mktemp(name)
        command = bench_command(out, "--servers", server, "--scenarios", scenarios)
        started[name] = (
            out,
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=program_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            ),
        )
    reports = {}
    for name, (out, process) in started.items():
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, f"{name}: {stderr}"
        assert "Traceback" not in stderr, f"{name}: {stderr}"
        reports[name] = (out, json.loads(stdout))
    return reports


def run_of(bench_report: dict, number: int, server: str | None = None) -> dict:
    """Строка сценария: единственного сервера прогона или названного."""
    scenario = next(s for s in bench_report["scenarios"] if s["number"] == number)
    if server is not None:
        return scenario["runs"][servers.resolve(server)]
    (row,) = scenario["runs"].values()
    return row


def tiny_run(tiny, server: str, number: int) -> dict:
    for name, (keys, scenarios) in TINY_RUNS.items():
        if server in keys.split(",") and str(number) in scenarios.split(","):
            return run_of(tiny[name][1], number, server)
    raise KeyError((server, number))


def merged(tiny) -> dict:
    """Четыре сервера в одном отчёте — как если бы их мерил один прогон."""
    first = tiny["final-a"][1]
    scenarios: dict[int, dict] = {}
    for _, bench_report in tiny.values():
        for scenario in bench_report["scenarios"]:
            entry = scenarios.setdefault(scenario["number"], dict(scenario, runs={}))
            entry["runs"].update(scenario["runs"])
    result = dict(
        first,
        servers=MERGED,
        scenarios=[scenarios[n] for n in sorted(scenarios)],
    )
    result["targets"] = targets.evaluate_targets(scenarios)
    result["pool_targets"] = targets.evaluate_pool_targets(scenarios)
    result["comparisons"] = report.comparisons(result)
    return result


# --------------------------------------------------------------------------
# Крошечный прогон: финальный и asyncio
# --------------------------------------------------------------------------


def test_report_is_written_as_json_and_markdown(tiny):
    out, bench_report = tiny["final-a"]
    assert [s["number"] for s in bench_report["scenarios"]] == [1, 2, 3, 7, 8]
    assert json.loads((out / "chat_bench.json").read_text(encoding="utf-8")) == (
        bench_report
    )
    markdown = (out / "chat_bench.md").read_text(encoding="utf-8")
    command = "python3 tools/chat_bench.py --scale tiny"
    # Точная команда — прямо над таблицей шагов.
    above, table = markdown.split("| Сервер | 1. Доставок/с |", 1)
    assert command in above.rsplit("```bash", 1)[1]
    assert "| шаг 5: финальный |" in table
    assert "| Сценарий | Сервер | Доставок/с | p50, мс | p99, мс |" in markdown
    assert "```mermaid\nxychart-beta" in markdown
    machine = bench_report["machine"]
    for fact in (machine["cpu"], f"ядер {machine['cores']}", machine["python"]):
        assert fact in markdown
    assert (out / "logs" / "scenario1-final.log").is_file()


@pytest.mark.parametrize("server", ["final", "asyncio"])
@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6])
def test_every_message_arrives_intact(tiny, server, number):
    row = tiny_run(tiny, server, number)
    assert row["delivered"] == row["expected"] > 0, row
    assert (row["lost"], row["corrupted"], row["unsent"]) == (0, 0, 0), row
    assert row["tracebacks"] == 0, row
    assert row["p99_ms"] is not None and row["peak_rss_mb"] > 0
    # Доставки/с — за активное окно (seconds округлены до 0,1 мс).
    rate = row["delivered"] / row["seconds"]
    assert row["deliveries_per_s"] == pytest.approx(rate, rel=0.01)


@pytest.mark.parametrize("server", ["final", "asyncio"])
def test_register_and_quit_cycles(tiny, server):
    row = tiny_run(tiny, server, 7)
    assert row["cycles"] > 0 and row["failed"] == 0, row
    assert row["cycles_per_s"] > 0 and row["tracebacks"] == 0


@pytest.mark.parametrize("server", ["final", "asyncio"])
def test_stalled_reader_is_disconnected_and_memory_stays_bounded(tiny, server):
    row = tiny_run(tiny, server, 4)
    rounds = TINY["stalled"]["rounds"][servers.SERVERS[server].tier]
    # Каждый раунд — свой молчун: к началу раунда он в чате, к концу отключён.
    assert row["stalled_total"] == len(row["rounds"]) == rounds
    assert row["stalled_present"] == row["stalled_disconnected"] == rounds
    assert row["stalled_frozen"] is False
    assert row["stalled_kernel_mb"] > 0  # буферы ядра заполнены до раунда
    assert row["rss_growth_mb"] < 64
    assert len(row["plain_rounds"]) == rounds and row["plain_lost"] == 0


def test_stalled_target_compares_with_scenario_1_rounds(tiny):
    """Раунды сценария 1 идут через один с раундами с молчуном — с ними и сравнение."""
    bench_report = tiny["final-b"][1]
    row = run_of(bench_report, 4)
    target = next(
        t
        for t in bench_report["targets"]
        if t["target"] == "доставок/с остальным ≥ 0,9× сценария 1"
    )
    ratio = row["deliveries_per_s"] / row["plain_deliveries_per_s"]
    assert target["value"].startswith(f"{ratio:.2f}×")
    assert target["met"] is (ratio >= 0.9)


def test_scale_scenario_records_memory_of_connected_clients(tiny):
    row = tiny_run(tiny, "final", 3)
    assert len(row["rounds"]) == TINY["scale"]["rounds"]
    assert row["clients"] == TINY["scale"]["clients"]
    assert 0 < row["rss_connected_mb"] <= row["peak_rss_mb"]
    assert row["threads_connected"] > row["clients"]  # поток на соединение
    assert tiny_run(tiny, "asyncio", 3)["threads_connected"] == 1


def test_latency_scenario_runs_in_rounds_and_shows_p99_of_each(tiny):
    """Сценарий 2 — раунды по кругу между серверами (как сценарий 3), а не одно
    окно на сервер: под чужой нагрузкой окна одного сервера расходятся в разы."""
    row = tiny_run(tiny, "final", 2)
    assert len(row["rounds"]) == TINY["latency"]["rounds"]
    assert row["delivered"] == row["expected"] > 0
    markdown = (tiny["final-a"][0] / "chat_bench.md").read_text(encoding="utf-8")
    (line,) = [s for s in markdown.splitlines() if s.startswith("| 2. Задержка |")]
    assert "p99 по раундам" in line


@pytest.mark.parametrize("server", ["final", "asyncio"])
def test_idle_connections_are_closed_after_the_handshake_timeout(tiny, server):
    row = tiny_run(tiny, server, 5)
    assert row["idle_closed"] == row["idle_total"] > 0
    first, last = row["idle_closed_after_s"]
    timeout = row["handshake_timeout_s"]
    assert 0.95 * timeout <= first <= last < timeout + 5


@pytest.mark.parametrize("server", ["final", "asyncio"])
def test_hostile_checks_pass_and_no_escape_reaches_chatters(tiny, server):
    row = tiny_run(tiny, server, 6)
    assert not [check for check in row["checks"] if not check["ok"]]
    assert row["checks_total"] == 10
    assert row["escapes_leaked"] == 0


def test_targets_are_evaluated_for_the_final_server(tiny):
    final = tiny["final-a"][1]["targets"] + tiny["final-b"][1]["targets"]
    assert {t["scenario"] for t in final} == {1, 2, 3, 4, 5, 6, 7}
    # Без шага 0 в прогоне сравнений с ним нет; всё остальное вычислено.
    assert not any("шага 0" in t["target"] for t in final)
    assert all(t["met"] in (True, False) for t in final)


# --------------------------------------------------------------------------
# Сценарий 8 и шаг 6: память на тысячи соединений, цели пула потоков
# --------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["final", "06-thread-pool", "asyncio"])
def test_memory_scenario_records_rss_and_threads_with_every_connection_held(
    tiny, server
):
    row = tiny_run(tiny, server, 8)
    clients = TINY["memory"]["clients"]
    # Каждое соединение получило 401 на rooms: сервер его принял и держит.
    assert row["held"] == row["clients"] == clients and row["failed"] == 0, row
    assert 0 < row["rss_empty_mb"] <= row["rss_connected_mb"] <= row["peak_rss_mb"]
    assert row["kib_per_connection"] is not None and row["p99_ms"] is not None
    assert row["tracebacks"] == 0
    threads = row["threads_connected"]
    if server == "final":
        assert threads > clients  # поток на соединение
    elif server == "asyncio":
        assert threads == 1
    else:
        assert threads == row["threads_first"] < 10  # пул: потоков не прибавилось


def test_memory_scenario_is_not_measured_for_a_thread_per_connection_step(tiny):
    row = tiny_run(tiny, "step0", 8)
    assert row["skipped"] is True and "5000 потоков" in row["unsupported"]
    table = report.steps_table(merged(tiny))
    typical = dict(zip(table["header"], table["rows"][0], strict=True))
    assert typical["8. RSS со всеми соединениями, МБ"] == "не меряем"
    assert typical["7. Входов-выходов/с"] == "не умеет"  # а это — не умеет
    (line,) = [
        r
        for r in report.table_rows(merged(tiny))
        if r[0].startswith("8.") and r[1] == typical["Сервер"]
    ]
    assert line[-1].startswith("не меряем: поток на соединение")


@pytest.mark.skipif(
    sys.platform == "win32", reason="стенд импортирует resource — на Windows его нет"
)
def test_memory_scenario_needs_a_file_per_connection(tmp_path):
    """5000 соединений — 5000 дескрипторов у стенда: при меньшем пределе — одна
    строка ошибки, а не сотни отказов connect."""
    import resource

    from chatbench import cli

    context = cli.Context("full", ["final"], tmp_path, cli.Progress(quiet=True))
    assert cli.needed_files(context, [8]) >= SCALES["full"]["memory"]["clients"]

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    result = subprocess.run(
        [PYTHON, BENCH, "--out", str(tmp_path), "--servers", "final"]
        + ["--scenarios", "8"],
        cwd=ROOT,
        env=program_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        preexec_fn=low_limit,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Ошибка: нужно не меньше {cli.needed_files(context, [8])} открытых файлов, "
        "а можно только 1024 (ulimit -n)"
    )


def test_pool_targets_are_evaluated_against_asyncio_and_the_typical_solution(tiny):
    whole = merged(tiny)
    pool = whole["pool_targets"]
    by_text = {(t["scenario"], t["target"]): t for t in pool}
    assert {number for number, _ in by_text} == {1, 2, 3, 7, 8}
    assert {
        (1, "доставок/с ≥ 1,0× шага 0"),
        (1, "доставок/с ≥ 3,0× asyncio"),
        (2, "p99 ≤ asyncio"),
        (3, "p99 ≤ asyncio"),
        (7, "входов-выходов/с ≥ asyncio"),
        (8, "число потоков не растёт с числом клиентов"),
    } <= set(by_text)
    assert all(t["met"] in (True, False) for t in pool)
    # Вердикт — из тех же чисел: пачка шага 6 против пачки asyncio, медианы раундов.
    ours = statistics.median(
        r["deliveries_per_s"] for r in tiny_run(tiny, "06-thread-pool", 1)["rounds"]
    )
    theirs = statistics.median(
        r["deliveries_per_s"] for r in tiny_run(tiny, "asyncio", 1)["rounds"]
    )
    burst = by_text[(1, "доставок/с ≥ 3,0× asyncio")]
    assert burst["value"].startswith(f"{ours / theirs:.2f}×")
    assert burst["met"] is (ours / theirs >= 3.0)
    # Потоки и память на 50 соединениях — с запасом: 3 потока и ~15 МБ против ~24.
    memory = next(t for t in pool if t["target"].startswith("RSS со всеми"))
    assert memory["met"] is True
    assert by_text[(8, "число потоков не растёт с числом клиентов")]["met"] is True
    # Терминал и Markdown печатают их, как цели финального.
    assert "Цели шага 6 (пул потоков)" in report.text_report(whole)
    assert "| 8 | число потоков не растёт с числом клиентов |" in (
        report.markdown_report(whole)
    )


def test_comparisons_speak_of_the_thread_pool_as_well(tiny):
    lines = report.comparisons(merged(tiny))
    pool = next(line for line in lines if line.startswith("Шаг 6 (пул потоков)"))
    assert "память со всеми соединениями" in pool and "потоков при них" in pool
    versus = next(line for line in lines if line.startswith("asyncio против шага 6"))
    assert "память со всеми соединениями" in versus
    final = next(line for line in lines if line.startswith("asyncio против финал"))
    assert "память со всеми соединениями" in final


# --------------------------------------------------------------------------
# Крошечный прогон: шаг 0 — тот же стенд ловит то, что он пропускает
# --------------------------------------------------------------------------


def test_typical_solution_freezes_on_a_reader_that_never_reads(tiny):
    row = tiny_run(tiny, "step0", 4)
    assert row["stalled_frozen"] is True
    assert row["lost"] > 0 and row["stalled_disconnected"] == 0
    assert row["stalled_present"] is None  # границы очереди нет — и проверять нечего


def test_bench_catches_what_the_typical_solution_lets_through(tiny):
    """Мусор и escape доходят до болтающих, ответов нет."""
    row = tiny_run(tiny, "step0", 6)
    assert row["corrupted"] > 0  # случайные байты разосланы болтающим
    assert row["escapes_leaked"] > 0  # presence с ESC в имени разослан как есть
    checks = {check["check"]: check["ok"] for check in row["checks"]}
    assert checks["invalid_utf8"] is False and checks["server_alive"] is False


def test_typical_solution_cannot_register_and_quit(tiny):
    row = tiny_run(tiny, "step0", 7)
    assert set(row) == {"unsupported"}


def test_steps_table_has_a_row_per_server_and_says_what_each_cannot(tiny):
    table = report.steps_table(merged(tiny))
    labels = [row[0] for row in table["rows"]]
    assert labels == [servers.SERVERS[k].label for k in MERGED]
    typical = dict(zip(table["header"], table["rows"][0], strict=True))
    assert typical["7. Входов-выходов/с"] == "не умеет"
    assert typical["4. С молчуном: доставок/с"].startswith("**завис**")
    assert typical["2. p99, мс"] == "—"  # сценарий 2 шагу 0 в тестах не запускали
    final = dict(zip(table["header"], table["rows"][1], strict=True))
    assert final["6. Проверок"] == "10/10"


def test_comparisons_say_what_the_typical_solution_pays(tiny):
    lines = report.comparisons(merged(tiny))
    first = next(line for line in lines if line.startswith("Сценарий 1: шаг 0"))
    assert "потеряно" in first and "рваными или склеенными" in first
    assert any("шаг 0" in line and line.startswith("Сценарий 4") for line in lines)
    versus = next(line for line in lines if line.startswith("asyncio против"))
    assert "память после входа всех" in versus  # у asyncio нет потока на клиента


# --------------------------------------------------------------------------
# Активное окно: доставки/с без хвоста ожидания
# --------------------------------------------------------------------------


def synthetic_phase(deliveries: list[tuple[int, int, int]]) -> ledger.Ledger:
    """Учёт фазы трёх клиентов: (отправитель, время отправки, время прихода, нс)."""
    clients = [
        SimpleNamespace(index=k, state="registered", marks=None) for k in range(3)
    ]
    phase = ledger.Ledger(clients, ["a", "b", "c"], capacity=10)
    for sender, sent, arrived in deliveries:
        text = phase.next_message(clients[sender], stamp=sent)
        name = "abc"[sender]
        line = (
            f'{{"action": "msg", "time": 1.0, "from": "{name}", "to": "#general", '
            f'"message": "{text}"}}'
        ).encode()
        for receiver in clients:
            if receiver is not clients[sender]:
                assert phase.chat_line(receiver, line, arrived)
    return phase


def test_deliveries_per_second_ignore_the_tail_wait():
    second = 1_000_000_000
    # Два сообщения по двум получателям: первая отправка в 0, последняя доставка
    # в 0,5 с — 4 доставки за 0,5 с.
    phase = synthetic_phase([(0, 0, second // 4), (1, second // 4, second // 2)])
    right_away = phase.summary(gave_up_ns=second // 2)
    after_wait = phase.summary(gave_up_ns=second // 2 + 2 * second)
    assert right_away["deliveries_per_s"] == after_wait["deliveries_per_s"] == 8
    assert right_away["seconds"] == after_wait["seconds"] == 0.5
    assert (right_away["waited_s"], after_wait["waited_s"]) == (0.0, 2.0)
    assert right_away["p99_ms"] == 250.0


def test_losses_stand_beside_the_rate_not_inside_it():
    second = 1_000_000_000
    phase = synthetic_phase([(0, 0, second // 2)])
    # Третье сообщение ушло, но не дошло ни до кого: стенд ждал 2 с тишины.
    phase.next_message(phase.receivers[2], stamp=second // 4)
    row = phase.summary(gave_up_ns=second // 2 + 2 * second)
    assert (row["delivered"], row["lost"], row["corrupted"]) == (2, 2, 0)
    assert row["deliveries_per_s"] == 4  # 2 доставки за 0,5 с, а не за 2,5 с


def test_rounds_merge_over_the_sum_of_active_windows():
    second = 1_000_000_000
    rounds = []
    for arrived in (second // 2, second):  # 2 доставки за 0,5 с и за 1 с
        phase = synthetic_phase([(0, 0, arrived)])
        row = phase.summary(gave_up_ns=arrived + 2 * second)
        row.update(unsent=0, server_cpu_s=0, loadgen_cpu_s=0, generator_late_ms=0)
        rounds.append((row, phase.latencies))
    row = ledger.merge_rounds(rounds)
    assert row["delivered"] == 4 and row["seconds"] == 1.5
    assert row["deliveries_per_s"] == round(4 / 1.5)
    assert row["waited_s"] == 4.0


# --------------------------------------------------------------------------
# Таблица серверов и командная строка
# --------------------------------------------------------------------------


def test_server_table_gives_each_server_only_its_own_flags():
    wanted = {"-q": True, "--max-backlog": 1024, "--idle-timeout": 600}
    arguments = {key: spec.arguments(wanted) for key, spec in servers.SERVERS.items()}
    assert arguments["00-typical"] == arguments["01-minimal"] == []
    assert arguments["03-hostile-input"] == ["--idle-timeout", "600"]
    assert arguments["04-slow-readers"] == [
        "--max-backlog",
        "1024",
        "--idle-timeout",
        "600",
    ]
    assert (
        arguments["final"]
        == arguments["asyncio"]
        == [
            "-q",
            "--max-backlog",
            "1024",
            "--idle-timeout",
            "600",
        ]
    )
    assert servers.resolve("step0") == "00-typical"
    assert servers.resolve("step5") == "final"
    assert servers.SERVERS["final"].exists and servers.SERVERS["asyncio"].exists


@pytest.mark.skipif(
    sys.platform == "win32", reason="стенд импортирует resource — на Windows его нет"
)
def test_unknown_server_is_refused_with_the_list_of_known_ones(tmp_path):
    result = subprocess.run(
        bench_command(tmp_path, "--servers", "step9"),
        cwd=ROOT,
        env=program_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
    )
    assert result.returncode == 2
    assert "нет сервера «step9»" in result.stderr and "00-typical" in result.stderr


# --------------------------------------------------------------------------
# Эталон на asyncio и враждебные проверки — обычными тестами
# --------------------------------------------------------------------------


class Chatter:
    """Участник чата, который копит всё, что ему пришло."""

    def __init__(self, port: int, name: str, expect: int | None = 202) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(ledger.presence_line(name))
        self.data = b""
        self.closed = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if expect is not None:
            self.wait_for(lambda m: m.get("response") == expect, f"{name}: {expect}")

    def _read(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                return
            self.data += chunk

    def send(self, message: dict) -> None:
        self.sock.sendall(ledger.json_line(message))

    def messages(self) -> list[dict]:
        return [json.loads(line) for line in self.data.split(b"\n") if line]

    def wait_for(self, check, what: str) -> dict:
        return wait_until(
            lambda: next((m for m in self.messages() if check(m)), None),
            message=f"не пришло: {what}",
        )


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="на Windows SIGINT одному процессу не послать (Ctrl+C — на всю консоль)",
)
def test_asyncio_reference_speaks_the_protocol(launch):
    server = launch(
        [
            PYTHON,
            servers.SERVERS["asyncio"].path,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ]
    )
    port = int(server.wait_for(r"слушает 127\.0\.0\.1:(\d+)", "stderr").group(1))
    alice = Chatter(port, "Алиса")
    bob = Chatter(port, "bob")
    alice.wait_for(lambda m: m.get("alert") == "bob вошёл в чат", "оповещение о bob")
    taken = Chatter(port, "АЛИСА", expect=409)  # регистр не различается
    assert not taken.closed
    alice.send({"action": "msg", "to": "#general", "message": "привет\x1b[2J"})
    got = bob.wait_for(lambda m: m.get("action") == "msg", "сообщение от Алисы")
    assert (got["from"], got["to"], got["message"]) == (
        "Алиса",
        "#general",
        "привет[2J",
    )
    alice.wait_for(lambda m: m.get("response") == 200, "200 на msg")
    assert not any(m.get("action") == "msg" for m in alice.messages())  # себе не шлёт
    bob.send({"action": "quit"})
    wait_until(lambda: bob.closed, message="после quit сервер не закрыл соединение")
    alice.wait_for(lambda m: m.get("alert") == "bob вышел из чата", "bob вышел")
    server.interrupt()
    assert server.wait_exit() == 0
    assert "Сервер остановлен." in server.stderr
    server.assert_no_traceback()


@pytest.mark.parametrize("server_name", ["final", "asyncio"])
def test_hostile_input_against_a_running_server(launch, server_name):
    """Враждебные проверки стенда — обычным тестом против запущенного сервера."""
    if server_name == "final":
        server = start_server(launch, "task4", "-q")
    else:
        server = launch([PYTHON, servers.SERVERS["asyncio"].path, "--port", "0", "-q"])
        server.port = int(server.wait_for(r"127\.0\.0\.1:(\d+)", "stderr").group(1))
    alice, bob = Chatter(server.port, "alice"), Chatter(server.port, "bob")
    config = dict(TINY["hostile"], wrong_shapes=100, resets=2, escape_msgs=4)
    probes = HostileProbes(
        ("127.0.0.1", server.port), config, time.monotonic() + 10, victim="alice"
    )
    probes.start()
    probes.join()
    failed = [result for result in probes.results if not result["ok"]]
    assert len(probes.results) == 8 and not failed, failed
    for chatter in (alice, bob):
        # Все строки разбираются (сервер не переслал мусор), и нигде нет ESC, BEL, CSI…
        assert not any(has_control_chars(message) for message in chatter.messages())
    texts = [m["message"] for m in alice.messages() if m.get("from") == "h_escape"]
    assert texts and all(text.startswith("[2J[H[31mзло ") for text in texts)
    assert server.running
    server.assert_no_traceback()
