"""Настройки стенда: пути, адрес, размеры сценариев и общая ошибка.

SCALES — все объёмы, темпы и пределы времени в одном месте: `full` — для
отчёта на сайте, `tiny` — крошечный прогон, который запускают тесты (секунды
на сервер). Раунды и разгон заданы по «ярусам» серверов (servers.ServerSpec.tier):
финальный сервер меряется дольше всех (его цели — самые точные числа отчёта),
asyncio — чуть меньше, шаги 0–4 — одним-двумя раундами без разгона: шаги 1–3
на пачке в десять раз медленнее, и иначе полный прогон семи серверов не
уложится в десять минут. Отчёт об этом говорит.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
ENTRY = TOOLS / "chat_bench.py"  # команда стенда: python tools/chat_bench.py
TASK4 = ROOT / "laboratory_work_1" / "task4"
DEFAULT_OUT = TOOLS / "bench-out"
DOCS_OUT = ROOT / "docs" / "lab1" / "bench"
HOST = "127.0.0.1"


class BenchError(Exception):
    """Ожидаемая ошибка стенда: одна строка «Ошибка: …» и код выхода 1."""


SCALES = {
    "full": {
        # Пачка длится полсекунды и шумит на ±20 % (на тех же двух ядрах — генератор,
        # машина виртуальная) — поэтому несколько раундов подряд и итог по всем вместе.
        "burst": {
            "clients": 50,
            "messages": 100,
            "rounds": {"final": 6, "asyncio": 4, "step": 1},
            # разгонный раунд, который не считаем
            "warmup": {"final": True, "asyncio": True, "step": False},
        },
        "latency": {"clients": 50, "rate": 400, "seconds": 4.0},
        # Все серверы держат по 1000 клиентов сразу, раунды идут по кругу.
        "scale": {"clients": 1000, "rate": 10, "seconds": 9.0, "rounds": 3},
        # Граница очереди медленного — меньше, чем ему адресует один раунд сценария 1.
        # Пар раундов у финального больше: отношение в паре «с молчуном / без» гуляет
        # на ±20 %, а порог — 0,9; по 10 парам разброс итога — около 6 %. Шаги без
        # границы очереди встают в первом же раунде с молчуном.
        "stalled": {
            "rcvbuf": 4096,
            "backlog": 1 << 19,
            "step": 1 << 16,
            "text": 500,
            "rounds": {"final": 10, "asyncio": 3, "step": 2},
        },
        "flood": {
            "chatters": 20,
            "rate": 200,
            "seconds": 4.0,
            "idle": 500,
            "handshake": 5.0,
        },
        "hostile": {
            "chatters": 20,
            "rate": 100,
            "seconds": 4.0,
            "random_conns": 8,
            "random_bytes": 16384,
            "answer_quiet": 0.5,  # сколько ждать ответов на мусор
            "long_lines": 2,
            "long_size": 1 << 20,
            "wrong_shapes": 10_000,
            "escape_msgs": 200,
            "resets": 40,
        },
        # Вход и выход: столько клиентов одновременно, столько секунд.
        "churn": {"parallel": 8, "seconds": 3.0, "cycle_timeout": 3.0},
        # сколько ждать новых доставок, прежде чем счесть остальное потерянным
        "quiet": 2.0,
        "settle": 0.3,  # тишина после регистрации, прежде чем начать замер
        "setup": 60.0,  # предел на подключение и регистрацию
        "phase": 60.0,  # предел на одну фазу отправки
        "probe_grace": 4.0,  # сколько враждебные проверки ждут ответа после чата
        "alive_timeout": 3.0,  # сколько ждать ответа от сервера после атаки
        "budget": 780.0,  # жёсткий предел на весь прогон
    },
    "tiny": {
        # Сценарию 4 раунд должен адресовать медленному больше границы его очереди.
        "burst": {
            "clients": 3,
            "messages": 800,
            "rounds": {"final": 1, "asyncio": 1, "step": 1},
            "warmup": {"final": False, "asyncio": False, "step": False},
        },
        "latency": {"clients": 4, "rate": 40, "seconds": 0.3},
        "scale": {"clients": 30, "rate": 20, "seconds": 0.4, "rounds": 2},
        "stalled": {
            "rcvbuf": 4096,
            # Раунд (3 × 800 строк, ≈260 КБ) — вчетверо больше границы: с
            # раундом 130 КБ и границей 128 КБ под нагрузкой молчун иногда не
            # переходил её — часть раунда успевало взять ядро.
            "backlog": 1 << 16,
            "step": 1 << 15,
            "text": 500,
            "rounds": {"final": 1, "asyncio": 1, "step": 1},
        },
        "flood": {
            "chatters": 4,
            "rate": 40,
            "seconds": 0.3,
            "idle": 20,
            "handshake": 0.5,
        },
        "hostile": {
            "chatters": 4,
            "rate": 40,
            "seconds": 0.4,
            "random_conns": 2,
            "random_bytes": 4096,
            "answer_quiet": 0.25,
            "long_lines": 1,
            "long_size": 1 << 18,
            "wrong_shapes": 200,
            "escape_msgs": 10,
            "resets": 4,
        },
        "churn": {"parallel": 8, "seconds": 0.3, "cycle_timeout": 1.0},
        "quiet": 0.4,
        "settle": 0.1,
        "setup": 10.0,
        "phase": 10.0,
        "probe_grace": 1.0,
        "alive_timeout": 1.0,
        "budget": 60.0,
    },
}
