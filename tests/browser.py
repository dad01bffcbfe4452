"""Headless Chromium для тестов и скриншотов — только стандартная библиотека.

Браузер управляется по протоколу DevTools (CDP) через ``--remote-debugging-pipe``:
Chromium читает команды из дескриптора 3 и пишет ответы в дескриптор 4, каждое
сообщение — JSON и нулевой байт после него. Ни Selenium, ни Playwright, ни
веб-сокетов не нужно, и ничего не скачивается: берётся установленный браузер.

Какой браузер: путь или имя из переменной окружения ``CHROMIUM`` (в GitHub
Actions это ``google-chrome``), иначе ``chromium``, ``chromium-browser``,
``google-chrome`` из PATH. Нет браузера — тест пропускается, а если задана
переменная ``CI`` — падает (в CI браузерные проверки обязательны).

API::

    find_chromium() -> str | None        # путь к браузеру или None
    require_chromium() -> str            # для pytest: путь, иначе skip (в CI — fail)

    with Browser(width=1200, height=800) as browser:
        browser.open("http://127.0.0.1:8080/")      # переход и ожидание load
        browser.evaluate("document.title")          # JS-выражение → значение (JSON)
        browser.status()                            # HTTP-статус текущей страницы
        browser.navigate_by("document.forms[0].requestSubmit()")  # JS → новая страница
        browser.screenshot(path)                    # PNG окна (width × height)
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 20.0  # секунд на любую операцию браузера (запуск, загрузка страницы)

# Флаги для надёжного запуска без экрана, в контейнере и без сети наружу.
FLAGS = (
    "--headless",
    "--no-sandbox",  # в контейнере под root песочница Chromium не запускается
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm в контейнерах бывает крошечным
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-quic",
    "--no-proxy-server",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--remote-debugging-pipe",
)


# Ставит каналы на дескрипторы 3 (команды) и 4 (ответы) и превращается в браузер.
TRAMPOLINE = """
import os, sys
reads, writes = int(sys.argv[1]), int(sys.argv[2])
if writes == 3:
    writes = os.dup(writes)  # не затереть его, занимая 3
os.dup2(reads, 3)
os.dup2(writes, 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


# Блоки статьи вдали от экрана браузер не раскладывает (content-visibility: auto в
# docs/stylesheets/extra.css): размеров у них нет, axe не видит их текста. Для
# проверок все блоки раскладываются, как если бы их долистали.
LAY_OUT_ALL = """(() => {
  const style = document.createElement("style");
  style.textContent = ".md-typeset .highlight, .md-typeset > * " +
    "{ content-visibility: visible !important }";
  document.head.append(style);
  return document.body.offsetHeight;
})()"""


def find_chromium() -> str | None:
    """Путь к Chromium/Chrome или None."""
    wanted = os.environ.get("CHROMIUM")
    for name in [wanted] if wanted else CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """Для тестов: путь к браузеру; нет браузера — skip, а при заданной CI — fail."""
    import pytest

    if os.name != "posix":
        pytest.skip("браузерные проверки запускаются только на Linux/macOS")
    path = find_chromium()
    if path:
        return path
    wanted = os.environ.get("CHROMIUM") or " / ".join(CANDIDATES)
    if os.environ.get("CI"):
        pytest.fail(
            f"в CI нужен Chromium, а его нет ({wanted}): установите пакет chromium "
            "или задайте CHROMIUM=путь"
        )
    pytest.skip(
        f"нет Chromium ({wanted}): sudo apt-get install chromium или CHROMIUM=путь"
    )


class BrowserError(RuntimeError):
    """Браузер сообщил об ошибке, не ответил вовремя или завершился."""


class Browser:
    """Один headless Chromium с одной вкладкой, управляемый по CDP через pipe."""

    def __init__(
        self,
        executable: str | None = None,
        *,
        width: int = 1200,
        height: int = 800,
        timeout: float = TIMEOUT,
    ) -> None:
        executable = executable or find_chromium()
        if not executable:
            raise BrowserError("не найден Chromium (задайте CHROMIUM=путь)")
        self.timeout = timeout
        self._profile = Path(tempfile.mkdtemp(prefix="lab1-chromium-"))
        self._log_path = self._profile / "chromium.log"
        self._messages: queue.Queue[dict | None] = queue.Queue()
        self._events: list[dict] = []
        self._next_id = 0
        self._session = ""
        # Два канала: мы пишем в to_browser, браузер — в from_browser.
        browser_reads, to_browser = os.pipe()
        from_browser, browser_writes = os.pipe()
        # Браузер ждёт каналы на дескрипторах 3 и 4; subprocess номера не меняет,
        # поэтому их переставляет крошечный Python-трамплин перед exec браузера.
        args = [
            executable,
            *FLAGS,
            f"--user-data-dir={self._profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        with open(self._log_path, "wb") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    TRAMPOLINE,
                    str(browser_reads),
                    str(browser_writes),
                    *args,
                ],
                pass_fds=(browser_reads, browser_writes),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        os.close(browser_reads)
        os.close(browser_writes)
        self._writer = open(to_browser, "wb")
        self._reader = threading.Thread(
            target=self._read_messages, args=(from_browser,), daemon=True
        )
        self._reader.start()
        try:
            target = self._call(
                "Target.createTarget", {"url": "about:blank"}, session=False
            )
            attached = self._call(
                "Target.attachToTarget",
                {"targetId": target["targetId"], "flatten": True},
                session=False,
            )
            self._session = attached["sessionId"]
            self._call("Page.enable")
            self._call(
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": False,
                },
            )
        except BaseException:
            self.close()
            raise

    # --- канал CDP ---------------------------------------------------------------
    def _read_messages(self, fd: int) -> None:
        buffer = b""
        with open(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for message in messages:
                    self._messages.put(json.loads(message))
        self._messages.put(None)  # браузер закрыл канал

    def _next_message(self, deadline: float) -> dict:
        try:
            message = self._messages.get(
                timeout=max(deadline - time.monotonic(), 0.001)
            )
        except queue.Empty:
            raise BrowserError(
                f"браузер не ответил за {self.timeout} с{self._log_tail()}"
            ) from None
        if message is None:
            raise BrowserError(f"браузер завершился{self._log_tail()}")
        return message

    def _log_tail(self) -> str:
        try:
            tail = self._log_path.read_text(errors="replace").strip().splitlines()[-15:]
        except OSError:
            return ""
        return "\n--- журнал Chromium:\n" + "\n".join(tail) if tail else ""

    def _call(
        self, method: str, params: dict | None = None, *, session: bool = True
    ) -> dict:
        self._next_id += 1
        command: dict[str, Any] = {
            "id": self._next_id,
            "method": method,
            "params": params or {},
        }
        if session:
            command["sessionId"] = self._session
        self._writer.write(json.dumps(command).encode("utf-8") + b"\0")
        self._writer.flush()
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._next_message(deadline)
            if message.get("id") == command["id"]:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            self._events.append(message)  # событие — пригодится _wait_event

    def _wait_event(self, name: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self._events:
                if (
                    event.get("method") == name
                    and event.get("sessionId") == self._session
                ):
                    self._events.remove(event)
                    return event
            self._events.append(self._next_message(deadline))

    # --- для тестов и скриншотов ------------------------------------------------
    def open(self, url: str) -> None:
        """Переходит по адресу и ждёт события load."""
        self._events.clear()
        result = self._call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"не удалось открыть {url}: {result['errorText']}")
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Вычисляет JS-выражение на странице и возвращает значение (через JSON)."""
        result = self._call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get(
                "text"
            )
            raise BrowserError(f"ошибка JS в «{expression}»: {text}")
        return result["result"].get("value")

    def navigate_by(self, expression: str) -> None:
        """Выполняет JS, который уводит на новую страницу (отправка формы, щелчок), и
        ждёт load."""
        self._events.clear()
        self.evaluate(expression)
        self._wait_event("Page.loadEventFired")

    def status(self) -> int:
        """HTTP-статус ответа, из которого построена текущая страница."""
        return self.evaluate(
            "performance.getEntriesByType('navigation')[0].responseStatus"
        )

    def screenshot(self, path: str | os.PathLike) -> Path:
        """Сохраняет снимок окна в PNG."""
        data = self._call("Page.captureScreenshot", {"format": "png"})["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._call("Browser.close", session=False)
            except (BrowserError, OSError):
                pass
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        try:
            self._writer.close()
        except OSError:
            pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- отчёты страницы: консоль, ошибки, сеть, теневой DOM ------------------------
def watch_page(browser: Browser) -> None:
    """Включает отчёты вкладки (консоль, исключения, журнал, сеть). Их события
    копятся от каждого open() до следующего; читает их page_reports()."""
    for method in ("Runtime.enable", "Log.enable", "Network.enable"):
        browser._call(method)
    # для computed_style(): стили узлов по их nodeId из dom_tree()
    browser._call("DOM.enable")
    browser._call("CSS.enable")


def block_urls(browser: Browser, patterns: list[str]) -> None:
    """Запрещает вкладке запросы по шаблонам адресов (``*`` — что угодно)."""
    browser._call("Network.setBlockedURLs", {"urls": list(patterns)})


def _console_text(params: dict) -> str:
    parts = []
    for arg in params.get("args", []):
        value = arg.get("value", arg.get("description", ""))
        parts.append(value if isinstance(value, str) else json.dumps(value))
    return " ".join(parts)


def page_reports(browser: Browser) -> dict[str, list[str]]:
    """Что вкладка сообщила после последнего open() (нужен watch_page()):
    ``requests`` — адреса всех запросов, ``errors`` — ошибки консоли, исключения
    JS, ошибки журнала браузера и несостоявшиеся загрузки."""
    browser._call("Runtime.evaluate", {"expression": "0"})  # дочитать события
    requests: dict[str, str] = {}
    errors: list[str] = []
    for event in browser._events:
        if event.get("sessionId") != browser._session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            requests[params["requestId"]] = params["request"]["url"]
        elif method == "Network.loadingFailed":
            url = requests.get(params.get("requestId"), "?")
            reason = params.get("blockedReason") or params.get("errorText")
            errors.append(f"не загрузилось {url}: {reason}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get(
                "text"
            )
            errors.append(f"исключение JS: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in (
            "error",
            "assert",
        ):
            errors.append(f"console.{params['type']}: {_console_text(params)}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            errors.append(f"журнал: {entry.get('text')} ({entry.get('url', '')})")
    return {"requests": list(requests.values()), "errors": errors}


def dom_tree(browser: Browser) -> dict:
    """Весь DOM страницы вместе с теневыми корнями, и закрытыми тоже (их не видно
    из JS страницы, а по CDP видно): узлы с localName, attributes, children,
    shadowRoots, nodeValue."""
    return browser._call("DOM.getDocument", {"depth": -1, "pierce": True})["root"]


def computed_style(browser: Browser, node_id: int) -> dict[str, str]:
    """Вычисленный стиль узла из dom_tree() — и внутри закрытого теневого корня
    (нужен watch_page() до open())."""
    style = browser._call("CSS.getComputedStyleForNode", {"nodeId": node_id})
    return {item["name"]: item["value"] for item in style["computedStyle"]}


def rendered_width(browser: Browser, node_id: int) -> float:
    """Ширина узла из dom_tree() на экране, в CSS-пикселях (и внутри закрытого
    теневого корня, куда JS страницы не достаёт)."""
    model = browser._call("DOM.getBoxModel", {"nodeId": node_id})["model"]
    return float(model["width"])


def resize(browser: Browser, width: int, height: int) -> None:
    """Меняет размер окна вкладки (как другой экран); страницу открыть заново."""
    browser._call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def forget_site_data(browser: Browser, origin: str) -> None:
    """Стирает localStorage сайта: страница откроется как у нового читателя."""
    browser._call(
        "Storage.clearDataForOrigin",
        {"origin": origin, "storageTypes": "local_storage"},
    )
