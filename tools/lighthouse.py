"""Lighthouse по всему сайту: таблица оценок и выход не 0 ниже целей.

    .venv/bin/python tools/lighthouse.py     # собрать сайт, проверить все страницы
    .venv/bin/python tools/lighthouse.py --site site --pages lab1/task4/index.html

Сайт собирается (`mkdocs build --strict`) во временную папку и раздаётся с
127.0.0.1 на свободном порту; Lighthouse открывает каждую страницу меню дважды: как
телефон (по умолчанию Lighthouse — Moto G Power, медленный 4G, процессор в 4 раза
медленнее) и как компьютер (`--preset=desktop`). Цели (issue 13): доступность не
ниже 95 и производительность не ниже 90 на телефоне — на каждой странице; на
компьютере доступность та же, производительность печатается для сведения.

Сервер сжимает текст gzip, как GitHub Pages, где сайт живёт: без сжатия
(`python3 -m http.server`) Lighthouse мерил бы не сайт, а сервер — страница с
кодом весит в 4–6 раз больше, чем дойдёт до читателя. `--plain` раздаёт без сжатия.
Сжатое готовится один раз при запуске, а соединение держится для следующих
запросов (HTTP/1.1 keep-alive) — тоже как у GitHub Pages.

Lighthouse закреплён в package.json (devDependencies) вместе со всеми зависимостями
в package-lock.json (контрольные суммы). Скрипт ставит их обычным `npm ci` в кэш
пользователя (~/.cache/lab1-site/npm-<сумма lock-файла>/, один раз на версию
lock-файла; --ignore-scripts: пакеты ничего не запускают и браузер не скачивают).
Браузер — Chromium из Debian (`/usr/bin/chromium` или CHROME_PATH).

Оценки производительности зависят от загрузки машины: Lighthouse умножает время
работы процессора, которое он увидел. Запускайте на свободной машине; `--runs 3`
берёт медиану трёх прогонов. Ещё одна причина разброса — сам headless Chromium:
первый кадр страницы в нём иногда приходит на 1–2 с позже, чем страница готова
(GoogleChrome/lighthouse #17148), и оценка одной и той же страницы прыгает
между двумя режимами. `--reports ПАПКА` сохраняет отчёт каждой страницы (HTML и
JSON): в JSON видно, какой это был прогон (metrics → observedFirstContentfulPaint).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import site_hooks  # noqa: E402 — кэш тот же, что у Mermaid

# Цели: категория → наименьшая оценка (0–100) на телефоне и на компьютере
TARGETS = {
    "mobile": {"performance": 90, "accessibility": 95},
    "desktop": {"accessibility": 95},
}
FORM_FACTORS = {"mobile": [], "desktop": ["--preset=desktop"]}
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu"
# Что GitHub Pages отдаёт сжатым (картинки PNG уже сжаты)
COMPRESSED = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".py"}
# Метрики, по которым видно, куда ушла производительность
METRICS = {
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "speed-index": "SI",
}
RUN_TIMEOUT = 180  # секунд на один прогон Lighthouse


def lighthouse_command() -> Path:
    """lighthouse из закреплённого package-lock.json (ставится один раз)."""
    lock = (ROOT / "package-lock.json").read_bytes()
    home = site_hooks.cache_dir() / f"npm-{hashlib.sha256(lock).hexdigest()[:12]}"
    command = home / "node_modules" / ".bin" / "lighthouse"
    if command.is_file():
        return command
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("нужен npm (Node.js), чтобы один раз поставить Lighthouse")
    home.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(ROOT / name, home / name)
    print(f"ставлю пакеты из package-lock.json в {home} (один раз)…", flush=True)
    done = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=home
    )
    if done.returncode != 0 or not command.is_file():
        sys.exit("npm ci не поставил lighthouse — см. сообщения npm выше")
    return command


def chromium() -> str:
    path = os.environ.get("CHROME_PATH") or shutil.which("chromium")
    if not path:
        sys.exit("нужен Chromium: sudo apt-get install chromium (или CHROME_PATH)")
    return path


def build_site(target: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"]
    done = subprocess.run([*command, "--site-dir", str(target)], cwd=ROOT, env=env)
    if done.returncode != 0:
        sys.exit("mkdocs build --strict не прошёл")


def site_pages() -> list[str]:
    """Все страницы меню сайта: главная, лабораторная, «Как устроен этот сайт»."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    config = load_config(str(ROOT / "mkdocs.yml"))
    return sorted(page.dest_uri for page in get_files(config).documentation_pages())


def serve(directory: Path, compress: bool) -> http.server.ThreadingHTTPServer:
    """Сайт по HTTP на 127.0.0.1 (порт выбирает система), текст — в gzip."""
    directory = directory.resolve()
    # Текст сжат заранее, один раз (GitHub Pages тоже отдаёт готовое): сжимать
    # при каждом запросе — это сотни миллисекунд процессора на индекс поиска,
    # которые Lighthouse приписал бы странице.
    compressed = {
        path: gzip.compress(path.read_bytes(), compresslevel=6)
        for path in directory.rglob("*")
        if compress and path.suffix in COMPRESSED and path.is_file()
    }

    class Handler(http.server.SimpleHTTPRequestHandler):
        # Соединение держится для следующих запросов (keep-alive), как у GitHub
        # Pages (HTTP/2): с HTTP/1.0 каждый файл — новое TCP-соединение, и
        # Lighthouse добавлял бы каждому файлу страницы лишний круг по сети.
        protocol_version = "HTTP/1.1"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def send_head(self):
            path = Path(self.translate_path(self.path))
            if path.is_dir():
                if not urlsplit(self.path).path.endswith("/"):
                    return super().send_head()  # …/task1 → …/task1/
                path = path / "index.html"
            wants = "gzip" in self.headers.get("Accept-Encoding", "")
            body = compressed.get(path) if wants else None
            if body is None:
                return super().send_head()  # без сжатия или 404 — как обычно
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.body = body
            return None

        def do_GET(self):
            self.body = None
            head = self.send_head()
            if self.body is not None:
                self.wfile.write(self.body)
            elif head:
                try:
                    self.copyfile(head, self.wfile)
                finally:
                    head.close()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_lighthouse(
    command: Path, url: str, form: str, out: Path, report: Path | None
) -> dict:
    """Один прогон: оценки категорий (0–100) и главные метрики страницы."""
    formats = ["--output=json"] + (["--output=html"] if report else [])
    done = subprocess.run(
        [
            str(command),
            url,
            "--only-categories=performance,accessibility",
            f"--chrome-flags={CHROME_FLAGS}",
            *FORM_FACTORS[form],
            *formats,
            f"--output-path={out}",
            "--quiet",
        ],
        env=dict(os.environ, CHROME_PATH=chromium()),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    json_path = out.with_suffix(".report.json") if report else out
    if done.returncode != 0 or not json_path.is_file():
        raise RuntimeError(f"lighthouse {url} ({form}): {done.stderr.strip()[-800:]}")
    result = json.loads(json_path.read_text(encoding="utf-8"))
    if report:
        shutil.move(out.with_suffix(".report.html"), report)
        shutil.copyfile(json_path, report.with_suffix(".json"))  # для разбора
    if result.get("runtimeError"):
        raise RuntimeError(f"lighthouse {url} ({form}): {result['runtimeError']}")
    scores = {
        name: round(category["score"] * 100)
        for name, category in result["categories"].items()
    }
    metrics = {
        short: result["audits"][audit].get("displayValue", "")
        for audit, short in METRICS.items()
    }
    return {
        "scores": scores,
        "metrics": metrics,
        "version": result["lighthouseVersion"],
    }


def measure(
    command: Path, base: str, page: str, form: str, runs: int, reports: Path | None
) -> dict:
    """Медиана оценок за runs прогонов (метрики — последнего прогона)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="lab1-lighthouse-") as tmp:
        for number in range(runs):
            report = None
            if reports and number == runs - 1:
                name = page.removesuffix("index.html").strip("/") or "home"
                report = reports / f"{name.replace('/', '-')}-{form}.html"
            out = Path(tmp) / f"run-{number}"
            results.append(run_lighthouse(command, base + page, form, out, report))
    scores = {
        name: round(statistics.median(r["scores"][name] for r in results))
        for name in results[0]["scores"]
    }
    return {**results[-1], "scores": scores}


def shortfalls(page: str, form: str, scores: dict) -> list[str]:
    return [
        f"{page} ({form}): {category} {scores[category]} < {least}"
        for category, least in TARGETS[form].items()
        if scores[category] < least
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="уже собранный сайт (иначе собрать)")
    parser.add_argument(
        "--pages", nargs="+", help="страницы (путь в сайте, …/index.html)"
    )
    parser.add_argument("--runs", type=int, default=1, help="прогонов на страницу")
    parser.add_argument("--plain", action="store_true", help="раздавать без gzip")
    parser.add_argument(
        "--mobile-only", action="store_true", help="только телефон (для отладки)"
    )
    parser.add_argument("--reports", type=Path, help="папка для HTML-отчётов")
    parser.add_argument("--json", type=Path, help="записать все оценки в файл JSON")
    args = parser.parse_args()

    command = lighthouse_command()
    pages = args.pages or site_pages()
    if args.reports:
        args.reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lab1-site-") as tmp:
        site = args.site or Path(tmp)
        if args.site is None:
            build_site(site)
        server = serve(site, compress=not args.plain)
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            table, failed = {}, []
            header = f"{'страница':<32} {'телефон':>17} {'компьютер':>17}"
            header += f"\n{'':<32} {'произв.':>8} {'доступ.':>8} {'произв.':>8}"
            header += f" {'доступ.':>8}  метрики телефона"
            print(header, flush=True)
            for page in pages:
                forms = ["mobile"] if args.mobile_only else list(FORM_FACTORS)
                row = {
                    form: measure(command, base, page, form, args.runs, args.reports)
                    for form in forms
                }
                skipped = {"scores": {"performance": "-", "accessibility": "-"}}
                row.setdefault("desktop", skipped)
                table[page] = row
                mobile, desktop = row["mobile"]["scores"], row["desktop"]["scores"]
                metrics = ", ".join(
                    f"{k} {v}" for k, v in row["mobile"]["metrics"].items()
                )
                print(
                    f"{page:<32} {mobile['performance']:>8} "
                    f"{mobile['accessibility']:>8} {desktop['performance']:>8} "
                    f"{desktop['accessibility']:>8}  {metrics}",
                    flush=True,
                )
                for form in forms:
                    failed += shortfalls(page, form, row[form]["scores"])
        finally:
            server.shutdown()
            server.server_close()
    if args.json:
        args.json.write_text(json.dumps(table, ensure_ascii=False, indent=2) + "\n")
    version = next(iter(table.values()))["mobile"]["version"]
    served = "без сжатия" if args.plain else "gzip"
    print(f"\nLighthouse {version}, сайт раздан с 127.0.0.1 ({served})")
    if failed:
        print("ниже целей:\n  " + "\n  ".join(failed))
        return 1
    print("все страницы достигают целей")
    return 0


if __name__ == "__main__":
    sys.exit(main())
