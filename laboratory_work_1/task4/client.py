"""Задание 4: клиент многопользовательского чата (протокол JIM — на странице задания 4).

Запуск: `python client.py --name alice`. Без --name клиент спросит имя ещё до
подключения: сервер ждёт presence лишь --handshake-timeout секунд, а человек
может думать сколько угодно. Занятое или неподходящее имя клиент спросит снова
(со стандартного ввода, даже если первое было в --name); если сервер за это время
закрыл соединение, клиент подключится снова. Не ответил сервер на presence за
--register-timeout секунд — значит, по адресу не сервер чата: «Ошибка: …», код 1.

Потоки:
  * главный читает клавиатуру и отправляет запросы;
  * поток приёма печатает всё, что приходит от сервера, и отвечает на probe;
  * фоновый поток раз в HEARTBEAT_SECONDS шлёт presence — «я на связи»;
  * будильник повторяет главному потоку SIGINT, пока тот не начнёт уходить.

Что печатается:
  [12:00:01] #general alice: привет   — сообщение в комнату
  [12:00:01] (лично) alice: привет    — личное сообщение
  [12:00:01] * bob вошёл в чат        — уведомление сервера (код 100)
  Ошибка 404: Нет такого пользователя — отказ сервера на ваш запрос
Всё, что пришло из сети, печатается только после очистки от управляющих
символов, как на сервере: чужой сервер не сдвинет курсор, не сменит заголовок
окна и не перевернёт строку.

Ответы приходят в том же порядке, в каком ушли запросы, поэтому клиент держит
очередь отправленных запросов (pending) и по ней узнаёт, на что пришёл ответ:
200 на join меняет текущую комнату, 200 на msg и presence печатать незачем.
Прежде чем снова показать приглашение, главный поток ждёт (не дольше
REPLY_TIMEOUT), пока очередь опустеет: ответ на команду печатается до
следующего приглашения, а не поперёк него.

Если ввод и вывод — терминал и есть модуль readline (Linux, macOS), входящее
сообщение не ломает набираемую строку, даже длинную, на несколько строк экрана:
стираем её, печатаем сообщение и рисуем приглашение с набранным текстом заново.
Без readline (Windows) сообщение начинается с новой строки, а после него —
снова приглашение. Без терминала (ввод из канала, как в тестах) печатаются
просто строки.

Выход: /quit, Ctrl+D (на Windows — Ctrl+Z и Enter) или Ctrl+C — клиент шлёт
quit, ждёт, пока сервер закроет соединение, и завершается с кодом 0. Пропал
сервер — строка «Ошибка: …» и код 1: поток приёма будит главный поток, ждущий
ввода, сигналом SIGINT, как Ctrl+C (на Windows сигнал потоку не послать — там
поток приёма завершает процесс сам).
"""

import _thread
import argparse
import collections
import contextlib
import ctypes
import errno
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import unicodedata

import russian_argparse  # справка и ошибки argparse по-русски

try:
    import readline  # правка строки и история ввода; на Windows модуля нет
except ImportError:
    readline = None

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777
MAX_LINE_BYTES = 4096  # длиннее сервер не примет (и разорвёт соединение)
# От сервера примем и длиннее: список users бывает большим.
MAX_INCOMING_BYTES = 1024 * 1024
RECV_BYTES = 65536
CONNECT_TIMEOUT = 5.0
REGISTER_TIMEOUT = 5.0  # сколько ждать ответа на presence (флаг --register-timeout)
MAX_TIMEOUT = 24 * 60 * 60.0  # сутки; срок inf или 1e300 сокет не примет
HEARTBEAT_SECONDS = 20.0
QUIT_TIMEOUT = 2.0  # сколько ждать, пока сервер закроет соединение после quit
REPLY_TIMEOUT = 2.0  # сколько ждать ответов на свои запросы до следующего приглашения
# Как часто будильник повторяет SIGINT главному потоку, пока тот не начнёт уходить.
WAKE_RETRY = 0.2
GENERAL_ROOM = "#general"
PROMPT = "> "
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # как на сервере, см. server.py
KEPT_FORMAT_CHARS = {"\u200c", "\u200d"}  # ZWNJ и ZWJ
HELP = """Команды:
  текст              сообщение в текущую комнату (последнюю, куда вы вошли)
  /msg ИМЯ текст     личное сообщение
  /join #комната     войти в комнату (нет такой — создать); она станет текущей
  /leave [#комната]  выйти из комнаты (без имени — из текущей)
  /users [#комната]  кто в комнате (без имени — в текущей)
  /rooms             список комнат
  /help              эта справка
  /quit              выход; или Ctrl+D (Windows: Ctrl+Z, Enter), или Ctrl+C"""


def clean(value) -> str:
    """Строка для печати: без символов, которыми можно управлять терминалом."""
    return "".join(
        char
        for char in str(value)
        if char in KEPT_FORMAT_CHARS
        or unicodedata.category(char) not in UNSAFE_CATEGORIES
    )


def clock(timestamp=None) -> str:
    """Время ЧЧ:ММ:СС; времени нет или оно нелепое — текущее."""
    try:
        return time.strftime("%H:%M:%S", time.localtime(timestamp))
    except (TypeError, ValueError, OverflowError, OSError):
        return time.strftime("%H:%M:%S")


def encode(message: dict) -> bytes:
    return (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")


def as_room(text: str) -> str:
    return text if text.startswith("#") else "#" + text


def presence(name: str) -> dict:
    return {
        "action": "presence",
        "time": time.time(),
        "user": {"account_name": name, "status": "в сети"},
    }


def ask_name() -> str:
    return input("Ваше имя: ").strip()


def screen_width(text: str) -> int:
    """Сколько колонок терминала займёт текст: широкие (китайские и т. п.) — две."""
    return sum(
        2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text
    )


def readline_library():
    """Библиотека на C, на которой работает модуль readline, или None.

    Модуль не даёт двух её функций, нужных клиенту: стереть строку ввода и
    нарисовать её заново; ctypes позовёт их напрямую.
    """
    try:
        return ctypes.CDLL(readline.__file__)
    except (AttributeError, OSError):  # readline нет или он встроен в интерпретатор
        return None


def connect(address: tuple[str, int]) -> socket.socket:
    """Подключается к серверу; ждёт не дольше CONNECT_TIMEOUT."""
    sock = socket.create_connection(address, timeout=CONNECT_TIMEOUT)
    sock.settimeout(None)  # дальше ждём сколько угодно: тишина в чате — норма
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def network_problem(error: OSError) -> str:
    """Сбой сети — одной русской строкой, а не текстом ОС («Connection refused»)."""
    if error.errno is None:  # наш ConnectionError: текст уже по-русски
        return str(error)
    if isinstance(error, socket.gaierror):  # DNS не знает такого имени
        return "нет такого узла — адрес написан верно?"
    if isinstance(error, ConnectionRefusedError):
        return "соединение отклонено — сервер запущен?"
    if isinstance(error, TimeoutError):
        return "сервер не ответил вовремя"
    if isinstance(error, (ConnectionResetError, ConnectionAbortedError)):
        return "сервер оборвал соединение"
    if isinstance(error, BrokenPipeError):
        return "сервер уже закрыл соединение"
    if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "узел недоступен: нет пути по сети"
    return f"ошибка сети {errno.errorcode.get(error.errno, error.errno)}"


def wake_main_thread() -> None:
    """Прерывает ожидание ввода в главном потоке так же, как Ctrl+C."""
    if hasattr(signal, "pthread_kill"):
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    else:  # Windows: KeyboardInterrupt случится, когда input() вернёт строку
        _thread.interrupt_main()


class ChatClient:
    def __init__(
        self,
        sock: socket.socket,
        address: tuple[str, int],
        interactive: bool,
        register_timeout: float,
    ) -> None:
        self.sock = sock
        self.address = address  # куда подключаться снова
        self.register_timeout = register_timeout  # сколько ждать ответа на presence
        self.interactive = interactive  # ввод и вывод — терминал
        self.inbox = bytearray()  # принятое, но ещё не разрезанное на строки
        self.send_lock = threading.Lock()  # запрос — в pending и в сокет вместе
        self.pending = collections.deque()  # отправленные запросы, ждущие ответа
        # Поток приёма: «ответ получен и напечатан».
        self.replied = threading.Condition()
        self.print_lock = threading.Lock()
        self.state_lock = threading.Lock()  # о разрыве (lost) решаем под ним
        self.leave_requested = False  # Ctrl+C или разрыв: главному потоку пора уходить
        self.leaving = False  # главный поток уходит (ставит только он сам)
        self.lost = False  # сервер пропал
        self.typing = False  # главный поток ждёт ввода в input()
        # Стереть строку ввода и нарисовать её заново умеет библиотека под readline.
        library = readline_library() if interactive else None
        self.clear_input = getattr(library, "rl_clear_visible_line", None)
        self.redraw_input = getattr(library, "rl_forced_update_display", None)
        self.name = None
        self.rooms = [GENERAL_ROOM]  # наши комнаты; текущая — последняя
        self.receiver = threading.Thread(target=self.receive, daemon=True)
        self.commands = {
            "/msg": self.command_msg,
            "/join": self.command_join,
            "/leave": self.command_leave,
            "/users": self.command_users,
            "/rooms": self.command_rooms,
            "/help": lambda rest: self.show(HELP),
        }

    # --- сеть ----------------------------------------------------------------
    def send(self, message: dict, reply_expected: bool = True) -> bool:
        """Отправляет запрос; слишком длинный не отправляет и возвращает False."""
        data = encode(message)
        if len(data) > MAX_LINE_BYTES + 1:  # +1 — сам "\n"
            self.show(
                "Ошибка: слишком длинно — сервер принимает строки "
                f"до {MAX_LINE_BYTES} байт"
            )
            return False
        with self.send_lock:
            if reply_expected:
                self.pending.append(message)
            try:
                self.sock.sendall(data)
            except OSError:  # соединение разорвано: заметит и объяснит поток приёма
                pass
        return True

    def read_message(self) -> dict | None:
        """Следующее сообщение сервера; None — сервер закрыл соединение."""
        while b"\n" not in self.inbox:
            if len(self.inbox) > MAX_INCOMING_BYTES:
                raise ConnectionError("сервер прислал слишком длинную строку")
            chunk = self.sock.recv(RECV_BYTES)
            if not chunk:
                return None
            self.inbox += chunk
        line, _, self.inbox = self.inbox.partition(b"\n")
        try:
            message = json.loads(line.decode("utf-8", errors="replace"))
        except (ValueError, RecursionError):
            return {}  # непонятную строку пропускаем
        return message if isinstance(message, dict) else {}

    def register(self, name: str) -> None:
        """Представляется серверу; пока имя не принято, спрашивает другое."""
        asked = False  # новое имя спрашивали у человека, а соединение ждало
        while True:
            if self.send(presence(name), reply_expected=False):
                reply = self.reply_to_presence()
                if reply is None or reply.get("response") == 408:  # соединения нет
                    if not asked:
                        raise ConnectionError("сервер закрыл соединение")
                    # Человек думал дольше --handshake-timeout сервера: не беда.
                    self.show("* Сервер не дождался имени — подключаемся снова")
                    self.reconnect()
                    asked = False
                    continue  # то же имя — по новому соединению
                if reply.get("response") == 202:
                    self.name = name
                    self.show(f"* {clean(reply.get('alert', ''))}")
                    return
                self.show_error(reply)
            name = ask_name()
            asked = True

    def reply_to_presence(self) -> dict | None:
        """Ответ на presence; None — сервер закрыл соединение.

        Ждём не дольше register_timeout: кто молчит в ответ на presence, тот не
        сервер чата, и ждать его вечно незачем.
        """
        self.sock.settimeout(self.register_timeout)
        try:
            while True:
                reply = self.read_message()
                if reply is None or reply.get("response") not in (None, 100):
                    return reply
                self.handle(reply)  # уведомления — не ответ на presence
        except TimeoutError:
            raise ConnectionError(
                f"сервер не ответил на presence за {self.register_timeout:g} с — "
                "по этому адресу точно сервер чата?"
            ) from None
        except ConnectionResetError:  # закрыл соединение, не дочитав presence
            return None
        finally:
            self.sock.settimeout(None)  # дальше тишина — норма

    def reconnect(self) -> None:
        """Новое соединение вместо того, что закрыл сервер."""
        self.sock.close()
        self.inbox.clear()
        try:
            self.sock = connect(self.address)
        except OSError as error:
            raise ConnectionError(
                f"не удалось подключиться снова: {network_problem(error)}"
            ) from None

    # --- поток приёма --------------------------------------------------------
    def receive(self) -> None:
        try:
            while (message := self.read_message()) is not None:
                self.handle(message)
            problem = "сервер закрыл соединение"
        except OSError as error:
            problem = f"соединение потеряно: {network_problem(error)}"
        with self.state_lock:
            if self.leaving:  # это мы ушли — всё в порядке
                return
            self.lost = True
            self.show(f"Ошибка: {problem}", file=sys.stderr)
            if not hasattr(signal, "pthread_kill"):  # Windows
                self.exit_from_here(1)
        self.leave_requested = True  # если сигнал потеряется, повторит будильник
        wake_main_thread()

    def exit_from_here(self, code: int) -> None:
        """Windows: главный поток в input() до Enter не разбудить — процесс
        завершает поток приёма. Прибирать нечего: сокет закроет система."""
        if self.typing:
            print()  # курсор стоит после приглашения: оболочке — своя строка
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def handle(self, message: dict) -> None:
        action = message.get("action")
        if action == "probe":
            self.send(presence(self.name))
        elif action == "msg":
            target = clean(message.get("to", ""))
            where = target if target.startswith("#") else "(лично)"
            self.show(
                f"[{clock(message.get('time'))}] {where} "
                f"{clean(message.get('from', ''))}: "
                f"{clean(message.get('message', ''))}"
            )
        elif message.get("response") == 100:
            self.show(f"[{clock()}] * {clean(message.get('alert', ''))}")
        elif "response" in message:
            with self.replied:  # очередь короче — только вместе с напечатанным ответом
                self.on_reply(message)
                self.replied.notify()

    def on_reply(self, reply: dict) -> None:
        """Ответ на наш запрос; на какой — говорит начало очереди pending."""
        request = self.pending.popleft() if self.pending else {}
        code = reply.get("response")
        if not (isinstance(code, int) and 200 <= code < 300):
            self.show_error(reply)
            return
        action = request.get("action")
        if action in ("join", "leave"):
            room = clean(reply.get("room", request.get("room")))
            others = [other for other in self.rooms if other != room]
            # Список не правим, а заменяем целиком: главный поток всегда видит целый.
            self.rooms = others + [room] if action == "join" else others
            self.show(f"* {clean(reply.get('alert', ''))}")
        elif action in ("users", "rooms"):
            names = reply.get(action)
            listed = (
                ", ".join(clean(name) for name in names)
                if isinstance(names, list)
                else ""
            )
            self.show(f"{clean(reply.get('alert', ''))}: {listed}")
        # 200 на msg и presence («доставлено», «на связи») печатать незачем

    def show_error(self, reply: dict) -> None:
        self.show(
            f"Ошибка {clean(reply.get('response'))}: {clean(reply.get('error', ''))}"
        )

    def show(self, text: str, file=None) -> None:
        """Печатает строку, не ломая набираемую: в терминале перерисовывает ввод."""
        file = file or sys.stdout
        with self.print_lock:
            if not self.typing:
                print(text, file=file, flush=True)
                return
            self.erase_input()
            print(text, file=file, flush=True)
            self.draw_input()

    def erase_input(self) -> None:
        """Стирает приглашение и набранное; курсор — в начало их первой строки."""
        if readline is None:
            # Что набрано, знает только терминал: просто уходим на новую строку.
            sys.stdout.write("\n")
        elif self.clear_input is not None:
            self.clear_input()  # readline сам знает, сколько строк занято и где курсор
        else:
            # Считаем сами, полагая курсор в конце набранного: сколько строк выше.
            # Спрашиваем терминал каждый раз: окно могли растянуть.
            columns = os.get_terminal_size(sys.stdout.fileno()).columns or 80
            above = screen_width(PROMPT + readline.get_line_buffer()) // columns
            if above:
                sys.stdout.write(f"\x1b[{above}A")  # вверх на above строк
            sys.stdout.write("\r\x1b[J")  # в начало строки и стереть всё ниже
        sys.stdout.flush()

    def draw_input(self) -> None:
        """Рисует приглашение и набранное заново, курсор — где он был."""
        if readline is None:
            sys.stdout.write(PROMPT)  # набранное осталось строкой выше
        elif self.redraw_input is not None:
            self.redraw_input()  # readline рисует сам и ставит курсор на место
            return
        else:
            sys.stdout.write(PROMPT + readline.get_line_buffer())
        sys.stdout.flush()

    def send_heartbeats(self) -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            self.send(presence(self.name))

    def keep_waking(self, alarm: socket.socket) -> None:
        """Будильник: пока уйти пора, а главный поток не ушёл, повторяет SIGINT.

        Одного сигнала мало. Достался другому потоку или пришёл за миг до read() —
        read() ждёт дальше; пришёл, пока input() сбрасывает stdout, — input()
        проглотит исключение. О каждом сигнале будильник узнаёт из alarm: байт
        туда пишет сам Python, в миг сигнала (signal.set_wakeup_fd в main).
        """
        while True:
            if select.select([alarm], [], [], WAKE_RETRY)[0]:
                alarm.recv(RECV_BYTES)  # номера сигналов; у нас он один — SIGINT
                self.leave_requested = True
            elif self.leave_requested and not self.leaving:
                wake_main_thread()  # и снова байт в alarm: повтор — через WAKE_RETRY

    # --- клавиатура (главный поток) ------------------------------------------
    def on_interrupt(self, signum, frame) -> None:
        """SIGINT — Ctrl+C, поток приёма или будильник — прерывает главный
        поток, пока тот не начал уходить."""
        if not self.leaving:
            self.leave_requested = True
            raise KeyboardInterrupt

    def chat(self) -> None:
        """Читает клавиатуру до /quit; Ctrl+D и Ctrl+C приходят исключениями."""
        self.receiver.start()
        threading.Thread(target=self.send_heartbeats, daemon=True).start()
        self.show("Пишите сообщение и нажмите Enter; /help — команды.")
        while True:
            self.typing = self.interactive
            line = input(PROMPT if self.interactive else "").strip()
            self.typing = False
            if line == "/quit":
                self.leaving = True  # теперь SIGINT уход не прервёт
                return
            self.handle_input(line)
            self.wait_for_replies()

    def wait_for_replies(self) -> None:
        """Ждёт ответов на свои запросы (не дольше REPLY_TIMEOUT),
        прежде чем звать input().

        Иначе ответ мог прийти, когда typing уже True, а readline ещё не
        напечатал приглашение: поток приёма нарисует «> » после ответа,
        readline — своё, и на экране «> > /join #python».
        """
        with self.replied:
            self.replied.wait_for(lambda: not self.pending, REPLY_TIMEOUT)

    def handle_input(self, line: str) -> None:
        if not line:
            return
        if not line.startswith("/"):
            room = self.current_room()
            if room is None:
                self.show("Вы не в комнате: войдите командой /join #комната")
            else:
                self.send(
                    {"action": "msg", "time": time.time(), "to": room, "message": line}
                )
            return
        command, _, rest = line.partition(" ")
        handler = self.commands.get(command)
        if handler is None:
            self.show("Неизвестная команда; /help — список команд")
        else:
            handler(rest.strip())

    def current_room(self) -> str | None:
        rooms = self.rooms  # берём один раз: поток приёма может подменить список
        return rooms[-1] if rooms else None

    def command_msg(self, rest: str) -> None:
        name, _, text = rest.partition(" ")
        if not name or not text.strip():
            self.show("Так: /msg ИМЯ текст")
        else:
            self.send(
                {
                    "action": "msg",
                    "time": time.time(),
                    "to": name,
                    "message": text.strip(),
                }
            )

    def command_join(self, rest: str) -> None:
        if not rest:
            self.show("Так: /join #комната")
        else:
            self.send({"action": "join", "time": time.time(), "room": as_room(rest)})

    def command_leave(self, rest: str) -> None:
        room = as_room(rest) if rest else self.current_room()
        if room is None:
            self.show("Вы не в комнате")
        else:
            self.send({"action": "leave", "time": time.time(), "room": room})

    def command_users(self, rest: str) -> None:
        request = {"action": "users", "time": time.time()}
        room = as_room(rest) if rest else self.current_room()
        if room is not None:  # без комнаты сервер назовёт всех, кто в чате
            request["room"] = room
        self.send(request)

    def command_rooms(self, rest: str) -> None:
        self.send({"action": "rooms", "time": time.time()})

    def leave(self) -> int:
        """Уходит из чата: quit и ждём, пока сервер закроет соединение. Код выхода."""
        self.leaving = True
        self.typing = False
        # Поток приёма уже сообщил о разрыве — или теперь промолчит.
        with self.state_lock:
            if self.lost:
                return 1
        self.send({"action": "quit", "time": time.time()}, reply_expected=False)
        if self.receiver.is_alive():  # поток приёма допечатает то, что успело прийти
            self.receiver.join(QUIT_TIMEOUT)
        self.show("Вы вышли из чата.")
        return 0

    def close(self) -> None:
        self.sock.close()  # нынешний сокет: после reconnect он не тот, что был


def seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_TIMEOUT:  # так отвергается и nan: сравнения с ним ложны
        raise argparse.ArgumentTypeError(
            f"нужно число секунд больше 0 и не больше {MAX_TIMEOUT:g}"
        )
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = russian_argparse.ArgumentParser(
        description="Клиент чата: протокол JIM поверх TCP."
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"адрес сервера (по умолчанию {DEFAULT_HOST})",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"порт сервера (по умолчанию {DEFAULT_PORT})",
    )
    parser.add_argument("--name", help="имя в чате (без него клиент спросит)")
    parser.add_argument(
        "--register-timeout",
        type=seconds,
        default=REGISTER_TIMEOUT,
        help="сколько секунд ждать ответа сервера на вход "
        f"(по умолчанию {REGISTER_TIMEOUT:g})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Битый байт на вводе или символ, которого нет в кодировке вывода, —
    # не повод падать.
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        stream.reconfigure(errors="replace")
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        name = args.name if args.name is not None else ask_name()  # до подключения
    except (EOFError, KeyboardInterrupt):  # Ctrl+D или Ctrl+C вместо имени
        if interactive:
            print()  # курсор стоит после «Ваше имя: »; оболочке — своя строка
        return 0
    try:
        sock = connect((args.host, args.port))
    except OSError as error:
        print(
            f"Ошибка: не удалось подключиться к {args.host}:{args.port}: "
            f"{network_problem(error)}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:  # Ctrl+C, пока ждали сервер
        return 0
    address = (args.host, args.port)
    client = ChatClient(sock, address, interactive, args.register_timeout)
    # Сигнальный сокет: в alarm_writer Python пишет байт при каждом сигнале.
    alarm, alarm_writer = socket.socketpair()
    alarm_writer.setblocking(False)  # так требует set_wakeup_fd
    signal.set_wakeup_fd(alarm_writer.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, client.on_interrupt)
    threading.Thread(target=client.keep_waking, args=(alarm,), daemon=True).start()
    with contextlib.closing(client):  # в конце — client.close()
        try:
            client.register(name)
            client.chat()
        except (EOFError, KeyboardInterrupt):  # Ctrl+D, Ctrl+C или сигнал потока приёма
            client.leaving = True  # первым делом: теперь SIGINT уход не прервёт
            if client.typing:  # прервали input(): курсор стоит в строке ввода
                print()
        except OSError as error:
            client.leaving = True
            # Разрыв или молчание при входе; в чате о разрыве скажет поток приёма.
            print(f"Ошибка: {network_problem(error)}", file=sys.stderr)
            return 1
        return client.leave()


if __name__ == "__main__":
    sys.exit(main())
