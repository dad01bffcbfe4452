"""Страж фрагментов tools/snippets.py ловит каждый способ показать на сайте не тот код.

Каждый тест строит в tmp_path маленький репозиторий: docs/page.md и файлы
laboratory_work_1/task9/ (mod.py с функциями, многострочным вызовом, строками
документации и декорированной функцией с многострочной сигнатурой, плюс
index.html) — и запускает страж через его API или как настоящую команду.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, program_env

TOOL = ROOT / "tools" / "snippets.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("snippets_guard", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses ищут модуль по имени
    spec.loader.exec_module(module)
    return module


snippets = _load_tool()

MOD = "laboratory_work_1/task9/mod.py"
HTML = "laboratory_work_1/task9/index.html"

# Номера строк важны: тесты ссылаются на них (см. комментарии справа).
MOD_LINES = [
    '"""Модуль для проверки стража.',  # 1  строка документации модуля 1–4
    "",
    "Вторая строка документации.",
    '"""',
    "",  # 5
    "import sys",
    "",
    "LIMIT = 10",  # 8
    "",
    "",
    "def greet(name):",  # 11
    '    """Приветствие."""',
    '    message = "Привет, " + name',
    "    return message",  # 14
    "",
    "",
    "@decorator_one",  # 17 заголовок decorated: 17–24
    "@decorator_two(",
    '    "аргумент",',
    ")",
    "def decorated(",  # 21
    "    first,",
    "    second,",
    "):",  # 24
    "    total = first + second",  # 25
    "    print(",  # 26 вызов 26–29
    '        "сумма",',
    "        total,",
    "    )",
    "    return total",  # 30
    "",
    "",
    "def main():",  # 33
    '    """Точка входа.',  # 34 строка документации 34–37
    "",
    "    Подробности.",
    '    """',
    '    greet("мир")',
    "    return 0",  # 39
]
MOD_TEXT = "\n".join(MOD_LINES) + "\n"
MOD_RANGES = [(1, 8), (11, 14), (17, 30), (33, 39)]

HTML_TEXT = """<!doctype html>
<html lang="ru">
<head><meta charset="utf-8"><title>Проверка</title></head>
<body><p>Привет</p></body>
</html>
"""


def block(
    spec: str,
    linenums: str | None = "auto",
    indent: str = "    ",
    lang: str = "python",
    extra: str = "",
) -> str:
    """Блок кода с одной директивой; linenums="auto" — начало диапазона из spec."""
    if linenums == "auto":
        parts = spec.split(":")
        linenums = parts[1] if len(parts) == 3 else "1"
    attrs = f' linenums="{linenums}"' if linenums is not None else ""
    return f'{indent}```{lang}{attrs}{extra}\n{indent}--8<-- "{spec}"\n{indent}```\n'


def page(*blocks: str) -> str:
    """Страница с вкладкой «Модуль»: каждый блок отделён абзацем текста."""
    body = "\n    Пояснение к коду выше.\n\n".join(blocks)
    return f'# Страница\n\nВведение.\n\n=== "Модуль"\n\n{body}\n    Конец.\n'


def mod_blocks(ranges=MOD_RANGES, shift: int = 0) -> list[str]:
    """Блоки mod.py по диапазонам, сдвинутым на shift строк."""
    return [block(f"{MOD}:{a + shift}:{b + shift}") for a, b in ranges]


GOOD_PAGE = page(
    *mod_blocks(), block(f"{HTML}:1:5", lang="html", extra=' title="index.html"')
)


def make_tree(root: Path, page_text: str = GOOD_PAGE, mod_text: str = MOD_TEXT) -> Path:
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "page.md").write_text(page_text, encoding="utf-8", newline="")
    lab = root / "laboratory_work_1" / "task9"
    lab.mkdir(parents=True, exist_ok=True)
    (lab / "mod.py").write_text(mod_text, encoding="utf-8")
    (lab / "index.html").write_text(HTML_TEXT, encoding="utf-8")
    return root


def locked_tree(root: Path, page_text: str = GOOD_PAGE) -> Path:
    """Дерево, которое проходит проверку и уже записано в замок."""
    make_tree(root, page_text)
    result = snippets.lock(root)
    assert result.problems == [], [str(p) for p in result.problems]
    return root


def set_page(root: Path, page_text: str) -> None:
    (root / "docs" / "page.md").write_text(page_text, encoding="utf-8", newline="")


def page_line(root: Path, needle: str) -> int:
    """Номер строки страницы (с 1), где впервые встречается needle."""
    lines = (root / "docs" / "page.md").read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def structural(root: Path) -> list:
    """Проблемы пунктов 1–4 (без замка)."""
    return [p for p in snippets.check(root) if p.structural]


def run_tool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOOL), *args],
        cwd=cwd or Path("/"),
        env=program_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
    )


# ---------------------------------------------------------------- исправная страница


def test_good_page_is_unreviewed_until_lock_then_passes(tmp_path):
    make_tree(tmp_path)
    problems = snippets.check(tmp_path)
    # структурно всё в порядке: не хватает только проверки человеком
    assert {p.kind for p in problems} == {snippets.UNREVIEWED}
    assert len(problems) == 5
    assert (
        "не проверен: запустите `python tools/snippets.py lock`" in problems[0].message
    )

    result = snippets.lock(tmp_path)
    assert (result.problems, result.added, result.updated, result.removed) == (
        [],
        5,
        0,
        0,
    )
    assert snippets.check(tmp_path) == []

    done = run_tool("check", "--root", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "snippets: 5 фрагментов на 1 странице в порядке\n"


def test_lock_file_format_is_stable_json_one_entry_per_line(tmp_path):
    locked_tree(tmp_path)
    text = (tmp_path / "docs" / "snippets.lock").read_text(encoding="utf-8")
    assert text.endswith("]\n}\n")
    data = json.loads(text)
    assert data["version"] == 1
    first = data["snippets"][0]
    assert list(first) == ["page", "file", "ordinal", "start", "end", "sha256"]
    expected = hashlib.sha256(
        "\n".join(HTML_TEXT.split("\n")[0:5]).encode()
    ).hexdigest()
    assert first == {
        "page": "docs/page.md",
        "file": HTML,
        "ordinal": 1,
        "start": 1,
        "end": 5,
        "sha256": expected,
    }
    assert [(e["file"], e["ordinal"]) for e in data["snippets"]][1:] == [
        (MOD, n) for n in (1, 2, 3, 4)
    ]
    # одна запись — одна строка файла
    assert (
        sum(1 for line in text.splitlines() if line.strip().startswith('{"page"')) == 5
    )
    # повторный lock ничего не меняет
    assert (snippets.lock(tmp_path).updated, snippets.lock(tmp_path).added) == (0, 0)
    assert (tmp_path / "docs" / "snippets.lock").read_text(encoding="utf-8") == text


def test_pieces_of_a_function_at_statement_boundaries_are_fine(tmp_path):
    # длинную функцию разбирают по частям: заголовок
    # с первой строкой тела, потом остальное
    ranges = [(1, 8), (11, 14), (17, 25), (26, 29), (30, 30), (33, 39)]
    make_tree(tmp_path, page(*mod_blocks(ranges)))
    assert structural(tmp_path) == []


def test_whole_file_form_and_single_quotes_are_accepted(tmp_path):
    make_tree(
        tmp_path,
        page(
            block(MOD).replace('linenums="1"', "linenums='1'"),
            block(HTML, lang="html"),
        ),
    )
    assert structural(tmp_path) == []


def test_markdown_include_outside_a_fence_only_needs_to_exist(tmp_path):
    make_tree(
        tmp_path,
        page(*mod_blocks()) + '\n--8<-- "docs/part.md"\n\n--8<-- "docs/nothing.md"\n',
    )
    (tmp_path / "docs" / "part.md").write_text(
        "| a | b |\n|---|---|\n", encoding="utf-8"
    )
    problems = structural(tmp_path)
    assert [(p.kind, p.line) for p in problems] == [
        (snippets.MISSING, page_line(tmp_path, "docs/nothing.md"))
    ]


# ------------------------------------------------------------- пункт 1: файл и диапазон


@pytest.mark.parametrize(
    "spec, kind, words",
    [
        (
            "laboratory_work_1/task9/nope.py:1:3",
            "missing",
            "файл не найден: laboratory_work_1/task9/nope.py",
        ),
        (f"{MOD}:33:45", "out-of-range", "конец 45 за концом файла: в файле 39 строк"),
        (f"{MOD}:39:33", "reversed", "диапазон перевёрнут: начало 39 больше конца 33"),
        (f"{MOD}:0:8", "zero-start", "начало 0: строки нумеруются с 1"),
        (
            f"{MOD}:15:16",
            "blank-range",
            "диапазон 15:16 пустой: в нём только пустые строки",
        ),
    ],
)
def test_bad_ranges_are_reported_at_the_directive(tmp_path, spec, kind, words):
    make_tree(tmp_path, page(block(f"{MOD}:1:14"), block(spec), block(f"{MOD}:17:39")))
    problems = structural(tmp_path)
    line = page_line(tmp_path, f'"{spec}"')
    assert [str(p) for p in problems] == [
        f'docs/page.md:{line}: {words} [--8<-- "{spec}"]'
    ]
    assert problems[0].kind == kind


@pytest.mark.parametrize(
    "spec", [f"{MOD}:12", f"{MOD}:main", f"{MOD}:1:5,8:9", f";{MOD}:1:5"]
)
def test_other_forms_ask_for_path_start_end(tmp_path, spec):
    make_tree(tmp_path, page(block(spec, linenums="1")))
    problems = structural(tmp_path)
    assert [p.kind for p in problems] == [snippets.BAD_FORM]
    assert 'нужна форма "путь:НАЧАЛО:КОНЕЦ"' in problems[0].message


def test_block_form_and_broken_directive_lines_are_reported(tmp_path):
    text = (
        page(*mod_blocks())
        + f"\n--8<--\n{MOD}\n--8<--\n\n"
        + f'```python linenums="1"\n--8<-- "{MOD}:1:8" \n```\n'
    )
    make_tree(tmp_path, text)
    problems = structural(tmp_path)
    messages = [p.message for p in problems]
    assert sum("блочная форма" in m for m in messages) == 2
    assert any("pymdownx её не распознает" in m for m in messages)


# ----------------------------------------------------------- пункт 2: операторы целиком


def cut_messages(tmp_path, ranges) -> list[str]:
    make_tree(tmp_path, page(*mod_blocks(ranges)))
    return [p.message for p in structural(tmp_path) if p.kind == snippets.CUT]


def test_start_inside_a_multiline_call_is_a_cut(tmp_path):
    messages = cut_messages(tmp_path, [(1, 8), (11, 14), (17, 26), (27, 30), (33, 39)])
    assert messages == [
        "конец 26 режет оператор в строках 26–29 (вызов «print(»)",
        "начало 27 режет оператор в строках 26–29 (вызов «print(»)",
    ]


def test_end_inside_a_docstring_is_a_cut(tmp_path):
    messages = cut_messages(tmp_path, [(1, 8), (11, 14), (17, 30), (33, 35), (36, 39)])
    assert messages[0] == (
        "конец 35 режет оператор в строках 34–37 "
        '(строка документации «"""Точка входа.»)'
    )
    assert messages[1].startswith("начало 36 режет оператор в строках 34–37")
    # и строка документации модуля — тоже атом
    assert cut_messages(tmp_path, [(1, 2), (3, 8), (11, 39)])[0].startswith(
        "конец 2 режет оператор в строках 1–4 (строка документации"
    )


def test_cutting_a_decorated_def_header_is_a_cut(tmp_path):
    # между декоратором и def
    messages = cut_messages(tmp_path, [(1, 8), (11, 17), (18, 39)])
    assert messages == [
        "конец 17 режет оператор в строках 17–24 "
        "(заголовок def decorated «@decorator_one»)",
        "начало 18 режет оператор в строках 17–24 "
        "(заголовок def decorated «@decorator_one»)",
    ]
    # и посреди многострочной сигнатуры
    assert cut_messages(tmp_path, [(1, 8), (11, 22), (23, 39)])[0].startswith(
        "конец 22 режет оператор в строках 17–24 (заголовок def decorated"
    )
    # а с def (без декораторов) начинать нельзя: декораторы — часть заголовка
    assert cut_messages(tmp_path, [(1, 14), (21, 39)])[0].startswith(
        "начало 21 режет оператор в строках 17–24"
    )


def test_multiline_conditions_and_one_line_bodies_are_atoms(tmp_path):
    code = (
        "\n".join(
            [
                "def check(a, b):",  # 1
                "    if (a and",  # 2 заголовок if 2–3
                "            b):",
                "        # комментарий",  # 4
                "        return 1",  # 5
                "    while a: a = (",  # 6 заголовок while с телом на той же строке 6–7
                "        0)",
                "    return 0",  # 8
            ]
        )
        + "\n"
    )
    make_tree(
        tmp_path,
        page(block(f"{MOD}:1:2"), block(f"{MOD}:3:6"), block(f"{MOD}:7:8")),
        mod_text=code,
    )
    messages = [p.message for p in structural(tmp_path) if p.kind == snippets.CUT]
    assert messages == [
        "конец 2 режет оператор в строках 2–3 (заголовок if «if (a and»)",
        "начало 3 режет оператор в строках 2–3 (заголовок if «if (a and»)",
        "конец 6 режет оператор в строках 6–7 (заголовок while «while a: a = (»)",
        "начало 7 режет оператор в строках 6–7 (заголовок while «while a: a = (»)",
    ]
    # а комментарий после двоеточия — уже не заголовок: граница по нему законна
    make_tree(tmp_path, page(block(f"{MOD}:1:3"), block(f"{MOD}:4:8")), mod_text=code)
    assert structural(tmp_path) == []


def test_file_that_does_not_parse_is_reported(tmp_path):
    make_tree(tmp_path, page(block(f"{MOD}:1:2")), mod_text="def broken(:\n    pass\n")
    problems = structural(tmp_path)
    assert [p.kind for p in problems] == [snippets.SYNTAX]
    assert problems[0].message.startswith("файл не разбирается Python (строка 1)")


# -------------------------------------------------------- пункт 3: блок кода и linenums


def test_wrong_and_missing_linenums(tmp_path):
    blocks = mod_blocks()
    blocks[1] = block(f"{MOD}:11:14", linenums="10")
    blocks[2] = block(f"{MOD}:17:30", linenums=None)
    make_tree(tmp_path, page(*blocks))
    problems = structural(tmp_path)
    assert [str(p) for p in problems] == [
        f'docs/page.md:{page_line(tmp_path, ":11:14")}: linenums="10" '
        f'не совпадает с началом диапазона: нужно linenums="11" [--8<-- "{MOD}:11:14"]',
        f"docs/page.md:{page_line(tmp_path, ':17:30')}: у блока кода нет linenums: "
        f'нужно linenums="17" [--8<-- "{MOD}:17:30"]',
    ]
    assert [p.kind for p in problems] == [snippets.WRONG_LINENUMS, snippets.NO_LINENUMS]


def test_one_directive_per_fence_and_nothing_else_inside(tmp_path):
    two = block(f"{MOD}:1:8").replace(
        "    ```\n", f'    --8<-- "{MOD}:11:14"\n    ```\n', 1
    )
    make_tree(tmp_path, page(two, *mod_blocks()[2:]))
    problems = structural(tmp_path)
    second = page_line(tmp_path, ":11:14")
    assert [(p.kind, p.line) for p in problems] == [(snippets.TWO_IN_FENCE, second)]

    extra = block(f"{MOD}:1:8").replace("    ```\n", "    # лишняя строка\n    ```\n")
    make_tree(tmp_path, page(extra, *mod_blocks()[1:]))
    assert [p.kind for p in structural(tmp_path)] == [snippets.EXTRA_LINES]


def test_lab_code_outside_a_fence_and_misindented_directive(tmp_path):
    make_tree(tmp_path, page(*mod_blocks()[:3]) + f'\n--8<-- "{MOD}:33:39"\n')
    assert [p.kind for p in structural(tmp_path)] == [snippets.NO_FENCE]
    shifted = block(f"{MOD}:33:39").replace("    --8<--", "        --8<--")
    make_tree(tmp_path, page(*mod_blocks()[:3], shifted))
    assert [p.kind for p in structural(tmp_path)] == [snippets.INDENT]


@pytest.mark.parametrize(
    "ranges, spec, words",
    [
        (
            [(1, 4), (5, 8), (11, 14), (17, 30), (33, 39)],
            f"{MOD}:5:8",
            "диапазон 5:8 начинается с пустой строки 5: Markdown отбрасывает пустую "
            "первую строку блока — номера строк на сайте сдвинутся на одну",
        ),
        (
            [(1, 10), (11, 14), (17, 30), (33, 39)],
            f"{MOD}:1:10",
            "диапазон 1:10 кончается пустой строкой 10: Markdown отбрасывает пустую "
            "последнюю строку блока — на сайте её не будет",
        ),
    ],
)
def test_range_may_not_start_or_end_on_a_blank_line(tmp_path, ranges, spec, words):
    make_tree(tmp_path, page(*mod_blocks(ranges)))
    problems = structural(tmp_path)
    assert [str(p) for p in problems] == [
        f'docs/page.md:{page_line(tmp_path, spec)}: {words} [--8<-- "{spec}"]'
    ]
    assert problems[0].kind == snippets.BLANK_EDGE
    # это ошибка структуры: замок не пишется
    assert [p.kind for p in snippets.lock(tmp_path).problems] == [snippets.BLANK_EDGE]


def test_blank_edges_of_a_markdown_include_do_not_matter(tmp_path):
    # кусок Markdown вне блока кода: пустая строка по краям номеров не сдвигает
    make_tree(tmp_path, page(*mod_blocks()) + '\n--8<-- "docs/part.md"\n')
    (tmp_path / "docs" / "part.md").write_text(
        "\n| a | b |\n|---|---|\n\n", encoding="utf-8"
    )
    assert structural(tmp_path) == []


# ---------------------------------------------------------------- пункт 4: покрытие


def test_gap_in_the_middle_and_at_the_end(tmp_path):
    make_tree(tmp_path, page(*mod_blocks([(1, 8), (17, 30), (33, 38)])))
    problems = structural(tmp_path)
    assert [str(p) for p in problems] == [
        f"docs/page.md:{page_line(tmp_path, ':17:30')}: "
        f"строки 11–14 файла {MOD} не показаны на странице "
        f'(первая: «def greet(name):») [--8<-- "{MOD}:17:30"]',
        f"docs/page.md:{page_line(tmp_path, ':33:38')}: "
        f"строка 39 файла {MOD} не показана на странице "
        f'(«return 0») [--8<-- "{MOD}:33:38"]',
    ]
    assert {p.kind for p in problems} == {snippets.GAP}


def test_overlap_and_out_of_order(tmp_path):
    make_tree(tmp_path, page(*mod_blocks([(1, 14), (11, 30), (33, 39)])))
    problems = structural(tmp_path)
    assert [(p.kind, p.line, p.message) for p in problems] == [
        (
            snippets.OVERLAP,
            page_line(tmp_path, ":11:30"),
            "диапазон 11:30 перекрывается с предыдущим 1:14",
        )
    ]

    make_tree(tmp_path, page(*mod_blocks([(1, 8), (17, 30), (11, 14), (33, 39)])))
    problems = structural(tmp_path)
    assert [(p.kind, p.line, p.message) for p in problems] == [
        (
            snippets.OUT_OF_ORDER,
            page_line(tmp_path, ":11:14"),
            "диапазон 11:14 стоит после 17:30: код показывается сверху вниз",
        )
    ]


def test_coverage_is_per_page_and_per_file(tmp_path):
    # вторая страница показывает только кусок
    # файла — ей это тоже засчитывается как пропуск
    make_tree(tmp_path)
    (tmp_path / "docs" / "other.md").write_text(
        page(block(f"{MOD}:11:14")), encoding="utf-8"
    )
    problems = structural(tmp_path)
    assert {(p.path, p.kind) for p in problems} == {("docs/other.md", snippets.GAP)}
    assert [p.message for p in problems] == [
        f"строки 1–8 файла {MOD} не показаны на странице "
        '(первая: «"""Модуль для проверки стража.»)',
        f"строки 17–39 файла {MOD} не показаны на странице (первая: «@decorator_one»)",
    ]


# ------------------------------------------------ пункт 4: страница-шаг (builds-on)

BASE = "laboratory_work_1/task9/base"
BASE_MOD = f"{BASE}/mod.py"
MARKER = f"<!-- snippets: builds-on {BASE} -->"


def base_text(*changes: tuple[int, str | None], cut_after: int | None = None) -> str:
    """mod.py предыдущего шага: строки MOD_LINES с заменами (номер, текст) и без
    строк после cut_after."""
    lines = list(MOD_LINES[:cut_after] if cut_after else MOD_LINES)
    for number, text in changes:
        lines[number - 1] = text
    return "\n".join(lines) + "\n"


# На предыдущем шаге приветствие было другим (строка 13), а main не было (31–39).
STEP_BASE = base_text((13, '    message = "Здравствуй, " + name'), cut_after=30)


def step_tree(root: Path, ranges, base: str = STEP_BASE, marker: str = MARKER) -> Path:
    """Страница-шаг: пометка builds-on и блоки mod.py по диапазонам."""
    make_tree(root, marker + "\n\n" + page(*mod_blocks(ranges)))
    (root / BASE).mkdir(parents=True, exist_ok=True)
    (root / BASE_MOD).write_text(base, encoding="utf-8")
    return root


def test_step_page_shows_only_the_changed_lines(tmp_path):
    # изменились строки 13 и 31–39 (пустые 31–32 показывать не нужно)
    step_tree(tmp_path, [(13, 13), (33, 39)])
    assert structural(tmp_path) == []
    assert snippets.lock(tmp_path).problems == []
    assert snippets.check(tmp_path) == []


@pytest.mark.parametrize(
    "ranges",
    [
        MOD_RANGES,  # весь файл, как на обычной странице
        [(11, 14), (33, 39)],  # изменённая строка вместе с неизменной функцией
        [(13, 14), (30, 39)],  # одинаковые строки по краям диапазонов
    ],
)
def test_step_page_may_show_unchanged_lines_too(tmp_path, ranges):
    step_tree(tmp_path, ranges)
    assert structural(tmp_path) == []


def test_step_page_must_show_every_changed_line(tmp_path):
    step_tree(tmp_path, [(33, 39)])
    problems = structural(tmp_path)
    assert [str(p) for p in problems] == [
        f"docs/page.md:{page_line(tmp_path, ':33:39')}: строка 13 файла {MOD} "
        f"изменилась по сравнению с {BASE_MOD}, но не показана на странице "
        f'(«message = "Привет, " + name») [--8<-- "{MOD}:33:39"]'
    ]
    assert problems[0].kind == snippets.GAP

    step_tree(tmp_path, [(11, 14)])
    assert [p.message for p in structural(tmp_path)] == [
        f"строки 33–39 файла {MOD} изменились по сравнению с {BASE_MOD}, "
        "но не показаны на странице (первая: «def main():»)"
    ]

    # пропуск, в котором изменённые строки перемежаются одинаковыми
    base = base_text((12, '    """Здравствуй."""'), (14, "    return message + '!'"))
    step_tree(tmp_path, [(17, 30)], base=base)
    assert [p.message for p in structural(tmp_path)] == [
        f"строки 12, 14 файла {MOD} изменились по сравнению с {BASE_MOD}, "
        'но не показаны на странице (первая: «"""Приветствие."""»)'
    ]


def test_long_list_of_hidden_lines_is_cut_short():
    lines = ["x"] * 40
    lines[4] = lines[5] = ""  # строки 5 и 6 пустые
    assert snippets.number_list([3, 4, 7, 9], lines) == "3–7, 9"
    assert snippets.number_list(list(range(1, 40, 2)), lines) == (
        "1, 3, 5–7, 9, 11, 13, 15, 17, …"
    )


def test_step_page_still_shows_whole_statements(tmp_path):
    # на предыдущем шаге у декоратора был другой аргумент: изменилась строка 19,
    # она внутри заголовка decorated (17–24) — показать её можно только с ним
    base = base_text((19, '    "другой аргумент",'))
    step_tree(tmp_path, [(19, 19)], base=base)
    assert [p.message for p in structural(tmp_path)] == [
        "начало 19 режет оператор в строках 17–24 "
        "(заголовок def decorated «@decorator_one»)",
        "конец 19 режет оператор в строках 17–24 "
        "(заголовок def decorated «@decorator_one»)",
    ]
    step_tree(tmp_path, [(17, 24)], base=base)
    assert structural(tmp_path) == []


def test_file_without_a_pair_on_the_previous_step_is_covered_whole(tmp_path):
    # index.html есть на этом шаге, но не на предыдущем: нужен целиком
    make_tree(
        tmp_path,
        MARKER
        + "\n\n"
        + page(block(f"{MOD}:13:13"), block(f"{MOD}:33:39"), block(f"{HTML}:1:3")),
    )
    (tmp_path / BASE).mkdir()
    (tmp_path / BASE_MOD).write_text(STEP_BASE, encoding="utf-8")
    problems = structural(tmp_path)
    assert [p.message for p in problems] == [
        f"строки 4–5 файла {HTML} не показаны на странице "
        "(первая: «<body><p>Привет</p></body>»)"
    ]


def test_marker_folder_must_exist(tmp_path):
    # страница показывает кусок файла, но о пропусках не говорим: база неизвестна
    marker = "<!-- snippets: builds-on laboratory_work_1/task9/nope -->"
    step_tree(tmp_path, [(33, 39)], marker=marker)
    problems = structural(tmp_path)
    assert [str(p) for p in problems] == [
        "docs/page.md:1: папка из пометки builds-on не найдена: "
        f"laboratory_work_1/task9/nope [{marker}]"
    ]
    assert problems[0].kind == snippets.BAD_MARKER
    assert snippets.lock(tmp_path).problems == problems

    # файл вместо папки — тоже ошибка
    step_tree(tmp_path, [(33, 39)], marker=f"<!-- snippets: builds-on {BASE_MOD} -->")
    assert [p.kind for p in structural(tmp_path)] == [snippets.BAD_MARKER]


def test_one_marker_per_page_in_the_exact_form(tmp_path):
    second = "<!-- snippets: builds-on laboratory_work_1 -->"
    step_tree(tmp_path, [(13, 13), (33, 39)], marker=f"{MARKER}\n\n{second}")
    problems = structural(tmp_path)
    assert [str(p) for p in problems] == [
        "docs/page.md:3: вторая пометка builds-on на странице (первая — в строке 1): "
        f"страница строится ровно на одном предыдущем шаге [{second}]"
    ]
    assert problems[0].kind == snippets.TWO_MARKERS

    typo = f"<!-- snippets: build-on {BASE} -->"
    step_tree(tmp_path, [(13, 13), (33, 39)], marker=typo)
    problems = structural(tmp_path)
    assert [(p.kind, p.line, p.message) for p in problems] == [
        (
            snippets.BAD_MARKER,
            1,
            "пометка не разобрана: нужна форма "
            "«<!-- snippets: builds-on папка/от/корня -->»",
        )
    ]

    # пометка в блоке кода — пример текста, а не пометка
    example = f"```markdown\n{MARKER}\n```"
    step_tree(tmp_path, [(13, 13), (33, 39)], marker=example)
    assert [p.kind for p in structural(tmp_path)] == [snippets.GAP, snippets.GAP]


# ---------------------------------------------------------------- пункт 5: замок


def test_changed_text_after_lock(tmp_path):
    locked_tree(tmp_path)
    path = tmp_path / MOD
    path.write_text(MOD_TEXT.replace("Привет, ", "Здравствуй, "), encoding="utf-8")
    problems = snippets.check(tmp_path)
    line = page_line(tmp_path, ":11:14")
    assert [str(p) for p in problems] == [
        f"docs/page.md:{line}: текст изменился с последней проверки: "
        "перечитайте текст вокруг, поправьте страницу и запустите "
        f'`python tools/snippets.py lock` [--8<-- "{MOD}:11:14"]'
    ]
    assert problems[0].kind == snippets.CHANGED
    # после lock (автор перечитал текст) всё снова в порядке
    assert snippets.lock(tmp_path).updated == 1
    assert snippets.check(tmp_path) == []


def test_edited_range_on_page_needs_lock_and_new_directive_is_unreviewed(tmp_path):
    locked_tree(tmp_path)
    set_page(
        tmp_path, page(*mod_blocks([(1, 8), (11, 14), (17, 25), (26, 30), (33, 39)]))
    )
    problems = snippets.check(tmp_path)
    assert [(p.kind, p.line) for p in problems] == [
        (snippets.CHANGED, page_line(tmp_path, ":17:25")),
        (snippets.CHANGED, page_line(tmp_path, ":26:30")),
        (snippets.UNREVIEWED, page_line(tmp_path, ":33:39")),
        # запись про №1 index.html больше ни к чему не относится
        (snippets.STALE, problems[-1].line),
    ]
    assert "(в замке диапазон 17:30)" in problems[0].message
    # fix не трогает диапазоны, которые правил человек
    fixes, _ = snippets.fix(tmp_path)
    assert fixes == []


def test_stale_lock_entry_is_reported_at_its_lock_line(tmp_path):
    locked_tree(tmp_path)
    set_page(tmp_path, page(*mod_blocks()))  # убрали блок index.html
    problems = snippets.check(tmp_path)
    lock_lines = (
        (tmp_path / "docs" / "snippets.lock").read_text(encoding="utf-8").split("\n")
    )
    line = next(i for i, text in enumerate(lock_lines, 1) if HTML in text)
    assert [str(p) for p in problems] == [
        f"docs/snippets.lock:{line}: запись не соответствует ни одному фрагменту "
        f"(docs/page.md, {HTML} №1, строки 1–5): "
        "запустите `python tools/snippets.py lock`"
    ]
    assert snippets.lock(tmp_path).removed == 1
    assert snippets.check(tmp_path) == []


def test_lock_refuses_while_pages_are_broken(tmp_path):
    make_tree(tmp_path, page(*mod_blocks([(1, 8), (17, 30), (33, 39)])))
    done = run_tool("lock", "--root", str(tmp_path))
    assert done.returncode == 1
    assert "строки 11–14 файла" in done.stdout
    assert "замок не записан" in done.stderr
    assert not (tmp_path / "docs" / "snippets.lock").exists()


# ------------------------------------------------------------ fix: код только сдвинулся


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_fix_after_a_line_inserted_at_the_top(tmp_path, newline):
    locked_tree(tmp_path, GOOD_PAGE.replace("\n", newline))
    (tmp_path / MOD).write_text("\n" + MOD_TEXT, encoding="utf-8")

    done = run_tool("check", "--root", str(tmp_path))
    assert done.returncode == 1
    first = page_line(tmp_path, ":1:8")
    assert (
        f"docs/page.md:{first}: код сдвинулся: строки 2–9; "
        f'запустите `python tools/snippets.py fix` [--8<-- "{MOD}:1:8"]'
    ) in done.stdout.splitlines()
    assert all(
        line.startswith(("docs/page.md:", "docs/snippets.lock:"))
        for line in done.stdout.splitlines()
    )

    done = run_tool("fix", "--root", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[:4] == [
        f"docs/page.md:{page_line(tmp_path, f':{a + 1}:{b + 1}')}: "
        f"диапазон {a}:{b} → {a + 1}:{b + 1}"
        for a, b in MOD_RANGES
    ]
    assert (
        done.stdout.splitlines()[-1] == "snippets: 5 фрагментов на 1 странице в порядке"
    )
    # страница изменилась ровно в числах диапазонов и linenums, остальное байт в байт
    expected = page(
        *mod_blocks(shift=1),
        block(f"{HTML}:1:5", lang="html", extra=' title="index.html"'),
    )
    assert (tmp_path / "docs" / "page.md").read_bytes() == expected.replace(
        "\n", newline
    ).encode()
    assert snippets.check(tmp_path) == []


def test_fix_repairs_later_ranges_and_still_reports_the_edited_one(tmp_path):
    locked_tree(tmp_path)
    # новая строка внутри greet (диапазон 11:14):
    # его текст изменился, дальше всё сдвинулось
    (tmp_path / MOD).write_text(
        MOD_TEXT.replace(
            "    return message\n", '    message += "!"\n    return message\n'
        ),
        encoding="utf-8",
    )
    fixes, problems = snippets.fix(tmp_path)
    assert [(f.old, f.new) for f in fixes] == [
        ((17, 30), (18, 31)),
        ((33, 39), (34, 40)),
    ]
    greet_line = page_line(tmp_path, ":11:14")
    assert [(p.kind, p.line) for p in problems] == [
        (snippets.CHANGED, greet_line),
        # строка 15 новой greet не показана
        (snippets.GAP, page_line(tmp_path, ":18:31")),
    ]
    assert 'linenums="18"' in (tmp_path / "docs" / "page.md").read_text(
        encoding="utf-8"
    )
    done = run_tool("fix", "--root", str(tmp_path))
    assert done.returncode == 1
    assert "сдвинувшихся диапазонов нет" in done.stdout
    # человек поправил страницу и перечитал текст — тогда lock и всё чисто
    set_page(
        tmp_path,
        page(
            *mod_blocks([(1, 8), (11, 15), (18, 31), (34, 40)]),
            block(f"{HTML}:1:5", lang="html", extra=' title="index.html"'),
        ),
    )
    assert snippets.lock(tmp_path).problems == []
    assert snippets.check(tmp_path) == []


def test_fix_after_lines_removed_past_the_end(tmp_path):
    locked_tree(tmp_path)
    (tmp_path / MOD).write_text(
        MOD_TEXT.replace("import sys\n\n", ""), encoding="utf-8"
    )
    kinds = {p.kind for p in snippets.check(tmp_path)}
    assert snippets.OUT_OF_RANGE in kinds and snippets.MOVED in kinds
    fixes, problems = snippets.fix(tmp_path)
    assert [(f.old, f.new) for f in fixes] == [
        ((11, 14), (9, 12)),
        ((17, 30), (15, 28)),
        ((33, 39), (31, 37)),
    ]
    # первый диапазон (1:8) потерял import — это меняет текст, и его должен
    # перечитать человек; к тому же теперь он кончается пустой строкой 8
    assert [p.kind for p in problems] == [snippets.BLANK_EDGE, snippets.CHANGED]


def test_fix_takes_the_nearest_place_and_refuses_a_tie(tmp_path):
    # файл не из laboratory_work_1/: покрытие его не касается, остальные правила те же
    demo = tmp_path / "extra" / "demo.py"
    demo.parent.mkdir()
    text = "a = 1\nb = 2\n"
    demo.write_text(text, encoding="utf-8")
    make_tree(tmp_path, page(block("extra/demo.py:1:2")))
    assert snippets.lock(tmp_path).problems == []
    demo.write_text("c = 0\n" + text + text, encoding="utf-8")  # 2–3 ближе к 1, чем 4–5
    fixes, problems = snippets.fix(tmp_path)
    assert ([(f.old, f.new) for f in fixes], problems) == ([((1, 2), (2, 3))], [])

    demo.write_text("x = 0\n\n" + text, encoding="utf-8")
    make_tree(tmp_path, page(block("extra/demo.py:3:4")))
    assert snippets.lock(tmp_path).problems == []
    # 2–3 и 4–5: оба в 1 строке от 3
    demo.write_text("x = 0\n" + text + text, encoding="utf-8")
    fixes, problems = snippets.fix(tmp_path)
    assert fixes == []
    assert [str(p) for p in problems] == [
        f"docs/page.md:{page_line(tmp_path, 'demo.py')}: "
        "код сдвинулся, но найден в нескольких местах (строки 2–3, 4–5): "
        "поправьте диапазон вручную и запустите `python tools/snippets.py lock` "
        '[--8<-- "extra/demo.py:3:4"]'
    ]


def test_fix_never_moves_a_range_onto_a_blank_edge(tmp_path):
    # замок записан до правила о пустых краях: диапазон 5:8 начинается пустой строкой
    ranges = [(1, 4), (5, 8), (11, 14), (17, 30), (33, 39)]
    make_tree(tmp_path, page(*mod_blocks(ranges)))
    entries = [
        {
            "page": "docs/page.md",
            "file": MOD,
            "ordinal": ordinal,
            "start": a,
            "end": b,
            "sha256": hashlib.sha256(
                "\n".join(MOD_LINES[a - 1 : b]).encode()
            ).hexdigest(),
        }
        for ordinal, (a, b) in enumerate(ranges, 1)
    ]
    (tmp_path / "docs" / "snippets.lock").write_text(
        snippets.render_lock(entries), encoding="utf-8"
    )
    (tmp_path / MOD).write_text("\n" + MOD_TEXT, encoding="utf-8")
    fixes, problems = snippets.fix(tmp_path)
    # 5:8 переехал бы на 6:9 — с пустой первой строкой; его оставляем человеку
    assert [(f.old, f.new) for f in fixes] == [
        ((1, 4), (2, 5)),
        ((11, 14), (12, 15)),
        ((17, 30), (18, 31)),
        ((33, 39), (34, 40)),
    ]
    line = page_line(tmp_path, ":5:8")
    # 5:8 теперь кончается пустой строкой 8 (и режет строку документации)
    assert (snippets.BLANK_EDGE, line) in [(p.kind, p.line) for p in problems]
    moved = [p for p in problems if p.kind == snippets.MOVED]
    assert [p.line for p in moved] == [line]
    assert moved[0].message == (
        "код сдвинулся: строки 6–9, но такой диапазон начинается или кончается "
        "пустой строкой: выберите диапазон без пустых строк по краям и запустите "
        "`python tools/snippets.py lock`"
    )
    assert all(
        not snippets.blank_edges(
            (tmp_path / MOD).read_text(encoding="utf-8").split("\n"), *f.new
        )
        for f in fixes
    )


# ---------------------------------------------------------------- настоящий репозиторий


def test_real_repository_docs_pass():
    done = run_tool("check", "--root", str(ROOT))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("snippets: ") and done.stdout.rstrip().endswith(
        "в порядке"
    )


def test_default_root_works_from_any_directory(tmp_path):
    done = run_tool("check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
