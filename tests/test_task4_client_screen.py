"""Задание 4, клиент чата в настоящем терминале: что видит человек на экране.

Клиент запускается в псевдотерминале (pexpect) заданной ширины, всё, что он
печатает, проигрывается в эмулятор терминала pyte — как в tools/screenshots.py.
Тесты набирают строку клавишами (со стрелками), в это время приходит чужое
сообщение, и сравнивают экран с тем, что на самом деле уйдёт на сервер. Клиента
без readline (как на Windows) и без rl_clear_visible_line (как с libedit на macOS)
запускают с подменой через sitecustomize на PYTHONPATH: tests/no_readline/ и
tests/no_clear_line/.
"""

from __future__ import annotations

import re
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from chat_steps import task_name
from support import PYTHON, ROOT, lab_program, start_server
from test_task4_server import Raw, close_raw_sockets, request  # noqa: F401 — фикстура

if sys.platform == "win32":
    pytest.skip("псевдотерминал есть только на POSIX", allow_module_level=True)

import pexpect  # noqa: E402
import pyte  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import screenshots as shots  # noqa: E402

CLIENT = lab_program("task4", "client.py")
NO_READLINE = Path(__file__).parent / "no_readline"  # как на Windows
NO_CLEAR_LINE = Path(__file__).parent / "no_clear_line"  # как libedit на macOS
ROWS = 24
SCREEN_TIMEOUT = 10.0
LEFT = "\x1b[D"  # клавиша ←
TIME = r"\[\d\d:\d\d:\d\d\]"
# Длиннее 40 и 80 колонок: строка переносится на следующие строки экрана.
LONG = (
    "Съешь же ещё этих мягких французских булок, да выпей чаю; "
    "в чащах юга жил бы цитрус, да, но фальшивый экземпляр!"
)


class Screen:
    """Клиент чата в псевдотерминале шириной columns и экран, как его видит человек."""

    def __init__(self, args: list[str], columns: int, **env: str) -> None:
        self.screen = pyte.Screen(columns, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(
            PYTHON,
            [str(CLIENT), *args],
            env={
                **shots.program_env(shots.Terminal("t", rows=ROWS, columns=columns)),
                **env,
            },
            dimensions=(ROWS, columns),
            preexec_fn=shots.default_signals,
        )

    def pump(self, timeout: float) -> None:
        try:
            self.stream.feed(self.child.read_nonblocking(65536, timeout))
        except pexpect.TIMEOUT:
            pass

    def lines(self) -> list[str]:
        """Непустые строки экрана без хвостовых пробелов."""
        return [line.rstrip() for line in self.screen.display if line.strip()]

    def wait(self, condition, what: str) -> None:
        deadline = time.monotonic() + SCREEN_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"за {SCREEN_TIMEOUT} с на экране нет: {what}\n"
                    + "\n".join(self.lines())
                )
            self.pump(0.05)

    def wait_for(self, text: str) -> None:
        self.wait(lambda: any(text in line for line in self.lines()), repr(text))

    def press(self, keys: str) -> None:
        self.child.send(keys)

    def cursor(self) -> tuple[int, int]:
        return self.screen.cursor.y, self.screen.cursor.x

    def close(self) -> None:
        self.child.terminate(force=True)


@pytest.fixture(scope="module")
def server(module_launch):
    return start_server(module_launch, task_name("final"))


@pytest.fixture
def terminals():
    opened: list[Screen] = []

    def open_screen(*args, **kwargs) -> Screen:
        opened.append(Screen(*args, **kwargs))
        return opened[-1]

    yield open_screen
    for screen in opened:
        screen.close()


def in_chat(terminals, server, name: str, columns: int, **env: str) -> Screen:
    """Клиент в терминале, который уже вошёл в чат и ждёт ввода."""
    screen = terminals(["--port", str(server.port), "--name", name], columns, **env)
    screen.wait(lambda: screen.lines()[-1:] == [">"], "приглашения «>»")
    return screen


def rows_of(text: str, columns: int) -> list[str]:
    """Как терминал шириной columns перенесёт строку; широкий символ — две клетки."""
    rows, row, width = [], "", 0
    for char in text:
        size = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if width + size > columns:
            rows.append(row.rstrip())
            row, width = "", 0
        row, width = row + char, width + size
    return rows + [row.rstrip()]


def wait_input(screen: Screen, text: str, columns: int) -> None:
    """Ждёт, пока последние строки экрана — приглашение и набранный текст."""
    rows = rows_of("> " + text, columns)
    screen.wait(lambda: screen.lines()[-len(rows) :] == rows, f"> {text}")


def wait_cursor(screen: Screen, text: str, point: int, columns: int) -> None:
    """Ждёт, пока на экране приглашение и text, а курсор — перед символом point."""
    rows = rows_of("> " + text, columns)
    offset = len("> ") + point

    def in_place() -> bool:
        display = [line.rstrip() for line in screen.screen.display]
        starts = [
            row for row in range(len(display)) if display[row : row + len(rows)] == rows
        ]
        return bool(starts) and screen.cursor() == (
            starts[-1] + offset // columns,
            offset % columns,
        )

    screen.wait(in_place, f"курсор на {point}-м символе строки «> {text}»")


def say(bob: Raw, text: str) -> None:
    bob.send(request("msg", to="#general", message=text))


def sent_by(bob: Raw, name: str) -> str:
    message = bob.expect(lambda m: m.get("action") == "msg" and m["from"] == name)
    return message["message"]


@pytest.mark.parametrize("columns", [40, 80])
def test_long_line_stays_whole_when_a_message_arrives(terminals, server, columns):
    """Строка длиннее ширины терминала: пришедшее сообщение встаёт над ней, а
    от неё не остаётся обрывков выше сообщения."""
    name = f"long{columns}"
    alice = in_chat(terminals, server, name, columns)
    bob = Raw(server.port, f"bob{columns}")
    alice.wait_for(f"bob{columns} вошёл в чат")
    alice.press(LONG)
    wait_input(alice, LONG, columns)
    rows = rows_of("> " + LONG, columns)
    before = alice.lines()[: -len(rows)]
    say(bob, "входящее")
    incoming = rf"{TIME} #general bob{columns}: входящее"
    # Было на экране, сообщение один раз, под ним — набранное целиком, один раз.
    alice.wait(
        lambda: re.fullmatch(
            r"\n".join(map(re.escape, before))
            + rf"\n{incoming}\n"
            + r"\n".join(map(re.escape, rows)),
            "\n".join(alice.lines()),
        ),
        "сообщение над целой строкой ввода",
    )
    alice.press("\r")
    assert sent_by(bob, name) == LONG


@pytest.mark.parametrize("columns", [40, 80])
def test_screen_shows_what_is_sent_after_moving_the_cursor_left(
    terminals, server, columns
):
    """Курсор сдвинут влево, пришло сообщение, набрано ещё: на экране — ровно та
    строка, что уйдёт."""
    name = f"left{columns}"
    alice = in_chat(terminals, server, name, columns)
    bob = Raw(server.port, f"carol{columns}")
    alice.wait_for(f"carol{columns} вошёл в чат")
    for number, (typed, back) in enumerate((("abcdef", 3), (LONG, 50))):
        alice.press(typed)
        wait_input(alice, typed, columns)
        alice.press(LEFT * back)
        wait_cursor(alice, typed, len(typed) - back, columns)
        say(bob, f"эй {number}")  # короче 40 колонок вместе с временем и именем
        alice.wait_for(f"эй {number}")
        # Дальше набирает человек: он видит строку ввода снова, курсор — на месте.
        wait_cursor(alice, typed, len(typed) - back, columns)
        alice.press("XYZ")
        expected = typed[:-back] + "XYZ" + typed[-back:]
        wait_input(alice, expected, columns)
        alice.press("\r")
        assert sent_by(bob, name) == expected
        alice.wait(lambda: alice.lines()[-1:] == [">"], "нового приглашения")


def test_without_clear_line_the_client_counts_rows_itself(terminals, server):
    """Нет rl_clear_visible_line (libedit на macOS): клиент сам считает строки
    экрана, иероглиф — за две колонки."""
    columns, typed = 40, "日本語の文章と" * 7  # 98 колонок с приглашением
    # COLUMNS устарела, как после того, как окно растянули: ширину знает терминал.
    env = {"PYTHONPATH": str(NO_CLEAR_LINE), "COLUMNS": "100"}
    alice = in_chat(terminals, server, "kanji", columns, **env)
    bob = Raw(server.port, "dave")
    alice.wait_for("dave вошёл в чат")
    alice.press(typed)
    wait_input(alice, typed, columns)
    rows = rows_of("> " + typed, columns)
    before = alice.lines()[: -len(rows)]
    say(bob, "и тебе")
    alice.wait(
        lambda: (
            alice.lines()[: len(before)] == before
            and re.fullmatch(
                rf"{TIME} #general dave: и тебе", alice.lines()[len(before)]
            )
            and alice.lines()[len(before) + 1 :] == rows
        ),
        "сообщение над целой строкой ввода",
    )
    alice.press("\r")
    assert sent_by(bob, "kanji") == typed


def test_without_readline_a_message_starts_on_its_own_line(terminals, server):
    """Без readline (Windows) набранное не узнать: сообщение — с новой строки, за
    ним снова приглашение, а набранное уйдёт вместе с тем, что допишут."""
    alice = in_chat(terminals, server, "windows", 80, PYTHONPATH=str(NO_READLINE))
    bob = Raw(server.port, "erin")
    alice.wait_for("erin вошёл в чат")
    alice.press("набираю половину")
    alice.wait(lambda: alice.lines()[-1] == "> набираю половину", "набранного")
    say(bob, "привет")
    alice.wait(
        lambda: (
            alice.lines()[-3] == "> набираю половину"
            and re.fullmatch(rf"{TIME} #general erin: привет", alice.lines()[-2])
            and alice.lines()[-1] == ">"
        ),
        "сообщения на своей строке и нового приглашения",
    )
    alice.press(" строки\r")
    assert sent_by(bob, "windows") == "набираю половину строки"


@pytest.mark.parametrize(
    "key, readline",
    [("\x03", True), ("\x04", False)],
    ids=["ctrl-c-readline", "ctrl-d-no-readline"],
)
def test_ctrl_d_and_ctrl_c_at_the_name_prompt_end_the_line(
    terminals, server, key, readline
):
    """Ctrl+D или Ctrl+C вместо имени: тихий выход, но строку «Ваше имя: »
    клиент заканчивает — приглашение оболочки встанет на свою строку."""
    env = {} if readline else {"PYTHONPATH": str(NO_READLINE)}
    screen = terminals(["--port", str(server.port)], 80, **env)
    screen.wait(lambda: screen.lines() == ["Ваше имя:"], "вопроса об имени")
    screen.press(key)
    screen.child.expect(pexpect.EOF, timeout=SCREEN_TIMEOUT)
    screen.stream.feed(screen.child.before)
    screen.child.close()
    assert screen.child.exitstatus == 0
    assert screen.lines() == ["Ваше имя:"]
    assert screen.cursor() == (1, 0)  # курсор — в начале следующей строки


def test_server_gone_while_typing_leaves_the_typed_line_and_a_fresh_line(
    terminals, launch
):
    """Сервер пропал посреди набора длинной строки: ошибка — на своей строке, под
    ней ненаписанное целиком (его можно скопировать), а курсор — в начале новой
    строки, где оболочка напечатает своё приглашение."""
    own = start_server(launch, task_name("final"))
    alice = in_chat(terminals, own, "alice", 40)
    alice.press(LONG)
    wait_input(alice, LONG, 40)
    before = alice.lines()[: -len(rows_of("> " + LONG, 40))]
    own.process.kill()
    alice.child.expect(pexpect.EOF, timeout=SCREEN_TIMEOUT)
    alice.stream.feed(alice.child.before)
    alice.child.close()
    assert alice.child.exitstatus == 1
    rows = rows_of("> " + LONG, 40)
    assert alice.lines() == [*before, "Ошибка: сервер закрыл соединение", *rows]
    assert alice.cursor() == (len(alice.lines()), 0)
