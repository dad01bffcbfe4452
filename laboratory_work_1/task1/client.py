"""UDP-клиент приветствия (задание 1 лабораторной работы «Работа с сокетами»).

Отправляет серверу «Hello, server» и печатает его ответ:
«Ответ сервера: Hello, client».

UDP не гарантирует доставку: наша дейтаграмма или ответ могут потеряться,
и тогда recv ждал бы вечно. Поэтому ответа ждём не дольше --timeout секунд,
а если его нет — отправляем приветствие ещё раз, до --retries повторов
(всего 1 + retries попыток). Потом сдаёмся: «Ошибка: … не ответил», код 1.

Сокет «подключаем» к серверу через connect. Для UDP это не соединение
(в сеть ничего не уходит), а запоминание адреса: send отправляет туда,
а recv принимает дейтаграммы только оттуда, так что чужая дейтаграмма
не сойдёт за ответ. Кроме того, подключённому сокету система сообщает
об ICMP «порт недоступен»: recv бросает ConnectionRefusedError
(на Windows — ConnectionResetError), и клиент сразу говорит, что сервер
не запущен, не дожидаясь конца всех попыток.
"""

import argparse
import errno
import socket
import sys

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_PORT = 5001
# Сообщение клиента.
GREETING = "Hello, server"
# Наибольший ответ, который клиент прочитает: «Hello, client» намного короче.
MAX_DATAGRAM = 1024
# Наибольший --timeout, секунд.
MAX_TIMEOUT = 3600.0
# «Нет прав» у сокетов Windows — свой код, не EACCES (на Linux и macOS его нет).
WSAEACCES = getattr(errno, "WSAEACCES", errno.EACCES)


def ask_server(sock: socket.socket, timeout: float, retries: int) -> bytes | None:
    """Шлёт приветствие, пока не придёт ответ; None — сервер так и не ответил."""
    attempts = 1 + retries
    sock.settimeout(timeout)
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            print(
                f"Нет ответа за {timeout:g} с, отправляю ещё раз "
                f"(попытка {attempt} из {attempts})",
                file=sys.stderr,
            )
        sock.send(GREETING.encode("utf-8"))
        try:
            return sock.recv(MAX_DATAGRAM)
        except TimeoutError:
            continue
    return None


def describe(error: OSError) -> str:
    """Причина сбоя сети по-русски: текст ошибки от системы бывает английским."""
    if isinstance(error, socket.gaierror):
        return "имя хоста не найдено (нет такого имени или недоступен DNS)"
    if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "нет маршрута до этого адреса"
    if error.errno in (errno.EACCES, WSAEACCES):
        return "система запретила отправку (например, на широковещательный адрес)"
    # Редкий случай — имя кода ошибки: по нему легко найти описание.
    return f"системная ошибка {errno.errorcode.get(error.errno, error.errno)}"


def host_name(text: str) -> str:
    """Тип для argparse: имя хоста, которое socket сумеет перевести для DNS."""
    # Имена не латиницей socket переводит кодеком IDNA («пример.рф» →
    # «xn--e1afmkfd.xn--p1ai»); пустая или длиннее 63 символов часть имени
    # там невозможна, и socket упал бы с TypeError — отсекаем заранее.
    try:
        text.encode("idna")
    except UnicodeError:
        raise argparse.ArgumentTypeError(
            "такого имени хоста не бывает: пустая или слишком длинная часть"
        ) from None
    return text


def port_number(text: str) -> int:
    """Тип для argparse: номер порта 1–65535."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 1 до 65535")
    return port


def positive_float(text: str) -> float:
    """Тип для argparse: число секунд больше нуля и не больше часа."""
    value = float(text)
    # Так отсекаются и «nan» (он не больше нуля), и огромные числа: settimeout(1e12)
    # упал бы с OverflowError, а ждать ответа дольше часа незачем.
    if not 0 < value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"нужно число секунд больше нуля и не больше {MAX_TIMEOUT:g}"
        )
    return value


def non_negative_int(text: str) -> int:
    """Тип для argparse: целое число не меньше нуля."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("нужно целое число не меньше нуля")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="UDP-клиент: отправляет серверу «Hello, server» и печатает ответ."
    )
    parser.add_argument(
        "--host",
        type=host_name,
        default="127.0.0.1",
        help="адрес сервера (по умолчанию %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="UDP-порт сервера (по умолчанию %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=1.0,
        help="сколько секунд ждать ответа на одну попытку (по умолчанию %(default)s)",
    )
    parser.add_argument(
        "--retries",
        type=non_negative_int,
        default=3,
        help="сколько раз повторить отправку, если ответа нет "
        "(по умолчанию %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Символ, которого нет в кодировке консоли (cp866, cp1251), станет «?»,
    # а не UnicodeEncodeError: ответ сервера может содержать что угодно.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(errors="replace")
    server = f"{args.host}:{args.port}"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((args.host, args.port))
            reply = ask_server(sock, args.timeout, args.retries)
    except KeyboardInterrupt:
        print("Прервано.", file=sys.stderr)
        return 0
    except ConnectionError:
        # ICMP «порт недоступен»: на этом адресе никто не слушает UDP.
        print(
            f"Ошибка: сервер {server} недоступен: на этом порту никто не слушает.",
            file=sys.stderr,
        )
        return 1
    except OSError as error:
        print(
            f"Ошибка: не удалось связаться с {server}: {describe(error)}.",
            file=sys.stderr,
        )
        return 1
    if reply is None:
        print(
            f"Ошибка: сервер {server} не ответил (попыток: {1 + args.retries}, "
            f"ожидание каждой: {args.timeout:g} с).",
            file=sys.stderr,
        )
        return 1
    print(f"Ответ сервера: {reply.decode('utf-8', errors='replace')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
