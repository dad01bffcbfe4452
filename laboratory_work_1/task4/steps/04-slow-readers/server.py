"""Шаг 4 чата: клиент, который не читает, никого не задержит.

Протокол JIM (строки JSON, запросы, коды ответов) описан на странице шага. Этот
файл — шаг 3 и поток-писатель: запись никогда не ждёт медленного клиента.

Роли — в том порядке, в каком их читать:
  clean, fold, encode, parse_request — текст и строки протокола;
  Connection — одно соединение: сокет, имя, комнаты, очередь неотправленного;
  Writer     — поток-писатель: единственный, кто пишет в сокеты своих соединений
               и закрывает их; берёт задания по одному;
  ChatServer — общее состояние (пользователи и комнаты под одним замком), приём
               соединений, поток чтения на соединение, сроки (time_left),
               обработчики запросов on_* (таблица handlers) и остановка;
  main       — параметры командной строки, порт, Ctrl+C.

Потоки: главный принимает соединения; поток чтения на каждое соединение режет
байты на строки и выполняет запросы; поток-писатель пишет в сокеты.
Потоки чтения в сокеты не пишут и сокеты не закрывают — они дают задания
писателю соединения, поэтому запись никогда не ждёт медленного клиента.
"""

import argparse
import json
import logging
import queue
import re
import selectors
import signal
import socket
import sys
import threading
import time
import unicodedata

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777
MAX_LINE_BYTES = 4096  # длиннее — 400 и разрыв соединения
MAX_NAME_CHARS = 25
MAX_TEXT_CHARS = 500
RECV_BYTES = 65536  # сколько просим у ядра за один recv
DEFAULT_HANDSHAKE_TIMEOUT = 10.0  # секунд на presence после подключения
# Сколько раз занятое имя (409) даёт на новое ещё --handshake-timeout: соединение
# без имени живёт не дольше (1 + MAX_NAME_RETRIES) × --handshake-timeout.
MAX_NAME_RETRIES = 5
DEFAULT_IDLE_TIMEOUT = 60.0  # секунд тишины до разрыва; probe — на половине
MAX_TIMEOUT = 24 * 60 * 60.0  # сутки; срок inf или 1e300 селектор не примет
DEFAULT_MAX_BACKLOG = 1024 * 1024  # байт в очереди одного клиента
MAX_JOBS = 1000  # заданий в очереди писателя; больше — потоки чтения ждут
WRITER_TICK = 0.05  # так часто писатель проверяет сокеты медленных клиентов
CLOSE_LINGER = 5.0  # сколько досылать очередь тому, кто ушёл сам (quit, закрыл)
ACCEPT_TICK = 1.0  # accept с таймаутом: на Windows иначе не прервать Ctrl+C
ACCEPT_PAUSE = 0.1  # пауза после сбоя accept (например, кончились дескрипторы)
STOP_TIMEOUT = 2.0  # сколько ждать потоки чтения при остановке
GENERAL_ROOM = "#general"
# \w в Python — буквы и цифры любого алфавита и «_».
NAME_PATTERN = re.compile(rf"[\w-]{{1,{MAX_NAME_CHARS}}}")
ROOM_PATTERN = re.compile(rf"#[\w-]{{1,{MAX_NAME_CHARS}}}")
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
KEPT_FORMAT_CHARS = {"\u200c", "\u200d"}  # ZWNJ и ZWJ
# poll не тратит на соединение лишний дескриптор и не упирается в FD_SETSIZE
# (1024 дескриптора у select); на Windows poll нет — там select.
Selector = getattr(selectors, "PollSelector", selectors.SelectSelector)

log = logging.getLogger("chat")


def clean(text: str) -> str:
    """Текст без символов, которыми можно управлять терминалом или спрятать текст."""
    return "".join(
        char
        for char in text
        if char in KEPT_FORMAT_CHARS
        or unicodedata.category(char) not in UNSAFE_CATEGORIES
    )


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
    if not isinstance(request.get("time", 0), (int, float)):
        raise RequestError(400, "Поле «time» — число, Unix-время")
    return request


class Connection:
    """Одно соединение: сокет, имя, комнаты и очередь неотправленного."""

    def __init__(self, sock: socket.socket, address: tuple, writer: "Writer") -> None:
        self.sock = sock
        self.address = f"{address[0]}:{address[1]}"
        self.writer = writer
        self.backlog = bytearray()  # ещё не отправлено; трогает только его писатель
        self.drop_reason = None  # почему писатель разорвал соединение или закрыл сокет
        self.close_by = None  # ушёл: досылать очередь до этого срока, потом закрыть
        self.inbox = bytearray()  # принятое, но ещё не разрезанное на строки
        self.name = None  # имя — после presence
        self.rooms = set()  # комнаты пользователя; под замком состояния
        # handshake_started — подключение или отказ 409, который продлил срок;
        # last_heard — строка.
        self.handshake_started = self.last_heard = time.monotonic()
        self.name_retries = 0  # сколько раз 409 уже продлил срок presence
        self.probed = False  # probe отправлен, ждём ответа
        self.thread = None  # поток чтения

    @property
    def label(self) -> str:
        return self.name or self.address

    def send(self, message: dict) -> None:
        """Отправляет сообщение этому клиенту: отдаёт писателю и не ждёт."""
        self.writer.send([self], encode(message))


class Writer:
    """Поток-писатель — единственный, кто пишет в сокеты своих соединений
    и закрывает их.

    Другие потоки только кладут задания в очередь jobs и сразу идут дальше.
    Писатель берёт задание, дописывает строку в очереди получателей (backlog)
    и отправляет каждую очередь одним неблокирующим send. Что не влезло в сокет,
    ждёт в backlog, пока сокет не освободится.
    """

    def __init__(self, name: str, max_backlog: int) -> None:
        self.max_backlog = max_backlog
        # Задания по порядку: (что, кому, данные). Очередь ограничена: не успевает
        # писатель — потоки чтения ждут в put и не читают, и TCP придерживает клиентов.
        self.jobs = queue.Queue(MAX_JOBS)
        self.waiting = set()  # соединения, чья очередь не влезла в сокет целиком
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)

    # --- задания: их дают другие потоки, ответа не ждут ---------------------
    def send(self, conns: list, data: bytes) -> None:
        """Отправить data каждому из conns (список после вызова не меняют)."""
        self.jobs.put(("send", conns, data))

    def drop(self, conn: Connection, reason: str) -> None:
        """Дослать conn то, что уже в очереди, и разорвать соединение."""
        self.jobs.put(("drop", conn, reason))

    def close(self, conn: Connection) -> None:
        """Дослать conn его очередь (не дольше CLOSE_LINGER) и закрыть сокет;
        даёт поток чтения, уходя."""
        self.jobs.put(("close", conn, "сокет закрыт"))

    # --- сам поток-писатель ---------------------------------------------------
    def run(self) -> None:
        while True:
            fresh = []  # соединения, у которых очередь была пуста, а теперь нет
            for action, target, data in self.next_jobs():
                if action == "send":
                    self.append(target, data, fresh)
                elif action == "drop":  # сначала — то, что уже в очереди
                    self.flush(target)
                    self.cut(target, data)  # data здесь — причина разрыва
                else:  # "close": поток чтения ушёл — дослать очередь и закрыть сокет
                    target.close_by = time.monotonic() + CLOSE_LINGER
                    self.flush(target)
                    self.close_if_done(target)
            for conn in fresh + list(self.waiting):
                self.flush(conn)
                self.close_if_done(conn)

    def next_jobs(self) -> list:
        """Ждёт следующее задание: список из него одного или пустой.

        Пока есть медленные клиенты, ждёт не дольше WRITER_TICK: пора проверить
        их сокеты."""
        try:
            return [self.jobs.get(timeout=WRITER_TICK if self.waiting else None)]
        except queue.Empty:
            return []

    def append(self, conns: list, data: bytes, fresh: list) -> None:
        """Дописывает строку в очереди получателей; отправит их flush в конце круга."""
        for conn in conns:
            if conn.drop_reason:  # соединение уже разорвано: строку некуда слать
                continue
            if not conn.backlog:
                fresh.append(conn)
            conn.backlog += data

    def flush(self, conn: Connection) -> None:
        """Отдаёт ядру из очереди conn, сколько влезет: один неблокирующий send."""
        if conn.drop_reason or not conn.backlog:
            return
        try:
            sent = conn.sock.send(conn.backlog)
        except BlockingIOError:  # буфер сокета полон: не ушло ничего
            sent = 0
        except OSError as error:  # клиент разорвал соединение
            self.cut(conn, f"ошибка записи: {error}")
            return
        del conn.backlog[:sent]
        if len(conn.backlog) > self.max_backlog:  # ядро не берёт, а очередь всё растёт
            log.warning(
                "%s отключён: не читает, очередь %d байт", conn.label, len(conn.backlog)
            )
            self.cut(conn, f"не читает, очередь {len(conn.backlog)} байт")
        elif conn.backlog:
            self.waiting.add(conn)  # досылать будем в следующих кругах
        else:
            self.waiting.discard(conn)

    def close_if_done(self, conn: Connection) -> None:
        """Закрывает сокет ушедшего, когда очередь дослана, соединение разорвано
        или срок CLOSE_LINGER вышел; до тех пор conn ждёт в waiting."""
        if conn.close_by is None:
            return
        if conn.backlog and not conn.drop_reason and time.monotonic() < conn.close_by:
            return
        self.cut(conn, "сокет закрыт")
        conn.sock.close()
        conn.close_by = None  # закрыт: больше не трогаем

    def cut(self, conn: Connection, reason: str) -> None:
        """Рвёт соединение: shutdown будит поток чтения conn, и тот уберёт за собой."""
        if conn.drop_reason:
            return
        conn.drop_reason = reason
        conn.backlog.clear()
        self.waiting.discard(conn)
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # уже разорвано
            pass


class ChatServer:
    """Общее состояние чата и обработка запросов; поток на каждое соединение."""

    def __init__(
        self, handshake_timeout: float, idle_timeout: float, max_backlog: int
    ) -> None:
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.lock = threading.Lock()  # замок состояния: три поля ниже
        self.connections = set()  # все соединения, в том числе ещё без имени
        self.users = {}  # fold(имя) → Connection
        self.rooms = {GENERAL_ROOM: set()}  # комната → соединения в ней
        self.writer = Writer("writer", max_backlog)
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
        self.writer.thread.start()
        while True:
            try:
                sock, address = listener.accept()
            except TimeoutError:  # просто тик: даём Ctrl+C сработать
                continue
            except OSError as error:
                # EMFILE и подобное — не повод останавливать сервер.
                log.error("Не удалось принять соединение: %s", error)
                time.sleep(ACCEPT_PAUSE)
                continue
            self.start_connection(sock, address)

    def start_connection(self, sock: socket.socket, address: tuple) -> None:
        sock.setblocking(False)  # send не ждёт никогда; recv — только после селектора
        # Без задержки Нейгла.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(sock, address, self.writer)
        conn.thread = threading.Thread(
            target=self.serve_connection, args=(conn,), daemon=True
        )
        with self.lock:
            self.connections.add(conn)
        log.info("Подключение %s", conn.address)
        try:
            conn.thread.start()
        except RuntimeError as error:  # система не дала потока
            log.error("%s: не удалось запустить поток: %s", conn.address, error)
            with self.lock:
                self.connections.discard(conn)
            conn.writer.close(conn)

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
        with Selector() as selector:
            selector.register(conn.sock, selectors.EVENT_READ)
            while not conn.drop_reason:
                if not selector.select(self.time_left(conn)):
                    continue  # время вышло — решит time_left на следующем круге
                try:
                    data = conn.sock.recv(RECV_BYTES)
                except BlockingIOError:  # ложная готовность
                    continue
                if not data:
                    return conn.drop_reason or "закрыл соединение"
                self.feed(conn, data)
        return conn.drop_reason

    def time_left(self, conn: Connection) -> float:
        """Сколько ещё ждать данных; заодно шлёт probe и отключает молчунов (408)."""
        now = time.monotonic()
        if conn.name is None:
            left = conn.handshake_started + self.handshake_timeout - now
            if left <= 0:
                conn.send(
                    {"response": 408, "error": "Нет presence — соединение закрыто"}
                )
                raise Disconnect(f"не представился за {self.handshake_timeout:g} с")
            return left
        silence = now - conn.last_heard
        if silence >= self.idle_timeout:
            conn.send(
                {"response": 408, "error": "Вы долго молчали — соединение закрыто"}
            )
            raise Disconnect(f"молчал дольше {self.idle_timeout:g} с")
        if silence >= self.idle_timeout / 2 and not conn.probed:
            conn.send({"action": "probe", "time": time.time()})
            conn.probed = True
        return (self.idle_timeout if conn.probed else self.idle_timeout / 2) - silence

    def feed(self, conn: Connection, data: bytes) -> None:
        """Добавляет принятые байты и выполняет каждую целую строку."""
        conn.inbox += data
        *lines, conn.inbox = conn.inbox.split(b"\n")  # хвост — начало следующей строки
        if lines:  # пришла целая строка — клиент жив
            conn.last_heard = time.monotonic()
            conn.probed = False
        for line in lines:
            if len(line) > MAX_LINE_BYTES:
                self.refuse_long_line(conn)
            if line.strip():  # пустые строки (Enter в telnet) пропускаем
                self.handle_line(conn, line)
        if len(conn.inbox) > MAX_LINE_BYTES:  # конца строки нет, а предел уже пройден
            self.refuse_long_line(conn)

    def refuse_long_line(self, conn: Connection) -> None:
        conn.send({"response": 400, "error": f"Строка длиннее {MAX_LINE_BYTES} байт"})
        raise Disconnect(f"строка длиннее {MAX_LINE_BYTES} байт")

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
        except Disconnect:
            raise
        except Exception:
            # Ошибка в самом сервере: в лог, клиенту 500, соединение живёт.
            log.exception("%s: сбой при обработке запроса", conn.label)
            reply = {"response": 500, "error": "Внутренняя ошибка сервера"}
        if reply:
            conn.send(reply)

    def disconnect(self, conn: Connection, reason: str) -> None:
        """Уборка: убрать из состояния, отдать сокет писателю на закрытие,
        сказать соседям."""
        with self.lock:
            self.connections.discard(conn)
            neighbours = set()
            if conn.name is not None:
                del self.users[fold(conn.name)]
                for room in list(conn.rooms):
                    neighbours |= self.leave_room(conn, room)
        conn.writer.close(conn)
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
        """Одно сообщение многим: JSON собирается один раз, отправляет писатель."""
        if conns:  # писателя без получателей не будим
            self.writer.send(conns, encode(message))

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
        with self.lock:
            if fold(name) in self.users:
                # Человек придумает другое имя — даём ему срок presence заново,
                # но не больше MAX_NAME_RETRIES раз. Прочие отказы (400) срока
                # не продлевают: иначе соединение, которое шлёт негодные
                # presence, жило бы вечно.
                if conn.name_retries < MAX_NAME_RETRIES:
                    conn.name_retries += 1
                    conn.handshake_started = time.monotonic()
                raise RequestError(409, f"Имя {name} уже занято")
            self.users[fold(name)] = conn
            conn.name = name
            neighbours = list(self.rooms[GENERAL_ROOM])
            self.rooms[GENERAL_ROOM].add(conn)
            conn.rooms.add(GENERAL_ROOM)
            # 202 встаёт в очередь писателя под замком: рассылки в #general, которые
            # уже видят этого пользователя, встанут за ним и его не обгонят.
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
        text = clean(text_field(request, "message"))
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
        with self.lock:
            members = self.rooms.setdefault(room, set())
            if conn in members:
                return {"response": 200, "alert": f"Вы уже в {room}", "room": room}
            neighbours = list(members)
            members.add(conn)
            conn.rooms.add(room)
            # Как 202 в presence: ответ в очередь под замком — сообщения комнаты
            # его не обгонят.
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

    # --- остановка (главный поток, после Ctrl+C) ---------------------------
    def stop(self) -> None:
        """Прощается со всеми, рвёт соединения и ждёт,
        пока потоки чтения уберут за собой."""
        with self.lock:
            conns = list(self.connections)
        self.broadcast(conns, notice("Сервер останавливается"))
        for conn in conns:
            conn.writer.drop(conn, "сервер останавливается")
        deadline = time.monotonic() + STOP_TIMEOUT
        for conn in conns:
            if conn.thread.is_alive():
                conn.thread.join(max(0.0, deadline - time.monotonic()))


def seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_TIMEOUT:  # так отвергается и nan: сравнения с ним ложны
        raise argparse.ArgumentTypeError(
            f"нужно число секунд больше 0 и не больше {MAX_TIMEOUT:g}"
        )
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("нужно целое число больше нуля")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="Чат, шаг 4: клиент, который не читает, никого не задержит."
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"адрес (по умолчанию {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"порт (по умолчанию {DEFAULT_PORT}; 0 — любой свободный)",
    )
    parser.add_argument(
        "--handshake-timeout",
        type=seconds,
        default=DEFAULT_HANDSHAKE_TIMEOUT,
        metavar="СЕК",
        help="сколько ждать presence от нового соединения "
        f"(по умолчанию {DEFAULT_HANDSHAKE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--idle-timeout",
        type=seconds,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="СЕК",
        help="через сколько секунд тишины отключать; probe — "
        f"на половине (по умолчанию {DEFAULT_IDLE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--max-backlog",
        type=positive_int,
        default=DEFAULT_MAX_BACKLOG,
        metavar="БАЙТ",
        help="сколько байт может ждать отправки одному клиенту; "
        f"больше — клиент отключается (по умолчанию {DEFAULT_MAX_BACKLOG})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
    server = ChatServer(args.handshake_timeout, args.idle_timeout, args.max_backlog)
    try:
        server.serve_forever(listener)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # второй Ctrl+C не прервёт уборку
        listener.close()
        server.stop()
    log.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
