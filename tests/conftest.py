"""Фикстуры, общие для всех тестов."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import Program  # noqa: E402


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
