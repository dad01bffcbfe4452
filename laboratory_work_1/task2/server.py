"""TCP-сервер математических операций (задание 2 лабораторной «Работа с сокетами»).

Клиент присылает операцию и числа, сервер считает и отвечает. Операций четыре:

    op              args        что считает
    pythagoras      [a, b]      гипотенузу по катетам a и b (теорема Пифагора)
    quadratic       [a, b, c]   корни уравнения a·x² + b·x + c = 0
    trapezoid       [a, b, h]   площадь трапеции с основаниями a, b и высотой h
    parallelogram   [a, h]      площадь параллелограмма с основанием a и высотой h

Протокол. TCP передаёт поток байтов, а не сообщения, поэтому сообщение — это
одна строка JSON в UTF-8, которая заканчивается переводом строки (байт 0x0A;
такой формат называют newline-delimited JSON). Сервер сначала режет байты
на строки и только потом декодирует: буква UTF-8 может прийти разрезанной
между двумя recv. В одном соединении можно отправить сколько угодно запросов:
на каждый приходит ровно один ответ, в том же порядке.

    запрос
        {"op": "quadratic", "args": [1, -3, 2]}
    успешный ответ
        {"ok": true, "result": {...}, "text": "D = 1 > 0, два корня: x1 = 2, x2 = 1"}
    ошибка
        {"ok": false, "error": "параметр a — длина, он должен быть больше нуля"}

"text" — готовая фраза для человека, "result" — те же числа для программ:

    op              result
    pythagoras      {"c": гипотенуза}
    quadratic       {"case": случай, "roots": [корни]}, а при a ≠ 0 ещё "discriminant"
    trapezoid       {"area": площадь}
    parallelogram   {"area": площадь}

Случаи квадратного уравнения ("case"): "two_roots" (корни по убыванию),
"one_root", "complex_roots" (корни вида {"re": …, "im": …}), "linear"
(a = 0, один корень), "infinitely_many" (0 = 0) и "no_solutions" (a = b = 0, c ≠ 0).

Числа в "text" округляются до SIGNIFICANT_DIGITS значащих цифр без лишних нулей
(5, а не 5.0); в "result" они как есть.

Ошибки. Сервер не доверяет клиенту: запрос не JSON или не в UTF-8, неизвестная
операция, не столько параметров, параметр не число (или NaN, бесконечность),
длина меньше или равна нулю, результат не помещается в float — на всё это
приходит {"ok": false, "error": …}, и соединение продолжает работать.

Пределы. В трёх случаях сервер отвечает ошибкой и сразу закрывает соединение:

* строка длиннее MAX_LINE_BYTES байт — иначе клиент заставил бы сервер копить
  байты без предела;
* строка не пришла целиком за --request-timeout секунд от своего первого
  байта — иначе клиент, присылающий по байту в секунду, держал бы поток вечно;
* уже открыто --max-clients соединений — ответ «сервер занят: …» (или система
  не дала потока — «сервер перегружен: …»): каждое соединение стоит потока,
  памяти и дескриптора файла.

Соединения. Каждое соединение обслуживает свой поток (threading), поэтому
клиент, который подключился и молчит посреди строки, не задерживает других.
Поток-демон не мешает остановить сервер по Ctrl+C. Молчать между запросами
можно --idle-timeout секунд (по умолчанию IDLE_TIMEOUT_SECONDS), потом сервер
молча закрывает соединение. Сбой самого accept (например, у процесса кончились
дескрипторы файлов) сервер тоже переживает: предупреждение в логе (не чаще раза
в ACCEPT_ERROR_LOG_INTERVAL секунд), короткая пауза, и приём продолжается.
"""

import argparse
import errno
import json
import logging
import math
import os
import signal
import socket
import sys
import threading
import time

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_PORT = 5002
# Самая длинная строка запроса в байтах: настоящий запрос — несколько десятков байт.
MAX_LINE_BYTES = 1024
# Сколько байт просить у recv за раз.
RECV_CHUNK = 4096
# Сколько значащих цифр показывать в ответе: достаточно для точных данных
# и прячет шум двоичной арифметики (0.1 + 0.2 = 0.30000000000000004).
SIGNIFICANT_DIGITS = 10
# Сколько секунд можно молчать между запросами (--idle-timeout по умолчанию).
IDLE_TIMEOUT_SECONDS = 300.0
# За сколько секунд строка запроса должна прийти целиком, считая от её первого
# байта (--request-timeout по умолчанию): запрос — одна строка, его не набирают
# по букве, а клиенту, который шлёт по байту в секунду, поток не положен.
REQUEST_TIMEOUT_SECONDS = 10.0
# Сколько соединений обслуживать одновременно (--max-clients по умолчанию):
# каждое — поток со своим стеком и дескриптор файла; 100 — меньше обычного
# предела в 1024 дескриптора на процесс в Linux.
MAX_CLIENTS = 100
# accept ждёт не дольше тика и возвращается в Python: на Windows блокирующий
# accept не прерывается Ctrl+C, а так KeyboardInterrupt придёт на следующем тике.
ACCEPT_TICK = 0.5
# Пауза после сбоя accept: пока дескрипторов нет, повторять accept без паузы —
# значит крутить процессор впустую.
ACCEPT_PAUSE_SECONDS = 0.1
# О сбоях accept пишем в лог не чаще раза в столько секунд: сбой повторяется
# на каждой попытке, и лог иначе наполнился бы одинаковыми строками.
ACCEPT_ERROR_LOG_INTERVAL = 10.0

log = logging.getLogger("task2.server")


class RequestError(Exception):
    """Запрос нельзя выполнить; текст исключения уходит клиенту в поле "error"."""


class LineRejected(Exception):
    """Строку дальше не читаем (слишком длинная или слишком медленная): ответить
    ошибкой с текстом исключения и закрыть соединение."""


def format_number(value: float) -> str:
    """Число для человека: 5 вместо 5.0, 1.414213562 вместо 1.4142135623730951."""
    text = f"{value:.{SIGNIFICANT_DIGITS}g}"
    # -0.0 — законное число с плавающей точкой, но человеку нужен просто 0.
    return "0" if text == "-0" else text


def pythagoras(a: float, b: float) -> tuple[dict, str]:
    """Гипотенуза прямоугольного треугольника с катетами a и b."""
    c = math.hypot(a, b)  # √(a² + b²) без переполнения на промежуточном a²
    return {"c": c}, f"Гипотенуза: c = {format_number(c)}"


def linear(b: float, c: float) -> tuple[dict, str]:
    """Уравнение b·x + c = 0 — то, что остаётся от квадратного при a = 0."""
    if b != 0:
        x = -c / b
        return {
            "case": "linear",
            "roots": [x],
        }, f"a = 0, уравнение линейное: x = {format_number(x)}"
    if c == 0:
        return (
            {"case": "infinitely_many", "roots": []},
            "a = b = c = 0: подходит любое x, решений бесконечно много",
        )
    return {"case": "no_solutions", "roots": []}, "a = b = 0, c ≠ 0: решений нет"


def scale(a: float, b: float, c: float) -> tuple[float, float, float, int]:
    """Делит коэффициенты на 2**shift так, чтобы наибольший по модулю стал
    от 0.5 до 1; возвращает (a, b, c, shift).

    Корни от этого не меняются, зато b² и 4ac уже не переполнятся и не пропадут
    в ноль. Делим на степень двойки, потому что это деление точное: меняется
    только порядок числа, а не его цифры.
    """
    _, shift = math.frexp(max(abs(a), abs(b), abs(c)))  # x = m · 2**shift
    return math.ldexp(a, -shift), math.ldexp(b, -shift), math.ldexp(c, -shift), shift


def unscaled(discriminant: float, shift: int) -> float | None:
    """Дискриминант исходного уравнения; None — если он не помещается в float.

    b² и 4ac — произведения двух коэффициентов, поэтому D исходного уравнения
    в (2**shift)² раз больше масштабированного.
    """
    try:
        value = math.ldexp(discriminant, 2 * shift)
    except OverflowError:  # ldexp не возвращает inf, а бросает исключение
        return None
    if discriminant != 0 and abs(value) < sys.float_info.min:
        return None  # пропал в ноль или потерял значащие цифры
    return value


def quadratic(a: float, b: float, c: float) -> tuple[dict, str]:
    """Корни уравнения a·x² + b·x + c = 0 во всех случаях, включая a = 0."""
    if a == 0:
        return linear(b, c)
    a, b, c, shift = scale(a, b, c)
    if a == 0:  # a меньше наибольшего коэффициента в 10³²³ раз и пропал при делении
        raise RequestError(
            "коэффициенты различаются больше чем в 10^323 раз: такое уравнение "
            "в float не решить"
        )
    discriminant = b * b - 4 * a * c
    shown = unscaled(discriminant, shift)
    d = "D" if shown is None else f"D = {format_number(shown)}"
    if discriminant > 0:
        # Школьная формула (-b ± √D) / 2a теряет точность, когда b² много больше 4ac:
        # в одном из корней вычитаются почти равные числа. Поэтому складываем только
        # числа одного знака (знак √D берём у b): получаем q и корень q / a,
        # а второй корень — по теореме Виета (x1 · x2 = c / a), то есть c / q.
        q = -(b + math.copysign(math.sqrt(discriminant), b)) / 2
        x1, x2 = sorted((q / a, c / q), reverse=True)
        return (
            {"case": "two_roots", "discriminant": shown, "roots": [x1, x2]},
            f"{d} > 0, два корня: x1 = {format_number(x1)}, x2 = {format_number(x2)}",
        )
    if discriminant == 0:
        x = -b / (2 * a)
        return (
            {"case": "one_root", "discriminant": shown, "roots": [x]},
            f"{d}, один корень: x = {format_number(x)}",
        )
    real = -b / (2 * a)
    imaginary = math.sqrt(-discriminant) / (2 * abs(a))
    re, im = format_number(real), format_number(imaginary)
    return (
        {
            "case": "complex_roots",
            "discriminant": shown,
            "roots": [{"re": real, "im": imaginary}, {"re": real, "im": -imaginary}],
        },
        f"{d} < 0, действительных корней нет; комплексные корни: "
        f"x1 = {re} + {im}i, x2 = {re} - {im}i",
    )


def area_or_error(area: float) -> float:
    """Площадь фигуры с положительными длинами — не ноль; ноль значит, что
    настоящая площадь меньше самого маленького float."""
    if area == 0:
        raise RequestError("числа слишком малы: площадь меньше наименьшего float")
    return area


def trapezoid(a: float, b: float, h: float) -> tuple[dict, str]:
    """Площадь трапеции с основаниями a, b и высотой h."""
    # Средняя линия (a + b) / 2, но без суммы a + b: она переполнилась бы
    # при a = b = 1e308, хотя сама средняя линия помещается в float.
    middle = a + (b - a) / 2
    area = area_or_error(middle * h)
    return {"area": area}, f"Площадь трапеции: S = {format_number(area)}"


def parallelogram(a: float, h: float) -> tuple[dict, str]:
    """Площадь параллелограмма с основанием a и высотой h."""
    area = area_or_error(a * h)
    return {"area": area}, f"Площадь параллелограмма: S = {format_number(area)}"


# Имя операции -> (функция, имена параметров, все ли параметры — длины, то есть > 0).
OPERATIONS = {
    "pythagoras": (pythagoras, ("a", "b"), True),
    "quadratic": (quadratic, ("a", "b", "c"), False),
    "trapezoid": (trapezoid, ("a", "b", "h"), True),
    "parallelogram": (parallelogram, ("a", "h"), True),
}


def parse_request(line: bytes) -> tuple[str, list]:
    """Строка запроса -> (операция, список параметров как есть)."""
    try:
        request = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise RequestError("запрос не в кодировке UTF-8") from None
    except (ValueError, RecursionError):
        # RecursionError: глубоко вложенные скобки [[[[…]]]] тоже не запрос.
        raise RequestError(
            'запрос не JSON; нужна строка вида {"op": "pythagoras", "args": [3, 4]}'
        ) from None
    if not (
        isinstance(request, dict)
        and isinstance(request.get("op"), str)
        and isinstance(request.get("args"), list)
    ):
        raise RequestError(
            'запрос должен быть объектом JSON с полями "op" (строка) и "args" (список)'
        )
    return request["op"], request["args"]


def check_arguments(op: str, args: list) -> list[float]:
    """Проверяет параметры операции и возвращает их как float."""
    if op not in OPERATIONS:
        raise RequestError(
            f"неизвестная операция {op!r}; есть: {', '.join(OPERATIONS)}"
        )
    _, names, lengths = OPERATIONS[op]
    if len(args) != len(names):
        raise RequestError(
            f"операции {op} нужно {len(names)} параметра ({', '.join(names)}), "
            f"а пришло {len(args)}"
        )
    numbers = []
    for name, value in zip(names, args, strict=True):
        # bool в Python — подкласс int, но true/false в JSON — не числа.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            shown = json.dumps(value, ensure_ascii=False)
            raise RequestError(f"параметр {name} должен быть числом, а не {shown}")
        try:
            number = float(value)
        except OverflowError:  # целое из сотен цифр не помещается в float
            raise RequestError(f"параметр {name} слишком велик") from None
        # Python читает из JSON и NaN, и Infinity; считать с ними нечего.
        if not math.isfinite(number):
            raise RequestError(f"параметр {name} должен быть конечным числом")
        if lengths and number <= 0:
            raise RequestError(f"параметр {name} — длина, он должен быть больше нуля")
        numbers.append(number)
    return numbers


def handle_request(line: bytes) -> dict:
    """Одна строка запроса -> ответ-словарь; исключений наружу не выпускает."""
    try:
        op, args = parse_request(line)
        numbers = check_arguments(op, args)
        function = OPERATIONS[op][0]
        result, text = function(*numbers)
    except RequestError as error:
        return {"ok": False, "error": str(error)}
    return {"ok": True, "result": result, "text": text}


def encode_response(response: dict) -> bytes:
    """Ответ -> строка JSON в UTF-8 с переводом строки на конце."""
    try:
        # В JSON нет бесконечности и NaN: allow_nan=False превращает их в ValueError.
        # Так ловится любое переполнение в вычислениях, например
        # площадь 1e308 · 2 у трапеции.
        text = json.dumps(response, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(
            {
                "ok": False,
                "error": "числа слишком велики: результат не помещается в float",
            },
            ensure_ascii=False,
        )
    return (text + "\n").encode("utf-8")


class LineReader:
    """Режет поток байтов из сокета на строки по переводу строки и следит
    за сроками: тишина между строками — idle_timeout, одна строка целиком —
    request_timeout от её первого байта."""

    def __init__(
        self, sock: socket.socket, idle_timeout: float, request_timeout: float
    ) -> None:
        self.sock = sock
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.buffer = b""  # байты, пришедшие после последней отданной строки
        self.line_started = 0.0  # когда пришёл первый байт строки в буфере

    def wait_limit(self) -> float:
        """Сколько секунд ждать следующего recv."""
        if not self.buffer:
            return self.idle_timeout  # строка ещё не началась: ждём тишину
        left = self.line_started + self.request_timeout - time.monotonic()
        if left <= 0:
            # Срок строки истёк, даже если байты всё ещё капают по одному.
            raise LineRejected(
                f"строка запроса не пришла целиком за {self.request_timeout:g} с; "
                "соединение закрыто"
            )
        return left

    def read_line(self) -> bytes | None:
        """Следующая строка без перевода строки; None — клиент закрыл соединение."""
        # recv отдаёт столько байт, сколько уже пришло: полстроки, строку или три.
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE_BYTES:
                raise LineRejected(
                    f"строка запроса длиннее {MAX_LINE_BYTES} байт; соединение закрыто"
                )
            self.sock.settimeout(self.wait_limit())
            try:
                chunk = self.sock.recv(RECV_CHUNK)
            except TimeoutError:
                if self.buffer:
                    continue  # посреди строки: wait_limit скажет, что срок истёк
                raise  # тишина между запросами
            if not chunk:
                return None  # хвост без b"\n" — не законченный запрос, его не выполняем
            if not self.buffer:
                self.line_started = time.monotonic()
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        # Остаток буфера — начало следующей строки: её срок идёт с этой минуты.
        self.line_started = time.monotonic()
        if len(line) > MAX_LINE_BYTES:
            raise LineRejected(
                f"строка запроса длиннее {MAX_LINE_BYTES} байт; соединение закрыто"
            )
        return line


def serve_connection(
    conn: socket.socket, peer: str, idle_timeout: float, request_timeout: float
) -> None:
    """Обслуживает одно соединение: запрос за запросом, пока клиент не уйдёт."""
    with conn:
        try:
            # Ответы маленькие; без алгоритма Нейгла второй ответ подряд
            # не ждёт, пока клиент подтвердит получение первого.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = LineReader(conn, idle_timeout, request_timeout)
            while True:
                try:
                    line = reader.read_line()
                except LineRejected as rejected:
                    conn.settimeout(idle_timeout)
                    conn.sendall(encode_response({"ok": False, "error": str(rejected)}))
                    log.warning("%s: %s", peer, rejected)
                    break
                if line is None:
                    break
                reply = encode_response(handle_request(line))
                log.info(
                    "%s: %r → %s",
                    peer,
                    line.decode("utf-8", errors="replace"),
                    reply.decode("utf-8").rstrip(),
                )
                # sendall ждёт, пока клиент читает ответы, но не дольше idle_timeout.
                conn.settimeout(idle_timeout)
                conn.sendall(reply)
        except TimeoutError:
            # TimeoutError — подкласс OSError, поэтому этот except стоит первым.
            log.info("%s молчит дольше %g с — закрываем соединение", peer, idle_timeout)
        except OSError as error:
            # Клиент оборвал соединение (ConnectionResetError, BrokenPipeError).
            log.warning("%s: соединение оборвано: %s", peer, error)


def connection_thread(
    conn: socket.socket,
    peer: str,
    slots: threading.BoundedSemaphore,
    args: argparse.Namespace,
) -> None:
    """Тело потока соединения: обслужить и при любом исходе вернуть место."""
    log.info("Подключился %s", peer)
    try:
        serve_connection(conn, peer, args.idle_timeout, args.request_timeout)
    finally:
        slots.release()  # до строки «Отключился»: по ней видно, что место свободно
    log.info("Отключился %s", peer)


def refuse(conn: socket.socket, peer: str, error: str) -> None:
    """Отвечает одной строкой-ошибкой и закрывает соединение, не заводя потока."""
    with conn:
        # Главный поток не ждёт ни одного клиента: сокет неблокирующий.
        conn.setblocking(False)
        try:
            # Если запрос уже пришёл, прочитаем его: закрытие сокета с непрочитанными
            # байтами посылает клиенту RST, и ответ до него может не дойти.
            conn.recv(MAX_LINE_BYTES + 1)
        except OSError:
            pass  # ничего не пришло (BlockingIOError) или клиент уже ушёл
        try:
            # Новый сокет пуст, и одна короткая строка в его буфер помещается сразу.
            conn.sendall(encode_response({"ok": False, "error": error}))
        except OSError:
            pass
    log.warning("%s: отказ: %s", peer, error)


def start_connection(
    conn: socket.socket,
    address: tuple[str, int],
    slots: threading.BoundedSemaphore,
    args: argparse.Namespace,
) -> None:
    """Отдаёт соединение новому потоку, если для него есть место и поток."""
    peer = f"{address[0]}:{address[1]}"
    if not slots.acquire(blocking=False):
        refuse(
            conn,
            peer,
            f"сервер занят: уже {args.max_clients} соединений; попробуйте позже",
        )
        return
    # daemon=True: на Ctrl+C сервер не ждёт, пока договорят все клиенты.
    thread = threading.Thread(
        target=connection_thread, args=(conn, peer, slots, args), daemon=True
    )
    try:
        thread.start()
    except RuntimeError:  # «can't start new thread»: система не дала потока
        slots.release()
        refuse(conn, peer, "сервер перегружен: не удалось запустить поток")


class AcceptFailures:
    """Сбои accept подряд: первый — в лог, дальше не чаще раза
    в ACCEPT_ERROR_LOG_INTERVAL секунд; о конце сбоев — одна строка."""

    def __init__(self) -> None:
        self.count = 0  # сколько сбоев подряд
        self.logged_at = -math.inf  # когда последний раз писали о сбое в лог

    def failed(self, error: OSError) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.logged_at >= ACCEPT_ERROR_LOG_INTERVAL:
            log.warning("Не удалось принять соединение: %s", error)
            self.logged_at = now

    def succeeded(self) -> None:
        if self.count:
            log.info(
                "Приём соединений восстановлен; сбоев accept подряд: %d", self.count
            )
            self.count = 0


def serve(listener: socket.socket, args: argparse.Namespace) -> None:
    """Принимает соединения и отдаёт каждое своему потоку."""
    # Семафор — счётчик свободных мест: поток соединения занимает место
    # и возвращает его, когда заканчивается.
    slots = threading.BoundedSemaphore(args.max_clients)
    failures = AcceptFailures()
    while True:
        try:
            conn, address = listener.accept()
        except TimeoutError:
            continue  # тик: никто не подключился, а Ctrl+C успел сработать
        except OSError as error:
            # Например, EMFILE: у процесса кончились дескрипторы. Это беда одного
            # accept, а не сервера: соединение подождёт в очереди, пока какое-то
            # из открытых закроется и освободит дескриптор.
            failures.failed(error)
            time.sleep(ACCEPT_PAUSE_SECONDS)
            continue
        failures.succeeded()
        start_connection(conn, address, slots, args)


def port_number(text: str) -> int:
    """Тип для argparse: номер порта 0–65535 (0 — любой свободный)."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 0 до 65535")
    return port


def timeout_seconds(text: str) -> float:
    """Тип для argparse: число секунд больше нуля и не больше суток."""
    seconds = float(text)
    # «nan» не проходит ни одно сравнение; сверху сутки, потому что settimeout
    # не принимает слишком больших чисел (OverflowError).
    if not 0 < seconds <= 24 * 60 * 60:
        raise argparse.ArgumentTypeError(
            "нужно число секунд больше нуля и не больше 86400"
        )
    return seconds


def client_count(text: str) -> int:
    """Тип для argparse: сколько соединений одновременно, от 1 до 100000."""
    count = int(text)
    if not 1 <= count <= 100_000:
        raise argparse.ArgumentTypeError("нужно целое число от 1 до 100000")
    return count


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="TCP-сервер: теорема Пифагора, квадратное уравнение, "
        "площади трапеции и параллелограмма."
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="адрес, на котором слушать (по умолчанию %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="TCP-порт; 0 — любой свободный (по умолчанию %(default)s)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=timeout_seconds,
        default=IDLE_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="через сколько секунд тишины между запросами закрывать соединение "
        "(по умолчанию %(default)g)",
    )
    parser.add_argument(
        "--request-timeout",
        type=timeout_seconds,
        default=REQUEST_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="за сколько секунд от первого байта строка запроса должна прийти "
        "целиком (по умолчанию %(default)g)",
    )
    parser.add_argument(
        "--max-clients",
        type=client_count,
        default=MAX_CLIENTS,
        metavar="N",
        help="сколько соединений обслуживать одновременно; следующим — ошибка "
        "«сервер занят» (по умолчанию %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl+C — даже при запуске из скрипта с &: там SIGINT «игнорируется».
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if os.name == "posix":
        # Перезапуск сразу после остановки: старые соединения ещё в TIME_WAIT
        # и без этого флага держат порт. Два сервера на одном порту Linux
        # всё равно не пустит.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host, args.port))
        listener.listen()
    except OSError as error:
        listener.close()
        reason = (
            "порт уже занят"
            if error.errno == errno.EADDRINUSE
            else (error.strerror or error)
        )
        print(
            f"Ошибка: не удалось занять {args.host}:{args.port}: {reason}.",
            file=sys.stderr,
        )
        return 1
    listener.settimeout(ACCEPT_TICK)
    with listener:
        host, port = listener.getsockname()
        try:  # первая строка — уже внутри: Ctrl+C сразу после неё не даст трассировку
            log.info("Сервер слушает %s:%d", host, port)
            serve(listener, args)
        except KeyboardInterrupt:
            log.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
