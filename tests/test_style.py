"""Стиль кода: ruff (проверка и формат) по настройкам из pyproject.toml.

Весь код репозитория — лабораторная, тесты и инструменты — проходит `ruff check`
и `ruff format --check` без замечаний. ruff запускается тем же интерпретатором,
что и тесты (`python -m ruff`), из корня репозитория, поэтому действуют его
настройки: длина строки 88, набор правил и исключения.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT


def ruff_command() -> list[str]:
    """Как запустить ruff: модулем, а если его нет — программой рядом с python."""
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    for name in ("ruff", "ruff.exe"):
        program = Path(sys.executable).with_name(name)
        if program.is_file():
            return [str(program)]
    pytest.fail("ruff не установлен: pip install -r requirements.txt")


def run_ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ruff_command(), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",  # ruff пишет UTF-8 на любой ОС
        timeout=120,
    )


def test_ruff_check_is_clean():
    """`ruff check .`: ни одной ошибки (E, W, F, I, B, UP)."""
    result = run_ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    """`ruff format --check .`: каждый файл уже отформатирован."""
    result = run_ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
