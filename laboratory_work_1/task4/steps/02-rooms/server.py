"""Шаг 2 чата: комнаты, личные сообщения и таблица команд.

Протокол JIM (строки JSON, запросы, коды ответов) описан на странице шага. Этот
файл — шаг 1, переписанный в классы: у чата появились комнаты и много ответов.

Роли — в том порядке, в каком их читать:
  fold, encode, parse_request — текст и строки протокола;
  Connection — одно соединение: сокет, имя, комнаты, замок отправки;
  ChatServer — общее состояние (пользователи и комнаты под одним замком), приём
               соединений, поток чтения на соединение, обработчики
               запросов on_* (таблица handlers);
  main       — параметры командной строки, порт, Ctrl+C.

Потоки: главный принимает соединения; поток на каждое соединение режет байты на
строки, выполняет запросы и сам отправляет ответы и рассылки (sendall). Кому
нужны оба замка, берёт сначала замок отправки, потом замок состояния.
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
MAX_NAME_CHARS = 25
MAX_TEXT_CHARS = 500
ACCEPT_TICK = 1.0  # accept с таймаутом: на Windows иначе не прервать Ctrl+C
GENERAL_ROOM = "#general"
# \w в Python — буквы и цифры любого алфавита и «_».
NAME_PATTERN = re.compile(rf"[\w-]{{1,{MAX_NAME_CHARS}}}")
ROOM_PATTERN = re.compile(rf"#[\w-]{{1,{MAX_NAME_CHARS}}}")

log = logging.getLogger("chat")


def fold(name: str) -> str:
    """Ключ для сравнения имён без учёта регистра: «Алиса» и «АЛИСА» совпадут."""
    return unicodedata.normalize("NFC", name).casefold()


def encode(message: dict) -> bytes:
    """Сообщение → строка протокола: JSON (кириллица как есть), "\\n", UTF-8."""
    return (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")


def notice(text: str) -> dict:
    return {"response": 100, "alert": text}


class RequestError(Exception):
    """Запрос не выполнен: код ответа и объяснение для клиента."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


class Disconnect(Exception):
    """Соединение пора закрыть; текст — причина для лога."""


def text_field(request: dict, key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str):
        raise RequestError(400, f"Нужно строковое поле «{key}»")
    return value


def room_field(request: dict) -> str:
    room = fold(text_field(request, "room"))
    if not ROOM_PATTERN.fullmatch(room):
        raise RequestError(
            400, f"Комната — «#» и от 1 до {MAX_NAME_CHARS} букв, цифр, «_», «-»"
        )
    return room


def parse_request(line: bytes) -> dict:
    """Строка → запрос; всё, что не похоже на запрос JIM, — RequestError(400)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(400, "Строка не в кодировке UTF-8") from None
    try:
        request = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError — «[[[[…» в тысячу слоёв
        raise RequestError(400, "Строка — не JSON") from None
    if not isinstance(request, dict) or not isinstance(request.get("action"), str):
        raise RequestError(400, "Нужен JSON-объект с полем «action»")
    return request


def read_lines(sock: socket.socket):
    """recv отдаёт сколько пришло — полстроки, две строки, полбуквы, поэтому
    сначала режем байты по b"\\n", а декодируем уже целую строку."""
    inbox = b""
    while data := sock.recv(65536):
        *lines, inbox = (inbox + data).split(b"\n")  # хвост — начало следующей
        yield from lines


class Connection:
    """Одно соединение: сокет, имя и комнаты."""

    def __init__(self, sock: socket.socket, address: tuple) -> None:
        self.sock = sock
        self.address = f"{address[0]}:{address[1]}"
        self.drop_reason = None  # почему запись в сокет не удалась
        self.name = None  # имя — после presence
        self.rooms = set()  # комнаты пользователя; под замком состояния
        # Писать клиенту может любой поток: с замком строки не перемешаются,
        # а в закрытый сокет (его номер уже может быть чужим) никто не напишет.
        # RLock, а не Lock: тот, кто держит замок, может под ним вызвать send.
        self.send_lock = threading.RLock()

    @property
    def label(self) -> str:
        return self.name or self.address

    def send(self, message: dict) -> None:
        self.send_data(encode(message))

    def send_data(self, data: bytes) -> None:
        """Байты — в сокет; пишет любой поток, но по одному (замок отправки)."""
        with self.send_lock:
            try:
                self.sock.sendall(data)
            except OSError as error:  # клиент ушёл: уберёт его собственный поток
                # Ошибку ядро сообщает один раз: recv в потоке чтения может
                # увидеть просто конец потока — запомним, что было на самом деле.
                self.drop_reason = f"ошибка записи: {error}"


class ChatServer:
    """Общее состояние чата и обработка запросов; поток на каждое соединение."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # замок состояния: два поля ниже
        self.users = {}  # fold(имя) → Connection
        self.rooms = {GENERAL_ROOM: set()}  # комната → соединения в ней
        self.handlers = {
            "presence": self.on_presence,
            "msg": self.on_msg,
            "join": self.on_join,
            "leave": self.on_leave,
            "users": self.on_users,
            "rooms": self.on_rooms,
            "quit": self.on_quit,
        }

    # --- приём соединений (главный поток) ----------------------------------
    def serve_forever(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, address = listener.accept()
            except TimeoutError:  # просто тик: даём Ctrl+C сработать
                continue
            self.start_connection(sock, address)

    def start_connection(self, sock: socket.socket, address: tuple) -> None:
        # Без задержки Нейгла.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(sock, address)
        thread = threading.Thread(
            target=self.serve_connection, args=(conn,), daemon=True
        )
        log.info("Подключение %s", conn.address)
        thread.start()

    # --- поток чтения ------------------------------------------------------
    def serve_connection(self, conn: Connection) -> None:
        reason = "внутренняя ошибка сервера"
        try:
            reason = self.read_requests(conn)
        except Disconnect as end:
            reason = str(end)
        except ConnectionResetError:
            reason = "соединение сброшено"
        except OSError as error:
            reason = f"ошибка сокета: {error}"
        finally:
            self.disconnect(conn, reason)

    def read_requests(self, conn: Connection) -> str:
        """Читает и выполняет запросы, пока соединение не кончится;
        возвращает причину."""
        for line in read_lines(conn.sock):
            if line.strip():  # пустые строки (Enter в telnet) пропускаем
                self.handle_line(conn, line)
        return conn.drop_reason or "закрыл соединение"

    def handle_line(self, conn: Connection, line: bytes) -> None:
        """Выполняет один запрос и отправляет ответ, если он есть."""
        try:
            request = parse_request(line)
            handler = self.handlers.get(request["action"])
            if handler is None:
                raise RequestError(400, "Неизвестное действие")
            if conn.name is None and request["action"] not in ("presence", "quit"):
                raise RequestError(401, "Сначала представьтесь: action «presence»")
            reply = handler(conn, request)
        except RequestError as error:
            log.warning("%s: ошибка %d: %s", conn.label, error.code, error)
            reply = {"response": error.code, "error": str(error)}
        if reply:
            conn.send(reply)

    def disconnect(self, conn: Connection, reason: str) -> None:
        """Уборка: убрать из состояния, закрыть сокет, сказать соседям."""
        with self.lock:
            neighbours = set()
            if conn.name is not None:
                del self.users[fold(conn.name)]
                for room in list(conn.rooms):
                    neighbours |= self.leave_room(conn, room)
        with conn.send_lock:  # пока мы закрываем сокет, в него никто не пишет
            conn.sock.close()
        if conn.name is not None:
            self.broadcast(neighbours, notice(f"{conn.name} вышел из чата"))
        log.info("%s отключился: %s", conn.label, reason)

    # --- общее состояние -----------------------------------------------------
    def leave_room(self, conn: Connection, room: str) -> set:
        """Под замком: убирает conn из комнаты (пустая исчезает, кроме #general);
        возвращает, кто остался."""
        members = self.rooms[room]
        members.discard(conn)
        conn.rooms.discard(room)
        if not members and room != GENERAL_ROOM:
            del self.rooms[room]
        return members

    def broadcast(self, conns, message: dict) -> None:
        """Одно сообщение многим; вызывается без замка состояния."""
        data = encode(message)  # JSON — один раз на всех получателей
        for conn in conns:
            conn.send_data(data)

    # --- обработчики запросов: возвращают ответ или None -------------------
    def on_presence(self, conn: Connection, request: dict):
        if conn.name is not None:  # повторный presence — «я на связи»
            return {"response": 200, "alert": "На связи"}
        user = request.get("user")
        name = user.get("account_name") if isinstance(user, dict) else None
        if not isinstance(name, str):
            raise RequestError(400, "Нужно поле user.account_name — имя")
        name = unicodedata.normalize("NFC", name)  # «й» одним символом, а не «и» + знак
        if not NAME_PATTERN.fullmatch(name):
            raise RequestError(
                400, f"Имя — от 1 до {MAX_NAME_CHARS} букв, цифр, «_» или «-»"
            )
        # Замок отправки новичка — раньше замка состояния: кто выберет новичка
        # получателем, встанет в send за этим замком, и 202 придёт первым.
        with conn.send_lock:
            with self.lock:
                if fold(name) in self.users:
                    raise RequestError(409, f"Имя {name} уже занято")
                self.users[fold(name)] = conn
                conn.name = name
                neighbours = list(self.rooms[GENERAL_ROOM])
                self.rooms[GENERAL_ROOM].add(conn)
                conn.rooms.add(GENERAL_ROOM)
            conn.send(
                {
                    "response": 202,
                    "alert": f"Добро пожаловать, {name}! Вы в {GENERAL_ROOM}",
                }
            )
        self.broadcast(neighbours, notice(f"{name} вошёл в чат"))
        log.info("%s представился: %s", conn.address, name)
        return None

    def on_msg(self, conn: Connection, request: dict):
        target = text_field(request, "to")
        text = text_field(request, "message")
        if not 1 <= len(text) <= MAX_TEXT_CHARS:
            raise RequestError(400, f"Текст — от 1 до {MAX_TEXT_CHARS} символов")
        with self.lock:  # под замком только выбираем получателей
            if target.startswith("#"):
                target = fold(target)
                members = self.rooms.get(target)
                if members is None:
                    raise RequestError(404, "Нет такой комнаты")
                if conn not in members:
                    raise RequestError(403, "Вы не в этой комнате")
                recipients = [member for member in members if member is not conn]
            else:
                receiver = self.users.get(fold(target))
                if receiver is None:
                    raise RequestError(404, "Нет такого пользователя")
                target, recipients = receiver.name, [receiver]
        self.broadcast(
            recipients,
            {
                "action": "msg",
                "time": time.time(),
                "from": conn.name,
                "to": target,
                "message": text,
            },
        )
        log.info(
            "%s → %s: доставлено, получателей: %d", conn.name, target, len(recipients)
        )
        return {"response": 200, "alert": f"Доставлено, получателей: {len(recipients)}"}

    def on_join(self, conn: Connection, request: dict):
        room = room_field(request)
        with conn.send_lock:  # как в presence: сообщения комнаты не обгонят ответ
            with self.lock:
                members = self.rooms.setdefault(room, set())
                if conn in members:
                    return {"response": 200, "alert": f"Вы уже в {room}", "room": room}
                neighbours = list(members)
                members.add(conn)
                conn.rooms.add(room)
            conn.send({"response": 200, "alert": f"Вы вошли в {room}", "room": room})
        self.broadcast(neighbours, notice(f"{conn.name} вошёл в {room}"))
        log.info("%s вошёл в %s", conn.name, room)
        return None

    def on_leave(self, conn: Connection, request: dict):
        room = room_field(request)
        with self.lock:
            if room not in conn.rooms:
                raise RequestError(404, f"Вы не в комнате {room}")
            neighbours = list(self.leave_room(conn, room))
        self.broadcast(neighbours, notice(f"{conn.name} вышел из {room}"))
        log.info("%s вышел из %s", conn.name, room)
        return {"response": 200, "alert": f"Вы вышли из {room}", "room": room}

    def on_users(self, conn: Connection, request: dict):
        if "room" not in request:
            where = "чата"
            with self.lock:
                names = [user.name for user in self.users.values()]
        else:
            where = room_field(request)
            with self.lock:
                if where not in self.rooms:
                    raise RequestError(404, "Нет такой комнаты")
                names = [member.name for member in self.rooms[where]]
        names.sort(key=str.casefold)
        return {
            "response": 200,
            "alert": f"Пользователи {where} ({len(names)})",
            "users": names,
        }

    def on_rooms(self, conn: Connection, request: dict):
        with self.lock:
            rooms = sorted(self.rooms)
        return {"response": 200, "alert": f"Комнаты ({len(rooms)})", "rooms": rooms}

    def on_quit(self, conn: Connection, request: dict):
        raise Disconnect("вышел (quit)")


def main() -> int:
    parser = russian_argparse.ArgumentParser(description="Чат, шаг 2: комнаты, личные.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="адрес (127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="порт (7777)")
    args = parser.parse_args()
    # Ctrl+C — даже при запуске с &.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        listener = socket.create_server((args.host, args.port))
    except (OSError, OverflowError):  # OverflowError — порт больше 65535
        print(
            f"Ошибка: не удалось занять {args.host}:{args.port} — порт занят?",
            file=sys.stderr,
        )
        return 1
    listener.settimeout(ACCEPT_TICK)
    log.info("Сервер слушает %s:%d", *listener.getsockname())
    server = ChatServer()
    try:
        server.serve_forever(listener)
    except KeyboardInterrupt:
        log.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
