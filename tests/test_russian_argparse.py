"""Командная строка по-русски: --help и ошибки в аргументах у каждой программы.

Перевод делает модуль russian_argparse.py — одинаковая копия в каждой папке с
программами (папки самостоятельны). Тесты проверяют, что копии не разошлись,
что каждая программа говорит по-русски и что словарь знает все шаблоны argparse
того Python, на котором идут тесты (в CI — и 3.11, и новейший).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from support import LAB, PYTHON, program_env

MODULE = "russian_argparse.py"
PROGRAMS = sorted(
    path for path in LAB.rglob("*.py") if path.name in ("server.py", "client.py")
)
# Английские слова, которых в русском выводе argparse быть не должно.
ENGLISH = ("usage:", "options:", "error:", "invalid", "argument", "show this help")
# Шаблоны argparse, которые видит только программист (ошибка в самом парсере),
# и те, что наш модуль обходит: error() печатает свою строку.
NOT_FOR_USERS = {
    "%(heading)s:",
    "%(prog)s: error: %(message)s\n",
    "%(prog)s: warning: %(message)s\n",
    "%r is not callable",
    ".__call__() not defined",
    "'required' is an invalid argument for positionals",
    'argument "-" with mode %r',
    "can't open '%(filename)s': %(error)s",
    "cannot have multiple subparser arguments",
    "cannot merge actions - two groups are named %r",
    "conflicting option string: %s",
    "conflicting option strings: %s",
    "conflicting subparser alias: %s",
    "conflicting subparser: %s",
    "dest= is required for options like %r",
    "invalid conflict_resolution value: %r",
    "invalid option string %(option)r: must start with a character %(prefix_chars)r",
    "mutually exclusive arguments must be optional",
    "show program's version number and exit",
    "unexpected option string: %s",
    "option '%(option)s' is deprecated",
    "argument '%(argument_name)s' is deprecated",
    "command '%(parser_name)s' is deprecated",
}


def run(program: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, program, *args],
        env=program_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=20,
    )


def program_id(path: Path) -> str:
    return path.relative_to(LAB).as_posix()


def test_every_program_folder_has_the_same_copy_of_the_module():
    folders = sorted({program.parent for program in PROGRAMS})
    assert len(folders) == 11
    original = (LAB / "task1" / MODULE).read_bytes()
    differ = [
        program_id(folder)
        for folder in folders
        if (folder / MODULE).read_bytes() != original
    ]
    assert differ == [], f"копии {MODULE} разошлись с task1/{MODULE}: {differ}"


def argparse_templates() -> set[str]:
    """Строки, которые argparse этого Python пропускает через _ и ngettext."""
    tree = ast.parse(inspect.getsource(argparse))
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("_", "ngettext")
        ):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def russian_dictionary() -> dict[str, str]:
    """Словарь RUSSIAN из модуля — без импорта: импорт перевёл бы argparse и
    в самом pytest."""
    tree = ast.parse((LAB / "task1" / MODULE).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "RUSSIAN":
            return ast.literal_eval(node.value)
    raise AssertionError(f"в {MODULE} нет словаря RUSSIAN")


def test_the_module_knows_every_message_argparse_shows_a_user():
    templates = argparse_templates()
    assert "usage: " in templates  # разбор исходника нашёл шаблоны
    unknown = templates - set(russian_dictionary()) - NOT_FOR_USERS
    assert unknown == set(), f"argparse {sys.version_info[:2]}: нет перевода"


@pytest.mark.parametrize("program", PROGRAMS, ids=program_id)
def test_help_is_russian(program):
    shown = run(program, "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"запуск: {program.name} [-h]"), shown.stdout
    assert (
        "-h, --help" in shown.stdout and "показать эту справку и выйти" in shown.stdout
    )
    assert "--port" in shown.stdout
    for word in ENGLISH:
        assert word not in shown.stdout


@pytest.mark.parametrize("program", PROGRAMS, ids=program_id)
def test_a_bad_port_is_one_russian_line(program):
    failed = run(program, "--port", "abc")
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr == (
        f"Ошибка: --port: неверное значение 'abc' (справка: {program.name} --help)\n"
    )


@pytest.mark.parametrize(
    ("task", "args", "message"),
    [
        ("task2", ["quadratic", "1", "2"], "не хватает аргументов: c"),
        ("task5", [], "не хватает аргументов: КОМАНДА"),
        ("task5", ["frob"], "КОМАНДА: нет варианта 'frob' (есть: 'add', 'list')"),
        ("task1", ["--port", "1", "extra"], "лишние аргументы: extra"),
        ("task4", ["--name"], "--name: нужно значение"),
    ],
)
def test_other_argument_errors_are_russian(task, args, message):
    failed = run(LAB / task / "client.py", *args)
    assert failed.returncode == 2
    assert len(failed.stderr.splitlines()) == 1, failed.stderr
    assert failed.stderr.startswith(f"Ошибка: {message}"), failed.stderr
    for word in ENGLISH:
        assert word not in failed.stderr
