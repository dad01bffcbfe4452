"""Сценарии стенда: что делает каждый и как из фаз получается строка отчёта.

Номер → название и функция — в SCENARIOS; описание с числами текущего размера
— `describe`. Функция сценария получает Context (размер, логи, бюджет времени)
и ключ сервера (сценарий 3 — сразу все ключи: серверы работают одновременно)
и возвращает строку отчёта — или {"unsupported": "почему"}, если серверу
нечем пройти сценарий (шаг 0 не отвечает на presence — сценарий 7).

Кирпичики:
* `phase` — одна замеренная фаза: отправить, дождаться доставок (или
  `quiet` секунд тишины), снять строку учёта, CPU, память и потоки сервера;
* `burst_phase` (все шлют как можно быстрее, с затихшего сервера) и
  `paced_phase` (ровный или пуассоновский темп);
* `fill_stalled` — заполнить буферы ядра клиенту, который не читает;
* `open_chatters`, `finish` и `shut_down` — начало и конец сценария.

Сценарии:
1. Пропускная способность: раунды «все шлют сразу»; итог — по всем раундам.
2. Задержка: пуассоновский темп на 50 клиентов; все серверы держат их
   одновременно, раунды идут по кругу.
3. Масштаб: то же с 1000 клиентов у каждого сервера; память — сразу после
   подключения.
4. Медленный читатель: раунды сценария 1 через один с раундами, где есть
   клиент, который не читает. Кто его не отключает — встаёт (завис).
5. Наплыв молчунов: 500 соединений без presence рядом с чатом.
6. Враждебный ввод: probes.HostileProbes рядом с чатом.
7. Вход и выход: churn.register_quit.
8. Память: holding.hold_connections держит тысячи соединений (без presence),
   а память и потоки сервера — из /proc до и после.
"""

from __future__ import annotations

import array
import contextlib
import math
import os
import socket
import sys
import time
from pathlib import Path

from .churn import register_quit
from .config import HOST, ROOT, SCALES
from .holding import Held, hold_connections
from .ledger import MARK, PADS, json_line, merge_rounds, percentiles
from .load import RECV_SIZE, Client, Load
from .probes import HostileProbes, still_answers
from .servers import BACKLOG, JIM, PRIVATE, SERVERS, TIMEOUTS, ServerProcess

# Сервер затих: за столько секунд его процессорное время почти не выросло
IDLE_WINDOW = 0.1


class Progress:
    """Строки хода работы в stderr: «[  12.3 с] …»."""

    def __init__(self, quiet: bool = False) -> None:
        self.start = time.monotonic()
        self.quiet = quiet

    def say(self, text: str) -> None:
        if text and not self.quiet:
            print(
                f"[{time.monotonic() - self.start:6.1f} с] {text}",
                file=sys.stderr,
                flush=True,
            )


class Context:
    """Общее для всех сценариев прогона: размер, куда писать логи, бюджет времени."""

    def __init__(
        self, scale: str, servers: list[str], log_dir: Path, progress: Progress
    ) -> None:
        self.scale_name = scale
        self.scale = SCALES[scale]
        self.servers = servers
        self.log_dir = log_dir
        self.progress = progress
        self.deadline = time.monotonic() + self.scale["budget"]
        self.results: dict[int, dict] = {}
        self._stall_plan: dict | None = None

    def warmup(self, kind: str) -> bool:
        """Нужен ли серверу разгонный раунд перед пачками (по его ярусу)."""
        return self.scale["burst"]["warmup"][SERVERS[kind].tier]

    def rounds(self, section: str, kind: str) -> int:
        """Раундов сценария у сервера (по его ярусу)."""
        return self.scale[section]["rounds"][SERVERS[kind].tier]

    def stall_plan(self) -> dict:
        """Сценарий 4: сколько байт ядро держит в буферах сокета того, кто не читает.

        На loopback — мегабайты (см. net.ipv4.tcp_wmem): пока они не полны, не
        застрянет ни шаг 0, ни очередь финального сервера. Меряем это число здесь
        же на своей паре сокетов: до раунда три четверти его шлём медленному
        разом, остальное — шагами (см. fill_stalled).
        """
        if self._stall_plan is None:
            cfg, stall = self.scale["burst"], self.scale["stalled"]
            fill_line = len(delivered_line("stalled", fill_text(stall["text"])))
            self._stall_plan = {
                "kernel_bytes": kernel_buffer_capacity(stall["rcvbuf"], fill_line),
                "backlog_bytes": stall["backlog"],
                "round_bytes": cfg["clients"] * cfg["messages"] * len(delivered_line()),
            }
        return self._stall_plan

    def start_server(
        self, number: int, kind: str, wanted: dict | None = None
    ) -> ServerProcess:
        """Сервер для сценария; флаги — только те, что у него есть (servers.SERVERS)."""
        spec = SERVERS[kind]
        args = spec.arguments({"-q": True, **(wanted or {})})
        return ServerProcess(spec, args, self.log_dir / f"scenario{number}-{kind}.log")

    def bound(self, seconds: float) -> float:
        """Дедлайн шага: не позже общего бюджета прогона."""
        return min(time.monotonic() + seconds, self.deadline)


# --------------------------------------------------------------------------
# Кирпичики: фазы, начало и конец сценария
# --------------------------------------------------------------------------


def label(kind: str) -> str:
    return SERVERS[kind].label


def cpu_now(server: ServerProcess) -> tuple[float, float]:
    return server.cpu_seconds(), time.process_time()


def measured(
    server: ServerProcess,
    load: Load,
    ledger,
    gave_up_ns: int,
    cpu_before: tuple[float, float],
    unsent: int,
) -> dict:
    row = ledger.summary(gave_up_ns)
    server.sample()
    row.update(
        {
            "unsent": unsent,
            "peak_rss_mb": round(server.peak_rss_kb / 1024, 1),
            "peak_threads": server.peak_threads,
            "server_cpu_s": round(server.cpu_seconds() - cpu_before[0], 2),
            "loadgen_cpu_s": round(time.process_time() - cpu_before[1], 2),
            "escapes_leaked": sum(c.leaks for c in load.clients),
            "generator_late_ms": round(load.lateness * 1000, 1),
        }
    )
    return row


def shut_down(server: ServerProcess, load: Load | None) -> str:
    """Останавливает сервер раньше клиентов (не мерим чужие прощания); лог."""
    log = server.stop()
    if load is not None:
        load.close_all()
    return log


@contextlib.contextmanager
def serving(
    ctx: Context, number: int, kind: str, wanted: dict | None = None, *, with_load=True
):
    """Сервер сценария и нагрузка на него; сбой сценария — shut_down и дальше.

    Удачный сценарий сам зовёт finish внутри with: она тоже останавливает сервер
    раньше клиентов и добавляет к строке отчёта то, что нашлось в логе.
    """
    server = ctx.start_server(number, kind, wanted)
    load = Load(server, ctx.progress) if with_load else None
    try:
        yield server, load
    except BaseException:
        shut_down(server, load)
        raise


def finish(server: ServerProcess, load: Load | None, row: dict) -> dict:
    """Конец сценария: shut_down и то, что из лога и команды попадает в отчёт."""
    log = shut_down(server, load)
    row["tracebacks"] = log.count("Traceback")
    row["command"] = server.shown_command()
    row["log"] = (
        str(server.log_path.relative_to(ROOT))
        if server.log_path.is_relative_to(ROOT)
        else str(server.log_path)
    )
    return row


def open_chatters(
    ctx: Context, load: Load, count: int, rcvbuf: int | None = None
) -> list[Client]:
    """Подключает и регистрирует клиентов пачками (таймаут рукопожатия не успеет
    истечь); rcvbuf — SO_RCVBUF их сокетов (None — как решит ядро)."""
    chatters: list[Client] = []
    deadline = ctx.bound(ctx.scale["setup"])
    who = load.server.spec.label
    load.status = lambda: f"{who}: зарегистрировано {len(chatters)}/{count}"
    while len(chatters) < count:
        batch = [
            load.connect(rcvbuf=rcvbuf) for _ in range(min(50, count - len(chatters)))
        ]
        load.register(batch, deadline)
        chatters += batch
    load.status = lambda: f"{who}: жду, пока разойдутся оповещения о входе"
    load.settle(ctx.scale["settle"], deadline)
    return chatters


def open_chatters_together(
    ctx: Context, number: int, loads: dict[str, Load], count: int
) -> dict[str, list[Client]]:
    """Как open_chatters, но всем серверам сразу: пачки по 50 идут всем по кругу.

    Шагам 1–3 вход тысячи клиентов стоит полминуты: каждый вход — оповещение
    всем остальным, sendall за sendall, и потоки ждут друг друга за GIL, а
    процессор при этом почти свободен. По кругу серверы ждут одновременно.
    """
    chatters: dict[str, list[Client]] = {kind: [] for kind in loads}
    deadline = ctx.bound(ctx.scale["setup"] * len(loads))
    ctx.progress.say(
        f"{number}. подключаю по {count} клиентов к серверам: "
        + ", ".join(label(kind) for kind in loads)
    )
    for load in loads.values():
        load.status = lambda: ""  # ход работы пишет один, первый
    next(iter(loads.values())).status = lambda: (
        f"{number}. зарегистрировано: "
        + ", ".join(f"{SERVERS[k].short} {len(c)}" for k, c in chatters.items())
    )
    while any(len(c) < count for c in chatters.values()):
        pending = {}
        for kind, load in loads.items():
            size = min(50, count - len(chatters[kind]))
            if size:
                pending[kind] = [load.connect() for _ in range(size)]
                load.begin_register(pending[kind])
        while pending:
            for kind in list(pending):
                loads[kind].poll(0.002)
                if loads[kind].registered(pending[kind], deadline):
                    chatters[kind] += pending.pop(kind)
    for load in loads.values():
        load.settle(ctx.scale["settle"], deadline)
    return chatters


def phase(
    ctx: Context,
    load: Load,
    server: ServerProcess,
    chatters: list[Client],
    total: int,
    title: str,
    send,
) -> tuple[dict, array.array]:
    """Одна замеренная фаза: send() шлёт до `total` сообщений и возвращает
    неотправленные; потом ждём доставок. Возвращает строку отчёта и задержки."""
    ledger = load.start_phase(chatters, total)
    load.status = lambda: (
        f"{title}: отправлено {len(ledger.stamps)}/{total}, "
        f"доставлено {ledger.delivered}/{ledger.expected}"
    )
    before = cpu_now(server)
    unsent = send()
    gave_up = load.drain(ctx.scale["quiet"], ctx.bound(ctx.scale["phase"]))
    row = measured(server, load, ledger, gave_up, before, unsent)
    load.end_phase()
    return row, ledger.latencies


def burst_phase(
    ctx: Context, load: Load, server: ServerProcess, chatters: list[Client], title: str
) -> tuple[dict, array.array]:
    """Один раунд «все шлют сразу» по cfg["messages"] сообщений — с затихшего
    сервера."""
    each = ctx.scale["burst"]["messages"]
    wait_until_idle(load, server, ctx.bound(ctx.scale["setup"]))
    return phase(
        ctx,
        load,
        server,
        chatters,
        len(chatters) * each,
        title,
        lambda: load.burst(
            chatters, each, ctx.scale["quiet"], ctx.bound(ctx.scale["phase"])
        ),
    )


def paced_phase(
    ctx: Context,
    load: Load,
    server: ServerProcess,
    chatters: list[Client],
    cfg: dict,
    seconds: float,
    title: str,
) -> tuple[dict, array.array]:
    """Темп cfg["rate"] сообщений в секунду на всех, `seconds` секунд; ровный,
    а если cfg["pace"] == "poisson" — пуассоновский (Load.paced)."""
    return phase(
        ctx,
        load,
        server,
        chatters,
        round(cfg["rate"] * seconds),
        title,
        lambda: load.paced(
            chatters,
            cfg["rate"],
            seconds,
            ctx.bound(seconds + ctx.scale["phase"]),
            poisson=cfg.get("pace") == "poisson",
        ),
    )


def wait_until_idle(load: Load, server: ServerProcess, deadline: float) -> None:
    """Ждёт, пока процессорное время сервера за IDLE_WINDOW почти не растёт.

    Иначе раунд мог начаться, пока сервер ещё разбирает присланное до него
    (сотни килобайт личных сообщений молчуну), и раунд с молчуном выходил бы
    медленнее на эту чужую работу, а не на самого молчуна.
    """
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        window_end = time.monotonic() + IDLE_WINDOW
        while (left := window_end - time.monotonic()) > 0:
            load.poll(left)
        now = server.cpu_seconds()
        if now - before <= IDLE_WINDOW / 10:
            return
        before = now


# --------------------------------------------------------------------------
# Сценарии 1 и 2: пачки и темп
# --------------------------------------------------------------------------


def scenario_burst(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 1: все шлют сразу, несколько раундов подряд на одном сервере.

    Первый раунд — разгон, его не считаем: пока ядро не дорастило буферы
    сокетов, а аллокаторы — свои запасы, пачки заметно медленнее.
    """
    total = ctx.rounds("burst", kind)
    with serving(ctx, number, kind) as (server, load):
        chatters = open_chatters(ctx, load, ctx.scale["burst"]["clients"])
        if ctx.warmup(kind):
            burst_phase(ctx, load, server, chatters, f"{number}. {label(kind)}, разгон")
        rounds = [
            burst_phase(
                ctx,
                load,
                server,
                chatters,
                f"{number}. {label(kind)}, раунд {k + 1}/{total}",
            )
            for k in range(total)
        ]
        return finish(server, load, merge_rounds(rounds))


def scenario_latency(ctx: Context, number: int, kinds: list[str]) -> dict[str, dict]:
    """Сценарий 2: 50 клиентов, все серверы сразу, раунды по кругу.

    Темп пуассоновский: при ровном (сообщение раз в 2,5 мс, а сервер тратит на
    него около миллисекунды) следующее сообщение почти никогда не застаёт
    сервер занятым, и медиана финального выходила в 1,2–2 раза ниже (в четырёх
    раундах из пяти), чем у тех же клиентов с пуассоновским темпом (сверка
    crosscheck.py, раунды через один).

    Хвост задержки здесь — миллисекунды, а чужая нагрузка на машине за
    несколько секунд меняет его в разы (подряд идущие раунды одного сервера
    расходились от 15 до 75 мс). Четыре секунды одного сервера, а потом
    четыре другого, сравнивали бы не серверы, а то, что в эти секунды делала
    машина; раунды по кругу ставят всех в одни условия — как в сценарии 3.
    """
    return rotating_rounds(ctx, number, kinds, ctx.scale["latency"])


# --------------------------------------------------------------------------
# Сценарий 3: тысяча клиентов у каждого сервера сразу
# --------------------------------------------------------------------------


def scenario_scale(ctx: Context, number: int, kinds: list[str]) -> dict[str, dict]:
    """Сценарий 3: все серверы держат по тысяче клиентов сразу, раунды по кругу.

    Хвост задержки здесь — время одного прохода по тысяче сокетов, и машина
    за минуту успевает «поплыть» сильнее, чем отличаются серверы. Раунды по
    кругу (и кто первый — по очереди) ставят все серверы в одни условия.
    Память каждого сервера записываем сразу после того, как вошли все его
    клиенты и разошлись оповещения: это цена «N соединений» без нагрузки.
    """
    # probe молчащим дольше половины --idle-timeout — не то, что меряем здесь:
    # клиенты молчат, пока идут раунды других серверов.
    return rotating_rounds(
        ctx, number, kinds, ctx.scale["scale"], {"--idle-timeout": 600}, memory=True
    )


def rotating_rounds(
    ctx: Context,
    number: int,
    kinds: list[str],
    cfg: dict,
    wanted: dict | None = None,
    memory: bool = False,
) -> dict[str, dict]:
    """Все серверы держат по cfg["clients"] клиентов сразу; cfg["rounds"] раундов
    ровного темпа (на раунд — cfg["seconds"] / cfg["rounds"] секунд) идут по кругу,
    и кто первый — по очереди. memory — записать память после входа всех."""
    servers, loads, connected = {}, {}, {}
    try:
        for kind in kinds:
            servers[kind] = ctx.start_server(number, kind, wanted)
            loads[kind] = Load(servers[kind], ctx.progress)
        chatters = open_chatters_together(ctx, number, loads, cfg["clients"])
        for kind in kinds:
            values = servers[kind].sample()
            connected[kind] = (
                {
                    "clients": cfg["clients"],
                    "rss_connected_mb": round(values.get("VmRSS", 0) / 1024, 1),
                    "threads_connected": values.get("Threads", 0),
                }
                if memory
                else {}
            )
        rounds = {kind: [] for kind in kinds}
        for k in range(cfg["rounds"]):
            shift = k % len(kinds)
            for kind in kinds[shift:] + kinds[:shift]:
                rounds[kind].append(
                    paced_phase(
                        ctx,
                        loads[kind],
                        servers[kind],
                        chatters[kind],
                        cfg,
                        cfg["seconds"] / cfg["rounds"],
                        f"{number}. {label(kind)}, раунд {k + 1}/{cfg['rounds']}",
                    )
                )
        result = {}
        for kind in kinds:
            row = merge_rounds(rounds[kind]) | connected[kind]
            result[kind] = finish(servers[kind], loads[kind], row)
        return result
    except BaseException:
        for kind in servers:
            shut_down(servers[kind], loads[kind])
        raise


# --------------------------------------------------------------------------
# Сценарий 4: клиент, который не читает
# --------------------------------------------------------------------------


def scenario_stalled(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 4: раунды сценария 1 с молчуном — через один с раундами без него.

    Каждый раунд с молчуном — новый молчун: он входит в чат, перестаёт читать,
    и до замера ему шлют сообщения, пока буферы ядра его сокета не полны
    (личные, а у кого их нет — в #general). Раунд адресует ему больше, чем
    граница очереди сервера: посреди раунда сервер должен его отключить, а
    остальные — не заметить. Сервер без границы очереди встаёт: раунд теряет
    сообщения, и следующие раунды не нужны — они встанут так же.
    """
    spec = SERVERS[kind]
    plan = ctx.stall_plan()
    flags = {"--max-backlog": plan["backlog_bytes"]}
    with serving(ctx, number, kind, flags) as (server, load):
        chatters = open_chatters(
            ctx,
            load,
            ctx.scale["burst"]["clients"],
            rcvbuf=ctx.scale["stalled"].get("chatter_rcvbuf"),
        )
        # Без границы очереди сервер встанет в первом же раунде с молчуном: ни
        # разгон, ни раунды для сравнения ему не нужны.
        compare = spec.can(BACKLOG)
        if compare and ctx.warmup(kind):
            burst_phase(ctx, load, server, chatters, f"{number}. {label(kind)}, разгон")
        rss_before = server.rss_mb()  # рост RSS — от покоя до пика за все раунды
        rounds, plain, present, dropped, kernel = [], [], 0, 0, 0
        frozen = False
        total = ctx.rounds("stalled", kind)
        for k in range(total):
            title = f"{number}. {label(kind)}, раунд {k + 1}/{total}"
            if compare and k % 2 == 0:
                plain.append(
                    burst_phase(ctx, load, server, chatters, title + ", без молчуна")
                )
            slow = load.connect(
                role="stalled",
                name=f"stalled{k}",
                rcvbuf=ctx.scale["stalled"]["rcvbuf"],
            )
            load.register([slow], ctx.bound(ctx.scale["setup"]))
            load.stop_reading(slow)
            target = slow.name if spec.can(PRIVATE) else "#general"
            kernel = max(
                kernel,
                fill_stalled(ctx, load, server, chatters[0], slow, target, title),
            )
            present += f"{slow.name} отключён" not in server.log_text()
            rounds.append(burst_phase(ctx, load, server, chatters, title))
            was_dropped = stalled_was_dropped(load, slow, ctx)
            dropped += was_dropped
            last = rounds[-1][0]
            if last["lost"] or last["unsent"]:
                # Сервер встал (не доставил и половины) или терял и без молчуна:
                # следующие раунды пройдут так же.
                frozen = not was_dropped and (
                    last["unsent"] > 0 or last["lost"] >= last["expected"] / 2
                )
                break
            if compare and k % 2 == 1:
                plain.append(
                    burst_phase(ctx, load, server, chatters, title + ", без молчуна")
                )
        row = merge_rounds(rounds)
        without = merge_rounds(plain) if plain else None
        row["plain_deliveries_per_s"] = without and without["deliveries_per_s"]
        row["plain_lost"] = without and without["lost"] + without["corrupted"]
        row["plain_rounds"] = without["rounds"] if without else []
        row["rss_growth_mb"] = round(server.peak_rss_kb / 1024 - rss_before, 1)
        row["stalled_total"] = len(rounds)
        row["stalled_kernel_mb"] = round(kernel / 1024 / 1024, 2)
        row["stalled_present"] = present if spec.can(BACKLOG) else None
        row["stalled_disconnected"] = dropped
        row["stalled_frozen"] = frozen
        row["stalled_fill_to"] = "личные" if spec.can(PRIVATE) else "#general"
        return finish(server, load, row)


def fill_stalled(
    ctx: Context,
    load: Load,
    server: ServerProcess,
    sender: Client,
    slow: Client,
    target: str,
    title: str,
) -> int:
    """Сообщения медленному (target — его имя или #general), пока ядро берёт их
    в буфер его сокета.

    Сколько байт ждут в буфере отправки серверного сокета, видно в /proc/net/tcp
    (tx_queue), но только когда сервер уже ответил на каждую отправленную строку.
    Сначала шлём три четверти того, что ядро взяло на пробной паре
    сокетов, потом всё меньшими кусками (половина оставшегося по той оценке, не
    больше трети границы очереди сервера), а когда ядро взяло не весь кусок —
    шагами по cfg["step"]: шаг не прибавил байт в буфере — ядро полно, а в
    очереди самого сервера осталось меньше двух третей его границы.
    Возвращает, сколько байт держит ядро.
    """
    stall, plan = ctx.scale["stalled"], ctx.stall_plan()
    line = (
        f'{{"action": "msg", "to": "{target}", '
        f'"message": "{fill_text(stall["text"])}"}}\n'
    ).encode()
    ports = (server.address[1], slow.sock.getsockname()[1])
    deadline = ctx.bound(ctx.scale["setup"])
    load.status = lambda: f"{title}: заполняю буферы медленного"
    biggest = max(stall["step"], plan["backlog_bytes"] // 3)
    size = 0.75 * plan["kernel_bytes"]
    queued = 0
    awaited = (
        sender.replies
    )  # сколько ответов будет у sender, когда сервер всё разберёт
    while time.monotonic() < deadline:
        count = max(1, math.ceil(size / len(line)))
        load.send(sender, line * count)
        awaited += count
        # Сперва — пока сервер не ответит на каждую строку: без этого на занятой
        # машине буфер «не меняется» просто потому, что сервер ещё не получил
        # процессора, и заполнение кончалось на трети ядра.
        if load.server.answers:
            wait_for_replies(load, sender, awaited, ctx.scale["quiet"], deadline)
        before, queued = queued, steady_send_queue(load, ports, deadline)
        if queued <= before:
            break
        if queued - before < 0.9 * count * len(line):  # ядро почти полно
            size = stall["step"]
        else:
            size = min(biggest, max(stall["step"], (plan["kernel_bytes"] - queued) / 2))
    return queued


def wait_for_replies(
    load: Load, client: Client, awaited: int, quiet: float, deadline: float
) -> None:
    """Ждёт, пока у client наберётся awaited ответов сервера, — но не дольше quiet
    секунд без нового ответа: сервер шагов 1–3, застрявший в sendall медленному,
    не ответит уже никогда."""
    last, last_change = client.replies, time.monotonic()
    while client.replies < awaited and time.monotonic() < deadline:
        load.poll(0.02)
        if client.replies != last:
            last, last_change = client.replies, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            return


def steady_send_queue(load: Load, ports: tuple[int, int], deadline: float) -> int:
    """Ждёт, пока буфер отправки сокета сервера перестанет меняться; его размер в
    байтах."""
    sizes = [-1]
    while time.monotonic() < deadline:
        load.poll(0.02)
        sizes.append(kernel_send_queue(*ports))
        if sizes[-1] == sizes[-2] == sizes[-3]:
            break
    return sizes[-1]


def kernel_send_queue(local_port: int, remote_port: int) -> int:
    """tx_queue сокета 127.0.0.1:local_port → :remote_port из /proc/net/tcp (0 — нет
    такого)."""
    local, remote = f":{local_port:04X}", f":{remote_port:04X}"
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for row in table:
            fields = row.split()
            if fields[1].endswith(local) and fields[2].endswith(remote):
                return int(fields[4].split(":")[0], 16)
    return 0


def delivered_line(to: str = "#general", text: str | None = None) -> bytes:
    """Строка сообщения в том виде, в каком её получает клиент сервера."""
    stamp = time.time_ns()
    text = text or f"{MARK}10000|10|{stamp}|{PADS[0]}"
    return json_line(
        {"action": "msg", "time": stamp / 1e9, "from": "c10", "to": to, "message": text}
    )


def fill_text(chars: int) -> str:
    """Текст, которым заполняем буферы медленного (не строка чата): символ «█» —
    три байта UTF-8, так что на байт у сервера меньше разбора и очистки."""
    return "█" * chars


def kernel_buffer_capacity(rcvbuf: int, line_bytes: int) -> int:
    """Сколько байт ядро примет в сокет, чей собеседник не читает (строками по
    line_bytes)."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        with socket.socket() as reader:
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            reader.connect(listener.getsockname())
            writer, _ = listener.accept()
            with writer:
                writer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                writer.setblocking(False)
                chunk, total = b"x" * line_bytes, 0
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    try:
                        total += writer.send(chunk)
                    except BlockingIOError:
                        # Ядро могло ещё не дорастить буфер — проверим ещё раз
                        time.sleep(0.05)
                        try:
                            total += writer.send(chunk)
                        except BlockingIOError:
                            break
                return total


def stalled_was_dropped(load: Load, slow: Client, ctx: Context) -> bool:
    """Дочитывает медленного клиента: если сервер его отключил, за данными будет
    конец потока."""
    if slow.state == "closed":
        return True
    slow.sock.setblocking(True)
    slow.sock.settimeout(ctx.scale["quiet"] / 2)
    deadline = time.monotonic() + 3 * ctx.scale["quiet"]
    try:
        while time.monotonic() < deadline:
            if not slow.sock.recv(RECV_SIZE):
                return True
    except TimeoutError:
        return False
    except OSError:
        return True
    return False


# --------------------------------------------------------------------------
# Сценарии 5–7: молчуны, враждебный ввод, вход и выход
# --------------------------------------------------------------------------


def open_files(pid: int) -> int:
    """Сколько дескрипторов открыто у процесса: так видно, кого сервер принял."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def scenario_flood(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 5: тот же чат до наплыва молчунов, во время и после, на одном сервере.

    «Без наплыва» — это половина фазы до и половина после (когда сервер уже
    закрыл молчунов): так медленный дрейф машины не ложится на одну сторону.
    Сервер без срока рукопожатия молчунов не закрывает — их и не ждём.
    """
    cfg = ctx.scale["flood"]
    closes = SERVERS[kind].can(TIMEOUTS)
    flags = {"--handshake-timeout": cfg["handshake"]}
    with serving(ctx, number, kind, flags) as (server, load):
        chatters = open_chatters(ctx, load, cfg["chatters"])

        def chat(seconds: float, title: str) -> tuple[dict, array.array]:
            return paced_phase(
                ctx,
                load,
                server,
                chatters,
                cfg,
                seconds,
                f"{number}. {label(kind)} ({title})",
            )

        calm_before, latencies_before = chat(cfg["seconds"] / 2, "до наплыва")
        ctx.progress.say(f"{number}. {label(kind)}: открываю {cfg['idle']} молчунов")
        files = open_files(server.pid)
        idle = [load.connect(role="idle", name=f"idle{k}") for k in range(cfg["idle"])]
        opened = time.monotonic()
        # Меряем установившийся наплыв: ждём, пока сервер примет всех.
        accepted_by = ctx.bound(cfg["handshake"] / 3)
        while (
            open_files(server.pid) < files + len(idle)
            and time.monotonic() < accepted_by
        ):
            load.poll(0.01)
        load.settle(ctx.scale["settle"], accepted_by)
        row, _ = chat(cfg["seconds"], "наплыв")
        if closes:  # ждём, пока сервер закроет молчунов по сроку рукопожатия
            wait_until = min(opened + cfg["handshake"] * 1.2 + 1.0, ctx.deadline)
            load.status = lambda: (
                f"{number}. {label(kind)}: закрыто молчунов "
                f"{sum(c.state == 'closed' for c in idle)}/{len(idle)}"
            )
            while time.monotonic() < wait_until and any(
                c.state != "closed" for c in idle
            ):
                load.poll(0.05)
        # Кого перестали читать (шаг 0 пересылает им всё) — дочитываем
        for client in idle:
            if client.state != "closed" and not client.reading:
                client.reading = True
                load._update_events(client)
        load.poll(0)
        closed_after = [c.closed_at - c.opened_at for c in idle if c.state == "closed"]
        calm_after, latencies_after = chat(cfg["seconds"] / 2, "после наплыва")
        calm = percentiles(latencies_before + latencies_after)
        row["baseline_p99_ms"] = calm["p99_ms"]
        row["baseline_lost"] = sum(
            r["lost"] + r["corrupted"] for r in (calm_before, calm_after)
        )
        row["p99_ratio"] = (
            round(row["p99_ms"] / calm["p99_ms"], 2)
            if row["p99_ms"] and calm["p99_ms"]
            else None
        )
        row["idle_total"] = len(idle)
        row["idle_closed"] = len(closed_after) if closes else None
        row["idle_closed_after_s"] = (
            [round(min(closed_after), 2), round(max(closed_after), 2)]
            if closed_after and closes
            else None
        )
        row["handshake_timeout_s"] = cfg["handshake"] if closes else None
        return finish(server, load, row)


def scenario_hostile(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 6: чат идёт, а другие соединения шлют мусор и обрываются."""
    cfg = ctx.scale["hostile"]
    with serving(ctx, number, kind) as (server, load):
        chatters = open_chatters(ctx, load, cfg["chatters"])
        total = round(cfg["rate"] * cfg["seconds"])
        ledger = load.start_phase(chatters, total)
        probes = HostileProbes(
            server.address,
            cfg,
            time.monotonic() + cfg["seconds"] + ctx.scale["probe_grace"],
            chatters[0].name,
        )
        load.status = lambda: (
            f"{number}. {label(kind)}: отправлено {len(ledger.stamps)}/{total}, "
            f"доставлено {ledger.delivered}/{ledger.expected}, "
            f"проверок готово {len(probes.results)}"
        )
        before = cpu_now(server)
        probes.start()
        unsent = load.paced(
            chatters,
            cfg["rate"],
            cfg["seconds"],
            ctx.bound(cfg["seconds"] + ctx.scale["phase"]),
        )
        while probes.running and time.monotonic() < probes.deadline + 2:
            load.poll(0.02)
        probes.join()
        gave_up = load.drain(ctx.scale["quiet"], ctx.bound(ctx.scale["phase"]))
        row = measured(server, load, ledger, gave_up, before, unsent)
        load.end_phase()
        alive = server.alive and still_answers(
            server.address, ctx.scale["alive_timeout"]
        )
        checks = sorted(probes.results, key=lambda r: r["check"])
        checks.append(
            {
                "check": "server_alive",
                "ok": alive,
                "detail": "после атаки принимает новых" if alive else "не отвечает",
            }
        )
        row = finish(server, load, row)
        checks.append(
            {
                "check": "no_traceback",
                "ok": row["tracebacks"] == 0,
                "detail": f"трассировок в логе: {row['tracebacks']}",
            }
        )
        row["checks"] = checks
        row["checks_passed"] = sum(c["ok"] for c in checks)
        row["checks_total"] = len(checks)
        return row


def scenario_churn(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 7: вход и выход по кругу, `parallel` клиентов одновременно."""
    if not SERVERS[kind].can(JIM):
        return {"unsupported": "не отвечает на presence: входа и выхода нет"}
    cfg = ctx.scale["churn"]
    with serving(ctx, number, kind, with_load=False) as (server, _):
        cpu_before = server.cpu_seconds()
        row = register_quit(
            server.address, cfg["parallel"], cfg["seconds"], cfg["cycle_timeout"]
        )
        server.sample()
        row["server_cpu_s"] = round(server.cpu_seconds() - cpu_before, 2)
        row["peak_rss_mb"] = round(server.peak_rss_kb / 1024, 1)
        row["peak_threads"] = server.peak_threads
        return finish(server, None, row)


# --------------------------------------------------------------------------
# Сценарий 8: память на тысячи соединений
# --------------------------------------------------------------------------


def scenario_memory(ctx: Context, number: int, kind: str) -> dict:
    """Сценарий 8: память и потоки сервера, который держит cfg["clients"] соединений.

    Только у финального, шага 6 и asyncio: шагам 0–4 нужно по потоку на
    соединение — пять тысяч потоков на каждый шаг и минуты на один замер, а
    вопрос сценария — чем пул потоков и asyncio дешевле потока на клиента, а
    поток на клиента в замере и так есть: финальный сервер.
    Соединения не представляются (holding.hold_connections): срок рукопожатия
    — на весь замер, предел соединений — выше их числа (где он есть).

    Память пустого сервера — сразу после запуска, а потоки — когда ответ
    получило первое соединение: свои потоки сервер может запускать и после
    строки с адресом (обработчики шага 6 стартуют перед первым accept).
    """
    if SERVERS[kind].tier == "step":
        return {
            "unsupported": "поток на соединение — 5000 потоков и минуты на "
            "каждый шаг; меряем финальный, шаг 6 и asyncio",
            "skipped": True,
        }
    cfg = ctx.scale["memory"]
    flags = {"--handshake-timeout": 600, "--max-clients": cfg["clients"] + 100}
    with serving(ctx, number, kind, flags, with_load=False) as (server, _):
        empty = server.sample()  # сразу после запуска: пустой сервер
        first: dict[str, int] = {}
        next_say = [time.monotonic() + 1.0]

        def status(held: Held) -> None:
            if time.monotonic() >= next_say[0]:
                next_say[0] = time.monotonic() + 1.0
                ctx.progress.say(
                    f"{number}. {label(kind)}: держу {len(held.sockets)}/"
                    f"{cfg['clients']}, неудачных {sum(held.failures.values())}"
                )

        held = hold_connections(
            server.address,
            cfg["clients"],
            cfg["in_flight"],
            ctx.bound(cfg["setup"]),
            status,
            on_first=lambda: first.update(server.sample()),
        )
        try:
            connected = server.sample()
            row = memory_row(cfg["clients"], held, empty, connected)
            row["threads_first"] = first.get("Threads", 0)
            row["peak_rss_mb"] = round(server.peak_rss_kb / 1024, 1)
            row["peak_threads"] = server.peak_threads
            return finish(server, None, row)
        finally:
            held.close()  # после остановки сервера: не мерим чужие прощания


def memory_row(clients: int, held: Held, empty: dict, connected: dict) -> dict:
    """Строка отчёта сценария 8 из двух снимков /proc: пустой сервер и со всеми."""
    rss_empty = empty.get("VmRSS", 0)
    rss_connected = connected.get("VmRSS", 0)
    count = len(held.sockets)
    return {
        "clients": clients,
        "held": count,
        "failed": sum(held.failures.values()),
        "failures": held.failures,
        "connect_s": round(held.seconds, 2),
        "rss_empty_mb": round(rss_empty / 1024, 1),
        "rss_connected_mb": round(rss_connected / 1024, 1),
        "threads_connected": connected.get("Threads", 0),
        # КиБ на соединение: прирост RSS от пустого до держащего всех
        "kib_per_connection": round((rss_connected - rss_empty) / count, 1)
        if count
        else None,
        **percentiles(held.durations),  # от connect до ответа 401
    }


# Номер → название и функция. Функция сценария 3 получает сразу все серверы
# (они работают одновременно), остальные — по одному серверу за раз.
SCENARIOS = {
    1: ("Пропускная способность", scenario_burst),
    2: ("Задержка", scenario_latency),
    3: ("Масштаб", scenario_scale),
    4: ("Медленный читатель", scenario_stalled),
    5: ("Наплыв молчунов", scenario_flood),
    6: ("Враждебный ввод", scenario_hostile),
    7: ("Вход и выход", scenario_churn),
    8: ("Память: 5000 подключений", scenario_memory),
}
PAIRED = {2, 3}
PACES = {"even": "ровный темп", "poisson": "пуассоновский темп"}


TIERS = {"final": "финальный и шаг 6", "asyncio": "asyncio", "step": "шаги 0–4"}


def by_tier(values: dict) -> str:
    """{"final": 6, "asyncio": 6, "step": 1} → «финальный и asyncio — 6, шаги 0–4 —
    1»; одно число, если у всех одинаково (True/False — «да»/«нет»)."""
    shown = {
        tier: ("да" if value else "нет") if isinstance(value, bool) else value
        for tier, value in values.items()
    }
    if len(set(shown.values())) == 1:
        return str(next(iter(shown.values())))
    groups: dict = {}
    for tier, value in shown.items():
        groups.setdefault(value, []).append(TIERS[tier])
    return ", ".join(
        f"{' и '.join(names)} — {value}" for value, names in groups.items()
    )


def describe(ctx: Context, number: int) -> str:
    """Что делает сценарий — с числами текущего размера (для отчёта)."""
    scale = ctx.scale
    if number == 1:
        cfg = scale["burst"]
        return (
            f"{cfg['clients']} клиентов × {cfg['messages']} сообщений, как можно "
            f"быстрее; раундов: {by_tier(cfg['rounds'])}; итог — по всем раундам "
            "вместе"
            + (
                "; перед ними разгонный раунд, который не считаем: "
                + by_tier(cfg["warmup"])
                if any(cfg["warmup"].values())
                else ""
            )
        )
    if number == 2:
        cfg = scale["latency"]
        return (
            f"{cfg['clients']} клиентов, {cfg['rate']} сообщ./с на всех "
            f"({PACES[cfg.get('pace', 'even')]}), "
            f"{cfg['seconds']:g} с: {cfg['rounds']} раунда по "
            f"{cfg['seconds'] / cfg['rounds']:g} с, все серверы держат клиентов "
            "одновременно, раунды идут по кругу"
        )
    if number == 3:
        cfg = scale["scale"]
        return (
            f"{cfg['clients']} клиентов у каждого сервера, {cfg['rate']} сообщ./с "
            f"на всех, {cfg['seconds']:g} с: {cfg['rounds']} раунда, все серверы "
            "держат клиентов одновременно, раунды идут по кругу; память — сразу "
            "после входа всех клиентов"
        )
    if number == 4:
        cfg, plan, stall = scale["burst"], ctx.stall_plan(), scale["stalled"]
        mb = 1024 * 1024
        return (
            f"пар раундов сценария 1 (до): {by_tier(stall['rounds'])}; без молчуна "
            "(только у тех, кто умеет его отключать) и с ним — клиентом, который "
            "не читает (в каждом раунде новый): до раунда ему заполнены буферы "
            "ядра (на loopback около "
            f"{plan['kernel_bytes'] / mb:.1f} МБ; личными, у шага 1 — в #general), "
            f"за раунд ему адресовано {plan['round_bytes'] / mb:.2g} МБ при границе "
            f"очереди сервера {plan['backlog_bytes'] / mb:.2g} МБ; "
            "сервер, который встал, дальше не меряем"
        )
    if number == 5:
        cfg = scale["flood"]
        return (
            f"{cfg['chatters']} болтают ({cfg['rate']} сообщ./с), "
            f"{cfg['idle']} молчунов, таймаут рукопожатия {cfg['handshake']:g} с "
            "(где он есть)"
        )
    if number == 6:
        cfg = scale["hostile"]
        return (
            f"{cfg['chatters']} болтают ({cfg['rate']} сообщ./с), рядом мусор, "
            f"битый UTF-8, строка {cfg['long_size'] // 1024} КиБ, "
            f"{cfg['wrong_shapes']} запросов неверной формы, "
            f"escape-последовательности, {cfg['resets']} обрывов"
        )
    if number == 7:
        cfg = scale["churn"]
        return (
            f"подключиться → presence → 202 → quit → сервер закрыл; "
            f"{cfg['parallel']} клиентов одновременно, {cfg['seconds']:g} с"
        )
    cfg = scale["memory"]
    return (
        f"{cfg['clients']} соединений к одному серверу, каждое шлёт rooms до "
        "presence и ждёт ответа 401 (так видно, что сервер его принял и "
        f"обслуживает; ждут ответа не больше {cfg['in_flight']} сразу); RSS и потоки "
        "сервера — сразу после запуска и когда ответили все; только финальный, "
        "шаг 6 и asyncio: у шагов 0–4, как у финального, поток на соединение, "
        "и пять таких замеров заняли бы минуты"
    )
