"""Шаг 1 чата: минимальный клиент — два потока, клавиатура и приём.

Главный поток спрашивает имя, представляется (presence) и дальше отправляет
каждую набранную строку в #general; поток приёма печатает всё, что пришло.
"""

import json
import os
import socket
import sys
import threading
import time

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777

leaving = threading.Event()  # мы уходим сами: закрытое соединение — не ошибка


def send(sock: socket.socket, action: str, **fields) -> None:
    message = {"action": action, "time": time.time(), **fields}
    sock.sendall((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))


def read_messages(sock: socket.socket):
    """Сообщения сервера по одному: как и сервер, режем байты по b"\\n"."""
    inbox = b""
    while data := sock.recv(65536):
        *lines, inbox = (inbox + data).split(b"\n")
        for line in lines:
            yield json.loads(line)


def show(message: dict) -> None:
    if message.get("action") == "msg":
        clock = time.strftime("%H:%M:%S", time.localtime(message["time"]))
        print(f"[{clock}] {message['from']}: {message['message']}")
    elif message.get("response") == 100:  # уведомление: кто вошёл, кто вышел
        print(f"* {message['alert']}")
    elif message.get("response", 200) >= 300:
        print(f"Ошибка {message['response']}: {message['error']}")


def register(sock: socket.socket, messages) -> str:
    """Представляется; пока имя не принято (400, 409), спрашивает другое."""
    while True:
        name = input("Ваше имя: ").strip()
        send(sock, "presence", user={"account_name": name})
        for reply in messages:  # до ответа может прийти чужое сообщение
            show(reply)
            if reply.get("response", 100) != 100:
                break
        else:  # сервер закрыл соединение, так и не ответив
            raise ConnectionError("сервер закрыл соединение")
        if reply["response"] == 202:
            print(reply["alert"], "Пишите и нажимайте Enter; выход — Ctrl+D.")
            return name


def receive(messages) -> None:
    """Поток приёма. Когда сервер закрыл соединение, завершает всю программу:
    главный поток ждёт клавиатуру, и иначе его не разбудить."""
    try:
        for message in messages:
            show(message)
    except (OSError, ValueError):
        pass
    if not leaving.is_set():
        print("Соединение с сервером закрыто.", flush=True)
        os._exit(1)


def main() -> int:
    parser = russian_argparse.ArgumentParser(description="Клиент чата, шаг 1.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="адрес сервера")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="порт сервера")
    args = parser.parse_args()
    sys.stdout.reconfigure(errors="replace")  # консоль не в UTF-8: «?», а не сбой
    try:
        sock = socket.create_connection((args.host, args.port))
    except (OSError, OverflowError):
        print("Ошибка: не удалось подключиться — сервер запущен?", file=sys.stderr)
        return 1
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    messages = read_messages(sock)
    try:
        register(sock, messages)
        threading.Thread(target=receive, args=(messages,), daemon=True).start()
        while True:
            text = input().strip()
            if text:
                send(sock, "msg", to="#general", message=text)
    except (EOFError, KeyboardInterrupt):  # Ctrl+D (Windows: Ctrl+Z, Enter), Ctrl+C
        leaving.set()
        send(sock, "quit")
    except OSError:  # сервер закрыл соединение при входе
        print("Соединение с сервером закрыто.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
