"""Сайт собирается строго, без предупреждений, и показывает то, что обещает."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

PAGES = ["index.html", "lab1/index.html"] + [
    f"lab1/task{n}/index.html" for n in range(1, 6)
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return out, log


def test_strict_build_has_no_warnings(site):
    _, log = site
    assert not re.search(r"^(WARNING|ERROR)\b", log, re.M), log


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_built(site, page):
    out, _ = site
    assert (out / page).is_file()


def test_cyrillic_headings_get_readable_anchors(site):
    out, _ = site
    html = (out / "lab1/index.html").read_text(encoding="utf-8")
    assert 'id="как-собрать-сайт-и-запустить-тесты"' in html
    # вкладки тоже получают читаемые якоря (pymdownx.tabbed со slugify)
    assert 'id="задание-4"' in html


def test_no_embedded_code_block_is_empty(site):
    """Двойная страховка к стражу: пустой блок кода на странице — всегда ошибка."""
    out, _ = site
    empty = re.compile(r"<code>\s*</code>")
    for page in PAGES:
        html = (out / page).read_text(encoding="utf-8")
        assert not empty.search(html), page


def test_screenshots_from_img_are_published(site):
    out, _ = site
    pictures = [p for p in (ROOT / "img").rglob("*") if p.suffix in {".svg", ".png"}]
    for picture in pictures:
        assert (out / picture.relative_to(ROOT)).is_file(), picture
    # и каждая картинка, на которую ссылается страница, существует в собранном сайте
    for page in PAGES:
        html = (out / page).read_text(encoding="utf-8")
        for src in re.findall(r'<img[^>]+src="([^"]+)"', html):
            if src.startswith(("http:", "https:", "data:")):
                continue
            target = ((out / page).parent / src).resolve()
            assert target.is_file(), f"{page}: {src}"
