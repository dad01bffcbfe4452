"""Хук MkDocs: публикует корневую папку img/ как часть сайта.

Скриншоты лежат не в docs/, а в img/ в корне репозитория (так их видно и в
README, и на сайте). MkDocs берёт файлы только из docs_dir, поэтому перед
сборкой мы добавляем каждый файл из img/ в список файлов сайта под путём
`img/...`. Ссылки на страницах пишутся относительно docs/: со страницы
`docs/lab1/task4.md` картинка — `../img/lab1/task4/chat-server.svg`.
Символические ссылки не нужны, и checkout на Windows работает так же.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "img"
# Рядом с картинками лежат стенограммы (*.txt) для теста — на сайт идут только картинки.
PICTURES = {".svg", ".png", ".jpg", ".jpeg", ".webp"}


def on_files(files: Files, config) -> Files:
    for path in sorted(IMAGES.rglob("*")):
        if path.is_file() and path.suffix.lower() in PICTURES:
            files.append(
                File(
                    path.relative_to(ROOT).as_posix(),
                    src_dir=str(ROOT),
                    dest_dir=config["site_dir"],
                    use_directory_urls=config["use_directory_urls"],
                )
            )
    return files
