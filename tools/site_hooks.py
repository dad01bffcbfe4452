"""Хуки MkDocs: публикуют корневую папку img/ и проверяют фрагменты кода.

Скриншоты лежат не в docs/, а в img/ в корне репозитория (так их видно и в
README, и на сайте). MkDocs берёт файлы только из docs_dir, поэтому перед
сборкой мы добавляем каждый файл из img/ в список файлов сайта под путём
`img/...`. Ссылки на страницах пишутся относительно docs/: со страницы
`docs/lab1/task1.md` картинка — `../img/lab1/task1/greeting-server.svg`.
Символические ссылки не нужны, и checkout на Windows работает так же.

Так же публикуются программы лабораторной (laboratory_work_1/**/*.py и *.html):
страница шага показывает только изменившиеся строки, а ссылка «весь файл»
ведёт на сам файл — со страницы `docs/lab1/task4/step-2.md` это
`../../laboratory_work_1/task4/steps/02-rooms/server.py`.

Перед каждой сборкой (и каждой пересборкой в `mkdocs serve`) хук запускает
страж фрагментов tools/snippets.py и пишет каждую его ошибку предупреждением:
`mkdocs serve` говорит о сдвинувшемся диапазоне сразу, а `mkdocs build --strict`
на нём падает.

Mermaid (диаграммы) идёт вместе с сайтом, а не с CDN: версия закреплена в
package.json, а её контрольная сумма — в package-lock.json. Хук берёт пакет
обычным клиентом (`npm pack mermaid@ВЕРСИЯ`), сверяет архив с суммой из
package-lock.json и кладёт dist/mermaid.min.js в кэш пользователя
(~/.cache/lab1-site/); на сайт файл попадает как `javascripts/mermaid.min.js`
(его подключает extra_javascript в mkdocs.yml). npm нужен только при первой
сборке с новой версией; без него строгая сборка падает с понятным сообщением.

Просмотрщик картинок (плагин glightbox) ставит свой скрипт и стили в <head>, и
страница не показывается, пока они не загрузятся, хотя нужны они только по
щелчку на картинке. Хук переносит их в конец <body>, прямо перед строкой,
которая запускает просмотрщик (on_post_page). Без хука (Zensical хуков не
запускает) сайт работает так же, только первый показ страницы позже.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "img"
LAB = ROOT / "laboratory_work_1"
# Рядом с картинками лежат стенограммы (*.txt) для теста — на сайт идут только картинки.
PICTURES = {".svg", ".png", ".jpg", ".jpeg", ".webp"}
GUARD = Path(__file__).resolve().parent / "snippets.py"
# Пакеты npm: закреплённые версии и их суммы — в package-lock.json.
PACKAGE_LOCK = ROOT / "package-lock.json"
# Mermaid на сайте — по адресу MERMAID_ON_SITE, в пакете — MERMAID_IN_PACKAGE.
MERMAID_ON_SITE = "javascripts/mermaid.min.js"
MERMAID_IN_PACKAGE = "package/dist/mermaid.min.js"

# Имя под mkdocs.plugins: MkDocs печатает такие сообщения как свои, а в строгом
# режиме считает предупреждения и обрывает сборку.
log = logging.getLogger("mkdocs.plugins.snippets")
mermaid_log = logging.getLogger("mkdocs.plugins.mermaid")


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


def locked_package(name: str, lock_path: Path = PACKAGE_LOCK) -> tuple[str, str]:
    """Версия и сумма (integrity, «sha512-…») пакета name из package-lock.json."""
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    entry = lock["packages"][f"node_modules/{name}"]
    return entry["version"], entry["integrity"]


def cache_dir() -> Path:
    """Кэш вне репозитория: скачанный файл общий для всех копий проекта."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lab1-site"


def integrity_of(data: bytes) -> str:
    """Сумма в записи npm (Subresource Integrity): sha512-<base64>."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def npm_pack(name: str, version: str, integrity: str, destination: Path) -> Path:
    """Архив пакета name@version: `npm pack` в пустую папку destination и сверка
    с суммой из package-lock.json. Так берут пакеты и хук (Mermaid), и тесты
    (tests/npm_packages.py). RuntimeError — нет npm, npm не смог, архив не тот."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            f"нужен npm, чтобы один раз взять {name}@{version}: установите Node.js"
        )
    # cwd — пустая папка: иначе npm pack упаковал бы сам проект
    done = subprocess.run(
        [npm, "pack", f"{name}@{version}", "--json", "--pack-destination", destination],
        cwd=destination,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"npm pack {name}@{version} не удался: {done.stderr.strip()[-500:]}"
        )
    archive = destination / json.loads(done.stdout)[0]["filename"]
    if integrity_of(archive.read_bytes()) != integrity:
        raise RuntimeError(
            f"архив {name}@{version} не совпал с суммой из package-lock.json"
        )
    return archive


def fetch_mermaid(version: str, integrity: str, target: Path) -> None:
    """Берёт пакет mermaid@version через npm, сверяет сумму, кладёт mermaid.min.js."""
    with tempfile.TemporaryDirectory(prefix="lab1-mermaid-") as tmp:
        archive = npm_pack("mermaid", version, integrity, Path(tmp))
        with tarfile.open(archive) as tar:
            try:
                script = tar.extractfile(MERMAID_IN_PACKAGE).read()
            except (KeyError, AttributeError):
                raise RuntimeError(
                    f"в mermaid@{version} нет {MERMAID_IN_PACKAGE}"
                ) from None
    # запись через временный файл: две параллельные сборки не увидят половину файла
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    partial.write_bytes(script)
    os.replace(partial, target)


def mermaid_script() -> Path | None:
    """mermaid.min.js закреплённой версии (из кэша или только что взятый)."""
    version, integrity = locked_package("mermaid")
    cached = cache_dir() / f"mermaid-{version}.min.js"
    if not cached.is_file():
        mermaid_log.info("mermaid: беру mermaid@%s через npm (один раз)", version)
        try:
            fetch_mermaid(version, integrity, cached)
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as error:
            mermaid_log.warning(
                "mermaid: %s; сайт собран без Mermaid — диаграммы останутся текстом",
                error,
            )
            return None
    return cached


def on_files(files: Files, config) -> Files:
    script = mermaid_script()
    if script is not None:
        files.append(File.generated(config, MERMAID_ON_SITE, abs_src_path=str(script)))
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


# Что плагин glightbox вставляет в <head> и чем он запускает просмотрщик в <body>
LIGHTBOX_FILES = re.compile(
    r'<link href="[^"]*glightbox\.min\.css" rel="stylesheet">'
    r'|<script src="[^"]*glightbox\.min\.js"></script>'
)
LIGHTBOX_START = '<script id="init-glightbox">'


@event_priority(-100)  # после плагина glightbox: он вставляет их в on_post_page
def on_post_page(output: str, page, config) -> str:
    """Скрипт и стили просмотрщика — из <head> в конец <body>: первый показ
    страницы их не ждёт (Lighthouse: render-blocking resources)."""
    head, end_of_head, body = output.partition("</head>")
    moved = LIGHTBOX_FILES.findall(head)
    if not moved or LIGHTBOX_START not in body:
        return output
    body = body.replace(LIGHTBOX_START, "".join(moved) + LIGHTBOX_START, 1)
    return LIGHTBOX_FILES.sub("", head) + end_of_head + body
