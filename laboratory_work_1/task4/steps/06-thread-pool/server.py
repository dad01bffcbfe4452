"""Шаг 6 чата (сверх задания): пул потоков — тысячи клиентов без тысяч потоков.

Протокол JIM, пределы и флаги — те же, что у сервера задания (task4/server.py,
шаг 5). Другое одно — кто обслуживает соединения: не поток на каждое, а
WORKERS потоков-обработчиков, и у каждого своя доля соединений.

Роли — в том порядке, в каком их читать:
  clean, fold, encode, parse_request — текст и строки протокола;
  Connection — одно соединение: сокет, имя, комнаты, очередь неотправленного;
  Worker     — поток-обработчик: один селектор на все свои соединения; читает
               их, выполняет запросы, пишет в них и закрывает их; задания от
               других потоков берёт из своего ящика (mailbox);
  ChatServer — общее состояние (пользователи и комнаты под одним замком), приём
               соединений, сроки (deadline), обработчики запросов on_* (таблица
               handlers) и остановка;
  main       — параметры командной строки, порт, Ctrl+C.

Потоки: главный принимает соединения и отдаёт каждое обработчику, у которого их
меньше; WORKERS обработчиков делают всё остальное. Сокет соединения трогает
только его обработчик; другим потокам нужно что-то ему отправить — они кладут
задание в ящик обработчика и будят его, если он ещё не разбужен. Упал
обработчик (ошибка в коде сервера) — главный поток останавливает сервер.
"""

import argparse
import errno
import json
import logging
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
# Байт во всех очередях вместе: тысяча молчунов по мегабайту — это гигабайт памяти.
DEFAULT_MAX_TOTAL_BACKLOG = 64 * 1024 * 1024
# Соединений сразу; сверх предела — ответ 503 и разрыв.
DEFAULT_MAX_CLIENTS = 4096
DEFAULT_MAX_ROOMS = 10000  # комнат на сервере; сверх — 503
MAX_ROOMS_PER_USER = 100  # комнат у одного пользователя; сверх — 403
# Обработчиков два: на время системного вызова (send, recv, ожидание в селекторе)
# поток отпускает GIL, и второй обработчик работает на втором ядре.
WORKERS = 2
# Пока соединений меньше, все они у первого обработчика: рассылка в чат на
# полсотни человек — это полсотни send, и второй поток дал бы не скорость, а
# переходы между потоками (проснуться, взять GIL) на каждое сообщение.
SPREAD_FROM = 100
# Обработчик отпускает GIL на каждом send и, вернувшись из ядра, ждёт его, пока
# второй занят Python-кодом, — до интервала переключения (по умолчанию 5 мс).
# При 1 мс очередь из сотни send не растягивается на полсекунды.
SWITCH_INTERVAL = 0.001
CLOSE_LINGER = 5.0  # сколько досылать очередь тому, кто ушёл сам (quit, закрыл)
ACCEPT_TICK = 1.0  # accept с таймаутом: на Windows иначе не прервать Ctrl+C
ACCEPT_PAUSE = 0.1  # пауза после сбоя accept (например, кончились дескрипторы)
ACCEPT_LOG_EVERY = 10.0  # сбой accept — в лог не чаще раза в столько секунд
STOP_TIMEOUT = 2.0  # сколько ждать обработчиков при остановке
GENERAL_ROOM = "#general"
# \w в Python — буквы и цифры любого алфавита и «_».
NAME_PATTERN = re.compile(rf"[\w-]{{1,{MAX_NAME_CHARS}}}")
ROOM_PATTERN = re.compile(rf"#[\w-]{{1,{MAX_NAME_CHARS}}}")
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
KEPT_FORMAT_CHARS = {"\u200c", "\u200d"}  # ZWNJ и ZWJ
# Лучший селектор системы: epoll в Linux, kqueue в macOS, select в Windows.
Selector = selectors.DefaultSelector
# select в Windows следит не больше чем за 512 сокетами сразу: там у обработчика
# не больше 500 соединений; epoll и kqueue такого предела не знают.
MAX_PER_WORKER = 500 if Selector is selectors.SelectSelector else sys.maxsize

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


class WorkerDied(Exception):
    """Поток-обработчик упал на ошибке в коде сервера; текст — его имя."""


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

    def __init__(self, sock: socket.socket, address: tuple, worker: "Worker") -> None:
        self.sock = sock
        self.address = f"{address[0]}:{address[1]}"
        self.worker = worker  # обработчик соединения; не меняется никогда
        # Очередь неотправленного — список кусков bytes. Строку рассылки собирают
        # один раз, и очереди всех получателей держат ссылку на один объект.
        self.pending = []
        self.pending_bytes = 0  # сколько байт в pending
        self.events = 0  # чего обработчик ждёт от сокета (EVENT_READ, EVENT_WRITE)
        self.drop_reason = None  # почему соединение разорвано; потом пишем мимо
        self.close_by = None  # ушёл: досылать очередь до этого срока, потом закрыть
        self.inbox = bytearray()  # принятое, но ещё не разрезанное на строки
        self.name = None  # имя — после presence
        self.rooms = set()  # комнаты пользователя; под замком состояния
        # handshake_started — подключение или отказ 409, который продлил срок;
        # last_heard — строка.
        self.handshake_started = self.last_heard = time.monotonic()
        self.name_retries = 0  # сколько раз 409 уже продлил срок presence
        self.probed = False  # probe отправлен, ждём ответа

    @property
    def label(self) -> str:
        return self.name or self.address

    def send(self, message: dict) -> None:
        """Отправляет сообщение этому клиенту: через его обработчик, без ожидания."""
        self.worker.send([self], encode(message))


class Worker:
    """Поток-обработчик: один селектор на все свои соединения. Читает их,
    выполняет запросы, пишет в них и закрывает их — сокеты соединений трогает
    только он.

    Другие потоки кладут задания в его ящик (mailbox) и будят его байтом в
    будильник — один раз на пачку заданий, а не на каждое. Строки своим
    соединениям обработчик дописывает в их очереди (pending) и в конце круга
    отдаёт каждую очередь ядру одним send.
    """

    def __init__(
        self, server: "ChatServer", name: str, max_backlog: int, max_total_backlog: int
    ) -> None:
        self.server = server
        self.max_backlog = max_backlog
        self.max_total_backlog = max_total_backlog  # на все соединения обработчика
        self.selector = Selector()
        self.conns = set()  # свои соединения
        self.load = 0  # соединений отдано обработчику и ещё не закрыто; замок сервера
        self.fresh = []  # очередь была пуста, а в этом круге появилась
        self.waiting = set()  # очередь не влезла в сокет: ждём, когда он примет ещё
        self.next_check = time.monotonic() + MAX_TIMEOUT  # когда смотреть сроки
        # Ящик: задания других потоков по порядку — (что, кому, данные).
        self.mail_lock = threading.Lock()
        self.mailbox = []
        self.awake = False  # будильник уже звонил, а ящик ещё не разобран
        # Будильник — пара связанных сокетов: байт в wake_out будит селектор.
        self.wake_in, self.wake_out = socket.socketpair()
        self.wake_in.setblocking(False)
        self.selector.register(self.wake_in, selectors.EVENT_READ)
        self.running = True
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)

    # --- задания: их дают другие потоки, ответа не ждут ---------------------
    def post(self, job: tuple) -> None:
        """Кладёт задание в ящик и будит обработчик, если он ещё не разбужен."""
        with self.mail_lock:
            self.mailbox.append(job)
            if self.awake:  # разбудили раньше, ящик ещё не разобран — заберёт и это
                return
            self.awake = True
        self.wake_out.send(b"!")

    def send(self, conns: list, data: bytes) -> None:
        """Отправить data каждому из conns: сам обработчик дописывает сразу,
        другие потоки — через ящик."""
        if threading.current_thread() is self.thread:
            self.append(conns, data)
        else:
            self.post(("send", conns, data))

    def adopt(self, conn: Connection) -> None:
        """Новое соединение: с этого задания его обслуживает этот обработчик."""
        self.post(("adopt", conn, None))

    def drop(self, conn: Connection, reason: str) -> None:
        """Дослать conn то, что уже в очереди, и разорвать соединение."""
        self.post(("drop", conn, reason))

    def finish(self) -> None:
        """Закончить работу, когда дойдёт до этого задания."""
        self.post(("finish", None, None))

    # --- сам поток-обработчик ------------------------------------------------
    def run(self) -> None:
        while self.running:
            # Есть неотправленное (разрыв в конце круга разослал «вышел») — не спим.
            timeout = 0 if self.fresh else max(0.0, self.next_check - time.monotonic())
            for key, events in self.selector.select(timeout):
                conn = key.data
                if conn is None:  # будильник
                    self.read_mailbox()
                    continue
                if events & selectors.EVENT_WRITE:  # сокет принимает ещё
                    self.flush(conn)
                if events & selectors.EVENT_READ and not conn.drop_reason:
                    self.read(conn)
            self.check_deadlines()
            fresh, self.fresh = self.fresh, []
            for conn in fresh:
                self.flush(conn)
            self.limit_backlogs()

    def read_mailbox(self) -> None:
        """Выполняет задания из ящика по порядку."""
        try:
            self.wake_in.recv(64)  # звонок услышан
        except BlockingIOError:
            pass
        with self.mail_lock:
            jobs, self.mailbox = self.mailbox, []
            self.awake = False
        for action, target, data in jobs:
            if action == "send":
                self.append(target, data)
            elif action == "adopt":
                self.start(target)
            elif action == "drop":  # сначала — то, что уже в очереди
                self.flush(target)
                self.cut(target, data)  # data здесь — причина разрыва
            else:  # "finish"
                self.running = False

    def start(self, conn: Connection) -> None:
        self.conns.add(conn)
        conn.events = selectors.EVENT_READ
        self.selector.register(conn.sock, conn.events, conn)
        self.next_check = min(self.next_check, self.server.deadline(conn))

    def read(self, conn: Connection) -> None:
        """Один recv и все целые строки из него; конец данных — уборка."""
        try:
            data = conn.sock.recv(RECV_BYTES)
        except BlockingIOError:  # ложная готовность
            return
        except ConnectionResetError:
            self.server.disconnect(conn, "соединение сброшено")
            return
        except OSError as error:
            self.server.disconnect(conn, f"ошибка сокета: {error}")
            return
        if not data:
            self.server.disconnect(conn, "закрыл соединение")
            return
        try:
            self.server.feed(conn, data)
        except Disconnect as end:
            self.server.disconnect(conn, str(end))
            return
        # Строка могла сдвинуть срок соединения ближе (presence).
        self.next_check = min(self.next_check, self.server.deadline(conn))

    def check_deadlines(self) -> None:
        """Сроки своих соединений: probe, 408, конец досылки ушедшим. Смотрит все,
        только когда ближайший срок уже наступил, и запоминает следующий."""
        now = time.monotonic()
        if now < self.next_check:
            return
        self.next_check = now + MAX_TIMEOUT
        for conn in list(self.conns):
            if conn.close_by is not None:  # ушёл, досылаем
                if now >= conn.close_by:
                    self.forget(conn)
                else:
                    self.next_check = min(self.next_check, conn.close_by)
                continue
            try:
                deadline = self.server.check_deadline(conn, now)
            except Disconnect as end:
                self.server.disconnect(conn, str(end))
                continue
            self.next_check = min(self.next_check, deadline)

    def append(self, conns: list, data: bytes) -> None:
        """Дописывает строку в очереди получателей; отправит их flush в конце круга."""
        for conn in conns:
            if conn.drop_reason:  # соединение уже разорвано: строку некуда слать
                continue
            if not conn.pending:
                self.fresh.append(conn)
            conn.pending.append(data)  # ссылка на общий объект, без копии
            conn.pending_bytes += len(data)

    def flush(self, conn: Connection) -> None:
        """Отдаёт ядру очередь conn одним неблокирующим send — сколько влезет."""
        if conn.drop_reason:
            return
        if conn.pending:
            if len(conn.pending) == 1:
                data = conn.pending[0]
            else:
                data = b"".join(conn.pending)  # единственная копия: пачка для send
            try:
                sent = conn.sock.send(data)
            except BlockingIOError:  # буфер сокета полон: не ушло ничего
                sent = 0
            except OSError as error:  # клиент разорвал соединение
                self.cut(conn, f"ошибка записи: {error}")
                return
            # Хвост — окно в ту же пачку (memoryview), а не её копия.
            conn.pending = [memoryview(data)[sent:]] if sent < len(data) else []
            conn.pending_bytes = len(data) - sent
        if conn.pending:
            self.waiting.add(conn)  # досылать будем, когда сокет примет ещё
        else:
            self.waiting.discard(conn)
            if conn.close_by is not None:  # ушёл, и всё дослано
                self.forget(conn)
                return
        self.watch(conn)

    def watch(self, conn: Connection) -> None:
        """Чего ждать от сокета: данных — пока клиент не ушёл, места в буфере —
        пока очередь не пуста."""
        events = 0 if conn.close_by is not None else selectors.EVENT_READ
        if conn.pending:
            events |= selectors.EVENT_WRITE
        if events != conn.events:
            self.selector.modify(conn.sock, events, conn)
            conn.events = events

    def limit_backlogs(self) -> None:
        """Очередь клиента больше --max-backlog — он не читает, отключаем. Очереди
        всех соединений обработчика вместе больше его доли --max-total-backlog —
        рвём самую большую (тот, кто дольше всех не читает), пока не уложимся."""
        for conn in [c for c in self.waiting if c.pending_bytes > self.max_backlog]:
            log.warning(
                "%s отключён: не читает, очередь %d байт",
                conn.label,
                conn.pending_bytes,
            )
            self.cut(conn, f"не читает, очередь {conn.pending_bytes} байт")
        total = sum(conn.pending_bytes for conn in self.waiting)
        while total > self.max_total_backlog and self.waiting:
            biggest = max(self.waiting, key=lambda conn: conn.pending_bytes)
            total -= biggest.pending_bytes
            log.warning(
                "%s отключён: не читает, а очереди всех клиентов больше %d байт",
                biggest.label,
                self.max_total_backlog,
            )
            self.cut(biggest, "не читает, общий предел очередей")

    def close(self, conn: Connection) -> None:
        """Клиент ушёл: больше не читаем; досылаем очередь (не дольше CLOSE_LINGER)
        и закрываем сокет."""
        conn.close_by = time.monotonic() + CLOSE_LINGER
        self.next_check = min(self.next_check, conn.close_by)
        if conn.pending and not conn.drop_reason:
            self.watch(conn)  # теперь ждём только места в буфере
        else:
            self.forget(conn)

    def cut(self, conn: Connection, reason: str) -> None:
        """Рвёт соединение сразу: очередь выбрасываем, сокет закрываем."""
        if conn.drop_reason:
            return
        conn.drop_reason = reason
        self.server.disconnect(conn, reason)  # убрать из чата, сказать соседям
        self.forget(conn)

    def forget(self, conn: Connection) -> None:
        """Закрывает сокет; с этого момента строки для conn идут мимо."""
        if conn not in self.conns:
            return
        conn.drop_reason = conn.drop_reason or "сокет закрыт"
        conn.pending, conn.pending_bytes = [], 0
        self.waiting.discard(conn)
        self.conns.discard(conn)
        self.selector.unregister(conn.sock)
        conn.sock.close()
        with self.server.lock:
            self.load -= 1


class ChatServer:
    """Общее состояние чата и обработка запросов; соединения — у обработчиков."""

    def __init__(self, args: argparse.Namespace) -> None:
        """args — параметры командной строки: сроки и пределы."""
        self.handshake_timeout = args.handshake_timeout
        self.idle_timeout = args.idle_timeout
        self.max_clients = args.max_clients
        self.max_rooms = args.max_rooms
        self.lock = threading.Lock()  # замок состояния: три поля ниже и load
        self.connections = set()  # все соединения, в том числе ещё без имени
        self.users = {}  # fold(имя) → Connection
        self.rooms = {GENERAL_ROOM: set()}  # комната → соединения в ней
        # Общий предел очередей делим между обработчиками поровну.
        self.workers = [
            Worker(
                self,
                f"worker-{k}",
                args.max_backlog,
                args.max_total_backlog // WORKERS,
            )
            for k in range(WORKERS)
        ]
        self.accept_failures = 0  # сбоев accept с последней записи в лог
        self.accept_failure_logged = -ACCEPT_LOG_EVERY  # когда записали
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
        for worker in self.workers:
            worker.thread.start()
        while True:
            self.check_workers()
            try:
                sock, address = listener.accept()
            except TimeoutError:  # просто тик: даём Ctrl+C сработать
                continue
            except OSError as error:
                # EMFILE и подобное — не повод останавливать сервер.
                self.log_accept_failure(error)
                time.sleep(ACCEPT_PAUSE)
                continue
            self.start_connection(sock, address)

    def check_workers(self) -> None:
        """Обработчик упал — значит, в коде сервера ошибка (трассировку напечатал
        threading). Его клиенты повисли бы без ответа, а сервер принимал бы новых:
        лучше остановиться сразу и громко."""
        for worker in self.workers:
            if not worker.thread.is_alive():
                raise WorkerDied(worker.thread.name)

    def log_accept_failure(self, error: OSError) -> None:
        """Сбой accept — в лог, но не чаще раза в ACCEPT_LOG_EVERY секунд:
        без дескрипторов accept падает десять раз в секунду."""
        self.accept_failures += 1
        now = time.monotonic()
        if now - self.accept_failure_logged >= ACCEPT_LOG_EVERY:
            log.error(
                "Не удалось принять соединение (сбоев: %d): %s",
                self.accept_failures,
                error,
            )
            self.accept_failures = 0
            self.accept_failure_logged = now

    def start_connection(self, sock: socket.socket, address: tuple) -> None:
        sock.setblocking(False)  # send не ждёт никогда; recv — только после селектора
        # Без задержки Нейгла. На macOS setsockopt падает (EINVAL), если клиент
        # успел оборвать соединение, пока оно ждало в очереди listen.
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            return
        with self.lock:
            # Обработчик — первый, пока соединений мало, потом — у кого их меньше.
            if len(self.connections) < SPREAD_FROM:
                worker = self.workers[0]
            else:
                worker = min(self.workers, key=lambda worker: worker.load)
            full = len(self.connections) >= self.max_clients
            if not full and worker.load < MAX_PER_WORKER:
                conn = Connection(sock, address, worker)
                self.connections.add(conn)
                worker.load += 1
            else:
                conn = None
        if conn is None:
            self.refuse_connection(sock, address)
            return
        log.info("Подключение %s", conn.address)
        worker.adopt(conn)

    def refuse_connection(self, sock: socket.socket, address: tuple) -> None:
        """Мест нет: 503 в сокет (он пуст — влезет) и закрыть."""
        log.warning("Отказ %s:%d: соединений уже %d", *address[:2], self.max_clients)
        try:
            sock.send(
                encode({"response": 503, "error": "Сервер переполнен, зайдите позже"})
            )
        except OSError:  # клиент уже ушёл
            pass
        sock.close()

    # --- сроки и строки (в потоке обработчика соединения) -------------------
    def deadline(self, conn: Connection) -> float:
        """Когда наступит ближайший срок conn (часы time.monotonic)."""
        if conn.name is None:
            return conn.handshake_started + self.handshake_timeout
        if conn.probed:
            return conn.last_heard + self.idle_timeout
        return conn.last_heard + self.idle_timeout / 2

    def check_deadline(self, conn: Connection, now: float) -> float:
        """Срок наступил — шлёт probe или 408 (Disconnect); возвращает следующий."""
        deadline = self.deadline(conn)
        if now < deadline:
            return deadline
        if conn.name is None:
            conn.send({"response": 408, "error": "Нет presence — соединение закрыто"})
            raise Disconnect(f"не представился за {self.handshake_timeout:g} с")
        if now - conn.last_heard >= self.idle_timeout:
            conn.send(
                {"response": 408, "error": "Вы долго молчали — соединение закрыто"}
            )
            raise Disconnect(f"молчал дольше {self.idle_timeout:g} с")
        conn.send({"action": "probe", "time": time.time()})
        conn.probed = True
        return self.deadline(conn)

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
        """Уборка: убрать из состояния, закрыть сокет (дослав очередь),
        сказать соседям."""
        with self.lock:
            if conn not in self.connections:  # уже убран
                return
            self.connections.discard(conn)
            neighbours = set()
            if conn.name is not None:
                del self.users[fold(conn.name)]
                for room in list(conn.rooms):
                    neighbours |= self.leave_room(conn, room)
        conn.worker.close(conn)
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
        """Одно сообщение многим: JSON собирается один раз,
        каждый обработчик шлёт своим."""
        data = encode(message)
        for worker in self.workers:
            mine = [conn for conn in conns if conn.worker is worker]
            if mine:
                worker.send(mine, data)

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
            # 202 встаёт в очередь соединения под замком: рассылки в #general, которые
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
            if room in conn.rooms:
                return {"response": 200, "alert": f"Вы уже в {room}", "room": room}
            # Пределы: иначе один клиент наплодит комнат, и ответ на rooms распухнет.
            if len(conn.rooms) >= MAX_ROOMS_PER_USER:
                raise RequestError(403, f"Не больше {MAX_ROOMS_PER_USER} комнат сразу")
            if room not in self.rooms and len(self.rooms) >= self.max_rooms:
                raise RequestError(503, "На сервере слишком много комнат")
            members = self.rooms.setdefault(room, set())
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
        """Прощается со всеми, рвёт соединения и ждёт, пока обработчики это сделают."""
        with self.lock:
            conns = list(self.connections)
        self.broadcast(conns, notice("Сервер останавливается"))
        for conn in conns:
            conn.worker.drop(conn, "сервер останавливается")
        for worker in self.workers:
            worker.finish()
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self.workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))


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
        description="Сервер чата: протокол JIM поверх TCP, потоки."
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
    parser.add_argument(
        "--max-total-backlog",
        type=positive_int,
        default=DEFAULT_MAX_TOTAL_BACKLOG,
        metavar="БАЙТ",
        help="сколько байт может ждать отправки всем клиентам вместе; больше — "
        f"отключается тот, у кого очередь больше всех (по умолчанию "
        f"{DEFAULT_MAX_TOTAL_BACKLOG})",
    )
    parser.add_argument(
        "--max-clients",
        type=positive_int,
        default=DEFAULT_MAX_CLIENTS,
        metavar="N",
        help="сколько соединений сразу; лишним — ответ 503 "
        f"(по умолчанию {DEFAULT_MAX_CLIENTS})",
    )
    parser.add_argument(
        "--max-rooms",
        type=positive_int,
        default=DEFAULT_MAX_ROOMS,
        metavar="N",
        help=f"сколько комнат на сервере (по умолчанию {DEFAULT_MAX_ROOMS})",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="подробность лога (по умолчанию INFO: строка на каждое сообщение)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        dest="log_level",
        const="WARNING",
        help="только предупреждения и ошибки (= --log-level WARNING)",
    )
    return parser.parse_args(argv)


def bind_problem(error: Exception) -> str:
    """Почему не удалось занять адрес — по-русски, а не текстом ОС."""
    if isinstance(error, OverflowError):
        return "порт — число от 0 до 65535"
    if isinstance(error, socket.gaierror):
        return "нет такого узла — адрес написан верно?"
    # На Windows у ошибок сокета свои номера: WSAEADDRINUSE и WSAEADDRNOTAVAIL.
    if error.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", None)):
        return "порт уже занят — может быть, сервер уже запущен?"
    if error.errno in (errno.EADDRNOTAVAIL, getattr(errno, "WSAEADDRNOTAVAIL", None)):
        return "у этого компьютера нет такого адреса"
    if error.errno in (errno.EACCES, getattr(errno, "WSAEACCES", None)):
        return "нет прав на этот порт"
    return f"ошибка сокета {errno.errorcode.get(error.errno, error.errno)}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.setswitchinterval(SWITCH_INTERVAL)  # GIL переходит от обработчика к обработчику
    # Ctrl+C — даже при запуске с &.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        # Очередь подключений побольше: клиенты идут толпой.
        listener = socket.create_server(
            (args.host, args.port), backlog=socket.SOMAXCONN
        )
    except (OSError, OverflowError) as error:  # OverflowError — порт больше 65535
        print(
            f"Ошибка: не удалось занять {args.host}:{args.port}: {bind_problem(error)}",
            file=sys.stderr,
        )
        return 1
    listener.settimeout(ACCEPT_TICK)
    # Первая строка — при любом --log-level.
    log.info("Сервер слушает %s:%d", *listener.getsockname())
    logging.getLogger().setLevel(args.log_level)
    server = ChatServer(args)
    try:
        server.serve_forever(listener)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # второй Ctrl+C не прервёт уборку
        listener.close()
        server.stop()
    except WorkerDied as died:
        listener.close()
        server.stop()  # клиенты упавшего узнают о конце, когда закроется процесс
        print(f"Ошибка: обработчик {died} упал, сервер остановлен", file=sys.stderr)
        return 1
    log.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
