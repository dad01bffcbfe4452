"""Клиент математического сервиса (задание 2 лабораторной работы «Работа с сокетами»).

Два режима:

* с операцией в командной строке — один расчёт, удобно для скриптов:
  `client.py quadratic 1 -3 2` печатает ответ сервера и выходит с кодом 0,
  а если сервер ответил ошибкой — печатает «Ошибка: …» в stderr, код 1;
* без операции — меню: выбрать номер операции, ввести параметры, увидеть
  ответ, и так сколько угодно раз, пока не выбран «0. Выход» (или Ctrl+D, Ctrl+C).

Отрицательные числа пишутся как есть, и в экспоненциальной записи, и с запятой:
`client.py quadratic 1 -1e-3 -2,5`.

Число, которое нельзя прочитать («abc», «nan»), клиент не отправляет: в меню
переспрашивает, в командной строке завершается с ошибкой. Остальное (длина
меньше нуля, переполнение) проверяет сервер — он не доверяет клиентам.

Протокол описан в server.py: запрос — строка JSON {"op": …, "args": […]}
с переводом строки на конце, ответ — такая же строка {"ok": true, "text": …}
или {"ok": false, "error": …}.
Все запросы меню идут по одному соединению.
"""

import argparse
import errno
import json
import math
import re
import socket
import sys

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_PORT = 5002
# Сколько секунд ждать подключения и каждого ответа сервера.
TIMEOUT = 10.0
# Самый длинный ответ, который клиент готов прочитать.
MAX_RESPONSE_BYTES = 64 * 1024

# Операции сервера: имя -> (пункт меню, параметры и что они значат).
OPERATIONS = {
    "pythagoras": (
        "Теорема Пифагора: гипотенуза по двум катетам",
        (("a", "первый катет"), ("b", "второй катет")),
    ),
    "quadratic": (
        "Квадратное уравнение a·x² + b·x + c = 0",
        (
            ("a", "коэффициент при x²"),
            ("b", "коэффициент при x"),
            ("c", "свободный член"),
        ),
    ),
    "trapezoid": (
        "Площадь трапеции",
        (("a", "первое основание"), ("b", "второе основание"), ("h", "высота")),
    ),
    "parallelogram": ("Площадь параллелограмма", (("a", "основание"), ("h", "высота"))),
}
# Номер пункта меню -> операция: "1" -> "pythagoras" и так далее.
MENU = {str(number): op for number, op in enumerate(OPERATIONS, start=1)}
# Аргумент командной строки, похожий на отрицательное число: «-3», «-1e-3», «-,5».
NEGATIVE_NUMBER = re.compile(r"-[0-9.,]")


class ServiceError(Exception):
    """Сервер ответил {"ok": false}: запрос отклонён, но соединение в порядке."""


class MathService:
    """Соединение с сервером: запрос — строка JSON, ответ — строка JSON."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        # makefile даёт readline(): копить байты до b"\n" будет стандартная библиотека.
        self.responses = self.sock.makefile("rb")

    def calculate(self, op: str, numbers: list[float]) -> str:
        """Отправляет запрос и возвращает текст ответа; отказ сервера — ServiceError."""
        request = json.dumps({"op": op, "args": numbers}) + "\n"
        self.sock.sendall(request.encode("utf-8"))
        line = self.responses.readline(MAX_RESPONSE_BYTES)
        if not line.endswith(b"\n"):
            raise ConnectionError("сервер закрыл соединение, не ответив")
        try:
            response = json.loads(line)
        except ValueError:
            raise ConnectionError("сервер прислал ответ не в формате JSON") from None
        if not isinstance(response, dict):
            raise ConnectionError("сервер прислал ответ не в формате протокола")
        if response.get("ok"):
            return str(response.get("text"))
        raise ServiceError(str(response.get("error")))

    def __enter__(self) -> "MathService":
        return self

    def __exit__(self, *exc_info) -> None:
        self.responses.close()
        self.sock.close()


def parse_number(text: str) -> float:
    """Число, как его набрал человек: «3», «-2.5», «2,5» (с запятой) или «1e-3»."""
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        raise ValueError(f"«{text.strip()}» — не число") from None
    if not math.isfinite(number):
        raise ValueError(f"«{text.strip()}» — не конечное число")
    return number


def describe(error: OSError, host: str) -> str:
    """Короткое объяснение сетевой ошибки по-русски."""
    if isinstance(error, ConnectionRefusedError):
        return "сервер не запущен или порт закрыт"
    if isinstance(error, TimeoutError):
        return "сервер не отвечает"
    if isinstance(error, socket.gaierror):  # getaddrinfo не нашёл такого имени
        return f"не удалось найти адрес «{host}»"
    if isinstance(error, (ConnectionResetError, ConnectionAbortedError)):
        return "сервер оборвал соединение"
    if isinstance(error, BrokenPipeError):
        return "сервер закрыл соединение"
    if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "сеть или компьютер сервера недоступны"
    # Остальное — редкость; текст системы (или наш, как «сервер закрыл
    # соединение, не ответив») лучше, чем ничего.
    return error.strerror or str(error)


def run_once(host: str, port: int, op: str, texts: list[str]) -> int:
    """Режим командной строки: один запрос, ответ в stdout, код выхода."""
    try:
        numbers = [parse_number(text) for text in texts]
    except ValueError as error:
        print(f"Ошибка: {error}.", file=sys.stderr)
        return 1
    with MathService(host, port) as service:
        try:
            print(service.calculate(op, numbers))
        except ServiceError as error:
            print(f"Ошибка: {error}.", file=sys.stderr)
            return 1
    return 0


def choose_operation() -> str | None:
    """Показывает меню и спрашивает номер пункта; None — выход."""
    print()
    print("Что вычислить?")
    for number, (title, _) in enumerate(OPERATIONS.values(), start=1):
        print(f"  {number}. {title}")
    print("  0. Выход")
    while True:
        choice = input("Ваш выбор: ").strip()
        if choice == "0":
            return None
        if choice in MENU:
            return MENU[choice]
        print(
            f"Ошибка: нет пункта «{choice}», введите число от 0 до {len(MENU)}.",
            file=sys.stderr,
        )


def ask_number(name: str, meaning: str) -> float:
    """Спрашивает параметр, пока не введут число."""
    while True:
        text = input(f"{name} ({meaning}) = ")
        try:
            return parse_number(text)
        except ValueError as error:
            print(f"Ошибка: {error}, введите ещё раз.", file=sys.stderr)


def run_menu(host: str, port: int) -> int:
    """Режим меню: расчёт за расчётом по одному соединению."""
    with MathService(host, port) as service:
        print(f"Подключено к серверу {host}:{port}.")
        while True:
            op = choose_operation()
            if op is None:
                print("До свидания.")
                return 0
            numbers = [ask_number(name, meaning) for name, meaning in OPERATIONS[op][1]]
            try:
                print(service.calculate(op, numbers))
            except ServiceError as error:
                print(f"Ошибка: {error}.", file=sys.stderr)


def port_number(text: str) -> int:
    """Тип для argparse: номер порта 1–65535."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 1 до 65535")
    return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="Клиент математического сервиса. Без операции показывает меню.",
        epilog="Пример: client.py --port 5002 quadratic 1 -3 2 "
        "(--host и --port — до операции). Отрицательные числа пишутся как есть: "
        "-3, -1e-3, -2,5.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="адрес сервера (по умолчанию %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="TCP-порт сервера (по умолчанию %(default)s)",
    )
    operations = parser.add_subparsers(dest="op", title="операции", metavar="операция")
    for op, (title, params) in OPERATIONS.items():
        command = operations.add_parser(op, help=title, description=title)
        for name, meaning in params:
            command.add_argument(name, help=meaning)
    return parser.parse_args(argv)


def protect_negative_numbers(argv: list[str]) -> list[str]:
    """Пробел перед отрицательными числами, чтобы argparse не счёл их флагами.

    Флагом argparse считает всё, что начинается с «-», кроме чисел вида -3 и -2.5:
    «-1e-3» и «-2,5» он принял бы за неизвестные флаги. « -1e-3» с пробелом —
    обычное значение, а parse_number пробелы по краям всё равно срезает.
    """
    return [" " + arg if NEGATIVE_NUMBER.match(arg) else arg for arg in argv]


def main(argv: list[str] | None = None) -> int:
    # Консоль Windows бывает в cp1251 или cp866, где нет «≠» и «²»: такой символ
    # печатается как «?», а не роняет программу с UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(errors="replace")
    args = parse_args(protect_negative_numbers(sys.argv[1:] if argv is None else argv))
    try:
        if args.op is None:
            return run_menu(args.host, args.port)
        texts = [getattr(args, name) for name, _ in OPERATIONS[args.op][1]]
        return run_once(args.host, args.port, args.op, texts)
    except (KeyboardInterrupt, EOFError):
        # Ctrl+C или Ctrl+D (конец ввода) — обычный способ закончить работу.
        print("\nДо свидания.")
        return 0
    except OSError as error:
        print(
            f"Ошибка: нет связи с сервером {args.host}:{args.port}: "
            f"{describe(error, args.host)}.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
