"""Шаг 1 чата: минимальное правильное решение — JIM, поток на клиента, один замок.

Протокол (запросы, ответы, коды) — на странице шага. Главный поток принимает
соединения, у каждого клиента свой поток: читает его строки и выполняет запросы.
"""

import json
import logging
import re
import signal
import socket
import sys
import threading
import time
import unicodedata

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777
ACCEPT_TICK = 1.0  # accept с таймаутом: на Windows иначе не прервать Ctrl+C
MAX_TEXT_CHARS = 500
NAME_PATTERN = re.compile(r"[\w-]{1,25}")  # \w — буква или цифра любого алфавита, «_»

log = logging.getLogger("chat")
lock = threading.Lock()  # замок состояния: словарь users
users = {}  # имя без учёта регистра → Client


def encode(message: dict) -> bytes:
    return (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")


class Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.name = sock, None  # имя — после presence
        # Писать клиенту может любой поток: с замком строки не перемешаются,
        # а в закрытый сокет (его номер уже может быть чужим) никто не напишет.
        self.send_lock = threading.Lock()

    def send(self, data: bytes) -> None:
        with self.send_lock:
            try:
                self.sock.sendall(data)
            except OSError:  # клиент уже ушёл: уберёт его собственный поток
                pass


def broadcast(sender: Client, message: dict) -> int:
    """Всем в чате, кроме sender: список — под замком, отправка — без него."""
    with lock:
        recipients = [user for user in users.values() if user is not sender]
    data = encode(message)  # JSON — один раз на всех получателей
    for user in recipients:
        user.send(data)
    return len(recipients)


def read_lines(sock: socket.socket):
    """recv отдаёт сколько пришло — полстроки, две строки, полбуквы, поэтому
    сначала режем байты по b"\\n", а декодируем уже целую строку."""
    inbox = b""
    while data := sock.recv(65536):
        *lines, inbox = (inbox + data).split(b"\n")  # хвост — начало следующей
        yield from lines


def serve(client: Client) -> None:
    """Поток клиента: выполняет его запросы, пока он не уйдёт, и убирает за ним."""
    try:
        for line in read_lines(client.sock):
            if line.strip() and not handle_line(client, line):
                break  # quit
    except OSError:  # соединение оборвалось
        pass
    finally:  # и после ошибки в самом сервере: имя освободится, сокет закроется
        with lock:
            if client.name:
                del users[client.name.casefold()]
        with client.send_lock:  # пока мы закрываем сокет, в него никто не пишет
            client.sock.close()
        if client.name:
            left = {"response": 100, "alert": f"{client.name} вышел из чата"}
            broadcast(client, left)
        log.info("%s отключился", client.name or "гость")


def handle_line(client: Client, line: bytes) -> bool:
    """Выполняет запрос и отвечает на него; False — клиент уходит (quit)."""
    try:
        request = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # не UTF-8, не JSON, «[[[[…» в тысячу слоёв
        request = None
    action = request.get("action") if isinstance(request, dict) else None
    if action == "quit":
        return False
    if action == "presence":
        reply = on_presence(client, request)
    elif action == "msg" and client.name is None:
        reply = {"response": 401, "error": "Сначала представьтесь: presence"}
    elif action == "msg":
        reply = on_msg(client, request)
    else:
        reply = {"response": 400, "error": "Нужен JSON-объект с известным action"}
    client.send(encode(reply))
    return True


def on_presence(client: Client, request: dict) -> dict:
    if client.name is not None:  # уже в чате: presence значит «я на связи»
        return {"response": 200, "alert": "На связи"}
    user = request.get("user")
    name = user.get("account_name") if isinstance(user, dict) else None
    name = unicodedata.normalize("NFC", name) if isinstance(name, str) else ""
    if not NAME_PATTERN.fullmatch(name):  # NFC: «й» — один символ, а не «и» + «˘»
        return {"response": 400, "error": "Имя — от 1 до 25 букв, цифр, «_», «-»"}
    with lock:
        if name.casefold() in users:
            return {"response": 409, "error": f"Имя {name} уже занято"}
        users[name.casefold()] = client
        client.name = name
    broadcast(client, {"response": 100, "alert": f"{name} вошёл в чат"})
    log.info("Представился: %s", name)
    return {"response": 202, "alert": f"Добро пожаловать, {name}! Вы в #general"}


def on_msg(client: Client, request: dict) -> dict:
    text = request.get("message")
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT_CHARS:
        return {"response": 400, "error": f"Текст — от 1 до {MAX_TEXT_CHARS} символов"}
    if request.get("to") != "#general":
        return {"response": 404, "error": "Нет такой комнаты"}
    message = {"action": "msg", "time": time.time(), "from": client.name}
    count = broadcast(client, message | {"to": "#general", "message": text})
    log.info("%s → #general: доставлено, получателей: %d", client.name, count)
    return {"response": 200, "alert": f"Доставлено, получателей: {count}"}


def main() -> int:
    parser = russian_argparse.ArgumentParser(description="Чат, шаг 1: JIM поверх TCP.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="адрес (127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="порт (7777)")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C и при запуске с &
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        listener = socket.create_server((args.host, args.port))
    except (OSError, OverflowError):  # OverflowError — порт больше 65535
        print(f"Ошибка: не удалось занять порт {args.port} — занят?", file=sys.stderr)
        return 1
    listener.settimeout(ACCEPT_TICK)
    log.info("Сервер слушает %s:%d", *listener.getsockname())
    try:
        while True:
            try:
                sock, _ = listener.accept()
            except TimeoutError:  # просто тик: даём Ctrl+C сработать
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # без Нейгла
            threading.Thread(target=serve, args=(Client(sock),), daemon=True).start()
    except KeyboardInterrupt:
        log.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
