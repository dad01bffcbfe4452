"""Сайт глазами читателя: ссылка на вкладку, поиск по-русски, телефон.

Всё проверяется в настоящем браузере (headless Chromium) на собранном сайте — те
же фикстуры `site` и `served_site`, что в test_site.py.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pytest
from browser import (
    LAY_OUT_ALL,
    Browser,
    computed_style,
    dom_tree,
    forget_site_data,
    rendered_width,
    require_chromium,
    resize,
    watch_page,
)
from support import ROOT
from test_site import (
    ALL_DIAGRAMS,
    all_diagrams_page,
    attributes,
    draw_diagrams,
    walk,
)

DEADLINE = 5.0  # секунд на любое ожидание в браузере
DESKTOP = (1200, 800)


@pytest.fixture(scope="module")
def browser():
    """Один Chromium на все проверки модуля: запуск браузера дороже страницы."""
    with Browser(require_chromium(), width=DESKTOP[0], height=DESKTOP[1]) as browser:
        watch_page(browser)  # DOM и CSS по CDP — для диаграмм в теневом корне
        yield browser


def wait_for(browser: Browser, expression: str, what: str):
    """Ждёт, пока JS-выражение станет истинным; возвращает его значение."""
    deadline = time.monotonic() + DEADLINE
    while not (value := browser.evaluate(expression)):
        if time.monotonic() > deadline:
            raise AssertionError(f"не дождался за {DEADLINE} с: {what}")
        time.sleep(0.05)
    return value


# ---------------------------------------------------------- ссылка на вкладку

# Какая вкладка набора выбрана и какой блок виден: набор — тот, где вкладка `id`.
TABS = """((id) => {
  const input = document.getElementById(id);
  const set = input.closest(".tabbed-set");
  const inputs = [...set.querySelectorAll(":scope > input")];
  const blocks = [...set.querySelectorAll(":scope > .tabbed-content > .tabbed-block")];
  return JSON.stringify({
    checked: inputs.filter((i) => i.checked).map((i) => i.id),
    visible: blocks.filter((b) => b.offsetHeight > 0)
      .map((b) => inputs[blocks.indexOf(b)].id),
  });
})"""


def tab_state(browser: Browser, tab_id: str) -> dict:
    return json.loads(browser.evaluate(f"{TABS}({json.dumps(tab_id)})"))


@pytest.mark.browser
def test_link_to_a_tab_opens_that_tab(served_site, browser):  # noqa: F811
    """Щелчок по вкладке «Клиент» даёт адрес …/task1/#клиент; по этому адресу
    страница открывается с выбранной вкладкой «Клиент» и её кодом на виду — и
    в свежем браузере, где ещё ничего не выбирали. Смена якоря на той же
    странице тоже переключает вкладку."""
    _, base, _ = served_site
    resize(browser, *DESKTOP)
    # Material помнит выбранную вкладку в localStorage; у нового читателя — пусто
    forget_site_data(browser, base.rstrip("/"))
    browser.open(base + "lab1/task1/#клиент")
    wait_for(
        browser,
        "document.getElementById('клиент').checked",
        "вкладка «Клиент» по ссылке …/task1/#клиент",
    )
    assert tab_state(browser, "клиент") == {
        "checked": ["клиент"],
        "visible": ["клиент"],
    }
    browser.evaluate("location.hash = 'сервер'")
    wait_for(
        browser,
        "document.getElementById('сервер').checked",
        "вкладка «Сервер» после смены якоря на #сервер",
    )
    assert tab_state(browser, "сервер")["visible"] == ["сервер"]


# ------------------------------------------------------------ поиск по-русски

# Набирает запрос в поиске Material (поиск работает в фоновом потоке страницы)
# и возвращает адреса всех найденных страниц: первые десять Material показывает
# сразу, остальные — когда список прокручен до конца.
SEARCH = """(async (query) => {
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const input = document.querySelector("[data-md-component=search-query]");
  const meta = document.querySelector(".md-search-result__meta");
  const list = document.querySelector(".md-search-result__list");
  const scroll = document.querySelector(".md-search__scrollwrap");
  const deadline = performance.now() + DEADLINE_MS;
  // Индекс поиска страница грузит, когда читатель открыл поиск
  // (docs/javascripts/search-lazy.js): как читатель — сначала в поле поиска.
  input.focus(); // открывает и список результатов (его прокрутка догружает хвост)
  // Пока индекс строится, в строке итогов «Инициализация поиска»; готовый поиск
  // сам ищет пустой запрос, и его ответ, пришедший позже нашего запроса, Material
  // подписал бы нашим — ждём, пока этот ответ придёт.
  while (/Инициализ/.test(meta.textContent)) {
    if (performance.now() > deadline) return null;
    await sleep(20);
  }
  meta.textContent = "";
  input.value = query;
  input.dispatchEvent(new KeyboardEvent("keyup", {bubbles: true}));
  while (!/совпаден/i.test(meta.textContent)) {
    if (performance.now() > deadline) return null;
    await sleep(20);
  }
  const total = Number((meta.textContent.match(/\\d+/) || [0])[0]);
  // хвост Material догружает, когда список докручен до конца: вверх и вниз
  while (list.children.length < total && performance.now() < deadline) {
    scroll.scrollTop = 0;
    await sleep(20);
    scroll.scrollTop = scroll.scrollHeight;
    await sleep(20);
  }
  return JSON.stringify([...list.children].map((item) => ({
    page: item.querySelector("a").href.split(/[?#]/)[0],
    links: [...item.querySelectorAll("a")].map((a) => a.href),
  })));
})""".replace("DEADLINE_MS", str(int(DEADLINE * 1000)))


def search(browser: Browser, query: str) -> list[dict]:
    found = browser.evaluate(f"{SEARCH}({json.dumps(query)})")
    assert found is not None, f"поиск не ответил на «{query}» за {DEADLINE} с"
    return json.loads(found)


def pages_with(out, word: str) -> set[str]:
    """Страницы сайта (путь от корня: lab1/task4/step-1/), где есть это слово —
    в тексте, который индексирует поиск (search/search_index.json)."""
    index = json.loads((out / "search/search_index.json").read_text("utf-8"))
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.I)
    return {
        doc["location"].split("#")[0]
        for doc in index["docs"]
        if pattern.search(doc["title"] + " " + doc["text"])
    }


TASK_PAGES = {f"lab1/task{n}/" for n in range(1, 6)}


def test_one_spelling_of_datagram_across_the_site():
    """«Дейтаграмма» — одним написанием везде: поиск по «датаграмме» иначе находил
    бы одну страницу из шести, а читатель думал бы, что это разные вещи."""
    sources = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    sources += (ROOT / "laboratory_work_1").rglob("*.py")
    other = [
        path.relative_to(ROOT).as_posix()
        for path in sources
        if "датаграмм" in path.read_text(encoding="utf-8").lower()
    ]
    assert not other, f"«датаграмма» вместо «дейтаграмма»: {other}"


@pytest.mark.browser
def test_search_finds_other_forms_of_a_russian_word(served_site, browser):  # noqa: F811
    """«рассылок» находит страницы, где написано «рассылки», «блокировка» — где
    «блокировки», «сокетов» и «сокет» — страницы всех заданий; TCP_NODELAY
    находится и в «socket.TCP_NODELAY». По ссылке из результатов страница
    подсвечивает найденное во всех формах слова («рассыл…»)."""
    out, base, _ = served_site
    site_path = urlsplit(base).path

    def found_pages(results: list[dict]) -> set[str]:
        return {urlsplit(r["page"]).path.removeprefix(site_path) for r in results}

    expected = {
        "рассылок": pages_with(out, "рассылки"),
        "блокировка": pages_with(out, "блокировки"),
        "сокетов": TASK_PAGES,
        "сокет": TASK_PAGES,
        "TCP_NODELAY": pages_with(out, "TCP_NODELAY"),
    }
    assert all(expected.values()), expected
    resize(browser, *DESKTOP)
    browser.open(base + "lab1/")
    results = {query: search(browser, query) for query in expected}
    for query, pages in expected.items():
        missing = pages - found_pages(results[query])
        assert not missing, (
            f"«{query}» не нашёл страницы {sorted(missing)}, "
            f"нашёл {sorted(found_pages(results[query]))}"
        )

    # Подсветка на странице, куда ведёт результат: те же основы слов.
    link = next(
        link
        for result in results["рассылок"]
        for link in result["links"]
        if re.search(r"[?&]h=[^&#]", link)  # ссылка с найденными словами
    )
    browser.open(link)
    marks = json.loads(
        wait_for(
            browser,
            "(() => { const m = [...document.querySelectorAll("
            "'mark[data-md-highlight]')].map((m) => m.textContent);"
            " return m.length && JSON.stringify(m); })()",
            f"подсветка найденного на {link}",
        )
    )
    assert all(mark.lower().startswith("рассыл") for mark in marks), marks


# ------------------------------------------------------------------- телефон

PHONE = 390  # ширина экрана телефона, CSS-пикселей
HEADROOM = 0.9  # слово заголовка — не шире 90 % строки: шрифты телефонов разные
LABEL_PX = 10  # подписи диаграмм не мельче (и у широкой схемы в рамке с прокруткой)
DIAGRAMS_DEADLINE = 15.0  # секунд на все диаграммы сайта

# Слова заголовков (дефис и тире — законные места переноса), разрезанные между
# строками, и слова, которым в строке тесно.
HEADINGS = """(() => {
  const split = [], tight = [];
  for (const h of document.querySelectorAll(".md-typeset :is(h1, h2, h3, h4)")) {
    const style = getComputedStyle(h);
    const line = h.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight);
    const texts = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      if (node.parentElement.closest(".headerlink")) continue;
      for (const m of node.data.matchAll(/[^\\s\\-‐–—]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        if (new Set(rects.map((r) => Math.round(r.top))).size > 1) split.push(m[0]);
        else if (rects[0].width > HEADROOM * line) tight.push(m[0]);
      }
    }
  }
  return JSON.stringify({split, tight});
})()""".replace("HEADROOM", str(HEADROOM))

# Таблицы шире экрана не в рамке с прокруткой; код в ячейках, разрезанный между
# строками (по словам: пробел — законный перенос); ширина самой страницы.
TABLES = """(() => {
  const screen = document.documentElement.clientWidth;
  const loose = [], cut = [];
  for (const table of document.querySelectorAll(
      ".md-typeset table:not(.highlighttable)")) {
    const right = table.getBoundingClientRect().right;
    let box = table.parentElement;
    while (box && !/auto|scroll/.test(getComputedStyle(box).overflowX))
      box = box.parentElement;
    if (right > screen + 0.5 && !(box && box.getBoundingClientRect().right <= screen))
      loose.push(table.textContent.trim().slice(0, 40));
  }
  for (const code of document.querySelectorAll(".md-typeset :is(td, th) code")) {
    const texts = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode())
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = [...range.getClientRects()].map((r) => Math.round(r.top));
        if (new Set(tops).size > 1) cut.push(m[0]);
      }
  }
  return JSON.stringify({page: document.documentElement.scrollWidth, screen,
                         loose, cut});
})()"""


# Блок кода с номерами строк показывает столько строк, сколько у него номеров:
# высота текста кода — число номеров × высота строки (строки не слились в одну и
# не переносятся).
CODE_LINES = """(() => {
  const wrong = [];
  const blocks = document.querySelectorAll(".md-typeset .highlighttable");
  for (const table of blocks) {
    const numbers = table.querySelectorAll("td.linenos .normal");
    const code = table.querySelector("td.code code");
    const range = document.createRange();
    range.selectNodeContents(code);
    const lines = range.getBoundingClientRect().height
      / parseFloat(getComputedStyle(code).lineHeight);
    if (Math.abs(lines - numbers.length) > 0.5)
      wrong.push(numbers[0].textContent.trim() + ": строк " + lines.toFixed(1)
                 + ", номеров " + numbers.length);
  }
  return JSON.stringify({count: blocks.length, wrong});
})()"""


def diagram_labels(browser: Browser) -> list[str]:
    """Диаграммы страницы ALL_DIAGRAMS, подписи которых мельче LABEL_PX. Схема —
    SVG в закрытом теневом корне: её размер на экране и размер шрифта берутся по
    CDP, подпись на экране = шрифт × (ширина на экране / ширина viewBox)."""
    problems = []
    wrappers = [w for w in walk(dom_tree(browser)) if "data-diagram" in attributes(w)]
    assert wrappers
    for wrapper in wrappers:
        where = attributes(wrapper)["data-diagram"]
        svg = next(
            (
                node
                for node in walk(wrapper)
                if node.get("localName") == "svg"
                and "aria-roledescription" in attributes(node)
            ),
            None,
        )
        if svg is None:
            problems.append(f"{where}: диаграмма не нарисована")
            continue
        view_width = float(attributes(svg)["viewBox"].split()[2])
        scale = rendered_width(browser, svg["nodeId"]) / view_width
        label = next(
            parent
            for parent in walk(svg)
            if parent.get("localName") not in ("style", "title", "desc")
            for child in parent.get("children", [])
            if child.get("nodeType") == 3 and child.get("nodeValue", "").strip()
        )
        size = float(computed_style(browser, label["nodeId"])["font-size"][:-2])
        if size * scale < LABEL_PX:
            problems.append(
                f"{where}: подписи {size * scale:.1f} px (нужно от {LABEL_PX})"
            )
    return problems


@pytest.mark.browser
def test_pages_read_on_a_phone(served_site, browser):  # noqa: F811
    """На экране 390 px: слова заголовков не режутся и помещаются с запасом;
    таблица шире экрана прокручивается в своей рамке, страница вбок не едет,
    код в ячейках не рвётся посреди имени, а блок кода показывает строку на
    каждый номер строки; подписи каждой диаграммы сайта от
    10 px (широкая схема шире экрана и прокручивается в своей рамке)."""
    _, base, _ = served_site
    problems = []
    resize(browser, PHONE, 844)
    for page in ("lab1/task4/", "lab1/task4/step-5/"):
        browser.open(base + page)
        headings = json.loads(browser.evaluate(HEADINGS))
        problems += [
            f"{page}: слово заголовка разрезано: {w}" for w in headings["split"]
        ]
        problems += [f"{page}: слову заголовка тесно: {w}" for w in headings["tight"]]
        tables = json.loads(browser.evaluate(TABLES))
        if tables["page"] > tables["screen"]:
            problems.append(f"{page}: страница шире экрана: {tables['page']} px")
        problems += [f"{page}: таблица не в рамке: {t}" for t in tables["loose"]]
        problems += [f"{page}: код в таблице разрезан: {c}" for c in tables["cut"]]
        browser.evaluate(LAY_OUT_ALL)
        code = json.loads(browser.evaluate(CODE_LINES))
        if page == "lab1/task4/step-5/":
            assert code["count"] > 0, f"{page}: нет блоков кода с номерами строк"
        problems += [f"{page}: блок кода со строки {w}" for w in code["wrong"]]
    # все диаграммы сайта — на одной странице (как в test_site.py)
    count = all_diagrams_page(served_site)
    browser.open(base + ALL_DIAGRAMS)
    drawn = draw_diagrams(browser, count, time.monotonic() + DIAGRAMS_DEADLINE)
    assert drawn >= count, f"нарисовано {drawn} из {count} диаграмм"
    browser.evaluate(LAY_OUT_ALL)  # диаграммы здесь в обёртках — блоках статьи
    problems += diagram_labels(browser)
    if json.loads(browser.evaluate(TABLES))["page"] > PHONE:
        problems.append("страница с диаграммами шире экрана")
    assert not problems, "\n".join(problems)
