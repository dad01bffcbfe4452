"""Таблица шагов чата (задание 4) для обзорной страницы — из самих файлов.

Запуск из корня репозитория:

    python3 tools/steps_table.py           # переписать docs/lab1/task4/steps-table.md
    python3 tools/steps_table.py --check   # только сверить (так делает тест)

Что берётся откуда:
* шаги и их темы — tests/chat_steps.py (STEPS, FEATURES);
* «что нового» — первая строка строки документации server.py шага;
* строки — `wc -l` файлов server.py и client.py шага;
* тесты — декораторы в tests/test_task4_*.py: `@on_steps(тема…)` — тест
  протокола идёт на шагах с этими темами; `@fixed_by(тема, недостаток)` —
  свойство, которое шаг либо держит (✓), либо нет (✗, ожидаемый провал).

Таблицу вставляет страница docs/lab1/task4/index.md директивой --8<--; руками её
не правят: поменялся шаг или тест — запустите эту команду.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE_PATH = ROOT / "docs/lab1/task4/steps-table.md"
TEST_FILES = sorted((ROOT / "tests").glob("test_task4_*.py"))
sys.path.insert(0, str(ROOT / "tests"))

import chat_steps  # noqa: E402 — после пути к tests/

PAGES = {step: f"step-{number}.md" for number, step in enumerate(chat_steps.STEPS)}


def decorator_call(function: ast.FunctionDef, name: str) -> tuple[list, dict] | None:
    """Аргументы декоратора name(...) функции — позиционные и именованные
    (литералы) — или None, если его нет."""
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and getattr(decorator.func, "id", "") == name
        ):
            args = [ast.literal_eval(arg) for arg in decorator.args]
            keywords = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
            return args, keywords
    return None


def test_functions() -> list[ast.FunctionDef]:
    functions = []
    for path in TEST_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions += [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    return functions


def properties(functions: list[ast.FunctionDef]) -> list[tuple[str, str]]:
    """Свойства из тестов с @fixed_by: (короткое имя из docstring, тема)."""
    found = []
    for function in functions:
        call = decorator_call(function, "fixed_by")
        if call:
            label = (ast.get_docstring(function) or function.name).splitlines()[0]
            found.append((label.rstrip("."), call[0][0]))
    return found


def protocol_tests(functions: list[ast.FunctionDef], step: str) -> int:
    """Сколько тестов протокола (@on_steps) запускается на шаге."""
    count = 0
    for function in functions:
        call = decorator_call(function, "on_steps")
        if call is not None and step in chat_steps.protocol_steps(*call[0], **call[1]):
            count += 1
    return count


def line_count(path: Path) -> str:
    if not path.exists():
        return "—"
    return str(len(path.read_text(encoding="utf-8").splitlines()))


def summary(step: str) -> str:
    """Первая строка docstring сервера без «Шаг N чата:» в начале."""
    tree = ast.parse(chat_steps.server_path(step).read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree) or ""
    if step == "final":  # первая строка — название задания; суть — в «Этот файл — …»
        return docstring.split("(папка steps/ рядом): ", 1)[1].split(".")[0]
    return docstring.splitlines()[0].split(": ", 1)[-1].rstrip(".")


def render() -> str:
    functions = test_functions()  # разбираем тесты один раз на всю таблицу
    labels = properties(functions)
    header = ["Шаг", "Что это", "server.py", "client.py"]
    header += [label for label, _ in labels] + ["Тестов протокола и клиента"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for number, step in enumerate(chat_steps.STEPS):
        folder = chat_steps.step_dir(step)
        marks = ["✓" if chat_steps.has(step, feature) else "✗" for _, feature in labels]
        cells = [f"[{number}]({PAGES[step]})", summary(step)]
        cells += [line_count(folder / "server.py"), line_count(folder / "client.py")]
        cells += marks + [str(protocol_tests(functions, step) or "—")]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Таблица шагов чата для сайта.")
    parser.add_argument("--check", action="store_true", help="только сверить")
    args = parser.parse_args(argv)
    table = render()
    current = TABLE_PATH.read_text(encoding="utf-8") if TABLE_PATH.exists() else ""
    if args.check:
        if current != table:
            print(
                f"Ошибка: {TABLE_PATH.relative_to(ROOT)} устарела: запустите "
                "python3 tools/steps_table.py",
                file=sys.stderr,
            )
            return 1
        return 0
    TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    TABLE_PATH.write_text(table, encoding="utf-8", newline="\n")
    print(f"Записано: {TABLE_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
