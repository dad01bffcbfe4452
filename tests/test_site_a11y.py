"""Доступность сайта: axe-core в настоящем браузере, светлая и тёмная тема.

Страница сайта открывается в headless Chromium (окно 1280 × 900, с мышью — как у
читателя за компьютером), и axe-core проверяет её целиком в светлой теме, а
затем в тёмной (slate включается так же, как переключателем темы). Тест падает
на любом нарушении с влиянием serious или critical: контраст текста и подсветки
кода, ссылки, которые отличаются от текста только цветом, элементы без
доступного имени, области с прокруткой, недоступные с клавиатуры. Что это
чинит: docs/stylesheets/a11y.css (цвета, подчёркнутые ссылки),
overrides/partials/search.html (имя окна поиска), overrides/main.html (прокрутка
широких таблиц с клавиатуры).

Какие страницы: в обычном прогоне — две (CHECKED_PAGES ниже), на них все
виды содержимого сайта: код с подсветкой, вкладки, таблицы, широкие таблицы,
скриншоты, врезки, диаграмма; это 10–20 с. Все 15 страниц nav — 30–60 с на двух
ядрах, поэтому весь сайт проверяет команда

    A11Y_PAGES=all .venv/bin/python -m pytest -m browser tests/test_site_a11y.py

(нужны Chromium и npm, см. README, «Для авторов страниц»). Её стоит запускать
после правки стилей, шаблонов темы или Material.

axe-core закреплён в package.json (devDependencies) с контрольной суммой в
package-lock.json; берёт его tests/npm_packages.py (`npm pack`, сверка суммы,
кэш пользователя ~/.cache/lab1-site/). npm нужен только в первый раз.
"""

from __future__ import annotations

import json
import os
import subprocess
from unittest import mock

import browser as browser_module
import pytest
import test_site
from browser import FLAGS, LAY_OUT_ALL, Browser, require_chromium
from mkdocs.config import load_config
from mkdocs.structure.files import get_files
from npm_packages import npm_package
from support import ROOT

# Сайт собирается и раздаётся фикстурами site_fixtures.py (общими для сессии);
# конфигурацию и страницы берём у test_site.py.
mkdocs_config = test_site.mkdocs_config
pages = test_site.pages
site_hooks = test_site.site_hooks


def nav_pages() -> list[str]:
    """Все страницы сайта (собранные файлы), как их видит MkDocs."""
    config = load_config(str(ROOT / "mkdocs.yml"))
    return sorted(page.dest_uri for page in get_files(config).documentation_pages())


# Страницы обычного прогона (см. выше): на них все виды содержимого сайта, а
# открываются они быстро (страницы заданий 2, 3 и 5 — по 5–10 с каждая).
# A11Y_PAGES=all — все страницы сайта.
# Две страницы вместе показывают всё, что есть на сайте: подвал, поиск и ссылки
# в тексте — на каждой; код Python и bash, вкладки, таблицы и скриншоты — в
# задании 1; врезки, широкие таблицы бенчмарка и диаграмма — на шаге 5 чата.
CHECKED_PAGES = [
    "lab1/task1/index.html",
    "lab1/task4/step-5/index.html",
]
if os.environ.get("A11Y_PAGES") == "all":
    CHECKED_PAGES = nav_pages()

AXE_PACKAGE = "axe-core"
AXE_IN_PACKAGE = "axe.min.js"
# Что считается провалом: axe делит нарушения на minor, moderate, serious, critical.
FAILING_IMPACT = {"serious", "critical"}
# Читатель за компьютером — с мышью: headless Chromium по умолчанию говорит
# странице «нет ни мыши, ни наведения», и Material тогда не делает блоки кода с
# прокруткой вбок доступными с клавиатуры (tabindex="0" он ставит, только если
# есть (hover)). Эти настройки Blink возвращают мышь: pointer fine, hover.
DESKTOP_POINTER = (
    "--blink-settings=primaryPointerType=4,availablePointerTypes=4,"
    "primaryHoverType=2,availableHoverTypes=2"
)

# Блоки кода — тысячи одинаково раскрашенных кусочков (на странице задания 5 их
# больше тысячи), и axe считает контраст каждого: 10–20 с на страницу. Контраст
# зависит только от стиля текста и его фона, а стили у всех страниц общие, поэтому
# в блоках кода остаётся по одному куску текста каждого вида (класс Pygments,
# класс родителя, класс блока) на весь сайт: вид, уже встреченный на этой или
# прошлой странице, убирается (страница открыта только для проверки). Каждый вид
# подсветки сайта проверяется по-прежнему, а axe работает в разы быстрее.
ONE_OF_EACH_CODE_STYLE = """((known) => {
  const seen = new Set(known);
  const texts = [];
  for (const block of document.querySelectorAll(".md-typeset .highlight")) {
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) texts.push(walker.currentNode);
  }
  for (const text of texts) {
    if (!text.data.trim()) continue;
    const parent = text.parentElement;
    const ground = parent.closest("pre, td, th, .filename, .highlight");
    const key = [parent.localName, parent.className, parent.parentElement.className,
                 ground.localName, ground.className].join("|");
    if (!seen.has(key)) { seen.add(key); continue; }
    // лист (кусок подсветки, номер строки) — целиком, иначе — только текст
    if (parent.childElementCount === 0 && !parent.closest(".md-code__nav")) {
      parent.remove();
    } else {
      text.remove();
    }
  }
  // строки кода и номера строк, от которых ничего не осталось
  for (const line of document.querySelectorAll(
      ".md-typeset .highlight code > span[id], .md-typeset .linenodiv span")) {
    if (!line.textContent.trim()) line.remove();
  }
  return [...seen];
})(KNOWN)"""


# Тёмная тема — как по щелчку переключателя. Цвета Material меняет плавно
# (transition), и axe мерил бы промежуточные, поэтому переходы выключены.
DARK_THEME = """(async () => {
  const still = document.createElement("style");
  still.textContent = "*, *::before, *::after { transition: none !important; }";
  document.head.append(still);
  document.body.setAttribute("data-md-color-scheme", "slate");
  await new Promise(requestAnimationFrame);
  return document.body.dataset.mdColorScheme;
})()"""

# axe.run над всей страницей; в ответ — только нарушения нужной тяжести, по
# каждому правилу: сколько узлов и до трёх примеров (селектор и что не так).
RUN_AXE = """(async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return JSON.stringify(result.violations
    .filter((rule) => FAILING_IMPACT.includes(rule.impact))
    .map((rule) => ({
      id: rule.id, impact: rule.impact, count: rule.nodes.length,
      examples: rule.nodes.slice(0, 3).map((node) =>
        node.target.join(" ") + " — " + (node.failureSummary || "")
          .replace(/\\s+/g, " ").slice(0, 200)),
    })));
})()""".replace("FAILING_IMPACT", json.dumps(sorted(FAILING_IMPACT)))


@pytest.fixture(scope="module")
def axe_script() -> str:
    """Текст axe.min.js; нет npm и кэша — skip (в CI — fail, как без браузера)."""
    try:
        return (npm_package(AXE_PACKAGE) / AXE_IN_PACKAGE).read_text(encoding="utf-8")
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        if os.environ.get("CI"):
            pytest.fail(f"axe-core: {error}")
        pytest.skip(f"axe-core: {error}")


def page_violations(
    browser: Browser, url: str, axe: str, code_styles: list[str]
) -> dict[str, list[dict]]:
    """Нарушения serious/critical на странице url: {"light": […], "dark": […]}.

    Страница открывается в светлой теме (Chromium без настроек — светлая
    система); тёмную включает тот же атрибут, что ставит переключатель темы
    Material: все цвета slate висят на data-md-color-scheme у <body>."""
    browser.open(url)
    shown = browser.evaluate("document.body.dataset.mdColorScheme")
    assert shown == "default", f"{url}: открылась тема {shown}, а не светлая"
    code_styles[:] = browser.evaluate(
        ONE_OF_EACH_CODE_STYLE.replace("KNOWN", json.dumps(code_styles))
    )
    browser.evaluate(LAY_OUT_ALL)
    browser.evaluate(axe + "\n;0")
    found = {"light": json.loads(browser.evaluate(RUN_AXE))}
    browser.evaluate(DARK_THEME)
    found["dark"] = json.loads(browser.evaluate(RUN_AXE))
    return found


def desktop_browser(executable: str) -> Browser:
    """Chromium как у читателя за компьютером: окно 1280 × 900 и мышь."""
    with mock.patch.object(browser_module, "FLAGS", (*FLAGS, DESKTOP_POINTER)):
        return Browser(executable, width=1280, height=900)


def describe(page: str, scheme: str, violations: list[dict]) -> list[str]:
    lines = []
    for rule in violations:
        lines.append(
            f"{page} ({scheme}): {rule['id']} [{rule['impact']}] × {rule['count']}"
        )
        lines += [f"    {example}" for example in rule["examples"]]
    return lines


def test_checked_pages_are_pages_of_the_site(pages):
    assert set(CHECKED_PAGES) <= set(pages), set(CHECKED_PAGES) - set(pages)


# Одна проверка на все страницы, а не по тесту на страницу: pytest-xdist разнёс бы
# такие тесты по процессам, и каждый собирал бы сайт и запускал браузер заново.
# Весь сайт (A11Y_PAGES=all) проверяется дольше обычного предела в 60 с.
@pytest.mark.browser
@pytest.mark.timeout(300)
def test_no_serious_accessibility_violation(served_site, axe_script):
    """Страницы в светлой и тёмной теме: axe-core не находит ни одного нарушения
    serious или critical."""
    _, base, _ = served_site
    problems: list[str] = []
    code_styles: list[str] = []  # виды кусков кода, уже проверенные axe
    with desktop_browser(require_chromium()) as browser:
        for page in CHECKED_PAGES:
            url = base + page.removesuffix("index.html")
            found = page_violations(browser, url, axe_script, code_styles)
            for scheme, violations in found.items():
                problems += describe(page, scheme, violations)
    assert not problems, "\n".join(problems)
