"""Независимая сверка задержки чата: клиенты в нескольких процессах.

Стенд (tools/chat_bench.py) даёт нагрузку из одного потока. Эта программа
нарочно устроена иначе, чтобы проверить его числа со стороны:

* клиенты разделены между --procs процессами (multiprocessing), каждый процесс
  и шлёт от своих клиентов, и читает их сокеты;
* время отправки — time.time_ns() прямо перед send() в отправляющем процессе,
  оно же — в тексте сообщения («x|фаза|время_нс|отправитель|номер|…»);
* время прихода — отметка ядра SO_TIMESTAMPNS в принимающем процессе; для
  сравнения рядом считается и задержка до времени после recvmsg (user_*);
* темп — ровный (--pace even) или пуассоновский (--pace poisson:
  экспоненциальные паузы), сумма по процессам — --rate сообщений в секунду;
* первые --warmup секунд — разгон: их доставки не считаются.

Итог — p50, p99 и максимум задержки «отправил → байты легли в сокет
получателя» по всем доставкам после разгона, и сколько доставок потеряно.
Протокол — JIM строками JSON: presence → 202, msg в #general → 200
отправителю и строка msg каждому другому участнику.

Только Linux (SO_TIMESTAMPNS); только стандартная библиотека.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import re
import selectors
import socket
import struct
import sys
import time

# Время прихода из ядра: в Python нет имени для этой опции, число — из Linux.
SO_TIMESTAMPNS = 35
ANCILLARY_SIZE = socket.CMSG_SPACE(16)
RECV_SIZE = 256 * 1024
REGISTER_TIMEOUT = 10.0  # секунд на подключение и presence → 202
START_DELAY_NS = 200_000_000  # общий старт — через 0,2 с после «все готовы»
PAD = "Привет, мир! Hello, world! 0123456789"  # длина строки — как у стенда
# Своё сообщение в строке msg: фаза (w — разгон, m — замер) и время отправки.
OUR_TEXT = re.compile(rb'"message": "x\|([wm])\|(\d+)\|')


def presence_line(name: str) -> bytes:
    request = {
        "action": "presence",
        "time": time.time(),
        "user": {"account_name": name},
    }
    return (json.dumps(request) + "\n").encode()


def msg_line(phase: str, stamp: int, sender: str, number: int) -> bytes:
    request = {
        "action": "msg",
        "time": stamp / 1e9,
        "to": "#general",
        "message": f"x|{phase}|{stamp}|{sender}|{number}|{PAD}",
    }
    return (json.dumps(request, ensure_ascii=False) + "\n").encode()


def connect_and_register(host: str, port: int, names: list[str]) -> list:
    """Подключает клиентов процесса и ждёт 202 каждому (блокирующие сокеты)."""
    socks = []
    for name in names:
        sock = socket.create_connection((host, port), timeout=REGISTER_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.sendall(presence_line(name))
        socks.append(sock)
    for sock, name in zip(socks, names, strict=True):
        received = b""
        while b'"response": 202' not in received:
            chunk = sock.recv(RECV_SIZE)
            if not chunk:
                raise ConnectionError(f"сервер закрыл соединение {name} до 202")
            received += chunk
        sock.setblocking(False)
    return socks


def send_times(args, worker: int, start_ns: int) -> list[int]:
    """Моменты отправки этого процесса (нс): его доля общего темпа --rate."""
    end_ns = start_ns + int((args.warmup + args.seconds) * 1e9)
    if args.pace == "even":
        # Процессы по очереди: вместе — ровно одно сообщение каждые 1/rate с.
        total = math.floor((args.warmup + args.seconds) * args.rate)
        step = 1e9 / args.rate
        return [start_ns + int(k * step) for k in range(worker, total, args.procs)]
    # Пуассон: сумма независимых потоков с темпом rate/procs — пуассоновский
    # поток с темпом rate.
    chance = random.Random(args.seed * 1000 + worker)
    times, moment = [], float(start_ns)
    while True:
        moment += chance.expovariate(args.rate / args.procs) * 1e9
        if moment >= end_ns:
            return times
        times.append(int(moment))


def worker_main(args, worker: int, names: list[str], pipe) -> None:
    """Один процесс клиентов: регистрация, отправка по расписанию, приём."""
    try:
        socks = connect_and_register(args.host, args.port, names)
    except OSError as error:
        pipe.send({"error": f"процесс {worker}: {error}"})
        return
    pipe.send({"ready": True})
    start_ns = pipe.recv()
    measure_from = start_ns + int(args.warmup * 1e9)
    schedule = send_times(args, worker, start_ns)
    selector = selectors.DefaultSelector()
    buffers = {}
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
        buffers[sock] = b""
    # Задержки (нс): после разгона по отметке ядра, по времени после recvmsg
    # и задержки разгона — чтобы видеть, что меняет каждое из них.
    latencies, user_latencies, warmup_latencies = [], [], []
    sent_measured, late_ns = 0, 0
    next_index = 0
    send_end = start_ns + int((args.warmup + args.seconds) * 1e9)
    last_data = time.time_ns()
    while True:
        now = time.time_ns()
        while next_index < len(schedule) and schedule[next_index] <= now:
            due = schedule[next_index]
            sock = socks[next_index % len(socks)]
            phase = "m" if due >= measure_from else "w"
            stamp = time.time_ns()  # прямо перед send()
            sock.sendall(msg_line(phase, stamp, names[next_index % len(names)], due))
            if phase == "m":
                sent_measured += 1
                late_ns = max(late_ns, stamp - due)
            next_index += 1
            now = time.time_ns()
        if next_index >= len(schedule) and now > send_end:
            if now - last_data > args.quiet * 1e9:
                break
        if next_index < len(schedule):
            timeout = max(0.0, (schedule[next_index] - now) / 1e9)
        else:
            timeout = args.quiet
        for key, _ in selector.select(timeout):
            sock = key.fileobj
            try:
                data, ancillary, _, _ = sock.recvmsg(RECV_SIZE, ANCILLARY_SIZE)
            except BlockingIOError:
                continue
            if not data:
                pipe.send({"error": f"процесс {worker}: сервер закрыл соединение"})
                return
            read_at = last_data = time.time_ns()
            arrived = read_at
            if ancillary:
                seconds, nanoseconds = struct.unpack_from("qq", ancillary[0][2])
                arrived = seconds * 1_000_000_000 + nanoseconds
            lines = (buffers[sock] + data).split(b"\n")
            buffers[sock] = lines.pop()
            for line in lines:
                found = OUR_TEXT.search(line)
                if not found or b'"from"' not in line:
                    continue  # ответ 200, оповещение или чужая строка
                sent_at = int(found.group(2))
                if found.group(1) == b"m":
                    latencies.append(arrived - sent_at)
                    user_latencies.append(read_at - sent_at)
                else:
                    warmup_latencies.append(arrived - sent_at)
    for sock in socks:
        sock.close()
    pipe.send(
        {
            "latencies": latencies,
            "user": user_latencies,
            "warmup": warmup_latencies,
            "sent": sent_measured,
            "late_ns": late_ns,
        }
    )


def percentile(ordered: list[int], fraction: float) -> float | None:
    """Перцентиль (ранг — ближайший сверху, как у стенда), в миллисекундах."""
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return round(ordered[index] / 1e6, 3)


def run(args) -> dict:
    """Один замер: процессы, общий старт, сбор задержек."""
    context = multiprocessing.get_context("fork")
    names = [f"cc{k}" for k in range(args.clients)]
    workers = []
    for worker in range(args.procs):
        mine, theirs = context.Pipe()
        process = context.Process(
            target=worker_main,
            args=(args, worker, names[worker :: args.procs], theirs),
            daemon=True,
        )
        process.start()
        workers.append((process, mine))
    try:
        for _, pipe in workers:
            answer = pipe.recv()
            if "error" in answer:
                raise ConnectionError(answer["error"])
        time.sleep(args.settle)  # оповещения о входе дошли до всех
        start_ns = time.time_ns() + START_DELAY_NS
        for _, pipe in workers:
            pipe.send(start_ns)
        results = []
        for _, pipe in workers:
            answer = pipe.recv()
            if "error" in answer:
                raise ConnectionError(answer["error"])
            results.append(answer)
    finally:
        for process, _ in workers:
            process.join(1)
            if process.is_alive():
                process.kill()

    def gathered(key: str) -> list[int]:
        return sorted(x for result in results for x in result[key])

    latencies = gathered("latencies")
    sent = sum(result["sent"] for result in results)
    expected = sent * (args.clients - 1)
    return {
        "clients": args.clients,
        "procs": args.procs,
        "rate": args.rate,
        "pace": args.pace,
        "sent": sent,
        "expected": expected,
        "delivered": len(latencies),
        "lost": expected - len(latencies),
        "p50_ms": percentile(latencies, 0.50),
        "p90_ms": percentile(latencies, 0.90),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": percentile(latencies, 1.0),
        "user_p99_ms": percentile(gathered("user"), 0.99),
        "warmup_p99_ms": percentile(gathered("warmup"), 0.99),
        "late_ms": round(max(r["late_ns"] for r in results) / 1e6, 1),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Сверка задержки чата со стороны: клиенты в нескольких "
        "процессах, время прихода — из ядра (только Linux)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="адрес сервера")
    parser.add_argument("--port", type=int, default=7777, help="порт сервера")
    parser.add_argument("--clients", type=int, default=50, help="клиентов всего")
    parser.add_argument("--procs", type=int, default=4, help="процессов-клиентов")
    parser.add_argument(
        "--rate", type=float, default=400, help="сообщений в секунду на всех"
    )
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="длина замера после разгона"
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="секунд разгона (не считаются)"
    )
    parser.add_argument(
        "--pace", choices=("even", "poisson"), default="poisson", help="вид темпа"
    )
    parser.add_argument("--seed", type=int, default=1, help="зерно для пуассона")
    parser.add_argument(
        "--quiet", type=float, default=1.0, help="секунд тишины — конец доставок"
    )
    parser.add_argument(
        "--settle", type=float, default=0.3, help="пауза после регистрации"
    )
    parser.add_argument("--json", action="store_true", help="итог одной строкой JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not sys.platform.startswith("linux"):
        print(
            "Ошибка: нужна Linux (отметки времени ядра SO_TIMESTAMPNS)", file=sys.stderr
        )
        return 1
    if not 1 <= args.procs <= args.clients or args.clients < 2 or args.rate <= 0:
        print(
            "Ошибка: нужно 1 ≤ --procs ≤ --clients, --clients ≥ 2, --rate > 0",
            file=sys.stderr,
        )
        return 1
    try:
        result = run(args)
    except (OSError, EOFError) as error:
        print(f"Ошибка: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"{result['clients']} клиентов в {result['procs']} процессах, "
            f"{result['rate']:g} сообщ./с ({result['pace']})\n"
            f"доставлено {result['delivered']} из {result['expected']}, "
            f"потеряно {result['lost']}\n"
            f"задержка: p50 {result['p50_ms']} мс, p99 {result['p99_ms']} мс, "
            f"максимум {result['max_ms']} мс\n"
            f"p99 по времени после recvmsg: {result['user_p99_ms']} мс; "
            f"p99 разгона: {result['warmup_p99_ms']} мс; "
            f"отправка опаздывала до {result['late_ms']} мс"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
