"""Скриншоты настоящих запусков: терминал в pty → эмулятор терминала → SVG.

`python tools/screenshots.py` запускает программы каждого задания по-настоящему
и рисует каждый терминал картинкой в `img/lab1/taskN/`. Читатель сайта видит
ровно то, что увидел бы человек: команду после `$ `, вывод программы, набранный
с клавиатуры текст и `^C`. Рядом с каждой картинкой лежит её стенограмма (`.txt`)
с замаскированными временем и портами, а `--check` (и тест
tests/test_screenshots.py) перезапускает сценарии и падает, если программы
теперь печатают не то, что сохранено.

Как это устроено
----------------

* **Сценарий** (`Scenario`) — данные, а не код: именованные терминалы
  (`Terminal`) и список шагов. Шаги — маленькие классы: `Run` запускает команду
  в терминале, `Expect` ждёт регулярное выражение в выводе, `Prompt` — что
  программа ждёт ввода (вывод кончается приглашением), `Type` набирает
  строку и нажимает Enter, `CtrlC` и `CtrlD` — те же клавиши, `Exit` ждёт
  завершения программы и проверяет код выхода, `Snapshot` делает снимок
  терминала раньше конца сценария, `Browse` фотографирует страницу в Chromium.
  Каждый шаг ждёт условия с дедлайном, а не «поспим и понадеемся», поэтому
  прогон повторяем: следующий шаг начинается, когда предыдущий виден на экране.

* **Терминал** — псевдотерминал (pty) от `pexpect.spawn` с заданным размером
  окна. Программа думает, что её запустили из настоящего терминала: stdout и
  stderr идут в одно окно, набранное показывает эхо pty (или readline, если
  программа его использует) — поэтому оно видно на картинке, а Ctrl+C
  превращается в SIGINT. Программа
  запускается напрямую, без оболочки, поэтому строку `$ команда` движок пишет
  в запись терминала сам — так, как её набрал бы человек. Когда программа
  завершилась, в записи снова появляется приглашение `$ `.

* **Запись** — все байты, которые терминал показал, в исходном виде. В конце
  прогона запись проигрывается в эмулятор терминала `pyte`: экран размера окна
  даёт картинку (если вывод длиннее окна, видны последние строки — как в жизни),
  а экран шириной в `TRANSCRIPT_COLUMNS` и высотой во всю запись даёт стенограмму
  без переносов и прокрутки.

* **Картинка** — строки экрана `pyte` с цветами и жирностью превращаются в
  `rich.text.Text`, а `Console.export_svg` рисует окно терминала с заголовком.
  Шрифт — локальный моноширинный стек (без загрузки с CDN: сайт не зависит от
  чужих серверов), `unique_id` задан именем файла, поэтому одинаковый экран
  всегда даёт байт-в-байт одинаковый SVG.

* **Стенограмма** — текст экрана без хвостовых пробелов, где переменное
  заменено метками: время → `HH:MM:SS`, дата → `YYYY-MM-DD`, HTTP-дата →
  `<HTTP-DATE>`, порт прогона и порт задания по умолчанию → `<PORT>`, порты
  клиентов в адресах (`127.0.0.1:54321`) → `<EPHEMERAL>`, миллисекунды →
  `<N> мс`, путь временной рабочей папки → `<WORKDIR>`.

* **Порт.** Команды в сценарии пишутся как их набирает человек, с
  заполнителем: `python3 laboratory_work_1/task4/server.py --port {port}`.
  При съёмке движок берёт порт задания по умолчанию, если он свободен, и тогда
  флаг `--port {port}` не нужен: он убирается из команды, и на картинке (и в
  настоящем запуске) — `python3 laboratory_work_1/task4/server.py`. Если порт
  занят, берётся свободный, и флаг на картинке честно остаётся. При проверке
  (`--check`, тест) порт всегда свободный, чтобы не мешать запущенному рядом
  серверу и параллельным тестам. В стенограмме флаг записан всегда как
  `--port <PORT>`, поэтому она не зависит от того, какой порт достался прогону.

* **Рабочая папка.** Сценарий работает в свежей временной копии папки задания
  (`/tmp/lab1-…/laboratory_work_1/taskN/`, файлы побайтно те же): пути в командах
  такие же, как в README, а данные, которые программы создают при работе
  (например, оценки задания 5), не попадают в репозиторий и не влияют на
  следующий прогон.

* **Браузер** (задания 3 и 5): шаг `Browse` сначала делает снимок всех
  терминалов (запросы браузера, включая `/favicon.ico`, в логи на картинках уже
  не попадают), затем скачивает страницу (`urllib`) — её HTML становится
  стенограммой — и при съёмке фотографирует её в headless Chromium в PNG.
  PNG не побайтно повторяем, поэтому `--check` Chromium не запускает: устаревшую
  фотографию выдаст изменившийся HTML.

Файлы: `img/lab1/<task>/<scenario>-<terminal>.svg` и `.txt`,
`img/lab1/<task>/<scenario>-<shot>.png` и `.txt` для шага `Browse`.

Работает на POSIX (Linux, macOS): pty есть только там.

    python tools/screenshots.py               # снять всё
    python tools/screenshots.py --only task4  # одно задание (или task4/chat)
    python tools/screenshots.py --check       # сверить стенограммы, ничего не записывая
    python tools/screenshots.py --list        # список сценариев
"""

from __future__ import annotations

import argparse
import codecs
import difflib
import io
import itertools
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "img" / "lab1"

DEFAULT_ROWS = 24
DEFAULT_COLUMNS = 100
STEP_TIMEOUT = 10.0  # дедлайн одного шага, секунды
STOP_TIMEOUT = 5.0  # сколько ждать программу после Ctrl+C при уборке
TRANSCRIPT_COLUMNS = 400  # ширина экрана стенограммы: строки не переносятся
HOST = "127.0.0.1"

PROMPT = "$ "
CTRL_C = b"\x03"
CTRL_D = b"\x04"
ENTER = b"\r"  # клавиша Enter шлёт CR; pty превращает его в LF (ICRNL)

# Локальные моноширинные шрифты вместо Fira Code с CDN; textLength в SVG rich
# всё равно растягивает текст по сетке, так что подойдёт любой из них.
FONT_STACK = (
    '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, "Liberation Mono", monospace'
)
TITLE_FONT_STACK = 'Arial, "DejaVu Sans", "Liberation Sans", sans-serif'
FONT_ASPECT_RATIO = 0.6  # ширина символа к высоте у этих шрифтов

# Переменная CHROMIUM выбирает браузер (на раннерах GitHub — google-chrome).
CHROMIUM = shutil.which(os.environ.get("CHROMIUM") or "chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
CHROMIUM_TIMEOUT = 60.0

# Что программы создают во время работы: в рабочую копию задания не копируем.
RUNTIME_FILES = ("__pycache__", "*.pyc", "grades.json*")

# Имя терминала и кадра браузера — одно слово: по нему собирается имя файла.
NAME = re.compile(r"[a-z0-9]+\Z")
SCENARIO_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


# ===========================================================================
# Сценарий: данные
# ===========================================================================


@dataclass(frozen=True)
class Terminal:
    """Окно терминала: имя (часть имени файла), заголовок окна и размер."""

    name: str
    title: str = ""
    rows: int = DEFAULT_ROWS
    columns: int = DEFAULT_COLUMNS


@dataclass(frozen=True)
class Run:
    """Набрать команду в терминале и запустить её; `{port}` — порт сценария."""

    terminal: str
    command: str


@dataclass(frozen=True)
class Expect:
    """Дождаться регулярного выражения в выводе терминала (`re.search`).

    Ищет после прошлого совпадения в этом терминале, в выводе без `\\r`.
    Эхо набранного `Expect` не находит: `Type` сдвигает поиск за него.
    """

    terminal: str
    pattern: str
    timeout: float = STEP_TIMEOUT


@dataclass(frozen=True)
class Prompt:
    """Дождаться, что программа ждёт ввода: её вывод сейчас кончается `text`.

    В отличие от `Expect` смотрит на конец вывода, а не на новое после
    прошлого совпадения: приглашение, которое уже было видно, тоже подходит.
    """

    terminal: str
    text: str
    timeout: float = STEP_TIMEOUT


@dataclass(frozen=True)
class Type:
    """Набрать строку и нажать Enter; шаг ждёт, пока pty покажет её эхом.

    Перед ним дождитесь приглашения (`Prompt`): набранное раньше, чем программа
    его напечатала, pty покажет эхом раньше приглашения.
    """

    terminal: str
    text: str


@dataclass(frozen=True)
class CtrlC:
    """Нажать Ctrl+C: pty шлёт программе SIGINT (и показывает `^C`, если не
    readline)."""

    terminal: str


@dataclass(frozen=True)
class CtrlD:
    """Нажать Ctrl+D в начале строки: программа читает конец ввода."""

    terminal: str


@dataclass(frozen=True)
class Exit:
    """Дождаться завершения программы терминала и проверить код выхода."""

    terminal: str
    code: int = 0
    timeout: float = STEP_TIMEOUT


@dataclass(frozen=True)
class Snapshot:
    """Снять терминал сейчас: всё, что он покажет дальше, на картинку не попадёт."""

    terminal: str


@dataclass(frozen=True)
class Browse:
    """Открыть страницу в браузере и сфотографировать её (PNG + HTML-стенограмма).

    Сначала снимает все терминалы: запросы браузера в логи на картинках не попадают.
    """

    shot: str
    path: str = "/"
    width: int = 1000
    height: int = 700


Step = Run | Expect | Prompt | Type | CtrlC | CtrlD | Exit | Snapshot | Browse


@dataclass(frozen=True)
class Scenario:
    """Сценарий съёмки: терминалы, шаги и порт задания по умолчанию."""

    task: str  # папка задания: "task4"
    name: str  # начало имён файлов: "chat"
    summary: str  # одна строка: что показывает
    default_port: int
    terminals: tuple[Terminal, ...]
    steps: tuple[Step, ...]
    # Сервер слушает UDP (для выбора свободного порта)
    udp: bool = False
    # Дополнительные замены для стенограммы: (регулярное выражение, замена).
    normalize: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.task}/{self.name}"


class ScenarioError(Exception):
    """Сценарий не прошёл: шаг не дождался своего или программа упала."""


# ===========================================================================
# Движок: прогон сценария в псевдотерминалах
# ===========================================================================


def program_env(terminal: Terminal) -> dict[str, str]:
    """Окружение программ: только нужное, чтобы вывод не зависел от машины."""
    env = {
        key: os.environ[key] for key in ("PATH", "HOME", "TMPDIR") if key in os.environ
    }
    env.update(
        TERM="xterm-256color",
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
        PYTHONUTF8="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHON_COLORS="0",
        COLUMNS=str(terminal.columns),
        LINES=str(terminal.rows),
    )
    return env


def default_signals() -> None:
    """В дочернем процессе до exec: Ctrl+C снова работает, как в новом терминале.

    Фоновый процесс неинтерактивной оболочки (`cmd &`) наследует SIGINT
    игнорируемым, и Python тогда не ставит свой обработчик — Ctrl+C молча
    не сработал бы.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def port_is_free(port: int, udp: bool) -> bool:
    """Свободен ли порт на HOST; TCP проверяем с SO_REUSEADDR, как его займёт сервер."""
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as probe:
        if not udp:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def any_free_port(udp: bool) -> int:
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def choose_port(scenario: Scenario, checking: bool) -> int:
    """Порт по умолчанию при съёмке (если свободен), иначе — любой свободный."""
    if not checking and port_is_free(scenario.default_port, scenario.udp):
        return scenario.default_port
    if not checking:
        print(
            f"внимание: порт {scenario.default_port} занят, {scenario.key} снимается "
            f"на другом — флаг --port будет виден на картинках",
            file=sys.stderr,
        )
    return any_free_port(scenario.udp)


PORT_FLAG = re.compile(r"\s+--port\s+\{port\}")


def typed_command(command: str, port: int, default_port: int) -> str:
    """Команда, которую «набирает» человек: без `--port`, если порт и так по
    умолчанию."""
    if port == default_port:
        command = PORT_FLAG.sub("", command)
    return command.replace("{port}", str(port))


def transcript_command(command: str) -> str:
    """Команда для стенограммы: флаг порта всегда на месте, порт замаскирован."""
    return command.replace("{port}", "<PORT>")


class Session:
    """Один терминал во время прогона: pty с программой и запись всего показанного."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        # pexpect.spawn, пока в терминале есть программа
        self.child = None
        self.program = ""  # имя файла программы — для заголовка окна
        self.record = bytearray()  # байты для картинки
        self.transcript = bytearray()  # те же байты, но команды в них — с <PORT>
        self.text = ""  # весь вывод без \r — для поиска `Expect`
        self.cursor = 0  # откуда `Expect` ищет дальше
        self.frozen = False  # снимок сделан: запись больше не растёт
        self.eof = True  # pty программы закрыт (или программы нет)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def fd(self) -> int:
        return self.child.child_fd

    def show(self, data: bytes, transcript: bytes | None = None) -> None:
        """Всё, что появилось на экране: от программы, от эха pty или от движка.

        `transcript` — как это записать в стенограмму, если не так, как на экране
        (строку команды движок пишет туда с маскированным портом).
        """
        if not self.frozen:
            self.record += data
            self.transcript += data if transcript is None else transcript
        self.text += self._decoder.decode(data).replace("\r", "")

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.text.rstrip("\n").split("\n")[-lines:])


@dataclass
class Shots:
    """Результат прогона: имя файла → содержимое (картинки и стенограммы)."""

    scenario: Scenario
    files: dict[str, bytes] = field(default_factory=dict)


class Runner:
    """Исполняет шаги одного сценария; `run()` возвращает снятые файлы."""

    def __init__(self, scenario: Scenario, *, checking: bool, source: Path) -> None:
        self.scenario = scenario
        self.checking = checking
        self.source = source
        self.sessions = {t.name: Session(t) for t in scenario.terminals}
        self.port = 0
        self.workdir: Path | None = None
        self.shots = Shots(scenario)

    # --- жизненный цикл ----------------------------------------------------
    def run(self) -> Shots:
        validate(self.scenario)
        with tempfile.TemporaryDirectory(prefix="lab1-") as tmp:
            self.workdir = Path(tmp).resolve()
            copy_task(self.source, self.scenario.task, self.workdir)
            self.port = choose_port(self.scenario, self.checking)
            try:
                for number, step in enumerate(self.scenario.steps, 1):
                    try:
                        self.perform(step)
                    except ScenarioError as error:
                        raise ScenarioError(
                            f"{self.scenario.key}, шаг {number} {step}: {error}\n"
                            f"{self.screens()}"
                        ) from None
                self.freeze_all()
            finally:
                self.stop_all()
        self.check_no_traceback()
        for session in self.sessions.values():
            self.render(session)
        return self.shots

    def perform(self, step: Step) -> None:
        match step:
            case Run(terminal, command):
                self.start(self.sessions[terminal], command)
            case Expect(terminal, pattern, timeout):
                self.expect(self.sessions[terminal], pattern, timeout)
            case Prompt(terminal, text, timeout):
                self.prompt(self.sessions[terminal], text, timeout)
            case Type(terminal, text):
                self.type(self.sessions[terminal], text)
            case CtrlC(terminal):
                # Эха не ждём: `^C` показывает pty в обычном режиме, а под
                # readline (чат задания 4) его нет.
                self.press(self.sessions[terminal], CTRL_C, echo="")
            case CtrlD(terminal):
                self.press(self.sessions[terminal], CTRL_D, echo="")
            case Exit(terminal, code, timeout):
                self.wait_exit(self.sessions[terminal], code, timeout)
            case Snapshot(terminal):
                self.drain()
                self.sessions[terminal].frozen = True
            case Browse():
                self.freeze_all()
                self.browse(step)
            case _:
                raise ScenarioError(f"неизвестный шаг {step!r}")

    # --- шаги ----------------------------------------------------------------
    def start(self, session: Session, command: str) -> None:
        import pexpect  # только здесь: модуль есть лишь на POSIX

        if session.child is not None and session.child.isalive():
            raise ScenarioError(
                f"в терминале {session.terminal.name} ещё работает {session.program}"
            )
        line = typed_command(command, self.port, self.scenario.default_port)
        words = shlex.split(line)
        if words[0] != "python3":
            raise ScenarioError(f"команда должна начинаться с python3: {command!r}")
        # Приглашение уже на экране, если в этом терминале что-то завершилось.
        prompt = "" if session.record.endswith(PROMPT.encode()) else PROMPT
        session.show(
            f"{prompt}{line}\r\n".encode(),
            f"{prompt}{transcript_command(command)}\r\n".encode(),
        )
        session.program = session.program or Path(words[1]).name
        terminal = session.terminal
        session.child = pexpect.spawn(
            sys.executable,
            words[1:],
            cwd=str(self.workdir),
            env=program_env(terminal),
            dimensions=(terminal.rows, terminal.columns),
            echo=True,
            preexec_fn=default_signals,
        )
        # Закрываем pty только после выхода программы (или с kill при уборке):
        # пауза «дать ядру обновить статус» не нужна.
        session.child.ptyproc.delayafterclose = 0
        session.eof = False
        # Поиск `Expect` начинается с вывода новой программы.
        session.cursor = len(session.text)

    def expect(self, session: Session, pattern: str, timeout: float) -> None:
        regex = re.compile(pattern)
        start = session.cursor

        def found():
            match = regex.search(session.text, start)
            # Больше ничего не появится — не ждём дедлайна
            if not match and session.eof:
                raise ScenarioError(
                    f"программа в терминале {session.terminal.name} закрыла его, "
                    f"не напечатав {pattern!r}"
                )
            return match

        match = self.wait(
            found,
            timeout,
            f"не дождались {pattern!r} в терминале {session.terminal.name}",
        )
        session.cursor = match.end()

    def prompt(self, session: Session, text: str, timeout: float) -> None:
        self.wait(
            lambda: session.text.endswith(text),
            timeout,
            f"терминал {session.terminal.name} не ждёт ввода: "
            f"вывод не кончается {text!r}",
        )
        session.cursor = len(session.text)

    def type(self, session: Session, text: str) -> None:
        self.press(session, text.encode("utf-8") + ENTER, echo=text + "\n")

    def press(self, session: Session, keys: bytes, echo: str) -> None:
        """Послать клавиши и дождаться их эха; `Expect` дальше ищет уже после эха."""
        if session.eof:
            raise ScenarioError(
                f"в терминале {session.terminal.name} нет работающей программы"
            )
        # Сначала забираем уже напечатанное: эхо встанет после него, а Ctrl+C
        # (сброс очереди вывода в pty) не съест непрочитанное.
        self.drain()
        start = len(session.text)
        os.write(session.fd, keys)
        if echo:

            def echo_end() -> int | None:
                found = session.text.find(echo, start)
                return found + len(echo) if found >= 0 else None

            end = self.wait(
                echo_end,
                STEP_TIMEOUT,
                f"pty не показал эхо {echo!r} в терминале {session.terminal.name}",
            )
            session.cursor = max(session.cursor, end)

    def wait_exit(self, session: Session, code: int, timeout: float) -> None:
        if session.child is None:
            raise ScenarioError(
                f"в терминале {session.terminal.name} ничего не запускали"
            )
        self.wait(
            lambda: session.eof and not session.child.isalive(),
            timeout,
            f"программа в терминале {session.terminal.name} не завершилась",
        )
        status = session.child.exitstatus
        if status is None:
            status = -session.child.signalstatus
        session.child.close()
        if status != code:
            raise ScenarioError(
                f"{session.program} завершилась с кодом {status}, ожидали {code}"
            )
        session.show(PROMPT.encode())  # оболочка снова ждёт команду

    def browse(self, step: Browse) -> None:
        url = f"http://{HOST}:{self.port}{step.path}"
        try:
            with urllib.request.urlopen(url, timeout=STEP_TIMEOUT) as response:
                html = response.read().decode("utf-8", errors="replace")
        except OSError as error:
            raise ScenarioError(f"страница {url} не открылась: {error}") from None
        stem = f"{self.scenario.name}-{step.shot}"
        self.shots.files[f"{stem}.txt"] = self.normalized(html.split("\n")).encode(
            "utf-8"
        )
        if not self.checking:
            self.shots.files[f"{stem}.png"] = photograph(url, step.width, step.height)

    # --- ожидание и чтение pty ---------------------------------------------
    def pump(self, timeout: float) -> bool:
        """Прочитать всё, что пришло из pty за `timeout`; True, если что-то пришло."""
        live = {s.fd: s for s in self.sessions.values() if not s.eof}
        if not live:
            time.sleep(timeout)
            return False
        ready, _, _ = select.select(list(live), [], [], timeout)
        for fd in ready:
            session = live[fd]
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: программа закрыла терминал
                data = b""
            if data:
                session.show(data)
            else:
                session.eof = True
        return bool(ready)

    def drain(self) -> None:
        while self.pump(0):
            pass

    def wait(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise ScenarioError(f"за {timeout} с {what}")
            self.pump(min(left, 0.05))

    def freeze_all(self) -> None:
        self.drain()
        for session in self.sessions.values():
            session.frozen = True

    def stop_all(self) -> None:
        """Уборка: оставшимся программам Ctrl+C, непослушным — kill. В запись не
        попадает."""
        for session in self.sessions.values():
            session.frozen = True
            if session.child is not None and session.child.isalive():
                try:
                    os.write(session.fd, CTRL_C)
                except OSError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for session in self.sessions.values():
            if session.child is None:
                continue
            while session.child.isalive() and time.monotonic() < deadline:
                self.pump(0.05)
            session.child.close(force=True)

    # --- проверки и отчёты ---------------------------------------------------
    def screens(self) -> str:
        return "\n".join(
            f"--- терминал {s.terminal.name}:\n{s.tail()}"
            for s in self.sessions.values()
        )

    def check_no_traceback(self) -> None:
        for session in self.sessions.values():
            if "Traceback" in session.text:
                raise ScenarioError(
                    f"{self.scenario.key}: трассировка в терминале "
                    f"{session.terminal.name}:\n{session.tail(30)}"
                )

    # --- картинка и стенограмма ------------------------------------------------
    def normalized(self, lines: list[str]) -> str:
        # Путь временной рабочей папки (программа могла его напечатать) — тоже
        # переменное; заменяем первым, пока цифры в нём не приняли за порт.
        if self.workdir:
            lines = [line.replace(str(self.workdir), "<WORKDIR>") for line in lines]
        return normalize_lines(
            lines, (self.port, self.scenario.default_port), self.scenario.normalize
        )

    def render(self, session: Session) -> None:
        terminal = session.terminal
        stem = f"{self.scenario.name}-{terminal.name}"
        lines = transcript_lines(bytes(session.transcript))
        self.shots.files[f"{stem}.txt"] = self.normalized(lines).encode("utf-8")
        title = terminal.title or f"{terminal.name} — {session.program}"
        screen = play(bytes(session.record), terminal.columns, terminal.rows)
        if not self.checking and session.record.count(b"\n") >= terminal.rows:
            print(
                f"внимание: {self.scenario.key}: терминал {terminal.name} прокрутился, "
                f"начало не попало на картинку (увеличьте rows)",
                file=sys.stderr,
            )
        self.shots.files[f"{stem}.svg"] = render_svg(
            screen, title, unique_id=f"{self.scenario.task}-{stem}"
        ).encode("utf-8")


def validate(scenario: Scenario) -> None:
    """Ошибки в описании сценария — до запуска программ."""
    problems = []
    if not SCENARIO_NAME.match(scenario.name):
        problems.append(f"имя сценария {scenario.name!r}: только a-z, 0-9 и дефисы")
    names = [t.name for t in scenario.terminals]
    for name in names:
        if not NAME.match(name):
            problems.append(f"имя терминала {name!r}: одно слово из a-z и 0-9")
    if len(set(names)) != len(names):
        problems.append("имена терминалов повторяются")
    for step in scenario.steps:
        if isinstance(step, Browse):
            if not NAME.match(step.shot) or step.shot in names:
                problems.append(
                    f"имя кадра {step.shot!r}: одно слово, не совпадающее с терминалом"
                )
        elif step.terminal not in names:
            problems.append(f"шаг {step} ссылается на неизвестный терминал")
    if problems:
        raise ScenarioError(f"{scenario.key}: " + "; ".join(problems))


def copy_task(source: Path, task: str, workdir: Path) -> None:
    """Свежая копия папки задания по тому же относительному пути, что в репозитории."""
    origin = source / "laboratory_work_1" / task
    if not origin.is_dir():
        raise ScenarioError(f"нет папки {origin}")
    shutil.copytree(
        origin,
        workdir / "laboratory_work_1" / task,
        ignore=shutil.ignore_patterns(*RUNTIME_FILES),
    )


def photograph(url: str, width: int, height: int) -> bytes:
    """PNG страницы из headless Chromium."""
    if not Path(CHROMIUM).exists():
        raise ScenarioError(f"нет Chromium ({CHROMIUM}): установите пакет chromium")
    with tempfile.TemporaryDirectory(prefix="screenshots-chromium-") as tmp:
        picture = Path(tmp) / "page.png"
        command = [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp}/profile",
            f"--window-size={width},{height}",
            f"--screenshot={picture}",
            url,
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            raise ScenarioError(
                f"Chromium не снял {url} за {CHROMIUM_TIMEOUT} с"
            ) from None
        if not picture.is_file():
            raise ScenarioError(f"Chromium не снял {url}:\n{result.stderr[-2000:]}")
        return picture.read_bytes()


# ===========================================================================
# Эмулятор терминала, нормализация, SVG
# ===========================================================================


def play(record: bytes, columns: int, rows: int):
    """Проиграть запись в эмулятор терминала pyte и вернуть экран."""
    import pyte

    screen = pyte.Screen(columns, rows)
    pyte.ByteStream(screen).feed(record)
    return screen


def transcript_lines(record: bytes) -> list[str]:
    """Весь текст записи: экран широкий (без переносов) и высокий (без прокрутки)."""
    screen = play(record, TRANSCRIPT_COLUMNS, record.count(b"\n") + 2)
    return [line.rstrip() for line in screen.display]


TIME = re.compile(r"(?<!\d)\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?!\d)")
DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
HTTP_DATE = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT\b"
)
ADDRESS = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})(?!\d)")
ADDRESS_TUPLE = re.compile(r"\('(\d{1,3}(?:\.\d{1,3}){3})', (\d{1,5})\)")
MILLISECONDS = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:ms|мс)\b")


def normalize_lines(
    lines: list[str], ports: tuple[int, ...], extra: tuple[tuple[str, str], ...] = ()
) -> str:
    """Стенограмма: хвостовые пробелы и пустые строки в конце убраны,
    переменное — метками.

    `ports` — порт прогона и порт задания по умолчанию: второй программа может
    напечатать и сама (пример в тексте страницы), а при проверке прогон идёт на
    другом порту — без маски стенограммы съёмки и проверки разошлись бы.
    """
    text = "\n".join(line.rstrip() for line in lines).rstrip("\n")
    text = HTTP_DATE.sub("<HTTP-DATE>", text)
    text = DATE.sub("YYYY-MM-DD", text)
    text = TIME.sub("HH:MM:SS", text)
    text = MILLISECONDS.sub("<N> мс", text)
    for port in ports:
        text = re.sub(rf"(?<![\d.]){port}(?!\d)", "<PORT>", text)
    text = ADDRESS.sub(r"\1:<EPHEMERAL>", text)
    text = ADDRESS_TUPLE.sub(r"('\1', <EPHEMERAL>)", text)
    for pattern, replacement in extra:
        text = re.sub(pattern, replacement, text)
    return text + "\n"


def _svg_format() -> str:
    """Шаблон SVG из rich, но со шрифтами машины читателя вместо Fira Code с CDN."""
    from rich._export_format import CONSOLE_SVG_FORMAT

    template = re.sub(
        r"[ \t]*@font-face \{\{.*?\}\}\n", "", CONSOLE_SVG_FORMAT, flags=re.S
    )
    template = template.replace(
        "font-family: Fira Code, monospace;", f"font-family: {FONT_STACK};"
    )
    template = template.replace(
        "font-family: arial;", f"font-family: {TITLE_FONT_STACK};"
    )
    if (
        "@font-face" in template
        or FONT_STACK not in template
        or TITLE_FONT_STACK not in template
    ):
        raise RuntimeError("шаблон SVG в rich изменился: поправьте _svg_format()")
    return template


def _color(name: str) -> str | None:
    """Цвет ячейки pyte → цвет rich ("brown" у pyte — это жёлтый)."""
    if name == "default":
        return None
    if re.fullmatch(r"[0-9a-fA-F]{6}", name):
        return "#" + name.lower()
    bright = name.startswith("bright")
    base = name.removeprefix("bright").replace("brown", "yellow")
    return f"bright_{base}" if bright else base


def _style(cell):
    from rich.style import Style

    return Style(
        color=_color(cell.fg),
        bgcolor=_color(cell.bg),
        bold=cell.bold or None,
        italic=cell.italics or None,
        underline=cell.underscore or None,
        strike=cell.strikethrough or None,
        reverse=cell.reverse or None,
    )


def screen_rows(screen):
    """Строки экрана как rich.text.Text; пустые строки внизу отрезаны."""
    from rich.style import Style
    from rich.text import Text

    plain = Style()
    rows = []
    for y in range(screen.lines):
        line = screen.buffer[y]
        # "" — хвост широкого символа
        cells = [line[x] for x in range(screen.columns) if line[x].data != ""]
        while cells and cells[-1].data == " " and _style(cells[-1]) == plain:
            cells.pop()
        text = Text(end="")
        # Соседние ячейки одного стиля — один кусок текста (и один <text> в SVG).
        for style, group in itertools.groupby(cells, key=_style):
            text.append(
                "".join(cell.data for cell in group),
                style=None if style == plain else style,
            )
        rows.append(text)
    while rows and not rows[-1].plain:
        rows.pop()
    return rows


def render_svg(screen, title: str, unique_id: str) -> str:
    """SVG окна терминала с содержимым экрана pyte; один экран — один и тот же SVG."""
    from rich.console import Console

    console = Console(
        record=True,
        width=screen.columns,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        no_color=False,
        legacy_windows=False,
        highlight=False,
        markup=False,
        emoji=False,
        _environ={},
    )
    for row in screen_rows(screen) or [""]:
        console.print(row)
    css_id = re.sub(r"[^a-zA-Z0-9-]", "-", unique_id)
    svg = console.export_svg(
        title=title,
        code_format=_svg_format(),
        font_aspect_ratio=FONT_ASPECT_RATIO,
        unique_id=f"terminal-{css_id}",
    )
    # Собственный размер — из viewBox: без width и height у картинки его нет, и
    # просмотрщик на сайте (glightbox) открывал её крошечной.
    width, height = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups()
    return svg.replace("<svg ", f'<svg width="{width}" height="{height}" ', 1)


# ===========================================================================
# Съёмка и проверка
# ===========================================================================


def shoot(scenario: Scenario, *, checking: bool = False, source: Path = ROOT) -> Shots:
    """Прогнать сценарий; при `checking` — без Chromium и на случайном свободном
    порту."""
    return Runner(scenario, checking=checking, source=source).run()


def own_files(scenario: Scenario, folder: Path) -> list[Path]:
    """Файлы сценария в папке картинок: `<scenario>-<слово>.svg|.txt|.png`."""
    pattern = re.compile(rf"{re.escape(scenario.name)}-[a-z0-9]+\.(?:svg|txt|png)\Z")
    return (
        sorted(p for p in folder.glob(f"{scenario.name}-*") if pattern.match(p.name))
        if folder.is_dir()
        else []
    )


def write_scenario(
    scenario: Scenario, *, images: Path = IMAGES, source: Path = ROOT
) -> list[Path]:
    """Снять сценарий и записать картинки и стенограммы; лишние старые файлы удалить."""
    shots = shoot(scenario, source=source)
    folder = images / scenario.task
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in sorted(shots.files.items()):
        path = folder / name
        if not path.is_file() or path.read_bytes() != content:
            path.write_bytes(content)
        written.append(path)
    for stale in own_files(scenario, folder):
        if stale not in written:
            stale.unlink()
    return written


def check_scenario(
    scenario: Scenario, *, images: Path = IMAGES, source: Path = ROOT
) -> str:
    """Перезапустить сценарий и сравнить стенограммы с сохранёнными; "" — всё
    совпало."""
    shots = shoot(scenario, checking=True, source=source)
    folder = images / scenario.task
    fresh = {
        name: content.decode("utf-8")
        for name, content in shots.files.items()
        if name.endswith(".txt")
    }
    saved = {
        p.name: p.read_text(encoding="utf-8")
        for p in own_files(scenario, folder)
        if p.suffix == ".txt"
    }
    diffs = []
    for name in sorted(fresh.keys() | saved.keys()):
        old, new = saved.get(name, ""), fresh.get(name, "")
        if old != new:
            where = f"img/lab1/{scenario.task}/{name}"
            diffs.extend(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"{where} (сохранено)"
                    if name in saved
                    else f"{where} (нет файла)",
                    tofile=f"{where} (сейчас)"
                    if name in fresh
                    else f"{where} (сценарий его больше не снимает)",
                )
            )
    return "".join(diffs)


def has_transcripts(scenario: Scenario, images: Path = IMAGES) -> bool:
    return any(p.suffix == ".txt" for p in own_files(scenario, images / scenario.task))


def select_scenarios(scenarios, only: list[str] | None):
    """`--only task4` — задание, `--only task4/chat` — один сценарий."""
    if not only:
        return list(scenarios)
    chosen = [s for s in scenarios if s.task in only or s.key in only]
    unknown = [
        name for name in only if not any(name in (s.task, s.key) for s in scenarios)
    ]
    if unknown:
        raise SystemExit(f"Ошибка: нет сценариев {', '.join(unknown)} (см. --list)")
    return chosen


# ===========================================================================
# Сценарии лабораторной работы
# ===========================================================================
#
# Как добавить сценарий: опишите `Scenario` ниже и допишите его в SCENARIOS.
# Терминалы — окна на картинках (имя — одно слово, оно войдёт в имя файла),
# шаги — что делает человек и чего он ждёт глазами. Перед `Type` дождитесь
# приглашения программы (`Expect`), после каждого действия — его следов во
# ВСЕХ терминалах, куда они попадут (строки лога сервера, сообщения другим
# клиентам): тогда порядок строк на картинках не зависит от планировщика.
# Затем `python tools/screenshots.py --only taskN/имя` и ссылка на картинку
# со страницы: `![…](../img/lab1/taskN/имя-терминал.svg)`.

# Команды — как в README; `{port}` — порт прогона
# (флаг исчезает, если порт по умолчанию).
TASK1 = "python3 laboratory_work_1/task1/{program}.py --port {{port}}"
TASK2 = "python3 laboratory_work_1/task2/{program}.py --port {{port}}"
TASK3 = "python3 laboratory_work_1/task3/{program}.py --port {{port}}"
TASK5 = "python3 laboratory_work_1/task5/{program}.py --port {{port}}"


def stop_server(terminal: str = "server") -> tuple[Step, ...]:
    """Ctrl+C в терминале сервера: короткая строка и код выхода 0, без трассировки."""
    return (
        CtrlC(terminal),
        Expect(terminal, r"Сервер остановлен\."),
        Exit(terminal, 0),
    )


GREETING = Scenario(
    task="task1",
    name="greeting",
    default_port=5001,
    udp=True,
    summary="UDP: клиент шлёт «Hello, server», сервер пишет его в лог "
    "и отвечает «Hello, client»",
    terminals=(
        Terminal("server", title="Терминал 1 — сервер", rows=8, columns=90),
        Terminal("client", title="Терминал 2 — клиент", rows=8, columns=90),
    ),
    steps=(
        Run("server", TASK1.format(program="server")),
        Expect("server", r"Сервер слушает"),
        Run("client", TASK1.format(program="client")),
        Expect("client", r"Ответ сервера: Hello, client"),
        Exit("client", 0),
        Expect("server", r"Сообщение от .*'Hello, server'"),
        *stop_server(),
    ),
)

MENU_CHOICE = "Ваш выбор: "
NUMBER_PROMPT = ") = "  # «a (коэффициент при x²) = »


def menu_answer(*typed: str, prompt: str = NUMBER_PROMPT) -> tuple[Step, ...]:
    """Ответить на приглашения клиента задания 2 по одному: дождаться — набрать."""
    return tuple(
        step
        for text in typed
        for step in (Prompt("client", prompt), Type("client", text))
    )


MATH = Scenario(
    task="task2",
    name="math",
    default_port=5002,
    summary="TCP-калькулятор: меню клиента (уравнение, Пифагор, неверное число) "
    "и расчёт из командной строки",
    terminals=(
        Terminal("server", title="Терминал 1 — сервер", rows=16, columns=120),
        Terminal("client", title="Терминал 2 — клиент", rows=42, columns=100),
    ),
    steps=(
        Run("server", TASK2.format(program="server")),
        Expect("server", r"Сервер слушает"),
        # Меню: квадратное уравнение x² - 3x + 2 = 0 → корни 2 и 1.
        Run("client", TASK2.format(program="client")),
        *menu_answer("2", prompt=MENU_CHOICE),
        *menu_answer("1", "-3", "2"),
        Expect("client", r"два корня"),
        Expect("server", r"quadratic"),
        # Пифагор 3, 4 → 5; «три» — не число: клиент переспросит, на сервер не пошлёт.
        *menu_answer("1", prompt=MENU_CHOICE),
        *menu_answer("три", "3", "4"),
        Expect("client", r"c = 5"),
        Expect("server", r"pythagoras"),
        *menu_answer("0", prompt=MENU_CHOICE),
        Expect("client", r"До свидания\."),
        Exit("client", 0),
        Expect("server", r"Отключился"),
        # Один расчёт из командной строки: комплексные корни x² + 2x + 5 = 0.
        Run("client", TASK2.format(program="client") + " quadratic 1 2 5"),
        Expect("client", r"комплексные корни"),
        Exit("client", 0),
        Expect("server", r"Отключился"),
        *stop_server(),
    ),
)

PAGE = Scenario(
    task="task3",
    name="page",
    default_port=8080,
    summary="HTTP: клиент на сокете скачивает страницу, браузер её показывает",
    terminals=(
        Terminal("server", title="Терминал 1 — сервер", rows=8, columns=100),
        Terminal("client", title="Терминал 2 — клиент", rows=80, columns=100),
    ),
    steps=(
        Run("server", TASK3.format(program="server")),
        Expect("server", r"Сервер слушает"),
        Run("client", TASK3.format(program="client")),
        Expect("client", r"</html>"),
        Exit("client", 0),
        Expect("server", r"GET / → 200"),
        # Сервер на картинке продолжает работать: браузер приходит к нему следом.
        Browse("browser", width=1000, height=1000),
    ),
)


def add_grade(discipline: str, grade: int) -> tuple[Step, ...]:
    """`client.py add`: клиент подтверждает, сервер пишет POST в лог.

    Ждём и строку лога: сервер пишет её после ответа, и без ожидания она могла
    бы оказаться после строки следующего запроса.
    """
    return (
        Run("client", TASK5.format(program="client") + f" add {discipline} {grade}"),
        Expect("client", rf"Оценка сохранена: {discipline} — {grade}"),
        Exit("client", 0),
        Expect("server", r"POST / → 303"),
    )


JOURNAL = Scenario(
    task="task5",
    name="journal",
    default_port=8081,
    summary="Журнал оценок: клиент добавляет оценки (POST) и читает их (GET), "
    "браузер показывает страницу",
    terminals=(
        Terminal("server", title="Терминал 1 — сервер", rows=14, columns=110),
        Terminal("client", title="Терминал 2 — клиент", rows=20, columns=100),
    ),
    steps=(
        Run("server", TASK5.format(program="server")),
        Expect("server", r"Сервер слушает"),
        Expect("server", r"начинаем с пустого журнала"),
        *add_grade("Физика", 5),
        *add_grade("Физика", 4),
        *add_grade("Web-программирование", 5),
        # Неверная оценка: сервер отвечает 400, клиент печатает его сообщение.
        Run("client", TASK5.format(program="client") + " add Физика 7"),
        Expect("client", r"Ошибка: "),
        Exit("client", 1),
        Expect("server", r"POST / → 400"),
        Run("client", TASK5.format(program="client") + " list"),
        Expect("client", r"Web-программирование: 5"),
        Exit("client", 0),
        Expect("server", r"GET /grades\.json → 200"),
        Browse("browser", width=1000, height=420),
    ),
)

TASK4 = "python3 laboratory_work_1/task4/{program}.py --port {{port}}"
CHAT_PROMPT = "> "  # приглашение клиента чата


def chat_join(terminal: str, name: str, *others: str) -> tuple[Step, ...]:
    """Клиент входит в чат: приветствие у него, уведомление у остальных, строка в
    логе."""
    return (
        Run(terminal, TASK4.format(program="client") + f" --name {name}"),
        Prompt(terminal, CHAT_PROMPT),
        *(Expect(other, rf"\* {name} вошёл в чат") for other in others),
        Expect("server", rf"представился: {name}"),
    )


def chat_say(terminal: str, text: str, *seen: tuple[str, str]) -> tuple[Step, ...]:
    """Набрать строку в клиенте чата и дождаться её следов: `seen` — (терминал, regex).

    Ждём приглашение до набора (иначе pty покажет эхо раньше приглашения), а
    после — следы и приглашение в каждом клиенте, где они появились (и в том,
    где набирали): входящая строка, пришедшая, пока readline ещё печатает
    приглашение, легла бы поперёк него, и картинка зависела бы от планировщика.
    """
    steps: list[Step] = [Prompt(terminal, CHAT_PROMPT), Type(terminal, text)]
    for where, pattern in seen:
        steps.append(Expect(where, pattern))
    clients = dict.fromkeys(
        [terminal, *(where for where, _ in seen if where != "server")]
    )
    steps.extend(Prompt(client, CHAT_PROMPT) for client in clients)
    return tuple(steps)


CHAT = Scenario(
    task="task4",
    name="chat",
    default_port=7777,
    summary="Чат: трое входят, пишут всем и лично, /users, комната #python, "
    "выход тремя способами",
    terminals=(
        Terminal("server", title="Терминал 1 — сервер", rows=24, columns=90),
        Terminal("alice", title="Терминал 2 — alice", rows=22, columns=80),
        Terminal("bob", title="Терминал 3 — bob", rows=22, columns=80),
        Terminal("vera", title="Терминал 4 — вера", rows=22, columns=80),
    ),
    steps=(
        Run("server", TASK4.format(program="server")),
        Expect("server", r"Сервер слушает"),
        *chat_join("alice", "alice"),
        *chat_join("bob", "bob", "alice"),
        *chat_join("vera", "вера", "alice", "bob"),
        *chat_say(
            "alice",
            "Всем привет!",
            ("bob", r"#general alice: Всем привет!"),
            ("vera", r"#general alice: Всем привет!"),
            ("server", r"alice → #general"),
        ),
        *chat_say(
            "vera",
            "/msg bob Привет, это Вера. Как дела?",
            ("bob", r"\(лично\) вера: Привет, это Вера"),
            ("server", r"вера → bob"),
        ),
        *chat_say(
            "bob",
            "/msg вера Отлично, спасибо!",
            ("vera", r"\(лично\) bob: Отлично"),
            ("server", r"bob → вера"),
        ),
        *chat_say("bob", "/users", ("bob", r"#general.*: alice, bob, вера")),
        *chat_say(
            "bob",
            "/join #python",
            ("bob", r"Вы вошли в #python"),
            ("server", r"bob вошёл в #python"),
        ),
        *chat_say(
            "alice",
            "/join #python",
            ("alice", r"Вы вошли в #python"),
            ("bob", r"\* alice вошёл в #python"),
            ("server", r"alice вошёл в #python"),
        ),
        *chat_say(
            "alice",
            "Кто знает, зачем TCP_NODELAY?",
            ("bob", r"#python alice: Кто знает"),
            ("server", r"alice → #python"),
        ),
        *chat_say("bob", "/users", ("bob", r"#python.*: alice, bob\n")),
        # Три способа выйти: /quit, Ctrl+D и Ctrl+C — везде чисто и с кодом 0.
        Prompt("vera", CHAT_PROMPT),
        Type("vera", "/quit"),
        Expect("vera", r"Вы вышли из чата\."),
        Exit("vera", 0),
        Expect("alice", r"\* вера вышел из чата"),
        Prompt("alice", CHAT_PROMPT),
        Expect("bob", r"\* вера вышел из чата"),
        Prompt("bob", CHAT_PROMPT),
        Expect("server", r"вера отключился"),
        CtrlD("bob"),
        Expect("bob", r"Вы вышли из чата\."),
        Exit("bob", 0),
        Expect("alice", r"\* bob вышел из чата"),
        Prompt("alice", CHAT_PROMPT),
        Expect("server", r"bob отключился"),
        CtrlC("alice"),
        Expect("alice", r"Вы вышли из чата\."),
        Exit("alice", 0),
        Expect("server", r"alice отключился"),
        *stop_server(),
    ),
)

SCENARIOS: list[Scenario] = [GREETING, MATH, PAGE, CHAT, JOURNAL]


# ===========================================================================
# Командная строка
# ===========================================================================


def main(
    argv: list[str] | None = None,
    *,
    scenarios=None,
    images: Path = IMAGES,
    source: Path = ROOT,
) -> int:
    parser = argparse.ArgumentParser(
        description="Снять скриншоты настоящих запусков в img/lab1/ "
        "или сверить их стенограммы."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="перезапустить сценарии и сравнить стенограммы с сохранёнными, "
        "ничего не записывая",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="ЗАДАНИЕ[/СЦЕНАРИЙ]",
        help="только эти сценарии: task4 или task4/chat (можно несколько раз)",
    )
    parser.add_argument("--list", action="store_true", help="показать сценарии и выйти")
    args = parser.parse_args(argv)
    chosen = select_scenarios(SCENARIOS if scenarios is None else scenarios, args.only)

    if args.list:
        for scenario in chosen:
            print(f"{scenario.key:20} {scenario.summary}")
        return 0
    if os.name != "posix":
        print(
            "Ошибка: скриншоты снимаются в псевдотерминале (pty), "
            "он есть только на Linux и macOS.",
            file=sys.stderr,
        )
        return 1

    failed = False
    for scenario in chosen:
        started = time.monotonic()
        try:
            if args.check:
                diff = check_scenario(scenario, images=images, source=source)
                if diff:
                    failed = True
                    print(
                        f"{scenario.key}: стенограммы разошлись с программами "
                        "(переснимите: "
                        f"python tools/screenshots.py --only {scenario.key})"
                    )
                    print(diff, end="")
                else:
                    took = time.monotonic() - started
                    print(f"{scenario.key}: совпадает ({took:.1f} с)")
            else:
                written = write_scenario(scenario, images=images, source=source)
                took = time.monotonic() - started
                print(f"{scenario.key}: {len(written)} файлов ({took:.1f} с)")
        except ScenarioError as error:
            failed = True
            print(f"Ошибка: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
