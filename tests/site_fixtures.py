"""Фикстуры собранного сайта — одна сборка на весь прогон.

Сайт нужен трём модулям тестов (test_site.py, test_site_reading.py,
test_site_a11y.py), а сборка — больше десяти секунд процессора. Фикстуры с
областью «сессия» объявлены здесь (conftest.py подключает модуль через
pytest_plugins). Процессы xdist собирают сайт один раз на всех: первый — под
замком (filelock) в общей временной папке прогона, остальные ждут замка и берут
готовое, как советует документация pytest-xdist («Making session-scoped
fixtures execute only once»). Тесты сайт только читают.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from filelock import FileLock
from support import ROOT

# Сайт собирается так, как его публикует GitHub Pages: по пути проекта и со
# ссылками на репозиторий (адреса — примерные, см. site_url в mkdocs.yml).
SITE_URL = "http://127.0.0.1:8000/lab1-sockets/"
REPO_URL = "https://github.com/example/lab1-sockets"


@pytest.fixture(scope="session")
def site(tmp_path_factory, worker_id) -> tuple[Path, str]:
    """Папка собранного сайта и вывод MkDocs."""
    if worker_id == "master":  # без xdist
        return build_site(tmp_path_factory.mktemp("site"))
    shared = tmp_path_factory.getbasetemp().parent  # общая для процессов xdist
    out, log_file = shared / "site", shared / "site.log"
    with FileLock(shared / "site.lock"):
        if not log_file.is_file():  # файл вывода пишется последним: сборка готова
            _, log = build_site(out)
            log_file.write_text(log, encoding="utf-8")
    return out, log_file.read_text(encoding="utf-8")


def build_site(out: Path) -> tuple[Path, str]:
    """mkdocs build --strict в папку out, как публикует GitHub Pages."""
    # Вывод MkDocs — в UTF-8 на любой ОС (на Windows иначе cp1252).
    env = dict(
        os.environ,
        NO_MKDOCS_2_WARNING="1",
        PYTHONIOENCODING="utf-8",
        SITE_URL=SITE_URL,
        REPO_URL=REPO_URL,
        EDIT_URI="edit/main/docs/",
    )
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


@pytest.fixture(scope="session")
def served_site(site):
    """Собранный сайт по HTTP на свободном порту 127.0.0.1 (как у читателя) и
    словарь extra: «путь → HTML» для страниц, которых нет на диске."""
    out, _ = site
    extra: dict[str, bytes] = {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(out), **kwargs)

        def do_GET(self):
            body = extra.get(self.path.lstrip("/"))
            if body is None:
                return super().do_GET()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # журнал запросов тесту не нужен
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield out, f"http://127.0.0.1:{server.server_address[1]}/", extra
    finally:
        server.shutdown()
        server.server_close()
