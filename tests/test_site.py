"""Сайт собирается строго, без предупреждений, и показывает то, что обещает.

Главная проверка — `test_code_on_the_site_is_the_code_in_the_files`: каждый блок
кода собранного сайта, вставленный из файла, сверяется с самим файлом строка в
строку вместе с номерами строк. Список страниц берётся у MkDocs (его же
список файлов сайта), так что новые страницы проверяются сами.
"""

from __future__ import annotations

import html
import importlib.util
import json
import logging
import os
import re
import sys
import tarfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import markdown
import pytest
from browser import (
    Browser,
    block_urls,
    computed_style,
    dom_tree,
    page_reports,
    require_chromium,
    watch_page,
)
from mkdocs.config import load_config
from mkdocs.structure.files import get_files
from mkdocs.utils import CountHandler
from site_fixtures import REPO_URL, SITE_URL
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
# слева <td class="linenos"> с номерами — по <span class="normal"> на строку
# (простой текст, не ссылки: anchor_linenums выключен), справа <td class="code">
# с <code>, где строки кода разделены \n.
NUMBERED_BLOCK = re.compile(
    r'<td class="linenos">(?P<numbers>.*?)</td><td class="code">(?P<code>.*?)</td>',
    re.S,
)
LINE_NUMBER = re.compile(r'<span class="normal">\s*(\d+)</span>')
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


# ------------------------------------------------ сайт глазами читателя (браузер)

MERMAID_BLOCK = re.compile(r'<pre class="mermaid">.*?</pre>', re.S)
MERMAID_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*mermaid\s*$", re.M)
MERMAID_DEADLINE = 15.0  # секунд на все диаграммы сайта
ARTICLE = re.compile(r'(<article class="md-content__inner[^"]*">).*?(</article>)', re.S)
# Страница, на которую собираются все диаграммы сайта (см. тест ниже)
ALL_DIAGRAMS = "lab1/all-diagrams.html"
# Загрузчик Mermaid: грузит библиотеку, когда диаграмма подходит к экрану
LAZY_MERMAID = "javascripts/mermaid-lazy.js"
# Листает к следующей ещё не пройденной диаграмме и ждёт два кадра (за кадр
# наблюдатель загрузчика замечает её у экрана); возвращает число нарисованных.
NEXT_DIAGRAM = """(async () => {
  const next = document.querySelector("pre.mermaid:not([data-passed])");
  if (next) {
    next.dataset.passed = "";
    next.scrollIntoView();
    await new Promise((done) =>
      requestAnimationFrame(() => requestAnimationFrame(done)));
  }
  return document.querySelectorAll("div.mermaid").length;
})()"""


def draw_diagrams(browser: Browser, count: int, deadline: float) -> int:
    """Листает страницу от диаграммы к диаграмме, пока не нарисовано count или
    не вышло время (time.monotonic()); возвращает, сколько нарисовано. Ошибки
    Mermaid приходят исключениями (page_reports) — они тоже в счёт."""
    while True:
        drawn = browser.evaluate(NEXT_DIAGRAM) + len(page_reports(browser)["errors"])
        if drawn >= count or time.monotonic() > deadline:
            return drawn
        time.sleep(0.05)


def built_diagrams(out: Path) -> list[tuple[str, str]]:
    """Блоки mermaid собранного сайта по порядку: (страница, HTML блока)."""
    return [
        (path.relative_to(out).as_posix(), block)
        for path in sorted(out.rglob("*.html"))
        for block in MERMAID_BLOCK.findall(path.read_text(encoding="utf-8"))
    ]


def walk(node: dict):
    """Узел DOM (из browser.dom_tree) и все под ним, с теневыми корнями."""
    yield node
    for child in [*node.get("shadowRoots", []), *node.get("children", [])]:
        yield from walk(child)


def attributes(node: dict) -> dict[str, str]:
    flat = node.get("attributes", [])
    return dict(zip(flat[::2], flat[1::2], strict=True))


def diagram_problems(tree: dict) -> list[str]:
    """Диаграммы, которые Material не нарисовал: каждая ждёт в обёртке
    <div data-diagram="где">, а нарисованная — это div.mermaid с <svg> в закрытом
    теневом корне; Mermaid вместо схемы рисует «Syntax error in text»."""
    problems = []
    for wrapper in walk(tree):
        where = attributes(wrapper).get("data-diagram")
        if where is None:
            continue
        inside = list(walk(wrapper))
        svg = [n for n in inside if n.get("localName") == "svg"]
        drawn = any(
            "mermaid" in attributes(n).get("class", "").split()
            and n.get("localName") == "div"
            for n in inside
        )
        if not (drawn and svg):
            problems.append(f"{where}: диаграмма не нарисована")
        for node in inside:
            if "Syntax error" in (node.get("nodeValue") or "") or (
                attributes(node).get("aria-roledescription") == "error"
            ):
                problems.append(f"{where}: Mermaid нарисовал ошибку синтаксиса")
                break
    return problems


def palette_problems(browser: Browser, tree: dict) -> list[str]:
    """Диаграммы в цветах темы: Material передаёт Mermaid стили на переменных CSS
    палитры, и в тёмной теме (slate) текст схем другого цвета, чем в светлой."""
    texts = [
        node["nodeId"]
        for wrapper in walk(tree)
        if "data-diagram" in attributes(wrapper)
        for node in walk(wrapper)
        if node.get("localName") == "text"
    ][:40]
    if not texts:
        return ["в диаграммах нет текста — не с чем сравнить цвета темы"]
    fills = {}
    for scheme in ("default", "slate"):
        browser.evaluate(
            f"document.body.setAttribute('data-md-color-scheme', '{scheme}')"
        )
        fills[scheme] = [computed_style(browser, n)["fill"] for n in texts]
    if fills["default"] == fills["slate"]:
        return ["диаграммы не следуют теме: текст в светлой и тёмной одного цвета"]
    return []


def test_every_page_with_a_diagram_is_a_built_page(site, pages):
    """Браузерная проверка ниже берёт диаграммы из собранного HTML; здесь — что
    туда попала каждая страница с блоком mermaid (в том числе вставленным)."""
    out, _ = site
    with_diagrams = {page for page, _ in built_diagrams(out)}
    for page, source in pages.items():
        if MERMAID_FENCE.search((ROOT / source).read_text(encoding="utf-8")):
            assert page in with_diagrams, f"{source}: диаграмма не попала на {page}"
    # отчёт бенчмарка с диаграммой вставляется в страницу шага 5
    assert "lab1/task4/step-5/index.html" in with_diagrams
    # каждая такая страница (и только она) подключает загрузчик Mermaid с самого
    # сайта, а сам mermaid.min.js не подключает ни одна: его грузит загрузчик
    for path in sorted(out.rglob("*.html")):
        page = path.relative_to(out).as_posix()
        script = Path(os.path.relpath(out / LAZY_MERMAID, path.parent)).as_posix()
        text = path.read_text(encoding="utf-8")
        assert (f'<script src="{script}">' in text) == (page in with_diagrams), page
        assert "mermaid.min.js" not in text, page


def all_diagrams_page(served_site) -> int:
    """Ставит блоки всех диаграмм сайта (как они собраны) в статью настоящей
    страницы lab1/index.html и раздаёт её по адресу ALL_DIAGRAMS; каждый блок — в
    обёртке <div data-diagram="страница, диаграмма N">. Возвращает их число."""
    out, _, extra = served_site
    diagrams = built_diagrams(out)
    assert len(diagrams) >= 10, diagrams
    counts: dict[str, int] = {}
    wrapped = []
    for page, block in diagrams:
        counts[page] = counts.get(page, 0) + 1
        where = html.escape(f"{page}, диаграмма {counts[page]}")
        wrapped.append(f'<div data-diagram="{where}">{block}</div>')
    host = (out / "lab1/index.html").read_text(encoding="utf-8")
    assert ARTICLE.search(host), "не нашёл <article> в lab1/index.html"
    extra[ALL_DIAGRAMS] = ARTICLE.sub(
        lambda m: m[1] + "\n".join(wrapped) + m[2], host
    ).encode("utf-8")
    return len(diagrams)


@pytest.mark.browser
def test_every_diagram_renders_without_errors_or_other_hosts(served_site):
    """Каждая диаграмма сайта рисуется в настоящем браузере: об ошибке синтаксиса
    Mermaid сообщает только там. Открывать все десять страниц — 15–30 с, поэтому
    блоки всех страниц (как они собраны) ставятся в статью одной настоящей
    страницы (lab1/index.html: те же стили, скрипты и Material, что рисует
    диаграммы). Сайт не ходит на чужие серверы: все запросы — к 127.0.0.1, а
    https://* вкладке запрещён (как офлайн или за файрволом)."""
    _, base, _ = served_site
    count = all_diagrams_page(served_site)
    with Browser(require_chromium(), width=1200, height=800) as browser:
        watch_page(browser)
        block_urls(browser, ["https://*"])
        browser.open(base + ALL_DIAGRAMS)
        # каждая диаграмма либо нарисована, либо её ошибка пришла исключением
        draw_diagrams(browser, count, time.monotonic() + MERMAID_DEADLINE)
        reports = page_reports(browser)
        tree = dom_tree(browser)
        problems = diagram_problems(tree)
        problems += palette_problems(browser, tree)
    problems += reports["errors"]
    problems += [
        f"запрос к чужому серверу: {url}"
        for url in reports["requests"]
        if not url.startswith((base, "data:", "blob:"))
    ]
    assert not problems, "\n".join(problems)


# Страница, где первая диаграмма далеко ниже первого экрана
FAR_DIAGRAM_PAGE = "lab1/task5/"
# Два кадра: наблюдатель загрузчика успевает увидеть страницу у экрана
TWO_FRAMES = (
    "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
)


def mermaid_requests(browser: Browser) -> list[str]:
    return [
        Path(urlsplit(url).path).name
        for url in page_reports(browser)["requests"]
        if "mermaid" in url
    ]


@pytest.mark.browser
def test_mermaid_loads_only_when_a_diagram_nears_the_screen(served_site):
    """Mermaid (3,5 МБ) не грузится на странице без диаграмм, а на странице с
    диаграммой — только когда она подходит к экрану (overrides/main.html и
    docs/javascripts/mermaid-lazy.js); дальше диаграмма рисуется."""
    out, base, _ = served_site
    assert 'class="mermaid"' not in (out / "index.html").read_text("utf-8")
    with Browser(require_chromium(), width=1200, height=800) as browser:
        watch_page(browser)
        browser.open(base)
        browser.evaluate(TWO_FRAMES)
        assert mermaid_requests(browser) == [], "главная без диаграмм грузит Mermaid"

        browser.open(base + FAR_DIAGRAM_PAGE)
        browser.evaluate(TWO_FRAMES)
        top = browser.evaluate(
            "document.querySelector('pre.mermaid').getBoundingClientRect().top"
            " / innerHeight"
        )
        assert top > 3, f"диаграмма {FAR_DIAGRAM_PAGE} слишком близко к началу"
        assert mermaid_requests(browser) == ["mermaid-lazy.js"]
        drawn = draw_diagrams(browser, 1, time.monotonic() + MERMAID_DEADLINE)
        assert drawn >= 1, page_reports(browser)
        assert mermaid_requests(browser) == ["mermaid-lazy.js", "mermaid.min.js"]
        assert page_reports(browser)["errors"] == []


# ------------------------------------------------ страница с кодом открывается быстро

# Признаки разметки, которая стоила телефону секунды (tools/lighthouse.py):
# номера строк ссылками (anchor_linenums) и своя обёртка у каждой строки кода
# (line_spans) — по три лишних элемента на строку, тысячи на странице задания 5.
PER_LINE_MARKUP = re.compile(r'href="#__codelineno-|id="__codelineno-|id="__span-')


def test_code_lines_carry_no_per_line_anchors_and_material_mounts_code_lazily(
    site, pages
):
    """Блоки кода без ссылок и обёрток на каждой строке, а Material готовит блок
    кода (кнопка копирования, проверка прокрутки), только когда тот показался на
    экране (content.lazy): на странице задания 5 иначе секунда работы процессора
    телефона до того, как страница отзовётся."""
    out, _ = site
    for page in pages:
        text = (out / page).read_text(encoding="utf-8")
        found = PER_LINE_MARKUP.search(text)
        assert found is None, f"{page}: разметка на каждую строку кода: {found[0]}"
    config = json.loads(
        re.search(
            r'<script id="__config" type="application/json">(.*?)</script>',
            (out / "index.html").read_text(encoding="utf-8"),
            re.S,
        )[1]
    )
    assert "content.lazy" in config["features"]


def test_no_page_waits_for_the_lightbox_before_it_shows(site, pages):
    """Скрипт и стили просмотрщика картинок (glightbox) — в конце <body>, прямо
    перед его запуском, а не в <head>: первый показ страницы их не ждёт
    (tools/site_hooks.py, on_post_page). Что просмотрщик после переноса
    открывает картинку, проверяет test_lab_code_fits_the_column…"""
    out, _ = site
    for page in pages:
        head, _, body = (out / page).read_text(encoding="utf-8").partition("</head>")
        assert "glightbox.min." not in head, f"{page}: просмотрщик в <head>"
        start = body.index('<script id="init-glightbox">')
        assert "glightbox.min.js" in body[:start], f"{page}: просмотрщик не загружен"


SEARCH_INDEX = "search/search_index.json"
SEARCH_DEADLINE = 10.0  # секунд на запрос индекса после щелчка в поле поиска


def search_index_requested(browser: Browser) -> bool:
    return any(url.endswith(SEARCH_INDEX) for url in page_reports(browser)["requests"])


@pytest.mark.browser
def test_search_index_loads_only_when_the_reader_opens_search(served_site):
    """Индекс поиска (1,8 МБ) страница не грузит, пока читатель не открыл поиск
    (docs/javascripts/search-lazy.js); поле поиска в фокусе — индекс грузится.
    Что поиск потом находит, проверяет test_site_reading.py."""
    _, base, _ = served_site
    with Browser(require_chromium(), width=1200, height=800) as browser:
        watch_page(browser)
        browser.open(base + "lab1/task1/")
        browser.evaluate(TWO_FRAMES)
        assert not search_index_requested(browser), "индекс поиска — сразу"
        browser.evaluate(
            "document.querySelector('[data-md-component=search-query]').focus()"
        )
        deadline = time.monotonic() + SEARCH_DEADLINE
        while not search_index_requested(browser):
            assert time.monotonic() < deadline, "поиск открыт, а индекса нет"
            time.sleep(0.05)
        assert page_reports(browser)["errors"] == []


# ------------------------------------------------------ ни одного чужого сервера

# Что страница грузит сама, пока её читают: скрипты, стили, шрифты, картинки.
LOADING_LINKS = {"stylesheet", "preload", "modulepreload", "preconnect", "prefetch"}
LOADING_LINKS |= {"dns-prefetch", "icon", "apple-touch-icon", "manifest"}
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
CSS_URL = re.compile(
    r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)|url\(\s*["']?([^"')\s]+)""", re.I
)


def is_other_host(url: str) -> bool:
    """Адрес на другом сервере: со схемой http(s) или «//хост/…»; data: — свой."""
    url = html.unescape(url).strip().lower()
    return url.startswith(("http:", "https:", "//"))


class LoadedUrls(HTMLParser):
    """Адреса, которые браузер загрузит при показе страницы."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag in {"script", "img", "iframe", "source", "audio", "video", "embed"}:
            self.urls += [attrs["src"]] if attrs.get("src") else []
        if tag == "link" and LOADING_LINKS & set(attrs.get("rel", "").split()):
            self.urls.append(attrs.get("href", ""))
        self.urls += css_urls(attrs.get("style", ""))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += css_urls(data)


def css_urls(css: str) -> list[str]:
    """Адреса из @import и url(…) в CSS (комментарии не в счёт)."""
    return [a or b for a, b in CSS_URL.findall(CSS_COMMENT.sub("", css))]


def test_no_page_loads_anything_from_another_host(site):
    """Офлайн и за университетским файрволом сайт выглядит так же: ни страницы,
    ни их CSS не грузят скрипты, стили, шрифты и картинки с чужих серверов
    (ссылки <a> на внешние сайты — можно: их открывают по щелчку)."""
    out, _ = site
    found = []
    for path in sorted(out.rglob("*.html")):
        parser = LoadedUrls()
        parser.feed(path.read_text(encoding="utf-8"))
        page = path.relative_to(out).as_posix()
        found += [f"{page}: {url}" for url in parser.urls if is_other_host(url)]
    for path in sorted(out.rglob("*.css")):
        urls = css_urls(path.read_text(encoding="utf-8"))
        page = path.relative_to(out).as_posix()
        found += [f"{page}: {url}" for url in urls if is_other_host(url)]
    assert not found, "\n".join(found)
    # и Mermaid лежит на самом сайте (его грузит javascripts/mermaid-lazy.js)
    assert (out / "javascripts/mermaid.min.js").stat().st_size > 500_000


def test_css_and_html_parsers_see_what_loads():
    parser = LoadedUrls()
    parser.feed(
        '<link rel="preconnect" href="https://fonts.gstatic.com">'
        '<link rel="next" href="https://example.org/next">'
        '<script src="//cdn.example/x.js"></script><script src="a.js"></script>'
        '<style>/* url(https://no.example) */ @import "https://fonts.example/css";'
        ".x{background:url('data:image/png;base64,AA')}</style>"
        '<div style="background: url(https://img.example/bg.png)"></div>'
    )
    assert [u for u in parser.urls if is_other_host(u)] == [
        "https://fonts.gstatic.com",
        "//cdn.example/x.js",
        "https://fonts.example/css",
        "https://img.example/bg.png",
    ]


# ------------------------------------------- Mermaid из закреплённого пакета npm

FAKE_NPM = """#!{python}
# Поддельный npm: «npm pack mermaid@V --json --pack-destination DIR» кладёт в DIR
# заранее собранный архив и печатает то же, что настоящий.
import json, shutil, sys
args = sys.argv[1:]
destination = args[args.index("--pack-destination") + 1]
shutil.copy({archive!r}, destination)
print(json.dumps([{{"filename": "mermaid-x.tgz"}}]))
"""


@pytest.fixture
def fake_npm(tmp_path, monkeypatch) -> bytes:
    """npm на PATH, который «скачивает» архив с package/dist/mermaid.min.js; кэш
    хука — во временной папке. Возвращает байты архива."""
    script = tmp_path / "package" / "dist" / "mermaid.min.js"
    script.parent.mkdir(parents=True)
    script.write_bytes(b"window.mermaid = {};\n")
    archive = tmp_path / "mermaid-x.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(script, arcname="package/dist/mermaid.min.js")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable, archive=str(archive)))
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return archive.read_bytes()


@pytest.mark.skipif(os.name != "posix", reason="поддельный npm — сценарий POSIX")
def test_mermaid_is_taken_only_if_the_archive_matches_the_lock(tmp_path, fake_npm):
    target = tmp_path / "out" / "mermaid.min.js"
    site_hooks.fetch_mermaid("1.0.0", site_hooks.integrity_of(fake_npm), target)
    assert target.read_bytes() == b"window.mermaid = {};\n"

    forged = tmp_path / "out" / "forged.min.js"
    with pytest.raises(RuntimeError, match="не совпал с суммой"):
        site_hooks.fetch_mermaid("1.0.0", site_hooks.integrity_of(b"other"), forged)
    assert not forged.exists()


def test_without_npm_a_strict_build_fails_with_a_clear_message(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("PATH", str(tmp_path))  # ни одного npm
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with caplog.at_level(logging.WARNING, logger="mkdocs"):
        assert site_hooks.mermaid_script() is None
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "mkdocs.plugins.mermaid"  # строгая сборка на нём падает
    assert "нужен npm" in warning.getMessage()


def test_the_site_ships_the_locked_mermaid(site):
    out, _ = site
    version, _ = site_hooks.locked_package("mermaid")
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["mermaid"] == version  # версия точная, без ^ и ~
    shipped = (out / site_hooks.MERMAID_ON_SITE).read_text(encoding="utf-8")
    assert f'version:"{version}"' in shipped


# --------------------------------------------- 404, карта сайта, ссылки на код


class AllUrls(HTMLParser):
    """Все адреса страницы из атрибутов href и src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in {"href", "src"} and v]


def test_404_page_works_under_the_project_path(site):
    """GitHub Pages отдаёт 404.html по любому неверному адресу внутри проекта
    (/lab1-sockets/нет/такой/): относительные ссылки оттуда вели бы мимо, поэтому
    каждая ссылка страницы 404 идёт от пути проекта и ведёт на настоящий файл."""
    out, _ = site
    prefix = urlsplit(SITE_URL).path
    parser = AllUrls()
    parser.feed((out / "404.html").read_text(encoding="utf-8"))
    local = [u for u in parser.urls if not is_other_host(u) and not u.startswith("#")]
    assert len(local) > 5, local
    wrong = []
    for url in local:
        path = urlsplit(url).path
        target = out / path.removeprefix(prefix)
        if not path.startswith(prefix) or not (
            target.is_file() or (target / "index.html").is_file()
        ):
            wrong.append(url)
    assert not wrong, wrong


def page_url(page: str) -> str:
    """Адрес собранной страницы: lab1/task1/index.html → SITE_URL + lab1/task1/."""
    return SITE_URL + page.removesuffix("index.html")


def test_sitemap_lists_every_page(site, pages):
    out, _ = site
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    listed = re.findall(r"<loc>\s*(.*?)\s*</loc>", sitemap)
    assert sorted(listed) == sorted(page_url(page) for page in pages)


def test_every_page_links_to_its_source_for_editing(site, pages):
    """Кнопка «Редактировать» ведёт на Markdown страницы в репозитории, ссылка на
    репозиторий — без счётчиков GitHub (их скрипт Material ходил бы в
    api.github.com, см. overrides/partials/source.html)."""
    out, _ = site
    for page, source in pages.items():
        text = (out / page).read_text(encoding="utf-8")
        assert f'href="{REPO_URL}/edit/main/{source}"' in text, page
        assert f'<a href="{REPO_URL}" title=' in text, page
        assert 'data-md-component="source"' not in text, page


# Для каждого видимого блока кода из файла лабораторной: помещается ли он в колонку;
# для каждого скриншота терминала: какой он ширины по сравнению со статьёй.
LAYOUT = """(async () => {
  const svgs = [...document.querySelectorAll(".md-typeset figure img")]
    .filter((img) => img.getAttribute("src").endsWith(".svg"));
  svgs.forEach((img) => { img.loading = "eager"; });  // на сайте они ленивые
  await Promise.all(svgs.map((img) => img.decode().catch(() => null)));
  const article = document.querySelector("article").getBoundingClientRect().width;
  const code = [...document.querySelectorAll(".md-typeset .highlight")]
    .filter((block) => block.offsetParent !== null)
    .filter((block) => (block.querySelector(".filename") || {}).textContent
      ?.startsWith("laboratory_work_1/"))
    .map((block) => {
      const inner = block.querySelector("pre > code");
      return [block.querySelector(".filename").textContent,
              inner.scrollWidth - inner.clientWidth];
    });
  const shots = svgs.map((img) => [img.getAttribute("src"),
                   img.getBoundingClientRect().width / article,
                   img.naturalWidth]);
  return JSON.stringify({code, shots});
})()"""

# Щелчок по первому скриншоту: ширина картинки в открывшемся просмотрщике (0 — не
# открылся за LIGHTBOX_DEADLINE_MS).
LIGHTBOX_DEADLINE_MS = 5000
OPEN_LIGHTBOX = """(async () => {
  document.querySelector("a.glightbox").click();
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    const img = document.querySelector(".glightbox-container .gslide-image img");
    if (img && img.complete && img.naturalWidth) return img.naturalWidth;
    await new Promise((done) => setTimeout(done, 50));
  }
  return 0;
})()""".replace("DEADLINE_MS", str(LIGHTBOX_DEADLINE_MS))


@pytest.mark.browser
def test_lab_code_fits_the_column_and_screenshots_fill_it(served_site):
    """На экране 1280 px строка кода в 88 символов (предел ruff) видна целиком,
    без прокрутки вбок, а скриншоты терминала — во всю колонку (текст на них
    крупнее 12 px) и со своим размером, в котором их и открывает просмотрщик."""
    _, base, _ = served_site
    with Browser(require_chromium(), width=1280, height=900) as browser:
        for page in ("lab1/task4/step-5/", "lab1/task1/"):
            browser.open(base + page)
            layout = json.loads(browser.evaluate(LAYOUT))
            assert layout["code"], f"{page}: не нашёл блоков кода лабораторной"
            wide = [(name, extra) for name, extra in layout["code"] if extra > 1]
            assert not wide, f"{page}: код шире колонки на столько пикселей: {wide}"
            narrow = [(src, share) for src, share, _ in layout["shots"] if share < 0.9]
            assert not narrow, f"{page}: скриншоты уже колонки: {narrow}"
            # Свой размер картинки: по нему её открывает просмотрщик (glightbox).
            tiny = [(src, width) for src, _, width in layout["shots"] if width < 600]
            assert not tiny, f"{page}: у скриншотов нет своего размера: {tiny}"
        # Просмотрщик загружается в конце страницы, а открывает картинку как прежде.
        assert browser.evaluate(OPEN_LIGHTBOX) >= 600, "просмотрщик не открылся"


def test_a_local_build_has_no_edit_path_without_a_repository(monkeypatch):
    """Без REPO_URL (сборка у себя) путь правки тоже пуст: постоянный путь без
    адреса репозитория MkDocs считает неверным адресом на каждой странице, и
    `mkdocs build --strict` у студента падал. Сборку целиком (5 с) тест не
    повторяет: предупреждение MkDocs выдаёт ровно при таком сочетании настроек."""
    from mkdocs.config import load_config

    for name in ("SITE_URL", "REPO_URL", "EDIT_URI"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(ROOT / "mkdocs.yml"))
    assert config.repo_url is None
    assert config.edit_uri is None
