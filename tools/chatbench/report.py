"""Отчёт: таблица шагов, подробная таблица, сравнения и запись файлов.

Цели финального сервера и шага 6 считает targets.py; здесь они только
печатаются (text_report, markdown_report).

* `steps_table` — главная таблица: серверы (шаги 0–6 и asyncio) × сценарии,
  по строке на сервер; «не умеет», «не меряем», «завис» — прямо в клетках.
* `comparisons` — где типичное решение (шаг 0) или asyncio быстрее
  финального сервера и шага 6 и чем за это платит: словами, из тех же чисел.
* `table_rows`, `row_note` — подробная таблица: строка на сценарий и сервер.
* `text_report` (терминал) и `markdown_report` (docs/lab1/bench/chat_bench.md,
  страница задания 4 вставляет его целиком); `write_report` пишет JSON и
  Markdown рядом.
"""

from __future__ import annotations

import json
from pathlib import Path

from .servers import SERVERS

FINAL, POOL, TYPICAL, ASYNC = "final", "06-thread-pool", "00-typical", "asyncio"


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def thousands(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def number_text(value: float, digits: int) -> str:
    """Число для текста: с digits знаками после запятой или, если 0, — целое с
    пробелами между тысячами."""
    return fmt(float(value), digits) if digits else thousands(round(value))


def run_of(results: dict, number: int, kind: str) -> dict | None:
    """Строка сценария для сервера; None — не мерили или сервер не умеет."""
    row = results.get(number, {}).get("runs", {}).get(kind)
    if row is None or "unsupported" in row:
        return None
    return row


def values_of(
    results: dict, number: int, key: str, first: str, second: str
) -> tuple[float, float] | None:
    """Значения key у двух серверов в сценарии; None — если у кого-то его нет."""
    a, b = run_of(results, number, first), run_of(results, number, second)
    if not (a and b) or a.get(key) is None or b.get(key) is None:
        return None
    return a[key], b[key]


def not_measured(row: dict) -> str:
    """Почему строки нет: сервер не умеет — или умеет, но замер ему не по силам
    за разумное время (сценарий 8 у шагов 0–4)."""
    return "не меряем" if row.get("skipped") else "не умеет"


# --------------------------------------------------------------------------
# Таблица шагов: серверы × сценарии
# --------------------------------------------------------------------------


def _losses(row: dict) -> str:
    parts = []
    if row["lost"]:
        parts.append(f"потеряно {thousands(row['lost'])}")
    if row["corrupted"]:
        parts.append(f"искажено {thousands(row['corrupted'])}")
    return ", ".join(parts)


def _with_losses(text: str, row: dict) -> str:
    losses = _losses(row)
    return f"{text} ({losses})" if losses else text


def _cell_burst(row: dict) -> str:
    return thousands(row["deliveries_per_s"])


def _cell_burst_bad(row: dict) -> str:
    text = f"{thousands(row['lost'])} / {thousands(row['corrupted'])}"
    if row.get("unsent"):
        text += f", не отправлено {thousands(row['unsent'])}"
    return text


def _cell_p99(row: dict) -> str:
    return _with_losses(fmt(row["p99_ms"], 2), row)


def _cell_rss(row: dict) -> str:
    return f"{fmt(row['rss_connected_mb'])} (потоков: {row['threads_connected']})"


def _cell_memory(row: dict) -> str:
    text = (
        f"{fmt(row['rss_connected_mb'])} (пустой {fmt(row['rss_empty_mb'])}; "
        f"потоков: {row['threads_connected']})"
    )
    if row["held"] < row["clients"]:
        text += f", держит только {thousands(row['held'])}"
    return text


def _cell_stalled(row: dict) -> str:
    total = row["stalled_total"]
    if row["stalled_frozen"]:
        return (
            f"**завис**: потеряно {thousands(row['lost'])} из "
            f"{thousands(row['expected'])}"
        )
    if not row["stalled_disconnected"]:
        return _with_losses("не отключает", row)
    text = thousands(row["deliveries_per_s"])
    if row["plain_deliveries_per_s"]:
        ratio = row["deliveries_per_s"] / row["plain_deliveries_per_s"]
        text += f" ({ratio:.2f}× без молчуна)"
    text += f", отключён {row['stalled_disconnected']}/{total}"
    return _with_losses(text, row)


def _cell_flood(row: dict) -> str:
    text = f"{fmt(row['p99_ms'], 2)} / {fmt(row['baseline_p99_ms'], 2)}"
    if row["idle_closed"] is None:
        text += ", молчунов не закрывает"
    else:
        text += f", закрыто {row['idle_closed']}/{row['idle_total']}"
    return _with_losses(text, row)


def _cell_hostile(row: dict) -> str:
    text = f"{row['checks_passed']}/{row['checks_total']}"
    if row["escapes_leaked"]:
        text += f", escape дошло {thousands(row['escapes_leaked'])}"
    return text


def _cell_churn(row: dict) -> str:
    text = thousands(row["cycles_per_s"])
    if row["failed"]:
        text += f" (неудачных {row['failed']})"
    return text


# (заголовок, номер сценария, клетка из строки сценария)
STEP_COLUMNS = [
    ("1. Доставок/с", 1, _cell_burst),
    ("1. Потеряно / искажено", 1, _cell_burst_bad),
    ("2. p99, мс", 2, _cell_p99),
    ("3. p99, мс", 3, _cell_p99),
    ("3. RSS после входа всех, МБ", 3, _cell_rss),
    ("4. С молчуном: доставок/с", 4, _cell_stalled),
    ("5. Наплыв: p99 / без, мс", 5, _cell_flood),
    ("6. Проверок", 6, _cell_hostile),
    ("7. Входов-выходов/с", 7, _cell_churn),
    ("8. RSS со всеми соединениями, МБ", 8, _cell_memory),
]


def steps_table(report: dict) -> dict:
    """Главная таблица: заголовок и строки (сервер и клетки по сценариям)."""
    by_number = {s["number"]: s for s in report["scenarios"]}
    columns = [c for c in STEP_COLUMNS if c[1] in by_number]
    header = ["Сервер"] + [title for title, _, _ in columns]
    rows = []
    for kind in report["servers"]:
        cells = [SERVERS[kind].label]
        for _, number, cell in columns:
            row = by_number[number]["runs"].get(kind)
            if row is None:
                cells.append("—")
            elif "unsupported" in row:
                cells.append(not_measured(row))
            else:
                cells.append(cell(row))
        rows.append(cells)
    return {"header": header, "rows": rows}


# --------------------------------------------------------------------------
# Где быстрее типичное решение и asyncio — словами
# --------------------------------------------------------------------------


def times(a: float, b: float) -> str:
    """Во сколько раз a больше или меньше b — словами: «в 3.1 раза меньше»."""
    if not a or not b:
        return "—"
    return f"в {a / b:.1f} раза больше" if a >= b else f"в {b / a:.1f} раза меньше"


def comparisons(report: dict) -> list[str]:
    """Где шаг 0 или asyncio опережают финальный сервер (и шаг 6) и чем платят —
    словами."""
    results = {s["number"]: s for s in report["scenarios"]}
    lines = []

    def pair(number: int, other: str):
        return run_of(results, number, FINAL), run_of(results, number, other)

    final, typical = pair(1, TYPICAL)
    if final and typical:
        lines.append(
            f"Сценарий 1: шаг 0 доставляет {thousands(typical['deliveries_per_s'])} "
            "в секунду — "
            + times(typical["deliveries_per_s"], final["deliveries_per_s"])
            + f", чем финальный ({thousands(final['deliveries_per_s'])}); а из "
            f"{thousands(typical['expected'])} ожидаемых доставок "
            f"{thousands(typical['lost'])} потеряно и "
            f"{thousands(typical['corrupted'])} строк пришли рваными или склеенными "
            f"(трассировок в логе: {typical.get('tracebacks', 0)} — поток клиента "
            "падает на букве, разрезанной между двумя recv, и больше не читает)."
        )
    for number in (2, 3, 5):
        final, typical = pair(number, TYPICAL)
        if not (final and typical and typical["p50_ms"] and final["p50_ms"]):
            continue
        median_lower = typical["p50_ms"] < final["p50_ms"]
        tail_lower = typical["p99_ms"] < final["p99_ms"]
        if not (median_lower or tail_lower):
            continue
        median = f"{typical['p50_ms']:.2f} против {final['p50_ms']:.2f} мс"
        tail = f"{typical['p99_ms']:.1f} против {final['p99_ms']:.1f} мс"
        if median_lower and tail_lower:
            text = (
                f"Сценарий {number}: шаг 0 быстрее и в медиане ({median}), и в p99 "
                f"({tail}) — он пересылает байты, не разбирая JSON; платит тем, что "
                "ничего не проверяет."
            )
        elif median_lower:
            text = (
                f"Сценарий {number}: у шага 0 медиана ниже ({median}) — он пересылает "
                f"байты, не разбирая JSON; но p99 — {tail}: шаг 0 не выключает "
                "алгоритм Нейгла."
            )
        else:
            text = (
                f"Сценарий {number}: у шага 0 p99 ниже ({tail}; медиана — "
                f"{median}) — он пересылает байты, не разбирая JSON; платит тем, "
                "что ничего не проверяет."
            )
        lines.append(text)
    frozen = [
        SERVERS[kind].short
        for kind in report["servers"]
        if (row := run_of(results, 4, kind)) and row.get("stalled_frozen")
    ]
    if frozen:
        lines.append(
            "Сценарий 4: один клиент, который не читает, останавливает сервер — "
            + ", ".join(frozen)
            + ": их потоки ждут в sendall, пока он не прочтёт, и почти всё остальное "
            "теряется; у кого есть граница очереди, те его отключают, а остальные "
            "этого не замечают."
        )
    lines += at_the_limit(results, report["servers"])
    lines += pool_comparison(results)
    lines += asyncio_comparison(results)
    lines += asyncio_comparison(results, POOL)
    return lines


def pool_comparison(results: dict) -> list[str]:
    """Шаг 6 против финального: что дал пул потоков вместо потока на клиента."""
    parts = []
    for number, key, text, unit, digits in (
        (1, "deliveries_per_s", "доставок/с на пачке", "", 0),
        (3, "p99_ms", "p99 сценария 3", " мс", 1),
        (8, "rss_connected_mb", "память со всеми соединениями", " МБ", 1),
        (8, "threads_connected", "потоков при них", "", 0),
    ):
        values = values_of(results, number, key, POOL, FINAL)
        if values is None:
            continue
        pool, final = values
        shown = f"{number_text(pool, digits)} против "
        parts.append(f"{text} — {shown}{number_text(final, digits)}{unit}")
    if not parts:
        return []
    return [
        "Шаг 6 (пул потоков) против финального (поток на клиента): "
        + "; ".join(parts)
        + ". Соединение шага 6 — сокет и объект в селекторе одного из двух "
        "обработчиков, а не поток со своим стеком и своим селектором."
    ]


def at_the_limit(results: dict, kinds: list[str]) -> list[str]:
    """Кому темп сценария 2 — больше, чем он вообще успевает на пачке."""
    scenario = results.get(2)
    if not scenario:
        return []
    offered = scenario.get("offered_deliveries_per_s")
    slow = [
        (SERVERS[kind].short, burst["deliveries_per_s"], latency["p99_ms"])
        for kind in kinds
        if (burst := run_of(results, 1, kind))
        and (latency := run_of(results, 2, kind))
        and offered
        and burst["deliveries_per_s"] < offered
        and not burst["lost"]
    ]
    if not slow:
        return []
    return [
        f"Сценарий 2 просит {thousands(offered)} доставок в секунду, а на пачке "
        "(сценарий 1) успевают меньше: "
        + ", ".join(f"{name} — {thousands(rate)}" for name, rate, _ in slow)
        + ". Это их предел, и хвост задержки там — очередь (p99 "
        + ", ".join(f"{name} — {fmt(p99, 1)} мс" for name, _, p99 in slow)
        + "); от прогона к прогону он прыгает от миллисекунд до секунд."
    ]


def asyncio_comparison(results: dict, ours: str = FINAL) -> list[str]:
    """asyncio против финального (или шага 6): где лучше, где хуже, и почему (для
    финального — по профилям)."""
    better, worse = [], []

    def compare(number, key, text, unit, digits, higher_is_better):
        values = values_of(results, number, key, ASYNC, ours)
        if values is None:
            return None
        a, b = values
        shown = f"{text}: {number_text(a, digits)} против {number_text(b, digits)}"
        shown += f" {unit}"
        wins = a > b if higher_is_better else a < b
        (better if wins else worse).append(shown)
        return wins

    slow_burst = compare(1, "deliveries_per_s", "сценарий 1", "доставок/с", 0, True)
    compare(2, "p99_ms", "сценарий 2, p99", "мс", 2, False)
    compare(3, "p99_ms", "сценарий 3, p99", "мс", 1, False)
    compare(3, "rss_connected_mb", "память после входа всех", "МБ", 1, False)
    compare(6, "p99_ms", "сценарий 6, p99", "мс", 1, False)
    churn = compare(7, "cycles_per_s", "вход и выход", "в секунду", 0, True)
    compare(8, "rss_connected_mb", "память со всеми соединениями", "МБ", 1, False)
    if not (better or worse):
        return []
    whom = {FINAL: "финального сервера", POOL: "шага 6 (пула потоков)"}[ours]
    lines = [
        f"asyncio против {whom}: "
        + (f"лучше — {'; '.join(better)}" if better else "лучше нигде")
        + (f". Хуже — {'; '.join(worse)}" if worse else "")
        + "."
    ]
    if ours != FINAL:  # объяснения ниже — из профилей финального сервера
        return lines
    if slow_burst is False:
        lines.append(
            "Почему asyncio отстаёт на пачках (сценарии 1 и 4): writer.write сразу "
            "зовёт send, пока буфер транспорта пуст, — на каждого получателя каждой "
            "строки свой системный вызов (в профиле сценария 1 — send на каждую "
            "доставку, 245 тысяч за раунд, около 40 % времени сервера), и всё это "
            "в одном потоке. Финальный сервер "
            "копит строки получателя в его очереди и отправляет пачкой — сотни строк "
            "одним send — и делает это в двух писателях, пока потоки чтения "
            "разбирают JSON."
        )
    if churn:
        lines.append(
            "Почему asyncio быстрее на входе и выходе: соединению не нужен свой "
            "поток — ни его запуска, ни своего селектора, только корутина."
        )
    return lines


# --------------------------------------------------------------------------
# Подробная таблица: строка на сценарий и сервер
# --------------------------------------------------------------------------


def row_note(number: int, row: dict) -> str:
    """Особые числа сценария — в колонку «Прочее»."""
    notes = []
    if row.get("unsent"):
        notes.append(f"не отправлено {row['unsent']}")
    if row.get("lost") and row.get("waited_s"):
        notes.append(f"ждали пропавшего {fmt(row['waited_s'])} с (не в скорости)")
    if number == 3:
        notes.append(
            f"RSS после входа всех {fmt(row['rss_connected_mb'])} МБ, "
            f"потоков {row['threads_connected']}"
        )
    if number == 4:
        if row["stalled_frozen"]:
            notes.append("завис: молчуна не отключил, остальные ждали")
        notes.append(
            f"медленных отключено {row['stalled_disconnected']}/{row['stalled_total']}"
        )
        if row["plain_deliveries_per_s"]:
            notes.append(
                f"без молчуна {thousands(row['plain_deliveries_per_s'])} доставок/с"
            )
        notes.append(f"рост RSS {fmt(row['rss_growth_mb'])} МБ")
    if len(row.get("rounds", ())) > 1:
        if number in (2, 3):
            notes.append(
                "p99 по раундам "
                + "/".join(fmt(r["p99_ms"], 1) for r in row["rounds"])
                + " мс"
            )
        else:
            notes.append(
                "тыс. доставок/с по раундам "
                + "/".join(f"{r['deliveries_per_s'] / 1000:.0f}" for r in row["rounds"])
            )
    if number == 5:
        notes.append(f"p99 без наплыва {fmt(row['baseline_p99_ms'], 2)} мс")
        closed = row["idle_closed_after_s"]
        if row["idle_closed"] is None:
            notes.append("молчунов не закрывает (срока рукопожатия нет)")
        else:
            notes.append(
                f"молчунов закрыто {row['idle_closed']}/{row['idle_total']}"
                + (f" за {closed[0]}–{closed[1]} с" if closed else "")
            )
    if number == 6:
        notes.append(f"проверок {row['checks_passed']}/{row['checks_total']}")
        notes.append(f"escape дошло {row['escapes_leaked']}")
    if number == 7:
        notes.append(
            f"циклов {row['cycles']}, неудачных {row['failed']}, p99 цикла "
            f"{fmt(row['p99_ms'], 2)} мс"
        )
    if number == 8:
        notes += memory_notes(row)
    if row.get("tracebacks"):
        notes.append(f"трассировок {row['tracebacks']}")
    if row.get("generator_late_ms", 0) >= 5:
        notes.append(f"генератор опаздывал до {fmt(row['generator_late_ms'])} мс")
    if "loadgen_cpu_s" in row:
        notes.append(
            f"CPU сервер/нагрузка {fmt(row['server_cpu_s'])}/"
            f"{fmt(row['loadgen_cpu_s'])} с"
        )
    return "; ".join(notes)


def memory_notes(row: dict) -> list[str]:
    """Сценарий 8: память пустого и со всеми, на соединение, потоки, неудачи."""
    notes = [
        f"соединений {thousands(row['held'])}/{thousands(row['clients'])} за "
        f"{fmt(row['connect_s'])} с (p50/p99 — от connect до ответа 401)",
        f"RSS пустого {fmt(row['rss_empty_mb'])} МБ → со всеми "
        f"{fmt(row['rss_connected_mb'])} МБ"
        + (
            f", ≈{fmt(row['kib_per_connection'])} КиБ на соединение"
            if row["kib_per_connection"] is not None
            else ""
        ),
        f"потоков при первом соединении {row['threads_first']}, при всех "
        f"{row['threads_connected']}",
    ]
    if row["failed"]:
        notes.append(
            "неудачных "
            + ", ".join(f"{why}: {n}" for why, n in row["failures"].items())
        )
    return notes


TABLE_HEADER = [
    "Сценарий",
    "Сервер",
    "Доставок/с",
    "p50, мс",
    "p99, мс",
    "max, мс",
    "Потеряно",
    "Искажено",
    "Пик RSS, МБ",
    "Потоков",
    "Прочее",
]


def table_rows(report: dict) -> list[list[str]]:
    rows = []
    for scenario in report["scenarios"]:
        for kind, row in scenario["runs"].items():
            head = [f"{scenario['number']}. {scenario['name']}", SERVERS[kind].label]
            if "unsupported" in row:
                rows.append(
                    head + ["—"] * 8 + [f"{not_measured(row)}: {row['unsupported']}"]
                )
                continue
            rate = row.get("deliveries_per_s", row.get("cycles_per_s"))
            rows.append(
                head
                + [
                    "—" if rate is None else thousands(rate),
                    fmt(row["p50_ms"], 2),
                    fmt(row["p99_ms"], 2),
                    fmt(row["max_ms"], 1),
                    str(row.get("lost", "—")),
                    str(row.get("corrupted", "—")),
                    fmt(row["peak_rss_mb"]),
                    str(row["peak_threads"]),
                    row_note(scenario["number"], row),
                ]
            )
    return rows


def plain_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Таблица для терминала: колонки по ширине."""
    rows = [header] + rows
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


# (заголовок, ключ отчёта): цели финального сервера и шага 6 (targets.py)
TARGET_LISTS = [
    ("Цели финального сервера", "targets"),
    ("Цели шага 6 (пул потоков) — против asyncio и шага 0", "pool_targets"),
]


def text_report(report: dict) -> str:
    steps = steps_table(report)
    lines = [f"Команда: {report['command']}", ""]
    lines += plain_table(steps["header"], [r for r in steps["rows"]])
    lines += ["", "Подробно:"]
    lines += plain_table(TABLE_HEADER[:-1], [r[:-1] for r in table_rows(report)])
    for scenario in report["scenarios"]:
        for kind, row in scenario["runs"].items():
            if "unsupported" not in row:
                note = row_note(scenario["number"], row)
                lines.append(f"  {scenario['number']}. {SERVERS[kind].label}: {note}")
    lines += [""] + [f"* {line}" for line in report["comparisons"]]
    for title, key in TARGET_LISTS:
        if report.get(key):
            lines += ["", f"{title}:"]
        for target in report.get(key, ()):
            mark = {True: "да ", False: "НЕТ", None: " ? "}[target["met"]]
            lines.append(
                f"  [{mark}] {target['scenario']}. {target['target']}: "
                f"{target['value']}"
            )
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Markdown для сайта
# --------------------------------------------------------------------------


def markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in rows]
    return lines


def mermaid_chart(title: str, axis: str, labels: list[str], values: list[float]) -> str:
    top = max(values + [1.0]) * 1.1
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'    title "{title}"',
            "    x-axis [" + ", ".join(f'"{label}"' for label in labels) + "]",
            f'    y-axis "{axis}" 0 --> {top:.4g}',
            "    bar [" + ", ".join(f"{value:.4g}" for value in values) + "]",
            "```",
        ]
    )


def markdown_report(report: dict) -> str:
    machine = report["machine"]
    steps = steps_table(report)
    lines = [
        f"Замер {machine['date']}: {machine['cpu']}, ядер {machine['cores']}, "
        f"Python {machine['python']}, {machine['os']}; размер `{report['scale']}`, "
        f"прогон {report['duration_s']:.0f} с. Все серверы — подпроцессы того же "
        "интерпретатора на той же машине, что и генератор нагрузки; сценарии идут "
        "по очереди, в сценарии 3 все серверы держат своих клиентов одновременно. "
        "Флаг `-q` (без строки лога на сообщение) получают только те, у кого он "
        "есть (финальный, шаг 6 и asyncio); шаги 0–4 пишут строку лога на каждое "
        "сообщение — так их и сдают.",
        "",
        "Команда прогона:",
        "",
        "```bash",
        report["command"],
        "```",
        "",
    ]
    lines += markdown_table(steps["header"], steps["rows"])
    lines += [
        "",
        "Доставок/с — целые доставки за активное окно: от первой отправки до "
        "последней доставки; потерянное и искажённое — отдельно, рядом. "
        "p99 сценария 5 — с наплывом / без него. «Не умеет» — у сервера нет "
        "того, что нужно сценарию; «не меряем» — сценарий серверу по силам, но "
        "занял бы минуты (сценарий 8 у шагов 0–4: поток на каждое из тысяч "
        "соединений); «завис» — сервер перестал доставлять всем.",
    ]
    if report["comparisons"]:
        lines += ["", "Что видно из таблицы:", ""]
        lines += [f"- {line}" for line in report["comparisons"]]
    lines += ["", "Сценарии:", ""]
    lines += [
        f"{scenario['number']}. {scenario['name']}: {scenario['description']}."
        for scenario in report["scenarios"]
    ]
    lines += ["", "Команды серверов (номера — сценарии):", ""]
    for kind in report["servers"]:
        by_command: dict[str, list[str]] = {}
        for scenario in report["scenarios"]:
            row = scenario["runs"].get(kind)
            if row and "command" in row:
                by_command.setdefault(row["command"], []).append(
                    str(scenario["number"])
                )
        if by_command:
            lines.append(
                f"- {SERVERS[kind].label}: "
                + "; ".join(
                    f"{', '.join(numbers)} — `{command}`"
                    for command, numbers in by_command.items()
                )
            )
    lines += ["", "Подробно — строка на сценарий и сервер:", ""]
    lines += markdown_table(TABLE_HEADER, table_rows(report))
    for title, key in TARGET_LISTS:
        if not report.get(key):
            continue
        lines += ["", f"{title}:", ""]
        lines += markdown_table(
            ["Сценарий", "Цель", "Измерено", "Выполнена"],
            [
                [
                    str(t["scenario"]),
                    t["target"],
                    t["value"],
                    {True: "да", False: "**нет**", None: "не измерено"}[t["met"]],
                ]
                for t in report[key]
            ],
        )
    by_number = {s["number"]: s for s in report["scenarios"]}
    for number, title, axis, key, scale in (
        (1, "Сценарий 1: доставок в секунду, тысяч", "тыс./с", "deliveries_per_s", 1e3),
        (3, "Сценарий 3: p99 задержки, мс", "мс", "p99_ms", 1),
        (7, "Сценарий 7: входов-выходов в секунду", "в секунду", "cycles_per_s", 1),
        (8, "Сценарий 8: RSS со всеми соединениями, МБ", "МБ", "rss_connected_mb", 1),
    ):
        runs = by_number.get(number, {}).get("runs", {})
        points = [
            (SERVERS[kind].short, row[key] / scale)
            for kind, row in runs.items()
            if "unsupported" not in row and row.get(key) is not None
        ]
        if points:
            lines += [
                "",
                mermaid_chart(
                    title, axis, [p[0] for p in points], [p[1] for p in points]
                ),
            ]
    if report["notes"]:
        lines += [""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def write_report(report: dict, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "chat_bench.json"
    md_path = directory / "chat_bench.md"
    json_path.write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    md_path.write_text(markdown_report(report), encoding="utf-8")
    return [json_path, md_path]
