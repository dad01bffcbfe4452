"""Командная строка стенда и один прогон от начала до конца.

* `build_parser` — флаги: --servers, --scenarios, --scale, --out, --write-docs,
  --json, -q.
* `run_bench` — прогон: поднять предел файлов, пройти сценарии по порядку (в
  сценарии 3 — все серверы разом), собрать отчёт (машина, команда, таблицы,
  цели, сравнения, заметки о шуме).
* `main` — точка входа (её зовёт tools/chat_bench.py): отчёт в терминал или
  JSON, файлы — в --out или в docs/lab1/bench/.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import resource
import shlex
import sys
import time
from pathlib import Path

from .config import DEFAULT_OUT, DOCS_OUT, ENTRY, ROOT, SCALES, BenchError
from .report import comparisons, not_measured, text_report, write_report
from .scenarios import PAIRED, SCENARIOS, Context, Progress, by_tier, describe
from .servers import SERVERS, resolve, shown_path
from .targets import evaluate_pool_targets, evaluate_targets


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
    """1000+ сокетов на сервер: мягкий предел на файлы поднимаем до жёсткого (его
    наследуют серверы)."""
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
    if 8 in numbers:  # соединения сценария 8 — у нас, и столько же — у сервера
        need = max(need, scale["memory"]["clients"])
    return need + 100


def run_scenario(ctx: Context, number: int, notes: list[str]) -> dict:
    """Один сценарий на всех серверах прогона: запись для отчёта."""
    name, run = SCENARIOS[number]
    entry = {
        "number": number,
        "name": name,
        "description": describe(ctx, number),
        "runs": {},
    }
    if number == 2:  # сколько доставок в секунду просит темп
        cfg = ctx.scale["latency"]
        entry["offered_deliveries_per_s"] = cfg["rate"] * (cfg["clients"] - 1)
    # Сценарии 2 и 3 получают все серверы разом, остальные — по одному.
    groups = [ctx.servers] if number in PAIRED else [[kind] for kind in ctx.servers]
    for kinds in groups:
        who = ", ".join(SERVERS[kind].label for kind in kinds)
        if time.monotonic() > ctx.deadline - 5:
            notes.append(
                f"Сценарий {number} ({who}) пропущен: кончился бюджет времени."
            )
            ctx.progress.say(notes[-1])
            continue
        ctx.progress.say(f"{number}. {name} — {who}: {entry['description']}")
        gc.collect()
        # Паузы сборщика мусора генератора не должны попасть в задержки
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            rows = (
                run(ctx, number, kinds)
                if number in PAIRED
                else {kinds[0]: run(ctx, number, kinds[0])}
            )
        finally:
            if was_enabled:
                gc.enable()
        for kind, row in rows.items():
            entry["runs"][kind] = row
            if "unsupported" in row:
                ctx.progress.say(
                    f"{number}. {SERVERS[kind].label}: {not_measured(row)} — "
                    f"{row['unsupported']}"
                )
            elif "rss_empty_mb" in row:
                ctx.progress.say(
                    f"{number}. {SERVERS[kind].label}: держит {row['held']}/"
                    f"{row['clients']}, RSS {row['rss_empty_mb']} → "
                    f"{row['rss_connected_mb']} МБ, потоков {row['threads_connected']}"
                )
            elif "deliveries_per_s" in row:
                ctx.progress.say(
                    f"{number}. {SERVERS[kind].label}: доставок/с "
                    f"{row['deliveries_per_s']}, p99 {row['p99_ms']} мс, потеряно "
                    f"{row['lost']}, искажено {row['corrupted']}, RSS "
                    f"{row['peak_rss_mb']} МБ, потоков {row['peak_threads']}"
                )
            else:
                ctx.progress.say(
                    f"{number}. {SERVERS[kind].label}: циклов/с {row['cycles_per_s']}"
                    f", неудачных {row['failed']}, RSS {row['peak_rss_mb']} МБ"
                )
    return entry


def run_notes(ctx: Context, scenarios: list[dict], noise: dict | None) -> list[str]:
    scale = ctx.scale
    notes = [
        "Задержка = время прихода в ядро получателя (SO_TIMESTAMPNS) − время "
        "отправки, вшитое в текст; «потеряно» — не дошло целым за "
        f"{scale['quiet']:g} с тишины после последней доставки; «искажено» — "
        "строки, которые не разбираются или не совпадают с отправленным (и дубли).",
        "Доставок/с — у всех серверов за одно и то же окно: от первой отправки до "
        "последней доставки. Сколько стенд потом ждал пропавшего, в скорость не "
        "входит (в подробной таблице — «ждали пропавшего»).",
        "В сценариях 1 и 4 отправители не ждут доставки (нагрузка «сколько влезет»), "
        "поэтому задержка там — время в очередях перегруженного сервера; задержку "
        "самого пути сообщения показывают сценарии 2, 3 и 5.",
    ]
    if any(SERVERS[k].tier == "step" for k in ctx.servers):
        notes.append(
            "Чтобы полный прогон восьми серверов уложился в десять минут, шаги 0–4 "
            "меряются короче: раундов в сценарии 1 ("
            + by_tier(scale["burst"]["rounds"])
            + "), пар раундов в сценарии 4 ("
            + by_tier(scale["stalled"]["rounds"])
            + "). Их итог шумнее, но разница, которую они показывают, больше шума."
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
            + ", ".join(
                f"сценарий {n}, {SERVERS[k].label}: {v:g} мс" for n, k, v in late
            )
            + "): в сценарии 6 его тормозят потоки враждебных проверок в том же "
            "процессе, в остальных — что-то ещё на машине; хвосты задержек там шумные."
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
    return notes


def run_bench(args) -> dict:
    progress = Progress(quiet=args.quiet)
    missing = [kind for kind in args.servers if not SERVERS[kind].exists]
    if missing and args.servers_given:
        raise BenchError(
            "нет сервера: "
            + ", ".join(shown_path(str(SERVERS[k].path)) for k in missing)
        )
    servers = [kind for kind in args.servers if kind not in missing]
    notes = [
        f"Сервера «{SERVERS[kind].label}» ещё нет "
        f"({shown_path(str(SERVERS[kind].path))}) — в прогоне его нет."
        for kind in missing
    ]
    ctx = Context(args.scale, servers, Path(args.out) / "logs", progress)
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
    for number in args.scenarios:
        entry = run_scenario(ctx, number, notes)
        scenarios.append(entry)
        ctx.results[number] = entry
    noise = foreign_cpu(cpu_started, cpu_accounting(), time.monotonic() - started)
    report = {
        "machine": machine,
        "command": args.command,
        "scale": args.scale,
        "servers": servers,
        "duration_s": round(time.monotonic() - started, 1),
        "foreign_load": noise,
        "scenarios": scenarios,
        "targets": evaluate_targets(ctx.results),
        "pool_targets": evaluate_pool_targets(ctx.results),
        "notes": notes + run_notes(ctx, scenarios, noise),
    }
    report["comparisons"] = comparisons(report)
    return report


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
    names = [part.strip() for part in text.split(",") if part.strip()]
    try:
        keys = [resolve(name) for name in names]
    except BenchError as error:
        raise argparse.ArgumentTypeError(
            f"{error}; есть: {', '.join(SERVERS)} (или step0…step6)"
        ) from None
    if not keys:
        raise argparse.ArgumentTypeError("назовите хотя бы один сервер")
    return [key for key in SERVERS if key in keys]  # порядок — как в таблице


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python tools/chat_bench.py",
        description="Нагрузочный стенд чата задания 4: шаги 0–4, финальный "
        "сервер, шаг 6 (пул потоков) и эталон на asyncio в одном прогоне; "
        f"сценариев {len(SCENARIOS)}: "
        + "; ".join(f"{n} — {name.lower()}" for n, (name, _) in SCENARIOS.items())
        + ".",
    )
    parser.add_argument(
        "--servers",
        type=parse_servers,
        default=None,
        help="какие серверы мерить, через запятую: "
        + ", ".join(SERVERS)
        + " (или step0…step6, step5 = final, step6 = pool); по умолчанию все",
    )
    parser.add_argument(
        "--scenarios",
        type=parse_scenarios,
        default=sorted(SCENARIOS),
        help="какие сценарии запускать, через запятую (по умолчанию все: "
        + ",".join(map(str, SCENARIOS))
        + ")",
    )
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="full",
        help="full — для отчёта, tiny — крошечный прогон для тестов",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="куда писать chat_bench.json, chat_bench.md и логи серверов "
        "(по умолчанию tools/bench-out/)",
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
    return parser


def command_line(argv: list[str]) -> str:
    """Команда прогона, как её набрать из корня репозитория."""
    shown = ENTRY.relative_to(ROOT)
    return " ".join(["python3", str(shown)] + [shlex.quote(a) for a in argv])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.servers_given = args.servers is not None
    args.servers = args.servers or list(SERVERS)
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
        print(text_report(report))
        for path in written:
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            print(f"Записано: {shown}")
    return 0
