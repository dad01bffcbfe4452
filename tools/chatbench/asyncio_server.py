#!/usr/bin/env python3
"""Эталон на asyncio: тот же чат JIM, что и laboratory_work_1/task4/server.py.

Это не файл лабораторной, а ответ на вопрос «почему потоки, а не asyncio?»:
стенд (python tools/chat_bench.py, сервер `asyncio`) мерит его рядом с шагами
задания 4. Запуск сам по себе:

    python3 tools/chatbench/asyncio_server.py --port 7777

Протокол тот же, и его правила (разбор строки, имена, комнаты, тексты ошибок) —
не копия, а импорт из laboratory_work_1/task4/server.py:
presence с уникальным именем (регистр не различается), #general, msg в комнату
или пользователю, join/leave/users/rooms, quit, уведомления 100, строка не
длиннее 4096 байт (длиннее — 400 и разрыв), срок на presence (отказ 409
продлевает его, но не больше 5 раз) и срок тишины с probe на половине (408 и
разрыв), очистка текста от управляющих символов.

Как устроен. Один поток и один цикл событий; на соединение — корутина
`Chat.handle`: читает строки `StreamReader.readline()` и выполняет запросы.
Замков нет: между двумя await корутину никто не прерывает, и словари
пользователей и комнат меняет один поток.

Запись. `writer.write()` не ждёт: байты уходят в сокет сразу, а что не влезло,
остаётся в буфере транспорта, и цикл событий досылает его сам. В рассылке нет
`await writer.drain()`: ждать каждого получателя — значит ждать самого
медленного. Вместо этого после записи смотрим на буфер транспорта
(`transport.get_write_buffer_size()`): больше `--max-backlog` — клиент не
читает, `transport.abort()` рвёт соединение, остальные этого не замечают.

Сроки. Каждое ожидание строки — под `asyncio.timeout()` до ближайшего срока
соединения; срок вышел — `time_left` решает: probe, 408 или ждать дальше.
"""

import argparse
import asyncio
import logging
import signal
import sys
import time
import unicodedata
from pathlib import Path

# Правила протокола — строки, имена, комнаты, тексты ошибок — берём у финального
# сервера задания 4: эталон отличается от него только устройством (asyncio вместо
# потоков), и стенд сравнивает именно его.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "laboratory_work_1/task4"))
from server import (  # noqa: E402 — после пути к папке задания
    DEFAULT_HOST,
    DEFAULT_PORT,
    GENERAL_ROOM,
    MAX_LINE_BYTES,
    MAX_NAME_CHARS,
    MAX_NAME_RETRIES,
    MAX_TEXT_CHARS,
    NAME_PATTERN,
    Disconnect,
    RequestError,
    clean,
    encode,
    fold,
    notice,
    parse_request,
    room_field,
    text_field,
)

STOP_TIMEOUT = 1.0  # сколько при остановке ждать, пока корутины уберут за собой

log = logging.getLogger("chat")


class Client:
    """Соединение: куда писать, имя, комнаты и часы сроков."""

    def __init__(self, writer: asyncio.StreamWriter, max_backlog: int) -> None:
        self.writer = writer
        host, port = writer.get_extra_info("peername")[:2]
        self.address = f"{host}:{port}"
        self.max_backlog = max_backlog
        self.name = None  # имя — после presence
        self.rooms = set()
        # Подключение или отказ 409, продливший срок; последняя целая строка.
        self.handshake_started = self.last_heard = time.monotonic()
        self.probed = False
        self.name_retries = 0  # сколько раз 409 уже продлил срок presence
        self.task = asyncio.current_task()  # корутина handle этого соединения

    @property
    def label(self) -> str:
        return self.name or self.address

    def write(self, data: bytes) -> None:
        """Отдаёт байты транспорту и никого не ждёт; не читает — разрыв."""
        if self.writer.is_closing():
            return
        self.writer.write(data)
        queued = self.writer.transport.get_write_buffer_size()
        if queued > self.max_backlog:
            log.warning("%s отключён: не читает, очередь %d байт", self.label, queued)
            self.writer.transport.abort()  # readline в handle вернёт b""

    def send(self, message: dict) -> None:
        self.write(encode(message))


class Chat:
    """Общее состояние чата и обработка запросов; корутина на соединение."""

    def __init__(
        self, handshake_timeout: float, idle_timeout: float, max_backlog: int
    ) -> None:
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.max_backlog = max_backlog
        self.clients = set()  # все соединения, в том числе ещё без имени
        self.users = {}  # fold(имя) → Client
        self.rooms = {GENERAL_ROOM: set()}  # комната → участники
        self.handlers = {
            "presence": self.on_presence,
            "msg": self.on_msg,
            "join": self.on_join,
            "leave": self.on_leave,
            "users": self.on_users,
            "rooms": self.on_rooms,
        }

    async def handle(self, reader: asyncio.StreamReader, writer) -> None:
        client = Client(writer, self.max_backlog)
        self.clients.add(client)
        log.info("Подключение %s", client.address)
        try:
            reason = await self.serve(client, reader)
        except Disconnect as end:
            reason = str(end)
        except OSError as error:
            reason = f"ошибка сокета: {error}"
        finally:
            self.clients.discard(client)
            self.forget(client)
            writer.close()  # досылает буфер транспорта и закрывает сокет
        log.info("%s отключился: %s", client.label, reason)

    async def serve(self, client: Client, reader: asyncio.StreamReader) -> str:
        while True:
            try:
                async with asyncio.timeout(self.time_left(client)):
                    line = await reader.readline()
            except TimeoutError:
                continue  # срок вышел — решит time_left на следующем круге
            except ValueError:  # строка длиннее limit (LimitOverrunError)
                client.send(
                    {"response": 400, "error": f"Строка длиннее {MAX_LINE_BYTES} байт"}
                )
                return f"строка длиннее {MAX_LINE_BYTES} байт"
            if not line.endswith(b"\n"):  # конец потока (обрывок строки не в счёт)
                return "закрыл соединение"
            client.last_heard, client.probed = time.monotonic(), False
            if line.strip():
                self.handle_line(client, line)

    def time_left(self, client: Client) -> float:
        """Сколько ещё ждать строки; заодно шлёт probe и отключает молчунов."""
        now = time.monotonic()
        if client.name is None:
            left = client.handshake_started + self.handshake_timeout - now
            if left <= 0:
                client.send({"response": 408, "error": "Нет presence — до свидания"})
                raise Disconnect(f"не представился за {self.handshake_timeout:g} с")
            return left
        silence = now - client.last_heard
        if silence >= self.idle_timeout:
            client.send({"response": 408, "error": "Вы долго молчали — до свидания"})
            raise Disconnect(f"молчал дольше {self.idle_timeout:g} с")
        if silence >= self.idle_timeout / 2 and not client.probed:
            client.send({"action": "probe", "time": time.time()})
            client.probed = True
        return (self.idle_timeout if client.probed else self.idle_timeout / 2) - silence

    def handle_line(self, client: Client, line: bytes) -> None:
        try:
            request = parse_request(line)
            if request["action"] == "quit":
                raise Disconnect("вышел (quit)")
            handler = self.handlers.get(request["action"])
            if handler is None:
                raise RequestError(400, "Неизвестное действие")
            if client.name is None and request["action"] != "presence":
                raise RequestError(401, "Сначала представьтесь: action «presence»")
            reply = handler(client, request)
        except RequestError as error:
            log.warning("%s: ошибка %d: %s", client.label, error.code, error)
            reply = {"response": error.code, "error": str(error)}
        except Disconnect:
            raise
        except Exception:
            log.exception("%s: сбой при обработке запроса", client.label)
            reply = {"response": 500, "error": "Внутренняя ошибка сервера"}
        if reply:
            client.send(reply)

    def forget(self, client: Client) -> None:
        """Уборка: убрать пользователя из чата и сказать соседям."""
        if client.name is None:
            return
        del self.users[fold(client.name)]
        neighbours = set()
        for room in list(client.rooms):
            neighbours |= self.leave_room(client, room)
        self.broadcast(neighbours, notice(f"{client.name} вышел из чата"))

    def leave_room(self, client: Client, room: str) -> set:
        members = self.rooms[room]
        members.discard(client)
        client.rooms.discard(room)
        if not members and room != GENERAL_ROOM:
            del self.rooms[room]
        return members

    def broadcast(self, clients, message: dict) -> None:
        data = encode(message)  # JSON собирается один раз на всех
        for client in clients:
            client.write(data)

    # --- обработчики запросов: возвращают ответ или None ---------------------
    def on_presence(self, client: Client, request: dict):
        if client.name is not None:  # повторный presence — «я на связи»
            return {"response": 200, "alert": "На связи"}
        user = request.get("user")
        name = user.get("account_name") if isinstance(user, dict) else None
        if not isinstance(name, str):
            raise RequestError(400, "Нужно поле user.account_name — имя")
        name = unicodedata.normalize("NFC", name)
        if not NAME_PATTERN.fullmatch(name):
            raise RequestError(
                400, f"Имя — от 1 до {MAX_NAME_CHARS} букв, цифр, «_» или «-»"
            )
        if fold(name) in self.users:
            if client.name_retries < MAX_NAME_RETRIES:  # другое имя — срок заново
                client.name_retries += 1
                client.handshake_started = time.monotonic()
            raise RequestError(409, f"Имя {name} уже занято")
        neighbours = list(self.rooms[GENERAL_ROOM])
        self.users[fold(name)] = client
        client.name = name
        self.rooms[GENERAL_ROOM].add(client)
        client.rooms.add(GENERAL_ROOM)
        client.send({"response": 202, "alert": f"Добро пожаловать, {name}!"})
        self.broadcast(neighbours, notice(f"{name} вошёл в чат"))
        log.info("%s представился: %s", client.address, name)

    def on_msg(self, client: Client, request: dict):
        target = text_field(request, "to")
        text = clean(text_field(request, "message"))
        if not 1 <= len(text) <= MAX_TEXT_CHARS:
            raise RequestError(400, f"Текст — от 1 до {MAX_TEXT_CHARS} символов")
        if target.startswith("#"):
            target = fold(target)
            members = self.rooms.get(target)
            if members is None:
                raise RequestError(404, "Нет такой комнаты")
            if client not in members:
                raise RequestError(403, "Вы не в этой комнате")
            recipients = [member for member in members if member is not client]
        else:
            receiver = self.users.get(fold(target))
            if receiver is None:
                raise RequestError(404, "Нет такого пользователя")
            target, recipients = receiver.name, [receiver]
        message = {"action": "msg", "time": time.time(), "from": client.name}
        self.broadcast(recipients, message | {"to": target, "message": text})
        log.info("%s → %s: получателей %d", client.name, target, len(recipients))
        return {"response": 200, "alert": f"Доставлено, получателей: {len(recipients)}"}

    def on_join(self, client: Client, request: dict):
        room = room_field(request)
        members = self.rooms.setdefault(room, set())
        if client in members:
            return {"response": 200, "alert": f"Вы уже в {room}", "room": room}
        neighbours = list(members)
        members.add(client)
        client.rooms.add(room)
        self.broadcast(neighbours, notice(f"{client.name} вошёл в {room}"))
        return {"response": 200, "alert": f"Вы вошли в {room}", "room": room}

    def on_leave(self, client: Client, request: dict):
        room = room_field(request)
        if room not in client.rooms:
            raise RequestError(404, f"Вы не в комнате {room}")
        self.broadcast(
            list(self.leave_room(client, room)),
            notice(f"{client.name} вышел из {room}"),
        )
        return {"response": 200, "alert": f"Вы вышли из {room}", "room": room}

    def on_users(self, client: Client, request: dict):
        if "room" not in request:
            where, members = "чата", self.users.values()
        else:
            where = room_field(request)
            if where not in self.rooms:
                raise RequestError(404, "Нет такой комнаты")
            members = self.rooms[where]
        names = sorted((member.name for member in members), key=str.casefold)
        return {
            "response": 200,
            "alert": f"Пользователи {where} ({len(names)})",
            "users": names,
        }

    def on_rooms(self, client: Client, request: dict):
        rooms = sorted(self.rooms)
        return {"response": 200, "alert": f"Комнаты ({len(rooms)})", "rooms": rooms}

    async def stop(self) -> None:
        """Прощается со всеми, закрывает соединения и ждёт, пока корутины уберут
        за собой (отменённая корутина на 3.11 оставила бы в логе трассировку)."""
        farewell = encode(notice("Сервер останавливается"))
        tasks = {client.task: client for client in self.clients}
        for client in tasks.values():
            client.write(farewell)
            client.writer.close()  # досылает буфер; readline вернёт b""
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
            for task in late:  # не читает — не ждём, пока дочитает
                tasks[task].writer.transport.abort()
            if late:
                await asyncio.wait(late, timeout=STOP_TIMEOUT)


async def serve(args: argparse.Namespace) -> None:
    chat = Chat(args.handshake_timeout, args.idle_timeout, args.max_backlog)
    # limit — предел строки для readline (и порог, после которого транспорт
    # перестаёт читать сокет, пока строки не разобраны).
    server = await asyncio.start_server(
        chat.handle, args.host, args.port, limit=MAX_LINE_BYTES, backlog=1024
    )
    host, port = server.sockets[0].getsockname()[:2]
    log.info("Сервер слушает %s:%d", host, port)  # первая строка — всегда
    logging.getLogger().setLevel(args.log_level)
    try:
        await server.serve_forever()
    finally:  # Ctrl+C: asyncio.run отменяет эту корутину
        server.close()
        await chat.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Чат JIM на asyncio (эталон стенда)")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 — любой")
    parser.add_argument("--handshake-timeout", type=float, default=10.0)
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    parser.add_argument("--max-backlog", type=int, default=1024 * 1024)
    parser.add_argument(
        "-q", dest="log_level", action="store_const", const="WARNING", default="INFO"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl+C — даже при запуске с &: тогда asyncio.run отменит serve.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(
            f"Ошибка: не удалось занять {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    log.info("Сервер остановлен.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
