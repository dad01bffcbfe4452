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
Только строку длиннее MAX_LINE_BYTES сервер не читает до конца: отвечает
ошибкой и закрывает соединение, иначе клиент мог бы заставить его копить
байты без предела.

Соединения. Каждое соединение обслуживает свой поток (threading), поэтому
клиент, который подключился и молчит посреди строки, не задерживает других.
Поток-демон не мешает остановить сервер по Ctrl+C. Чтобы молчащий клиент
не держал свой поток вечно, у сокета соединения есть таймаут: если за
--idle-timeout секунд (по умолчанию IDLE_TIMEOUT_SECONDS) не пришло ни байта,
сервер закрывает соединение. Сбой самого accept (например, у процесса
кончились дескрипторы файлов) сервер тоже переживает: предупреждение в логе,
короткая пауза, и приём продолжается.
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

DEFAULT_PORT = 5002
# Самая длинная строка запроса в байтах: настоящий запрос — несколько десятков байт.
MAX_LINE_BYTES = 1024
# Сколько байт просить у recv за раз.
RECV_CHUNK = 4096
# Сколько значащих цифр показывать в ответе: достаточно для точных данных
# и прячет шум двоичной арифметики (0.1 + 0.2 = 0.30000000000000004).
SIGNIFICANT_DIGITS = 10
# Сколько секунд клиент может молчать, прежде чем сервер закроет соединение
# (значение --idle-timeout по умолчанию).
IDLE_TIMEOUT_SECONDS = 300.0
# Пауза после сбоя accept: пока дескрипторов нет, повторять accept без паузы —
# значит крутить процессор впустую и засыпать лог одинаковыми строками.
ACCEPT_PAUSE_SECONDS = 0.1

log = logging.getLogger("task2.server")


class RequestError(Exception):
    """Запрос нельзя выполнить; текст исключения уходит клиенту в поле "error"."""


class LineTooLong(Exception):
    """Строка длиннее MAX_LINE_BYTES: дальше соединение не читаем."""


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


def quadratic(a: float, b: float, c: float) -> tuple[dict, str]:
    """Корни уравнения a·x² + b·x + c = 0 во всех случаях, включая a = 0."""
    if a == 0:
        return linear(b, c)
    discriminant = b * b - 4 * a * c
    d = format_number(discriminant)
    if discriminant > 0:
        # Школьная формула (-b ± √D) / 2a теряет точность, когда b² много больше 4ac:
        # в одном из корней вычитаются почти равные числа. Поэтому складываем только
        # числа одного знака (знак √D берём у b): получаем q и корень q / a,
        # а второй корень — по теореме Виета (x1 · x2 = c / a), то есть c / q.
        q = -(b + math.copysign(math.sqrt(discriminant), b)) / 2
        x1, x2 = sorted((q / a, c / q), reverse=True)
        return (
            {"case": "two_roots", "discriminant": discriminant, "roots": [x1, x2]},
            f"D = {d} > 0, два корня: "
            f"x1 = {format_number(x1)}, x2 = {format_number(x2)}",
        )
    if discriminant == 0:
        x = -b / (2 * a)
        return (
            {"case": "one_root", "discriminant": discriminant, "roots": [x]},
            f"D = 0, один корень: x = {format_number(x)}",
        )
    real = -b / (2 * a)
    imaginary = math.sqrt(-discriminant) / (2 * abs(a))
    re, im = format_number(real), format_number(imaginary)
    return (
        {
            "case": "complex_roots",
            "discriminant": discriminant,
            "roots": [{"re": real, "im": imaginary}, {"re": real, "im": -imaginary}],
        },
        f"D = {d} < 0, действительных корней нет; комплексные корни: "
        f"x1 = {re} + {im}i, x2 = {re} - {im}i",
    )


def trapezoid(a: float, b: float, h: float) -> tuple[dict, str]:
    """Площадь трапеции с основаниями a, b и высотой h."""
    area = (a + b) / 2 * h
    return {"area": area}, f"Площадь трапеции: S = {format_number(area)}"


def parallelogram(a: float, h: float) -> tuple[dict, str]:
    """Площадь параллелограмма с основанием a и высотой h."""
    area = a * h
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
    except RequestError as error:
        return {"ok": False, "error": str(error)}
    function = OPERATIONS[op][0]
    result, text = function(*numbers)
    return {"ok": True, "result": result, "text": text}


def encode_response(response: dict) -> bytes:
    """Ответ -> строка JSON в UTF-8 с переводом строки на конце."""
    try:
        # В JSON нет бесконечности и NaN: allow_nan=False превращает их в ValueError.
        # Так ловится любое переполнение в вычислениях, например
        # (1e308 + 1e308) / 2 у трапеции.
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
    """Режет поток байтов из сокета на строки по переводу строки."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""  # байты, пришедшие после последней отданной строки

    def read_line(self) -> bytes | None:
        """Следующая строка без перевода строки; None — клиент закрыл соединение."""
        # recv отдаёт столько байт, сколько уже пришло: полстроки, строку или три.
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE_BYTES:
                raise LineTooLong
            chunk = self.sock.recv(RECV_CHUNK)
            if not chunk:
                return None  # хвост без b"\n" — не законченный запрос, его не выполняем
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        if len(line) > MAX_LINE_BYTES:
            raise LineTooLong
        return line


def serve_connection(
    conn: socket.socket, address: tuple[str, int], idle_timeout: float
) -> None:
    """Обслуживает одно соединение: запрос за запросом, пока клиент не уйдёт."""
    peer = f"{address[0]}:{address[1]}"
    log.info("Подключился %s", peer)
    with conn:
        try:
            # recv и sendall ждут не дольше idle_timeout, потом бросают TimeoutError.
            conn.settimeout(idle_timeout)
            # Ответы маленькие; без алгоритма Нейгла второй ответ подряд
            # не ждёт, пока клиент подтвердит получение первого.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = LineReader(conn)
            while True:
                try:
                    line = reader.read_line()
                except LineTooLong:
                    error = (
                        f"строка запроса длиннее {MAX_LINE_BYTES} байт; "
                        "соединение закрыто"
                    )
                    conn.sendall(encode_response({"ok": False, "error": error}))
                    log.warning("%s: %s", peer, error)
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
                conn.sendall(reply)
        except TimeoutError:
            # TimeoutError — подкласс OSError, поэтому этот except стоит первым.
            log.info("%s молчит дольше %g с — закрываем соединение", peer, idle_timeout)
        except OSError as error:
            # Клиент оборвал соединение (ConnectionResetError, BrokenPipeError).
            log.warning("%s: соединение оборвано: %s", peer, error)
    log.info("Отключился %s", peer)


def serve(listener: socket.socket, idle_timeout: float) -> None:
    """Принимает соединения и отдаёт каждое своему потоку."""
    while True:
        try:
            conn, address = listener.accept()
        except OSError as error:
            # Например, EMFILE: у процесса кончились дескрипторы. Это беда одного
            # accept, а не сервера: соединение подождёт в очереди, пока какое-то
            # из открытых закроется и освободит дескриптор.
            log.warning("Не удалось принять соединение: %s", error)
            time.sleep(ACCEPT_PAUSE_SECONDS)
            continue
        # daemon=True: на Ctrl+C сервер не ждёт, пока договорят все клиенты.
        threading.Thread(
            target=serve_connection, args=(conn, address, idle_timeout), daemon=True
        ).start()


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
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
        help="через сколько секунд тишины закрывать соединение "
        "(по умолчанию %(default)g)",
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
    with listener:
        host, port = listener.getsockname()
        log.info("Сервер слушает %s:%d", host, port)
        try:
            serve(listener, args.idle_timeout)
        except KeyboardInterrupt:
            log.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
