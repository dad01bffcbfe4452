"""Шаг 0 чата: клиент, который обычно сдают. Пара к server.py этого шага.

Главный поток читает клавиатуру и шлёт «имя: текст», второй поток печатает
всё, что пришло. Каждый recv он считает одним сообщением — а это не так.
"""

import socket
import sys
import threading

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777


def receive(sock: socket.socket) -> None:
    while True:
        data = sock.recv(1024)
        if not data:
            print("Сервер закрыл соединение.")
            break
        print(data.decode("utf-8"))


def main() -> int:
    parser = russian_argparse.ArgumentParser(description="Клиент чата, шаг 0.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="адрес сервера")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="порт сервера")
    args = parser.parse_args()
    sys.stdout.reconfigure(errors="replace")  # консоль не в UTF-8: «?», а не сбой
    try:
        name = input("Ваше имя: ")
        sock = socket.create_connection((args.host, args.port))
    except (OSError, OverflowError):
        print("Ошибка: не удалось подключиться — сервер запущен?", file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        return 0
    threading.Thread(target=receive, args=(sock,), daemon=True).start()
    try:
        while True:
            sock.sendall(f"{name}: {input()}".encode("utf-8"))
    except (EOFError, KeyboardInterrupt, OSError):
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
