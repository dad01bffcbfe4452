"""Фикстуры, общие для всех тестов."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import Program  # noqa: E402


@pytest.fixture
def launch():
    """Фабрика подпроцессов: `launch([python, path, ...])`; всё запущенное убивается после теста."""
    started: list[Program] = []

    def _launch(args, **kwargs) -> Program:
        program = Program(args, **kwargs)
        started.append(program)
        return program

    yield _launch
    for program in started:
        program.kill()
