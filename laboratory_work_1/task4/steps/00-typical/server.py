"""Шаг 0 чата: решение, которое обычно сдают. Работает — пока везёт.

Поток на клиента читает recv(1024) и рассылает полученное всем остальным
сокетам из общего списка. Имя в каждое сообщение вписывает сам клиент
(«alice: привет»), сервер только пересылает байты.

Этот файл — не образец, а отправная точка: его недостатки показывают тесты
(tests/test_task4_steps.py), а следующие шаги исправляют их по одному:
  * recv отдаёт не «сообщение», а сколько пришло: два сообщения склеиваются,
    длинное рвётся на куски, а куски разных отправителей перемешиваются;
  * буква, разрезанная между двумя recv, роняет decode — и поток клиента;
  * клиент, который не читает, останавливает каждого, кто ему пишет;
  * имя пишет клиент — значит, любое, хоть чужое;
  * список сокетов меняют и обходят разные потоки без замка.
"""

import signal
import socket
import sys
import threading

import russian_argparse  # справка и ошибки argparse по-русски

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777
ACCEPT_TICK = 1.0  # accept с таймаутом: на Windows иначе не прервать Ctrl+C

clients = []  # сокеты всех подключённых


def broadcast(data: bytes, sender: socket.socket) -> None:
    for client in clients:
        if client is not sender:
            try:
                client.sendall(data)
            except OSError:
                pass


def handle(conn: socket.socket, address: tuple) -> None:
    while True:
        try:
            data = conn.recv(1024)
        except OSError:
            break
        if not data:
            break
        text = data.decode("utf-8")  # полбуквы в конце куска — UnicodeDecodeError
        print(f"{address[0]}:{address[1]}: {text}", flush=True)
        broadcast(text.encode("utf-8"), conn)
    clients.remove(conn)
    conn.close()


def main() -> int:
    parser = russian_argparse.ArgumentParser(description="Чат, шаг 0: обычное решение.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="адрес")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="порт")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C и при запуске с &
    try:
        server = socket.create_server((args.host, args.port))
    except (OSError, OverflowError):
        print(
            f"Ошибка: не удалось занять {args.host}:{args.port} — порт занят?",
            file=sys.stderr,
        )
        return 1
    server.settimeout(ACCEPT_TICK)
    host, port = server.getsockname()
    print(f"Сервер слушает {host}:{port}", file=sys.stderr, flush=True)
    try:
        while True:
            try:
                conn, address = server.accept()
            except TimeoutError:  # просто тик: даём Ctrl+C сработать
                continue
            clients.append(conn)
            print(f"Подключение {address[0]}:{address[1]}", flush=True)
            threading.Thread(target=handle, args=(conn, address), daemon=True).start()
    except KeyboardInterrupt:
        print("Сервер остановлен.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
