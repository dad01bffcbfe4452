"""Скриншоты: движок tools/screenshots.py и стенограммы настоящих сценариев.

Движок проверяется на игрушечных программах (сервер, который пишет в лог время
и порты, и эхо-клиент): набранное видно на картинке, переменное в стенограмме
замаскировано, SVG повторяем, `--check` молчит, пока вывод тот же, и показывает
diff, когда программа начала печатать другое. Последний тест перезапускает
настоящие сценарии лабораторной и сверяет их с сохранёнными стенограммами в img/.
"""

from __future__ import annotations

import os
import socket
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from support import ROOT, free_port

if sys.platform == "win32":
    pytest.skip("скриншоты снимаются в pty — только POSIX", allow_module_level=True)

sys.path.insert(0, str(ROOT / "tools"))
import screenshots as shots  # noqa: E402

DEMO_SERVER = """\
import argparse, logging, random, time
parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default={default_port})
args = parser.parse_args()
logging.basicConfig(
    format="%(asctime)s %(levelname)s %(message)s",
    datefmt="%H:%M:%S",
    level=logging.INFO,
)
logging.info("Сервер слушает 127.0.0.1:%d", args.port)
logging.info("Клиент 127.0.0.1:%d подключился", random.randint(40000, 60000))
try:
    while True:
        time.sleep(1)
except KeyboardInterrupt:
    logging.info("Сервер остановлен.")
"""

DEMO_CLIENT = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default={default_port})
parser.parse_args()
while True:
    try:
        line = input("> ")
    except EOFError:
        print("Пока!")
        break
    print(f"Эхо: {{line.upper()}}")
"""

DEMO_HTTP_SERVER = """\
import argparse, http.server, sys
parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default={default_port})
args = parser.parse_args()
class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (
            "<!doctype html><meta charset=utf-8><h1>Оценки</h1><p>Физика: 5</p>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, format, *args):
        print("запрос", self.requestline, file=sys.stderr)
server = http.server.HTTPServer(("127.0.0.1", args.port), Page)
print(f"Сервер слушает 127.0.0.1:{{server.server_port}}", file=sys.stderr)
try:
    server.serve_forever()
except KeyboardInterrupt:
    print("Сервер остановлен.", file=sys.stderr)
"""

SERVER_COMMAND = "python3 laboratory_work_1/task9/server.py --port {port}"
CLIENT_COMMAND = "python3 laboratory_work_1/task9/client.py --port {port}"

EXPECTED_ALICE = """\
$ python3 laboratory_work_1/task9/client.py --port <PORT>
> привет мир
Эхо: ПРИВЕТ МИР
> Пока!
$
"""

EXPECTED_SERVER = """\
$ python3 laboratory_work_1/task9/server.py --port <PORT>
HH:MM:SS INFO Сервер слушает 127.0.0.1:<PORT>
HH:MM:SS INFO Клиент 127.0.0.1:<EPHEMERAL> подключился
^CHH:MM:SS INFO Сервер остановлен.
$
"""


def make_source(root: Path, default_port: int, server: str = DEMO_SERVER) -> Path:
    """Игрушечное «задание 9» в папке, устроенной как репозиторий."""
    task = root / "laboratory_work_1" / "task9"
    task.mkdir(parents=True)
    (task / "server.py").write_text(
        server.format(default_port=default_port), encoding="utf-8"
    )
    (task / "client.py").write_text(
        DEMO_CLIENT.format(default_port=default_port), encoding="utf-8"
    )
    return root


def demo_scenario(default_port: int, *steps: shots.Step) -> shots.Scenario:
    return shots.Scenario(
        task="task9",
        name="demo",
        summary="игрушечный сервер и эхо-клиент",
        default_port=default_port,
        terminals=(
            shots.Terminal("server", rows=8, columns=70),
            shots.Terminal("alice", rows=8, columns=70),
        ),
        steps=steps
        or (
            shots.Run("server", SERVER_COMMAND),
            shots.Expect("server", r"подключился"),
            shots.Run("alice", CLIENT_COMMAND),
            shots.Expect("alice", r"> $"),
            shots.Type("alice", "привет мир"),
            shots.Expect("alice", r"Эхо: ПРИВЕТ МИР\n> $"),
            shots.CtrlD("alice"),
            shots.Exit("alice"),
            shots.CtrlC("server"),
            shots.Expect("server", r"остановлен"),
            shots.Exit("server"),
        ),
    )


@pytest.fixture
def demo(tmp_path):
    """Игрушечное задание, сценарий для него и пустая папка картинок."""
    default_port = free_port()
    source = make_source(tmp_path / "repo", default_port)
    return demo_scenario(default_port), source, tmp_path / "img"


def read(images: Path, name: str) -> str:
    return (images / "task9" / name).read_text(encoding="utf-8")


def test_picture_shows_the_typed_command_and_input_transcript_masks_the_variable(demo):
    scenario, source, images = demo
    written = shots.write_scenario(scenario, images=images, source=source)
    assert sorted(p.name for p in written) == [
        "demo-alice.svg",
        "demo-alice.txt",
        "demo-server.svg",
        "demo-server.txt",
    ]

    assert read(images, "demo-alice.txt") == EXPECTED_ALICE
    assert read(images, "demo-server.txt") == EXPECTED_SERVER

    svg = read(images, "demo-alice.svg")
    ElementTree.fromstring(svg)  # правильный XML
    nbsp = "&#160;"
    # порт по умолчанию был свободен: команда — как её набирает человек, без --port
    assert f"${nbsp}python3{nbsp}laboratory_work_1/task9/client.py<" in svg
    assert f"&gt;{nbsp}привет{nbsp}мир<" in svg  # эхо набранного
    assert f"alice{nbsp}—{nbsp}client.py" in svg  # заголовок окна
    # шрифты — только локальные, без @font-face с CDN
    assert "@font-face" not in svg and "cdnjs" not in svg and "DejaVu Sans Mono" in svg
    # на картинке — настоящий порт, маска только в стенограмме
    assert f"127.0.0.1:{scenario.default_port}" in read(images, "demo-server.svg")


def test_same_screen_gives_byte_identical_svg(demo):
    scenario, source, images = demo
    shots.write_scenario(scenario, images=images, source=source)
    first = read(images, "demo-alice.svg")
    shots.write_scenario(scenario, images=images, source=source)
    assert read(images, "demo-alice.svg") == first

    record = "$ ls\r\nфайл.txt  \x1b[1;32mпапка\x1b[0m\r\n$ ".encode()
    pictures = {shots.render_svg(shots.play(record, 40, 5), "t", "x") for _ in range(2)}
    assert len(pictures) == 1
    picture = pictures.pop()
    assert "font-weight: bold" in picture and "папка" in picture


def test_check_passes_while_output_is_the_same_and_shows_a_diff_when_it_changes(
    demo, capsys
):
    scenario, source, images = demo
    shots.write_scenario(scenario, images=images, source=source)
    assert shots.check_scenario(scenario, images=images, source=source) == ""

    client = source / "laboratory_work_1" / "task9" / "client.py"
    client.write_text(
        client.read_text(encoding="utf-8").replace("Эхо:", "Ответ:"), encoding="utf-8"
    )
    scenario = demo_scenario(
        scenario.default_port,
        *(
            shots.Expect(s.terminal, s.pattern.replace("Эхо", "Ответ"))
            if isinstance(s, shots.Expect)
            else s
            for s in scenario.steps
        ),
    )
    before = {p.name: p.read_bytes() for p in (images / "task9").iterdir()}

    code = shots.main(["--check"], scenarios=[scenario], images=images, source=source)
    out = capsys.readouterr().out
    assert code == 1
    assert "-Эхо: ПРИВЕТ МИР\n+Ответ: ПРИВЕТ МИР\n" in out
    assert "img/lab1/task9/demo-alice.txt" in out
    # --check ничего не записывает
    assert {p.name: p.read_bytes() for p in (images / "task9").iterdir()} == before


def test_transcript_does_not_depend_on_which_port_the_run_got(demo):
    scenario, source, images = demo
    with socket.socket() as squatter:  # порт по умолчанию занят кем-то ещё
        squatter.bind(("127.0.0.1", scenario.default_port))
        squatter.listen()
        shots.write_scenario(scenario, images=images, source=source)
        svg = read(images, "demo-alice.svg")
        assert "client.py&#160;--port&#160;" in svg  # на картинке честно видно флаг
        assert str(scenario.default_port) not in svg
    assert read(images, "demo-alice.txt") == EXPECTED_ALICE
    assert shots.check_scenario(scenario, images=images, source=source) == ""


def test_missing_and_stale_transcripts_are_reported_and_stale_files_removed(demo):
    scenario, source, images = demo
    diff = shots.check_scenario(scenario, images=images, source=source)
    assert "demo-alice.txt (нет файла)" in diff and "+Эхо: ПРИВЕТ МИР" in diff

    shots.write_scenario(scenario, images=images, source=source)
    stale = images / "task9" / "demo-bob.txt"
    stale.write_text("старый терминал\n", encoding="utf-8")
    # Файл другого сценария не трогаем
    other = images / "task9" / "demo-extra-alice.txt"
    other.write_text("чужой\n", encoding="utf-8")
    assert "demo-bob.txt (сценарий его больше не снимает)" in shots.check_scenario(
        scenario, images=images, source=source
    )
    shots.write_scenario(scenario, images=images, source=source)
    assert not stale.exists() and other.exists()


def test_a_step_that_never_happens_fails_fast_with_the_screens_and_stops_programs(
    tmp_path,
):
    default_port = free_port()
    source = make_source(tmp_path, default_port)
    scenario = demo_scenario(
        default_port,
        shots.Run("server", SERVER_COMMAND),
        shots.Run("alice", CLIENT_COMMAND),
        shots.Expect("alice", r"такого не будет", timeout=0.5),
    )
    runner = shots.Runner(scenario, checking=True, source=source)
    with pytest.raises(shots.ScenarioError) as error:
        runner.run()
    message = str(error.value)
    assert "шаг 3" in message and "такого не будет" in message
    assert "--- терминал alice:" in message and "Сервер слушает" in message
    assert not any(s.child.isalive() for s in runner.sessions.values())


def test_traceback_and_wrong_exit_code_fail_the_scenario(tmp_path):
    default_port = free_port()
    source = make_source(tmp_path, default_port)
    crash = source / "laboratory_work_1" / "task9" / "crash.py"
    crash.write_text(
        "import sys\nprint('работаю')\nraise SystemExit(3) if sys.argv[1:] else 1 / 0\n"
    )
    traceback = demo_scenario(
        default_port,
        shots.Run("alice", "python3 laboratory_work_1/task9/crash.py"),
        shots.Exit("alice", code=1),
    )
    with pytest.raises(shots.ScenarioError, match="трассировка в терминале alice"):
        shots.shoot(traceback, checking=True, source=source)
    wrong_code = demo_scenario(
        default_port,
        shots.Run("alice", "python3 laboratory_work_1/task9/crash.py x"),
        shots.Exit("alice", code=0),
    )
    with pytest.raises(shots.ScenarioError, match="кодом 3, ожидали 0"):
        shots.shoot(wrong_code, checking=True, source=source)


def test_bad_scenario_description_is_rejected_before_running_anything(tmp_path):
    scenario = demo_scenario(1, shots.Type("bob", "привет"))
    with pytest.raises(shots.ScenarioError, match="неизвестный терминал"):
        shots.shoot(scenario, checking=True, source=tmp_path)


def test_normalize_masks_time_dates_ports_and_client_addresses():
    lines = [
        "12:00:01 INFO Сервер слушает 127.0.0.1:40123  ",
        "^C12:00:05,123 2025-11-21 клиент 127.0.0.1:54321 ('10.0.0.7', 60001)",
        "Date: Fri, 21 Nov 2025 04:52:00 GMT; "
        "ответ за 12.5 ms, порт 40123, число 401234",
        "",
        "",
    ]
    assert shots.normalize_lines(lines, (40123,)) == (
        "HH:MM:SS INFO Сервер слушает 127.0.0.1:<PORT>\n"
        "^CHH:MM:SS YYYY-MM-DD клиент 127.0.0.1:<EPHEMERAL> ('10.0.0.7', <EPHEMERAL>)\n"
        "Date: <HTTP-DATE>; ответ за <N> мс, порт <PORT>, число 401234\n"
    )


def test_browser_step_saves_the_page_html_and_in_check_mode_skips_chromium(tmp_path):
    default_port = free_port()
    source = make_source(tmp_path, default_port, server=DEMO_HTTP_SERVER)
    scenario = shots.Scenario(
        task="task9",
        name="page",
        summary="страница",
        default_port=default_port,
        terminals=(shots.Terminal("server"),),
        steps=(
            shots.Run("server", SERVER_COMMAND),
            shots.Expect("server", "слушает"),
            shots.Browse("browser"),
        ),
    )
    result = shots.shoot(scenario, checking=True, source=source)
    assert sorted(result.files) == [
        "page-browser.txt",
        "page-server.svg",
        "page-server.txt",
    ]
    assert "<p>Физика: 5</p>" in result.files["page-browser.txt"].decode()
    # запрос страницы был уже после снимка терминала сервера
    assert "запрос" not in result.files["page-server.txt"].decode()


@pytest.mark.browser
def test_browser_step_takes_a_png_with_chromium(tmp_path):
    if not Path(shots.CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"в CI нужен Chromium ({shots.CHROMIUM}): apt-get install chromium"
            )
        pytest.skip("нет Chromium (apt-get install chromium)")
    default_port = free_port()
    source = make_source(tmp_path, default_port, server=DEMO_HTTP_SERVER)
    scenario = shots.Scenario(
        task="task9",
        name="page",
        summary="страница",
        default_port=default_port,
        terminals=(shots.Terminal("server"),),
        steps=(
            shots.Run("server", SERVER_COMMAND),
            shots.Expect("server", "слушает"),
            shots.Browse("browser", width=400, height=300),
        ),
    )
    written = shots.write_scenario(scenario, images=tmp_path / "img", source=source)
    png = tmp_path / "img" / "task9" / "page-browser.png"
    assert png in written and png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "запрос" not in read(tmp_path / "img", "page-server.txt")


def test_cli_lists_scenarios(capsys):
    assert shots.main(["--list"]) == 0
    out = capsys.readouterr().out
    for scenario in shots.SCENARIOS:
        assert scenario.key in out


@pytest.mark.parametrize("scenario", shots.SCENARIOS, ids=lambda s: s.key)
def test_committed_transcripts_match_what_the_programs_print_now(scenario):
    if not shots.has_transcripts(scenario):
        pytest.fail(
            f"нет стенограмм {scenario.key}: снимите их — "
            f"python tools/screenshots.py --only {scenario.key}"
        )
    diff = shots.check_scenario(scenario)
    assert diff == "", (
        f"программы печатают не то, что на скриншотах; переснимите: "
        f"python tools/screenshots.py --only {scenario.key}\n{diff}"
    )
