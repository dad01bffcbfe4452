"""Цели: что обещано финальному серверу (задание) и шагу 6 (issue 15) и выполнено ли.

* `evaluate_targets` — цели задачи для финального сервера; сравнения — с
  шагом 0, типичным решением.
* `evaluate_pool_targets` — цели шага 6 (пул потоков): против эталона на
  asyncio и шага 0 в том же прогоне. У каждого сервера итог сценария — медиана
  его раундов; в сценариях 2 и 3 раунды идут по кругу между серверами, так
  что все они меряются в одни и те же секунды.

Цель — {"scenario", "target", "value", "met"}: met — True/False, а цели,
для которых в прогоне нет нужного сценария или сервера, в список не попадают.
"""

from __future__ import annotations

import statistics

from .report import ASYNC, FINAL, POOL, TYPICAL, fmt, run_of, thousands

# --------------------------------------------------------------------------
# Цели финального сервера (задание)
# --------------------------------------------------------------------------


def rounds_not_worse(ours: dict, other: dict) -> str:
    """«не хуже в k раундах из n» — по парам раундов p99, шедших по кругу."""
    pairs = [
        (a["p99_ms"], b["p99_ms"])
        for a, b in zip(ours.get("rounds", ()), other.get("rounds", ()), strict=False)
        if a["p99_ms"] is not None and b["p99_ms"] is not None
    ]
    won = sum(a <= b for a, b in pairs)
    return f"не хуже в {won} раундах из {len(pairs)}"


def evaluate_targets(results: dict[int, dict]) -> list[dict]:
    """Цели задачи для финального сервера: что измерено и выполнено ли."""
    targets = []

    def add(number: int, text: str, value: str, met: bool | None) -> None:
        targets.append({"scenario": number, "target": text, "value": value, "met": met})

    def rows(number: int):
        return run_of(results, number, FINAL), run_of(results, number, TYPICAL)

    ours, typical = rows(1)
    if ours:
        bad = ours["lost"] + ours["corrupted"]
        add(
            1,
            "0 потерянных и искажённых",
            f"{ours['lost']} / {ours['corrupted']}",
            bad == 0,
        )
        if typical:
            ratio = ours["deliveries_per_s"] / max(1, typical["deliveries_per_s"])
            add(
                1,
                "доставок/с ≥ 1,0× шага 0",
                f"{ratio:.2f}× (шаг 0 при этом потерял {typical['lost']} и "
                f"исказил {typical['corrupted']})",
                ratio >= 1.0,
            )
    ours, typical = rows(2)
    if ours:
        p99 = ours["p99_ms"]
        add(
            2,
            "p99 ≤ 5 мс",
            f"{p99} мс",
            p99 is not None and p99 <= 5 and ours["lost"] == 0,
        )
    ours, typical = rows(3)
    if ours:
        add(
            3,
            "каждое сообщение дошло до всех остальных",
            f"потеряно {ours['lost']}, искажено {ours['corrupted']}",
            ours["lost"] + ours["corrupted"] == 0,
        )
        if typical:
            fine = (
                ours["p99_ms"] is not None
                and typical["p99_ms"] is not None
                and ours["p99_ms"] <= typical["p99_ms"]
            )
            add(
                3,
                "p99 не хуже шага 0",
                f"{ours['p99_ms']} мс против {typical['p99_ms']} мс "
                f"(по всем раундам; {rounds_not_worse(ours, typical)})",
                fine,
            )
        add(
            3,
            "пик RSS ≤ 256 МБ",
            f"{ours['peak_rss_mb']} МБ",
            ours["peak_rss_mb"] <= 256,
        )
    ours, _ = rows(4)
    if ours:
        base = ours["plain_deliveries_per_s"]
        ratio = ours["deliveries_per_s"] / max(1, base)
        pairs = [
            a["deliveries_per_s"] / max(1, b["deliveries_per_s"])
            for a, b in zip(ours["rounds"], ours["plain_rounds"], strict=False)
        ]
        median = f"{statistics.median(pairs):.2f}×" if pairs else "—"
        add(
            4,
            "доставок/с остальным ≥ 0,9× сценария 1",
            f"{ratio:.2f}× ({ours['deliveries_per_s']} против {base} "
            "в раундах сценария 1 "
            f"на том же сервере через один; медиана по парам раундов {median})",
            ratio >= 0.9 and ours["lost"] + ours["corrupted"] + ours["plain_lost"] == 0,
        )
        total = ours["stalled_total"]
        add(
            4,
            "медленный отключён, пока идёт раунд",
            f"в {ours['stalled_disconnected']} раундах из {total} "
            f"(к началу раунда был в чате в {ours['stalled_present']})",
            ours["stalled_disconnected"] == ours["stalled_present"] == total,
        )
        add(
            4,
            "рост RSS < 64 МБ",
            f"{ours['rss_growth_mb']} МБ",
            ours["rss_growth_mb"] < 64,
        )
    ours, _ = rows(5)
    if ours:
        ratio = ours["p99_ratio"]
        add(
            5,
            "p99 с наплывом ≤ 1,2× без него",
            f"{ours['p99_ms']} мс против {ours['baseline_p99_ms']} мс ({ratio}×)",
            ratio is not None
            and ratio <= 1.2
            and ours["lost"] + ours["corrupted"] + ours["baseline_lost"] == 0,
        )
        window = ours["idle_closed_after_s"]
        closed_ok = (
            ours["idle_closed"] == ours["idle_total"]
            and window is not None
            and window[0] >= 0.95 * ours["handshake_timeout_s"]
        )
        add(
            5,
            "каждый молчун закрыт по таймауту рукопожатия",
            f"{ours['idle_closed']}/{ours['idle_total']}"
            + (f" через {window[0]}–{window[1]} с" if window else ""),
            closed_ok,
        )
    ours, _ = rows(6)
    if ours:
        add(
            6,
            "верные ответы, без трассировок, сервер жив",
            f"проверок {ours['checks_passed']}/{ours['checks_total']}",
            ours["checks_passed"] == ours["checks_total"],
        )
        add(
            6,
            "escape-последовательности не дошли до других",
            f"{ours['escapes_leaked']}",
            ours["escapes_leaked"] == 0,
        )
        add(
            6,
            "болтающие ничего не потеряли",
            f"потеряно {ours['lost']}, искажено {ours['corrupted']}",
            ours["lost"] + ours["corrupted"] == 0,
        )
    ours, _ = rows(7)
    if ours:
        add(
            7,
            "каждый вход и выход удался",
            f"{ours['cycles']} циклов, неудачных {ours['failed']}",
            ours["failed"] == 0 and ours["cycles"] > 0,
        )
    return targets


# --------------------------------------------------------------------------
# Цели шага 6 (issue 15): против asyncio и шага 0
# --------------------------------------------------------------------------

# Во сколько раз больше asyncio шаг 6 должен доставлять на пачке (сценарий 1)
POOL_BURST_VS_ASYNC = 3.0
# Во сколько раз больше памяти asyncio шагу 6 можно на cfg["clients"] соединений
POOL_MEMORY_VS_ASYNC = 1.5


def median_of_rounds(row: dict, key: str) -> float | None:
    """Медиана раундов сервера по ключу ("deliveries_per_s", "p99_ms")."""
    values = [r[key] for r in row.get("rounds", ()) if r.get(key) is not None]
    if not values:
        return row.get(key)
    return statistics.median(values)


def evaluate_pool_targets(results: dict[int, dict]) -> list[dict]:
    """Цели issue 15 для шага 6: что измерено и выполнено ли."""
    targets = []

    def add(number: int, text: str, value: str, met: bool) -> None:
        targets.append({"scenario": number, "target": text, "value": value, "met": met})

    def rows(number: int, other: str):
        return run_of(results, number, POOL), run_of(results, number, other)

    pool, typical = rows(1, TYPICAL)
    _, asyncio = rows(1, ASYNC)
    if pool:
        ours = median_of_rounds(pool, "deliveries_per_s")
        add(
            1,
            "0 потерянных и искажённых",
            f"{pool['lost']} / {pool['corrupted']}",
            pool["lost"] + pool["corrupted"] == 0,
        )
        for other, name, least in (
            (typical, "шага 0", 1.0),
            (asyncio, "asyncio", POOL_BURST_VS_ASYNC),
        ):
            if not other:
                continue
            theirs = median_of_rounds(other, "deliveries_per_s")
            ratio = ours / max(1, theirs)
            add(
                1,
                f"доставок/с ≥ {least:.1f}× {name}".replace(".", ","),
                f"{ratio:.2f}× (медианы раундов: {thousands(round(ours))} против "
                f"{thousands(round(theirs))})",
                ratio >= least,
            )
    for number in (2, 3):
        pool, asyncio = rows(number, ASYNC)
        if not (pool and asyncio):
            continue
        ours = median_of_rounds(pool, "p99_ms")
        theirs = median_of_rounds(asyncio, "p99_ms")
        add(
            number,
            "p99 ≤ asyncio",
            f"{fmt(ours, 2)} мс против {fmt(theirs, 2)} мс (медианы раундов; "
            f"{rounds_not_worse(pool, asyncio)})",
            ours is not None and theirs is not None and ours <= theirs,
        )
    pool, asyncio = rows(7, ASYNC)
    if pool and asyncio:
        add(
            7,
            "входов-выходов/с ≥ asyncio",
            f"{thousands(pool['cycles_per_s'])} против "
            f"{thousands(asyncio['cycles_per_s'])} "
            f"(неудачных {pool['failed']})",
            pool["failed"] == 0 and pool["cycles_per_s"] >= asyncio["cycles_per_s"],
        )
    pool, asyncio = rows(8, ASYNC)
    if pool and asyncio:
        limit = POOL_MEMORY_VS_ASYNC * asyncio["rss_connected_mb"]
        everyone = pool["held"] == pool["clients"] == asyncio["held"]
        add(
            8,
            f"RSS со всеми соединениями ({pool['clients']}) ≤ "
            f"{POOL_MEMORY_VS_ASYNC:g}× asyncio".replace(".", ","),
            f"{pool['rss_connected_mb']} МБ против {asyncio['rss_connected_mb']} МБ "
            f"({pool['rss_connected_mb'] / max(0.1, asyncio['rss_connected_mb']):.2f}×)"
            + ("" if everyone else "; держали не все соединения"),
            everyone and pool["rss_connected_mb"] <= limit,
        )
    if pool:
        add(
            8,
            "число потоков не растёт с числом клиентов",
            f"{pool['threads_connected']} при {pool['held']} соединениях "
            f"(при первом — {pool['threads_first']})",
            pool["held"] == pool["clients"]
            and pool["threads_connected"] <= pool["threads_first"],
        )
    return targets
