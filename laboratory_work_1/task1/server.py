"""UDP-сервер приветствия (задание 1 лабораторной работы «Работа с сокетами»).

Клиент присылает «Hello, server», сервер печатает это сообщение в лог
вместе с адресом отправителя и отвечает «Hello, client».

Как устроен сервер. UDP не устанавливает соединений: у сервера один сокет,
и в него приходят отдельные дейтаграммы от любых клиентов. `recvfrom` отдаёт
дейтаграмму и адрес отправителя, `sendto` отправляет ответ на этот адрес.
Поэтому весь сервер — один цикл «получить → записать в лог → ответить».
Потоки не нужны: каждая дейтаграмма обрабатывается мгновенно и независимо
от остальных, так что клиентов может быть сколько угодно.

Чужие данные. В порт может прийти что угодно, и сервер не должен от этого падать:

* дейтаграмма не в UTF-8 — декодируем с errors="replace" (битые байты станут «�»),
  пишем в лог через repr (переводы строк и управляющие символы не ломают лог)
  и отвечаем как обычно: приветствие не зависит от содержимого;
* дейтаграмма длиннее MAX_DATAGRAM байт — это не наш протокол, её не отвечаем,
  а только предупреждаем в логе. Читаем на байт больше предела: если байтов
  пришло больше MAX_DATAGRAM, дейтаграмма слишком длинная (Linux молча отрезает
  то, что не влезло в буфер, так что иначе длину не узнать);
* сбой при приёме или отправке одной дейтаграммы (OSError) — предупреждение
  в логе, и цикл продолжается.
"""

import argparse
import errno
import logging
import signal
import socket
import sys

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_PORT = 5001
# Наибольшая дейтаграмма, которую сервер принимает: приветствие намного короче.
MAX_DATAGRAM = 1024
# Ответ сервера на каждую дейтаграмму.
REPLY = "Hello, client"
# recvfrom ждёт дейтаграмму не дольше тика и возвращается в Python: на Windows
# Ctrl+C не прерывает блокирующий recvfrom и сработает только после него.
TICK_SECONDS = 0.5
# «Нет прав» у сокетов Windows — свой код, не EACCES (на Linux и macOS его нет).
WSAEACCES = getattr(errno, "WSAEACCES", errno.EACCES)

log = logging.getLogger("task1.server")


def handle_datagram(data: bytes, sender: tuple[str, int]) -> bytes | None:
    """Записывает дейтаграмму в лог и возвращает ответ (None — не отвечать)."""
    peer = f"{sender[0]}:{sender[1]}"
    if len(data) > MAX_DATAGRAM:
        log.warning(
            "%s прислал дейтаграмму длиннее %d байт — без ответа", peer, MAX_DATAGRAM
        )
        return None
    message = data.decode("utf-8", errors="replace")
    log.info("Сообщение от %s: %r", peer, message)
    return REPLY.encode("utf-8")


def serve(sock: socket.socket) -> None:
    """Бесконечный цикл: принять дейтаграмму, записать в лог, ответить отправителю."""
    sock.settimeout(TICK_SECONDS)
    while True:
        try:
            data, sender = sock.recvfrom(MAX_DATAGRAM + 1)
            reply = handle_datagram(data, sender)
            if reply is not None:
                sock.sendto(reply, sender)
        except TimeoutError:
            continue  # просто тик: дейтаграмм не было, а Ctrl+C успеет сработать
        except OSError as error:
            # Беда одной дейтаграммы, а не сервера: например, Windows так сообщает
            # о слишком длинной дейтаграмме или о том, что прошлый ответ не дошёл.
            log.warning("Сбой при обмене дейтаграммой: %s", describe(error))


def describe(error: OSError) -> str:
    """Причина сбоя по-русски: текст ошибки от системы бывает английским."""
    if isinstance(error, socket.gaierror):
        return "имя хоста не найдено (нет такого имени или недоступен DNS)"
    if error.errno == errno.EADDRINUSE:
        return "порт уже занят"
    if error.errno == errno.EADDRNOTAVAIL:
        return "у этого компьютера нет такого адреса"
    if error.errno in (errno.EACCES, WSAEACCES):
        return "нет прав занять этот порт (или система его зарезервировала)"
    if error.errno == errno.EMSGSIZE:
        return "дейтаграмма длиннее буфера приёма"
    if isinstance(error, ConnectionResetError):
        # Windows: прошлый ответ вернулся ICMP «порт недоступен» — клиент ушёл.
        return "прошлый ответ не доставлен: клиент уже закрыл порт"
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
    """Тип для argparse: номер порта 0–65535 (0 — любой свободный)."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("порт должен быть от 0 до 65535")
    return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="UDP-сервер: на каждое сообщение отвечает «Hello, client»."
    )
    parser.add_argument(
        "--host",
        type=host_name,
        default="127.0.0.1",
        help="адрес, на котором слушать (по умолчанию %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="UDP-порт; 0 — любой свободный (по умолчанию %(default)s)",
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
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((args.host, args.port))
    except OSError as error:
        sock.close()
        print(
            f"Ошибка: не удалось занять {args.host}:{args.port}: {describe(error)}.",
            file=sys.stderr,
        )
        return 1
    with sock:
        host, port = sock.getsockname()
        try:
            # Ctrl+C сразу после первой строки — тоже штатная остановка.
            log.info("Сервер слушает %s:%d (UDP)", host, port)
            serve(sock)
        except KeyboardInterrupt:
            log.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
