"""Фикстуры, общие для всех тестов."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import Program  # noqa: E402

# Фикстуры собранного сайта (site, served_site) — одна сборка на процесс.
pytest_plugins = ["site_fixtures"]

# Тесты свойств (hypothesis) гоняют настоящие серверы, поэтому в наборе примеров
# мало, а порядок их детерминирован: набор обязан проходить одинаково каждый раз.
# Долгий прогон — отдельной командой (см. README):
#   .venv/bin/python -m pytest -m fuzz --hypothesis-profile=fuzz
_COMMON = dict(
    deadline=None,  # сервер в подпроцессе отвечает за разное время — это не ошибка
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("suite", max_examples=20, derandomize=True, **_COMMON)
settings.register_profile("fuzz", max_examples=2000, **_COMMON)
settings.load_profile("suite")


def _launcher():
    """Фабрика подпроцессов; после yield убивает всё, что она запустила."""
    started: list[Program] = []

    def _launch(args, **kwargs) -> Program:
        program = Program(args, **kwargs)
        started.append(program)
        return program

    yield _launch
    for program in started:
        program.kill()


@pytest.fixture
def launch():
    """Фабрика подпроцессов: `launch([python, path, ...])`; всё запущенное убивается
    после теста."""
    yield from _launcher()


@pytest.fixture(scope="module")
def module_launch():
    """То же на весь модуль: для одного общего сервера на все проверки модуля."""
    yield from _launcher()
