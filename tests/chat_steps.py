"""Шаги чата (задание 4): какие есть, где лежат и что умеет каждый.

Путь от типичного решения к нашему — папки laboratory_work_1/task4/steps/NN-имя/,
последний шаг — сам laboratory_work_1/task4/server.py. Каждый шаг умеет всё, что
умел предыдущий, и ещё одну «тему» (feature). Тесты протокола помечены темой,
которая им нужна, и запускаются на каждом шаге, где эта тема уже есть.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import LAB

TASK4 = LAB / "task4"
STEPS = [
    "00-typical",
    "01-minimal",
    "02-rooms",
    "03-hostile-input",
    "04-slow-readers",
    "final",
    "06-thread-pool",
]
# Тема → шаг, который её приносит.
FEATURES = {
    "jim": "01-minimal",  # JIM, presence, #general, quit, строки по "\n"
    "rooms": "02-rooms",  # комнаты, личные сообщения, коды 403/404
    "hostile": "03-hostile-input",  # предел строки, сроки, probe, чистка текста
    "slow_readers": "04-slow-readers",  # писатель, очередь клиента, остановка
    "final": "final",  # пачки, два писателя, --log-level и -q
    "pool": "06-thread-pool",  # пул потоков-обработчиков вместо потока на соединение
}


def step_dir(step: str) -> Path:
    return TASK4 if step == "final" else TASK4 / "steps" / step


def server_path(step: str) -> Path:
    return step_dir(step) / "server.py"


def has(step: str, feature: str) -> bool:
    return STEPS.index(step) >= STEPS.index(FEATURES[feature])


def steps_with(*features: str) -> list[str]:
    """Шаги, у которых есть все названные темы."""
    return [step for step in STEPS if all(has(step, f) for f in features)]


def fixed_by(feature: str, fault: str) -> pytest.MarkDecorator:
    """Параметры step: все шаги; до шага с темой feature — ожидаемый провал.

    strict=True: если недостаток шага вдруг перестал проявляться, тест упадёт —
    значит, описание шага на сайте больше не правда.
    """
    params = []
    for step in STEPS:
        marks = []
        if not has(step, feature):
            reason = f"шаг {step}: {fault}; исправлено в {FEATURES[feature]}"
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(step, marks=marks, id=step))
    return pytest.mark.parametrize("step", params)


def task_name(step: str) -> str:
    """Имя «задания» для support.start_server: папка относительно laboratory_work_1."""
    return step_dir(step).relative_to(LAB).as_posix()


def protocol_steps(*features: str, until: str | None = None) -> list[str]:
    """Шаги, у которых есть JIM и все названные темы; until — тема, с которой
    тест к шагу уже неприменим. По этому же списку считает tools/steps_table.py."""
    steps = steps_with("jim", *features)
    if until is not None:
        steps = [step for step in steps if not has(step, until)]
    return steps


def on_steps(*features: str, until: str | None = None) -> pytest.MarkDecorator:
    """Параметр step: каждый шаг из protocol_steps(*features, until=until)."""
    return pytest.mark.parametrize("step", protocol_steps(*features, until=until))
