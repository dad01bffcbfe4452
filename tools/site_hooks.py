"""Хуки MkDocs: публикуют корневую папку img/ и проверяют фрагменты кода.

Скриншоты лежат не в docs/, а в img/ в корне репозитория (так их видно и в
README, и на сайте). MkDocs берёт файлы только из docs_dir, поэтому перед
сборкой мы добавляем каждый файл из img/ в список файлов сайта под путём
`img/...`. Ссылки на страницах пишутся относительно docs/: со страницы
`docs/lab1/task3.md` картинка — `../img/lab1/task3/page-server.svg`.
Символические ссылки не нужны, и checkout на Windows работает так же.

Так же публикуются программы лабораторной (laboratory_work_1/**/*.py и *.html):
страница шага показывает только изменившиеся строки, а ссылка «весь файл»
ведёт на сам файл — со страницы `docs/lab1/task4/step-2.md` это
`../../laboratory_work_1/task4/steps/02-rooms/server.py`.

Перед каждой сборкой (и каждой пересборкой в `mkdocs serve`) хук запускает
страж фрагментов tools/snippets.py и пишет каждую его ошибку предупреждением:
`mkdocs serve` говорит о сдвинувшемся диапазоне сразу, а `mkdocs build --strict`
на нём падает.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "img"
LAB = ROOT / "laboratory_work_1"
# Рядом с картинками лежат стенограммы (*.txt) для теста — на сайт идут только картинки.
PICTURES = {".svg", ".png", ".jpg", ".jpeg", ".webp"}
GUARD = Path(__file__).resolve().parent / "snippets.py"

# Имя под mkdocs.plugins: MkDocs печатает такие сообщения как свои, а в строгом
# режиме считает предупреждения и обрывает сборку.
log = logging.getLogger("mkdocs.plugins.snippets")


def load_guard():
    """Свежий модуль стража: в `mkdocs serve` правка snippets.py видна сразу."""
    spec = importlib.util.spec_from_file_location("site_hooks_snippets", GUARD)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses ищут модуль по имени
    spec.loader.exec_module(module)
    return module


def check_snippets(root: Path) -> int:
    """Проверяет фрагменты в репозитории root и предупреждает о каждой ошибке."""
    problems = load_guard().check(root)
    for problem in problems:
        log.warning("snippets: %s", problem)
    if problems:
        log.info(
            "snippets: ошибок: %d — подробности и исправление: "
            "python tools/snippets.py check / fix / lock",
            len(problems),
        )
    return len(problems)


def on_pre_build(config) -> None:
    # корень репозитория — папка mkdocs.yml (страж ищет docs/ и код от неё)
    check_snippets(Path(config["config_file_path"]).resolve().parent)


def published(path: Path) -> bool:
    """Картинки из img/ и исходники лабораторной — то, что идёт на сайт как есть."""
    if not path.is_file():
        return False
    if path.is_relative_to(IMAGES):
        return path.suffix.lower() in PICTURES
    return path.suffix in {".py", ".html"} and "__pycache__" not in path.parts


def on_files(files: Files, config) -> Files:
    for path in sorted([*IMAGES.rglob("*"), *LAB.rglob("*")]):
        if published(path):
            files.append(
                File(
                    path.relative_to(ROOT).as_posix(),
                    src_dir=str(ROOT),
                    dest_dir=config["site_dir"],
                    use_directory_urls=config["use_directory_urls"],
                )
            )
    return files
