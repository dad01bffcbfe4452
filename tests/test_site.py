"""Сайт собирается строго, без предупреждений, и показывает то, что обещает.

Главная проверка — `test_code_on_the_site_is_the_code_in_the_files`: каждый блок
кода собранного сайта, вставленный из файла, сверяется с самим файлом строка в
строку вместе с номерами строк. Список страниц берётся у MkDocs (его же
список файлов сайта), так что новые страницы проверяются сами.
"""

from __future__ import annotations

import html
import importlib.util
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import markdown
import pytest
from mkdocs.config import load_config
from mkdocs.structure.files import get_files
from mkdocs.utils import CountHandler
from support import ROOT

# Страницы, которые есть всегда (остальные MkDocs находит сам).
CORE_PAGES = ["index.html", "lab1/index.html"] + [
    f"lab1/task{n}/index.html" for n in range(1, 6)
]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses ищут модуль по имени
    spec.loader.exec_module(module)
    return module


snippets = _load("site_test_snippets", ROOT / "tools" / "snippets.py")
site_hooks = _load("site_test_hooks", ROOT / "tools" / "site_hooks.py")


@pytest.fixture(scope="module")
def mkdocs_config():
    return load_config(str(ROOT / "mkdocs.yml"))


@pytest.fixture(scope="module")
def pages(mkdocs_config) -> dict[str, str]:
    """Страницы сайта: собранный файл (lab1/task1/index.html) → его Markdown
    (docs/lab1/task1.md) — ровно те, что собирает MkDocs (exclude_docs учтён)."""
    docs = Path(mkdocs_config["docs_dir"]).relative_to(ROOT).as_posix()
    return {
        page.dest_uri: f"{docs}/{page.src_uri}"
        for page in get_files(mkdocs_config).documentation_pages()
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("site")
    # Вывод MkDocs — в UTF-8 на любой ОС (на Windows иначе cp1252).
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return out, log


def test_strict_build_has_no_warnings(site):
    _, log = site
    assert not re.search(r"^(WARNING|ERROR)\b", log, re.M), log


def test_every_page_is_built(site, pages):
    out, _ = site
    assert set(CORE_PAGES) <= set(pages)
    for page in pages:
        assert (out / page).is_file(), page
    # и наоборот: каждая собранная страница раздела — страница из docs/
    built = {p.relative_to(out).as_posix() for p in (out / "lab1").rglob("index.html")}
    assert built <= set(pages), built - set(pages)


def test_cyrillic_headings_get_readable_anchors(site):
    out, _ = site
    text = (out / "lab1/index.html").read_text(encoding="utf-8")
    assert 'id="как-собрать-сайт-и-запустить-тесты"' in text
    # вкладки тоже получают читаемые якоря (pymdownx.tabbed со slugify)
    assert 'id="задание-4"' in text


def test_no_embedded_code_block_is_empty(site, pages):
    """Двойная страховка к стражу: пустой блок кода на странице — всегда ошибка."""
    out, _ = site
    empty = re.compile(r"<code>\s*</code>")
    for page in pages:
        text = (out / page).read_text(encoding="utf-8")
        assert not empty.search(text), page


def test_screenshots_from_img_are_published(site, pages):
    out, _ = site
    pictures = [p for p in (ROOT / "img").rglob("*") if p.suffix in {".svg", ".png"}]
    for picture in pictures:
        assert (out / picture.relative_to(ROOT)).is_file(), picture
    # и каждая картинка, на которую ссылается страница, существует в собранном сайте
    for page in pages:
        text = (out / page).read_text(encoding="utf-8")
        for src in re.findall(r'<img[^>]+src="([^"]+)"', text):
            if src.startswith(("http:", "https:", "data:")):
                continue
            target = ((out / page).parent / src).resolve()
            assert target.is_file(), f"{page}: {src}"


# ------------------------------------------------- код на сайте = код в файлах

# Блок с номерами строк (pymdownx.highlight, linenums, таблица Pygments):
# слева <td class="linenos"> с номерами-ссылками (anchor_linenums), справа
# <td class="code"> с <code>, где каждая строка — <span id="__span-Б-N"> и \n.
NUMBERED_BLOCK = re.compile(
    r'<td class="linenos">(?P<numbers>.*?)</td><td class="code">(?P<code>.*?)</td>',
    re.S,
)
LINE_NUMBER = re.compile(r'<a href="#__codelineno-[\d-]+">\s*(\d+)</a>')
CODE = re.compile(r"<code>(.*)</code>", re.S)
TAG = re.compile(r"<[^>]+>")


def rendered_blocks(page_html: str) -> list[tuple[list[int], list[str]]]:
    """Блоки кода с номерами строк по порядку: (номера строк, строки текста)."""
    blocks = []
    for match in NUMBERED_BLOCK.finditer(page_html):
        numbers = [int(n) for n in LINE_NUMBER.findall(match["numbers"])]
        code = CODE.search(match["code"])
        text = html.unescape(TAG.sub("", code[1])) if code else ""
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # каждая строка кончается \n, и последняя тоже
        blocks.append((numbers, lines))
    return blocks


def compare_block(
    numbers: list[int], shown: list[str], lines: list[str], start: int, end: int
) -> list[str]:
    """Чем блок на сайте (номера и строки) отличается от строк start..end файла."""
    problems = []
    if numbers != list(range(start, end + 1)):
        got = f"{numbers[0]}–{numbers[-1]}" if numbers else "нет"
        problems.append(
            f"номера строк на сайте {got} ({len(numbers)} шт.), "
            f"а вставлены строки {start}–{end}"
        )
    if len(shown) != len(numbers):
        problems.append(f"строк кода {len(shown)}, а номеров {len(numbers)}")
    for number, text in zip(numbers, shown, strict=False):
        expected = lines[number - 1] if 1 <= number <= len(lines) else None
        if text != expected:
            problems.append(f"строка {number}: на сайте «{text}», в файле «{expected}»")
    return problems


def test_code_on_the_site_is_the_code_in_the_files(site, pages):
    out, _ = site
    checked = 0
    for page, source in sorted(pages.items()):
        numbered = [
            b for b in snippets.code_blocks(ROOT, source) if b.linenums is not None
        ]
        rendered = rendered_blocks((out / page).read_text(encoding="utf-8"))
        # блоки с номерами строк на странице и на сайте идут один к одному
        assert len(rendered) == len(numbered), (
            f"{page}: блоков с номерами строк на сайте {len(rendered)}, "
            f"в {source} — {len(numbered)}"
        )
        for block, (numbers, shown) in zip(numbered, rendered, strict=True):
            if block.path is None:
                continue
            lines = snippets.SourceFile(ROOT, block.path).lines
            problems = compare_block(numbers, shown, lines, block.start, block.end)
            assert not problems, (
                f"{source}:{block.line} ({block.path}:{block.start}:{block.end}): "
                + "; ".join(problems[:5])
            )
            checked += 1
    # сверен каждый фрагмент, который проверяет страж
    guarded = [d for d in snippets.Site(ROOT).directives() if d.lockable]
    assert checked == len(guarded) > 0


def test_comparison_catches_a_range_that_starts_on_a_blank_line(
    tmp_path, mkdocs_config
):
    """Ловушка из задания 1, собранная той же разметкой, что и сайт: Markdown
    отбрасывает пустую первую строку блока, и номера на сайте съезжают на одну."""
    lines = ["", "x = 1", "y = 2"]
    (tmp_path / "mod.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    configs = dict(mkdocs_config["mdx_configs"])
    configs["pymdownx.snippets"] = dict(
        configs["pymdownx.snippets"], base_path=[str(tmp_path)]
    )

    def render(start: int, end: int) -> list[tuple[list[int], list[str]]]:
        text = f'```python linenums="{start}"\n--8<-- "mod.py:{start}:{end}"\n```\n'
        return rendered_blocks(
            markdown.markdown(
                text,
                extensions=mkdocs_config["markdown_extensions"],
                extension_configs=configs,
            )
        )

    [(numbers, shown)] = render(1, 3)
    # пустая строка 1 пропала: «x = 1» стоит под номером 1
    assert (numbers, shown) == ([1, 2], ["x = 1", "y = 2"])
    assert compare_block(numbers, shown, lines, 1, 3) == [
        "номера строк на сайте 1–2 (2 шт.), а вставлены строки 1–3",
        "строка 1: на сайте «x = 1», в файле «»",
        "строка 2: на сайте «y = 2», в файле «x = 1»",
    ]
    [(numbers, shown)] = render(2, 3)
    assert compare_block(numbers, shown, lines, 2, 3) == []


# ------------------------------------------------------- страж внутри MkDocs


def test_mkdocs_runs_the_guard_before_every_build(mkdocs_config):
    hooks = mkdocs_config.plugins.events["pre_build"]
    assert any(h.__name__ == "on_pre_build" for h in hooks)


def test_drifted_range_is_a_warning_that_fails_a_strict_build(tmp_path, caplog):
    # маленький репозиторий: страница показывает mod.py целиком двумя диапазонами
    lab = tmp_path / "laboratory_work_1" / "task9"
    lab.mkdir(parents=True)
    (lab / "mod.py").write_text("a = 1\n\nb = 2\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    spec = "laboratory_work_1/task9/mod.py"
    (tmp_path / "docs" / "page.md").write_text(
        f'```python linenums="1"\n--8<-- "{spec}:1:1"\n```\n\nТекст.\n\n'
        f'```python linenums="3"\n--8<-- "{spec}:3:3"\n```\n',
        encoding="utf-8",
    )
    assert snippets.lock(tmp_path).problems == []
    config = {"config_file_path": str(tmp_path / "mkdocs.yml")}

    # так строгая сборка считает предупреждения (mkdocs.commands.build.build)
    counter = CountHandler()
    counter.setLevel(logging.WARNING)
    logging.getLogger("mkdocs").addHandler(counter)
    try:
        site_hooks.on_pre_build(config=config)
        assert counter.get_counts() == []

        # код сдвинулся на строку, страница — нет
        (lab / "mod.py").write_text("import os\na = 1\n\nb = 2\n", encoding="utf-8")
        with caplog.at_level(logging.WARNING, logger="mkdocs"):
            site_hooks.on_pre_build(config=config)
    finally:
        logging.getLogger("mkdocs").removeHandler(counter)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert counter.get_counts() == [("WARNING", len(warnings))]
    assert {r.name for r in warnings} == {"mkdocs.plugins.snippets"}
    messages = [r.getMessage() for r in warnings]
    assert (
        f"snippets: docs/page.md:2: код сдвинулся: строки 2; "
        f'запустите `python tools/snippets.py fix` [--8<-- "{spec}:1:1"]'
    ) in messages
    assert all(m.startswith("snippets: docs/page.md:") for m in messages)


# Путь по заданию 4 читается за один присест (так требует задача): обзор — не
# длиннее 2500 слов вместе с таблицами, обзор и шаги 1–3 — около 4000 слов текста
# (таблицы-справочники не в счёт). Код и директивы не в счёт: их читают глазами.
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
WORD = re.compile(r"\w+(?:[-']\w+)*")


def words(markdown_text: str, *, tables: bool = True) -> int:
    """Слова страницы вне блоков кода, комментариев HTML и директив --8<--."""
    text = re.sub(r"<!--.*?-->", " ", markdown_text, flags=re.S)
    kept, fence = [], None
    for line in text.splitlines():
        opened = FENCE.match(line)
        if fence:
            fence = None if line.strip().startswith(fence) else fence
        elif opened:
            fence = opened.group(1)
        elif "--8<--" not in line and (tables or not line.lstrip().startswith("|")):
            kept.append(line)
    return len(WORD.findall("\n".join(kept)))


def test_the_chat_path_reads_in_one_sitting():
    pages = ROOT / "docs/lab1/task4"
    overview = (pages / "index.md").read_text(encoding="utf-8")
    assert words(overview) <= 2500
    path = [overview] + [
        (pages / f"step-{n}.md").read_text(encoding="utf-8") for n in (1, 2, 3)
    ]
    assert sum(words(page, tables=False) for page in path) <= 4200
    assert words("```python\nx = 1\n```\nдва слова <!-- нет -->") == 2
