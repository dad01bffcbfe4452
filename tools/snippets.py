"""Страж фрагментов: что показывает сайт = настоящий текущий код.

Страницы сайта (docs/**/*.md) вставляют код лабораторной директивами
pymdownx.snippets, по одной в блоке кода:

    ```python linenums="12" title="server.py"
    --8<-- "laboratory_work_1/task4/server.py:12:30"
    ```

pymdownx молча рисует пустой блок, если диапазон вышел за конец файла, и ничего
не замечает, когда код под диапазоном сдвинулся. Этот инструмент доказывает,
что каждая вставка цела. Он проверяет пять вещей, от простого к сложному:

1. Файл есть, диапазон не перевёрнут, не пуст и не выходит за конец файла.
2. Границы диапазона не режут оператор Python. «Атомы» строятся по `ast`:
   каждый простой оператор целиком (многострочный вызов, литерал, строка
   документации) и заголовок каждого составного оператора (у def/class — от
   первого декоратора до двоеточия; у if/while/for/with/except/case — вместе с
   многострочным условием). Начало не может лежать внутри атома, конец — до
   его последней строки. Диапазон, который обрывается между операторами тела
   функции, допустим: длинную функцию страница разбирает по частям.
3. Вокруг директивы — блок кода ``` или ~~~, в нём только эта директива, а
   `linenums="N"` совпадает с началом диапазона: номера строк на сайте —
   настоящие номера строк файла. Первая и последняя строки диапазона не пустые:
   Markdown отбрасывает пустую первую строку блока — номера строк на сайте
   сдвинулись бы на одну (а пустая последняя просто пропала бы).
4. Покрытие: если страница показывает файл лабораторной, то её диапазоны этого
   файла идут сверху вниз, не перекрываются и вместе показывают каждую непустую
   строку файла (пустые строки между диапазонами пропускать можно).
   Страница-шаг строится на предыдущем шаге и говорит об этом пометкой (одной
   на страницу, вне блоков кода; папка — от корня репозитория):

       <!-- snippets: builds-on laboratory_work_1/task4/steps/01-minimal -->

   Тогда для файла папка/ИМЯ, у которого есть пара в этой папке, достаточно
   показать непустые строки, изменившиеся по сравнению с парой
   (difflib.SequenceMatcher: вставленные и заменённые); одинаковые строки можно
   показывать или пропускать. Файл без пары покрывается целиком, как обычно.
5. Замок проверки docs/snippets.lock: для каждой вставки записан sha256 её
   текста в момент, когда автор перечитал объяснение рядом с кодом. Если текст
   изменился, страница могла устареть — нужен человек и `lock`. Если же код
   только сдвинулся (прежний текст нашёлся в файле на другом месте), команда
   `fix` сама переписывает диапазон и linenums — если новый диапазон не
   начинается и не кончается пустой строкой (иначе решает человек).

Директивой считается ровно то, что считает ей pymdownx (его регулярное
выражение повторено ниже): строка `--8<-- "путь"` или `--8<-- 'путь'`, где
угодно на странице, даже внутри блока кода с примером разметки. Показать такую
строку буквально можно только экранированием: `;--8<-- "..."`. Вставка файла не
из laboratory_work_1/ вне блока кода — это вставка куска Markdown (например,
таблицы бенчмарка): для неё проверяется только пункт 1, замок её не касается.

Команды: `check` (проверить), `lock` (записать замок; отказывается, пока есть
ошибки пунктов 1–4), `fix` (поправить сдвинувшиеся диапазоны и проверить).
Тестам доступны функции `check(root)` (список объектов `Problem`), `lock(root)`
(`LockResult`), `fix(root)` (исправления и оставшиеся `Problem`) и
`code_blocks(root, page)` (блоки кода страницы по порядку и какие строки какого
файла в них вставлены — для сверки с собранным сайтом). Нужна только стандартная
библиотека.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import json
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parent.parent
DOCS_DIR = "docs"
LOCK_PATH = "docs/snippets.lock"
LAB_DIR = "laboratory_work_1/"
LOCK_VERSION = 1

LOCK_HINT = "`python tools/snippets.py lock`"
FIX_HINT = "`python tools/snippets.py fix`"

# Директива pymdownx.snippets: то же выражение, что в pymdownx/snippets.py
# (RE_ALL_SNIPPETS), чтобы страж видел ровно те строки, которые заменит сборка.
SNIPPET_LINE = re.compile(
    r"""^(?P<space>[ \t]*)(?P<escape>;*)(?:
        (?P<marker>-+8<-+[ \t]+)
        (?P<quoted>"(?:\\"|[^"\n\r])+?"|'(?:\\'|[^'\n\r])+?')(?![ \t]) |
        (?P<block>-+8<-+)(?![ \t])
    )$""",
    re.X,
)
# Строка, похожая на директиву: её разберём строже и объясним, если что не так.
SNIPPET_LIKE = re.compile(r"^[ \t]*;*-+8<-+")
RANGE_SPEC = re.compile(r"(?P<path>[^:]+):(?P<start>\d+):(?P<end>\d+)")
# Ограда блока кода: ``` или ~~~ (3 и больше); в строке ``` не бывает других `.
FENCE_OPEN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}(?=[^`]*$)|~{3,})(?P<info>.*)$"
)
FENCE_CLOSE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")
LINENUMS = re.compile(
    r"""\blinenums\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'}]+))"""
)
# Пометка страницы-шага: `<!-- snippets: builds-on папка -->` (HTML-комментарий,
# на сайте не виден). Похожие строки разбираем, чтобы объяснить ошибку в форме.
BUILDS_ON = re.compile(r"<!-- snippets: builds-on (?P<folder>[^\s>]+) -->")
MARKER_LIKE = re.compile(r"^[ \t]*<!--\s*snippets\s*:")
MARKER_FORM = "<!-- snippets: builds-on папка/от/корня -->"

# Виды проблем. Пункты 1–4 — «структурные»: при них lock отказывается работать.
MISSING = "missing"  # файла нет
BAD_FORM = "bad-form"  # не "путь:НАЧАЛО:КОНЕЦ" (и не "путь")
UNREADABLE = "unreadable"  # файл не читается как UTF-8
ZERO_START = "zero-start"  # начало меньше 1
REVERSED = "reversed"  # начало больше конца
OUT_OF_RANGE = "out-of-range"  # конец за концом файла
BLANK_RANGE = "blank-range"  # в диапазоне только пустые строки
BLANK_EDGE = "blank-edge"  # первая или последняя строка диапазона пустая
SYNTAX = "syntax"  # .py не разбирается
CUT = "cut"  # граница режет оператор
NO_FENCE = "no-fence"  # код лабораторной вне блока кода
UNCLOSED_FENCE = "unclosed-fence"
NO_LINENUMS = "no-linenums"
WRONG_LINENUMS = "wrong-linenums"
TWO_IN_FENCE = "two-in-fence"  # вторая директива в том же блоке
EXTRA_LINES = "extra-lines"  # в блоке кроме директивы есть другие строки
INDENT = "indent"  # отступ директивы не равен отступу ограды
GAP = "gap"  # непустые строки файла не показаны
OVERLAP = "overlap"
OUT_OF_ORDER = "out-of-order"
BAD_MARKER = "bad-marker"  # пометка builds-on не разобрана или папки нет
TWO_MARKERS = "two-markers"  # больше одной пометки builds-on на странице
# Пункт 5 — замок проверки.
UNREVIEWED = "unreviewed"
CHANGED = "changed"
MOVED = "moved"
AMBIGUOUS = "ambiguous"
STALE = "stale"
BAD_LOCK = "bad-lock"
REVIEW_KINDS = {UNREVIEWED, CHANGED, MOVED, AMBIGUOUS, STALE, BAD_LOCK}


@dataclass
class Problem:
    """Одна ошибка: где (страница и строка), что не так и какая директива."""

    path: str
    line: int
    message: str
    kind: str
    directive: str | None = None

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.message}"
        return f"{text} [{self.directive}]" if self.directive else text

    @property
    def structural(self) -> bool:
        return self.kind not in REVIEW_KINDS


# ---------------------------------------------------------------- чтение файлов


def split_lines(text: str) -> list[str]:
    """Строки файла так, как их нумерует pymdownx: без последней пустой после \\n."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def text_hash(lines: list[str]) -> str:
    """sha256 строк, склеенных через \\n (без \\n в конце)."""
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def is_blank(line: str) -> bool:
    return not line.strip()


def line_span(start: int, end: int) -> str:
    return f"{start}–{end}" if start != end else f"{start}"


@dataclass
class Span:
    """Атом: строки start..end, которые нельзя разрезать, и что это за оператор."""

    start: int
    end: int
    what: str


class SourceFile:
    """Файл, который показывают страницы: строки, а для .py — атомы из ast."""

    def __init__(self, root: Path, path: str) -> None:
        self.path = path
        self.exists = False
        self.read_error: str | None = None
        self.lines: list[str] = []
        self._spans: list[Span] | None = None
        self._syntax_error: str | None = None
        full = root / path
        if not full.is_file():
            return
        self.exists = True
        try:
            # newline=None: \r\n и \r становятся \n, как в pymdownx и в ast
            with open(full, encoding="utf-8", newline=None) as stream:
                self.text = stream.read()
        except (UnicodeDecodeError, OSError) as error:
            self.read_error = f"файл не читается как UTF-8: {error}"
            return
        self.lines = split_lines(self.text)

    @property
    def is_python(self) -> bool:
        return self.path.endswith(".py")

    def range_hash(self, start: int, end: int) -> str:
        return text_hash(self.lines[start - 1 : end])

    def find_text(self, digest: str, length: int) -> list[int]:
        """Начала всех окон из length строк, чей sha256 равен digest."""
        return [
            start
            for start in range(1, len(self.lines) - length + 2)
            if self.range_hash(start, start + length - 1) == digest
        ]

    def spans(self) -> list[Span]:
        """Атомы файла; при синтаксической ошибке — пустой список и syntax_error."""
        if self._spans is None:
            try:
                tree = ast.parse(self.text, filename=self.path)
            except (SyntaxError, ValueError) as error:
                where = (
                    f" (строка {error.lineno})"
                    if getattr(error, "lineno", None)
                    else ""
                )
                self._syntax_error = (
                    f"файл не разбирается Python{where}: {getattr(error, 'msg', error)}"
                )
                self._spans = []
            else:
                self._spans = atomic_spans(tree, self.lines)
        return self._spans

    @property
    def syntax_error(self) -> str | None:
        self.spans()
        return self._syntax_error


# ---------------------------------------------------------------- атомы по ast

COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.Match,
)
SIMPLE_NAMES = {
    ast.Assign: "присваивание",
    ast.AnnAssign: "присваивание",
    ast.AugAssign: "присваивание",
    ast.Return: "return",
    ast.Raise: "raise",
    ast.Import: "импорт",
    ast.ImportFrom: "импорт",
    ast.Assert: "assert",
    ast.Delete: "del",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
}


def first_line(node: ast.AST) -> int:
    """Первая строка оператора: у функции и класса это первый декоратор."""
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno] + [d.lineno for d in decorators])


def trim_header(lines: list[str], start: int, end: int) -> int:
    """Отступает от end назад через пустые строки и комментарии (не дальше start)."""
    while end > start and (
        is_blank(lines[end - 1]) or lines[end - 1].lstrip().startswith("#")
    ):
        end -= 1
    return end


def header_end(start: int, body: list[ast.stmt], lines: list[str]) -> int:
    """Последняя строка заголовка составного оператора: строка с двоеточием перед
    телом."""
    body_line = first_line(body[0])
    # col_offset в ast считается в байтах UTF-8
    before_body = lines[body_line - 1].encode("utf-8")[: body[0].col_offset]
    if before_body.strip():
        # тело на строке двоеточия (`while x: y = (...)`): заголовок неотделим от тела
        return body[-1].end_lineno
    # между двоеточием и телом могут стоять только комментарии и пустые строки
    return trim_header(lines, start, body_line - 1)


def describe_header(node: ast.AST, lines: list[str], start: int) -> str:
    if isinstance(node, ast.FunctionDef):
        return f"заголовок def {node.name}"
    if isinstance(node, ast.AsyncFunctionDef):
        return f"заголовок async def {node.name}"
    if isinstance(node, ast.ClassDef):
        return f"заголовок class {node.name}"
    keyword = lines[start - 1].lstrip().split(" ", 1)[0].split("(", 1)[0].rstrip(":")
    return f"заголовок {keyword}"


def describe_simple(node: ast.stmt, docstrings: set[int]) -> str:
    if isinstance(node, ast.Expr):
        if id(node) in docstrings:
            return "строка документации"
        if isinstance(node.value, ast.Call):
            return "вызов"
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return "строка"
        return "выражение"
    return SIMPLE_NAMES.get(type(node), type(node).__name__.lower())


def atomic_spans(tree: ast.Module, lines: list[str]) -> list[Span]:
    """Все многострочные атомы файла (однострочные разрезать нельзя и так)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(
            node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        ):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.add(id(first))

    spans = []
    for node in ast.walk(tree):
        if isinstance(node, COMPOUND):
            start = first_line(node)
            if isinstance(node, ast.Match):
                # заголовок match кончается перед первым case
                end = trim_header(lines, start, node.cases[0].pattern.lineno - 1)
            else:
                end = header_end(start, node.body, lines)
            spans.append(Span(start, end, describe_header(node, lines, node.lineno)))
        elif isinstance(node, ast.ExceptHandler):
            spans.append(
                Span(
                    node.lineno,
                    header_end(node.lineno, node.body, lines),
                    "заголовок except",
                )
            )
        elif isinstance(node, ast.match_case):
            start = node.pattern.lineno
            spans.append(
                Span(start, header_end(start, node.body, lines), "заголовок case")
            )
        elif isinstance(node, ast.stmt):
            spans.append(
                Span(node.lineno, node.end_lineno, describe_simple(node, docstrings))
            )
    return sorted(
        (s for s in spans if s.end > s.start), key=lambda s: (s.start, -s.end)
    )


def quote_line(lines: list[str], number: int) -> str:
    text = lines[number - 1].strip()
    return text if len(text) <= 40 else text[:39] + "…"


def cut_problems(source: SourceFile, start: int, end: int) -> list[str]:
    """Сообщения о разрезанных атомах для границ start и end."""
    messages = []
    spans = source.spans()
    # Берём самый внешний атом (с наименьшим началом): его и надо показать целиком.
    for span in spans:
        if span.start < start <= span.end:
            messages.append(
                f"начало {start} режет оператор в строках {span.start}–{span.end} "
                f"({span.what} «{quote_line(source.lines, span.start)}»)"
            )
            break
    for span in spans:
        if span.start <= end < span.end:
            messages.append(
                f"конец {end} режет оператор в строках {span.start}–{span.end} "
                f"({span.what} «{quote_line(source.lines, span.start)}»)"
            )
            break
    return messages


# ---------------------------------------------------------------- разбор страниц


@dataclass
class Fence:
    """Блок кода на странице: ограда, строка атрибутов и что внутри."""

    index: int  # номер строки ограды (с нуля)
    indent: str
    char: str
    length: int
    info: str
    linenums: str | None = None  # значение linenums как написано
    linenums_span: tuple[int, int] | None = None
    close_index: int | None = None
    content: list[int] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)


@dataclass
class Directive:
    """Одна директива `--8<-- "..."` на странице."""

    page: str
    index: int  # номер строки на странице (с нуля)
    text: str  # строка директивы без отступа
    indent: str
    quoted_span: tuple[int, int]  # где в строке стоит "..." (для fix)
    spec: str  # содержимое кавычек
    fence: Fence | None
    path: str | None = None  # нормализованный путь; None — форма не разобрана
    start: int | None = None
    end: int | None = None
    whole: bool = False  # `--8<-- "путь"`: весь файл
    form_error: str | None = None
    ordinal: int = 0  # номер среди директив этого файла на странице (с 1)
    range_ok: bool = False  # заполняется проверкой пункта 1

    @property
    def line(self) -> int:
        return self.index + 1

    @property
    def lockable(self) -> bool:
        """Вставка кода в блоке: её текст записывается в замок."""
        return self.fence is not None and self.path is not None

    @property
    def is_lab(self) -> bool:
        return self.path is not None and self.path.startswith(LAB_DIR)

    def problem(self, message: str, kind: str) -> Problem:
        return Problem(self.page, self.line, message, kind, self.text)


@dataclass
class Marker:
    """Пометка `<!-- snippets: builds-on папка -->`: страница — шаг после папки."""

    index: int  # номер строки на странице (с нуля)
    text: str  # строка пометки без отступа
    folder: str  # папка как написана

    @property
    def line(self) -> int:
        return self.index + 1


@dataclass
class Page:
    path: str  # относительно корня, через /
    lines: list[str]  # строки как в файле (с \r, если он есть)
    directives: list[Directive]
    fences: list[Fence]
    problems: list[Problem]
    markers: list[Marker] = field(default_factory=list)
    # Заполняет проверка пометок: папка предыдущего шага (нормализованная)
    # и признак, что пометка ошибочна (тогда покрытие страницы не проверяется).
    builds_on: str | None = None
    marker_error: bool = False


def parse_spec(directive: Directive) -> None:
    """Разбирает "путь:НАЧАЛО:КОНЕЦ" или "путь" в поля директивы."""
    spec = directive.spec
    usage = 'нужна форма "путь:НАЧАЛО:КОНЕЦ"'
    if spec.startswith(";"):
        directive.form_error = (
            "закомментированный фрагмент: pymdownx выбросит строку, "
            f"блок будет пустым; {usage}"
        )
        return
    match = RANGE_SPEC.fullmatch(spec)
    if match:
        path = match["path"].strip()
        directive.start, directive.end = int(match["start"]), int(match["end"])
    elif ":" not in spec:
        path = spec
        directive.whole = True
    else:
        directive.form_error = f"неподдерживаемая форма фрагмента: {usage}"
        return
    normal = posixpath.normpath(path)
    if normal.startswith("../") or normal == ".." or posixpath.isabs(normal):
        directive.form_error = f"путь ведёт за пределы репозитория: {path}"
        return
    directive.path = normal


def parse_page(path: str, text: str) -> Page:
    """Находит блоки кода и директивы страницы."""
    lines = text.split("\n")
    directives: list[Directive] = []
    fences: list[Fence] = []
    problems: list[Problem] = []
    markers: list[Marker] = []
    fence: Fence | None = None
    for index, raw in enumerate(lines):
        line = raw[:-1] if raw.endswith("\r") else raw
        if fence is None:
            opening = FENCE_OPEN.match(line)
            if opening:
                fence = Fence(
                    index,
                    opening["indent"],
                    opening["fence"][0],
                    len(opening["fence"]),
                    opening["info"],
                )
                numbers = LINENUMS.search(fence.info)
                if numbers:
                    group = next(
                        g for g in ("dq", "sq", "bare") if numbers[g] is not None
                    )
                    fence.linenums = numbers[group]
                    offset = len(opening["indent"]) + fence.length
                    fence.linenums_span = (
                        offset + numbers.start(group),
                        offset + numbers.end(group),
                    )
                fences.append(fence)
                continue
        else:
            closing = FENCE_CLOSE.match(line)
            if (
                closing
                and closing["fence"][0] == fence.char
                and len(closing["fence"]) >= fence.length
            ):
                fence.close_index = index
                fence = None
                continue
            fence.content.append(index)

        if fence is None and MARKER_LIKE.match(line):
            # Пометка действует только вне блока кода: в блоке это пример текста.
            marker = BUILDS_ON.fullmatch(line.strip())
            if marker:
                markers.append(Marker(index, line.strip(), marker["folder"]))
            else:
                problems.append(
                    Problem(
                        path,
                        index + 1,
                        f"пометка не разобрана: нужна форма «{MARKER_FORM}»",
                        BAD_MARKER,
                        line.strip(),
                    )
                )
            continue
        if not SNIPPET_LIKE.match(line):
            continue
        match = SNIPPET_LINE.match(line)
        where = Problem(path, index + 1, "", BAD_FORM, line.strip())
        if match is None:
            where.message = (
                "строка похожа на фрагмент, но pymdownx её не распознает "
                "(пробел в конце строки? кавычки?)"
            )
            problems.append(where)
            continue
        if match["escape"]:
            continue  # `;--8<--` — экранированная строка, pymdownx покажет её как текст
        if match["block"]:
            where.message = (
                "блочная форма --8<-- не поддерживается: "
                'нужна форма "путь:НАЧАЛО:КОНЕЦ"'
            )
            problems.append(where)
            continue
        quoted_start = match.start("quoted")
        directive = Directive(
            page=path,
            index=index,
            text=line.strip(),
            indent=match["space"],
            quoted_span=(quoted_start, match.end("quoted")),
            spec=match["quoted"][1:-1].strip(),
            fence=fence,
        )
        parse_spec(directive)
        if fence is not None:
            fence.directives.append(directive)
        directives.append(directive)

    # Номер директивы среди вставок того же файла на странице — ключ замка.
    counters: dict[str, int] = {}
    for directive in directives:
        if directive.lockable:
            counters[directive.path] = counters.get(directive.path, 0) + 1
            directive.ordinal = counters[directive.path]
    return Page(path, lines, directives, fences, problems, markers)


class Site:
    """Все страницы docs/ и файлы, на которые они ссылаются."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.pages: list[Page] = []
        self.problems: list[Problem] = []  # страницы, которые не прочитать
        self._sources: dict[str, SourceFile] = {}
        docs = self.root / DOCS_DIR
        if docs.is_dir():
            for full in sorted(docs.rglob("*.md")):
                relative = full.relative_to(self.root).as_posix()
                try:
                    # newline="": \r\n остаются на месте,
                    # и fix перепишет страницу байт в байт
                    with open(full, encoding="utf-8", newline="") as stream:
                        text = stream.read()
                except (UnicodeDecodeError, OSError) as error:
                    self.problems.append(
                        Problem(
                            relative,
                            1,
                            f"страница не читается как UTF-8: {error}",
                            UNREADABLE,
                        )
                    )
                    continue
                self.pages.append(parse_page(relative, text))

    def source(self, path: str) -> SourceFile:
        if path not in self._sources:
            self._sources[path] = SourceFile(self.root, path)
        return self._sources[path]

    def directives(self) -> list[Directive]:
        return [d for page in self.pages for d in page.directives]

    def current_range(self, directive: Directive) -> tuple[int, int] | None:
        """Диапазон директивы в строках файла (весь файл — 1..N), если он корректен."""
        if not directive.range_ok:
            return None
        if directive.whole:
            return 1, len(self.source(directive.path).lines)
        return directive.start, directive.end


# ---------------------------------------------------------------- пункты 1–3


def check_fence(directive: Directive) -> list[Problem]:
    """Пункт 3: директива одна в своём блоке кода, linenums равно началу."""
    fence = directive.fence
    if fence is None:
        if directive.is_lab:
            start = 1 if directive.whole else directive.start
            return [
                directive.problem(
                    "код лабораторной вставляется только внутри блока кода ``` "
                    f'с linenums="{start}"',
                    NO_FENCE,
                )
            ]
        return []  # вставка куска Markdown
    problems = []
    if fence.close_index is None:
        problems.append(
            directive.problem("блок кода не закрыт до конца страницы", UNCLOSED_FENCE)
        )
    if fence.directives[0] is not directive:
        problems.append(
            directive.problem(
                "второй фрагмент в том же блоке кода: по одному фрагменту на блок",
                TWO_IN_FENCE,
            )
        )
        return problems
    others = [i for i in fence.content if i not in {d.index for d in fence.directives}]
    if others:
        problems.append(
            directive.problem(
                "в блоке кода, кроме фрагмента, есть другие строки "
                f"(строка {others[0] + 1} страницы)",
                EXTRA_LINES,
            )
        )
    if directive.indent.expandtabs(4) != fence.indent.expandtabs(4):
        problems.append(
            directive.problem(
                "отступ фрагмента не совпадает с отступом ограды блока кода", INDENT
            )
        )
    if directive.path is not None:
        expected = 1 if directive.whole else directive.start
        if fence.linenums is None:
            problems.append(
                directive.problem(
                    f'у блока кода нет linenums: нужно linenums="{expected}"',
                    NO_LINENUMS,
                )
            )
        elif fence.linenums.strip() != str(expected):
            problems.append(
                directive.problem(
                    f'linenums="{fence.linenums}" не совпадает с началом диапазона: '
                    f'нужно linenums="{expected}"',
                    WRONG_LINENUMS,
                )
            )
    return problems


def check_range(site: Site, directive: Directive) -> list[Problem]:
    """Пункты 1 и 2: файл есть, диапазон внутри файла и не режет операторы."""
    source = site.source(directive.path)
    if not source.exists:
        return [directive.problem(f"файл не найден: {directive.path}", MISSING)]
    if source.read_error:
        return [directive.problem(source.read_error, UNREADABLE)]
    total = len(source.lines)
    if directive.whole:
        start, end = 1, total
        if total == 0 or all(is_blank(line) for line in source.lines):
            return [directive.problem("файл пустой: показывать нечего", BLANK_RANGE)]
    else:
        start, end = directive.start, directive.end
        if start < 1:
            return [
                directive.problem(f"начало {start}: строки нумеруются с 1", ZERO_START)
            ]
        if start > end:
            return [
                directive.problem(
                    f"диапазон перевёрнут: начало {start} больше конца {end}", REVERSED
                )
            ]
        if end > total:
            return [
                directive.problem(
                    f"конец {end} за концом файла: в файле {total} строк", OUT_OF_RANGE
                )
            ]
        if all(is_blank(line) for line in source.lines[start - 1 : end]):
            return [
                directive.problem(
                    f"диапазон {start}:{end} пустой: в нём только пустые строки",
                    BLANK_RANGE,
                )
            ]
    directive.range_ok = True
    if directive.fence is None:
        return []  # вставка куска Markdown: пустые строки по краям ему не вредят
    problems = [
        directive.problem(message, BLANK_EDGE)
        for message in blank_edges(source.lines, start, end, directive.whole)
    ]
    if not source.is_python:
        return problems
    if source.syntax_error:
        return problems + [directive.problem(source.syntax_error, SYNTAX)]
    return problems + [
        directive.problem(message, CUT) for message in cut_problems(source, start, end)
    ]


def blank_edges(
    lines: list[str], start: int, end: int, whole: bool = False
) -> list[str]:
    """Сообщения о пустой первой или последней строке вставки в блок кода."""
    what = "файл" if whole else f"диапазон {start}:{end}"
    messages = []
    if is_blank(lines[start - 1]):
        messages.append(
            f"{what} начинается с пустой строки {start}: Markdown отбрасывает "
            "пустую первую строку блока — номера строк на сайте сдвинутся на одну"
        )
    if is_blank(lines[end - 1]):
        messages.append(
            f"{what} кончается пустой строкой {end}: Markdown отбрасывает "
            "пустую последнюю строку блока — на сайте её не будет"
        )
    return messages


# ---------------------------------------------------------------- пункт 4


def check_markers(site: Site, page: Page) -> list[Problem]:
    """Пометка builds-on: одна на странице, папка есть в репозитории.

    Заполняет page.builds_on; при ошибке ставит page.marker_error — тогда покрытие
    страницы не проверяется: без верной базы оно дало бы лишь ворох ложных пропусков.
    """
    page.marker_error = any(p.kind == BAD_MARKER for p in page.problems)
    if not page.markers:
        return []
    problems = []
    first = page.markers[0]
    for extra in page.markers[1:]:
        problems.append(
            Problem(
                page.path,
                extra.line,
                "вторая пометка builds-on на странице "
                f"(первая — в строке {first.line}): "
                "страница строится ровно на одном предыдущем шаге",
                TWO_MARKERS,
                extra.text,
            )
        )
    folder = posixpath.normpath(first.folder)
    if folder.startswith("../") or folder == ".." or posixpath.isabs(folder):
        message = f"папка из пометки builds-on ведёт за пределы репозитория: {folder}"
    elif not (site.root / folder).is_dir():
        message = f"папка из пометки builds-on не найдена: {folder}"
    else:
        message = None
        page.builds_on = folder
    if message:
        problems.append(Problem(page.path, first.line, message, BAD_MARKER, first.text))
    if problems:
        page.marker_error = True
    return problems


def base_file(site: Site, page: Page, path: str) -> SourceFile | None:
    """Тот же файл на предыдущем шаге (папка из builds-on), если он есть."""
    if page.builds_on is None:
        return None
    base = site.source(posixpath.join(page.builds_on, posixpath.basename(path)))
    if not base.exists or base.read_error or base.path == path:
        return None
    return base


def changed_lines(base: list[str], lines: list[str]) -> set[int]:
    """Номера строк lines (с 1), которых нет в base: вставленные и заменённые."""
    matcher = difflib.SequenceMatcher(None, base, lines, autojunk=False)
    return {
        number + 1
        for tag, _, _, first, last in matcher.get_opcodes()
        if tag in ("replace", "insert")
        for number in range(first, last)
    }


def number_list(numbers: list[int], lines: list[str], limit: int = 8) -> str:
    """[3, 4, 5, 9] → «3–5, 9»; пустые строки между номерами не разрывают отрезок.
    Больше limit отрезков — первые limit и «…»: место человек найдёт по первому."""
    parts = []
    start = previous = numbers[0]
    for number in numbers[1:] + [None]:
        if number is not None and all(
            is_blank(lines[n - 1]) for n in range(previous + 1, number)
        ):
            previous = number
            continue
        parts.append(line_span(start, previous))
        if number is not None:
            start = previous = number
    return ", ".join(parts[:limit]) + (", …" if len(parts) > limit else "")


def check_coverage(site: Site, page: Page) -> list[Problem]:
    """Пункт 4: диапазоны файла лабораторной идут по порядку и показывают все непустые
    строки — а на странице-шаге (builds-on) все непустые строки, изменившиеся со
    шага, на котором она строится."""
    groups: dict[str, list[Directive]] = {}
    for directive in page.directives:
        if directive.is_lab:
            groups.setdefault(directive.path, []).append(directive)
    problems = []
    if page.marker_error:
        return problems  # об ошибке в пометке уже сказано
    for path, group in groups.items():
        if not all(d.range_ok for d in group):
            continue  # ошибка пункта 1 уже сказана; покрытие без неё бессмысленно
        source = site.source(path)
        base = base_file(site, page, path)
        changed = changed_lines(base.lines, source.lines) if base else None
        ranges = [(site.current_range(d), d) for d in group]
        # соседние пары: второй список короче на один, отсюда strict=False
        for ((prev_start, prev_end), _), ((start, end), directive) in zip(
            ranges, ranges[1:], strict=False
        ):
            if start < prev_start:
                problems.append(
                    directive.problem(
                        f"диапазон {start}:{end} стоит после {prev_start}:{prev_end}: "
                        "код показывается сверху вниз",
                        OUT_OF_ORDER,
                    )
                )
            elif start <= prev_end:
                problems.append(
                    directive.problem(
                        f"диапазон {start}:{end} перекрывается "
                        f"с предыдущим {prev_start}:{prev_end}",
                        OVERLAP,
                    )
                )
        shown = [False] * (len(source.lines) + 2)
        for (start, end), _ in ranges:
            for number in range(start, end + 1):
                shown[number] = True
        number = 1
        while number <= len(source.lines):
            if shown[number]:
                number += 1
                continue
            first = number
            while number <= len(source.lines) and not shown[number]:
                number += 1
            hidden = [
                n
                for n in range(first, number)
                if not is_blank(source.lines[n - 1])
                and (changed is None or n in changed)
            ]
            if not hidden:
                continue
            # Место ошибки — вставка сразу после пропуска
            # (или последняя, если пропуск в конце).
            after = [d for (start, _), d in ranges if start > hidden[-1]]
            at = (
                min(after, key=lambda d: site.current_range(d)[0])
                if after
                else group[-1]
            )
            quote = f"«{quote_line(source.lines, hidden[0])}»"
            if changed is not None and len(hidden) > 1:
                message = (
                    f"строки {number_list(hidden, source.lines)} файла {path} "
                    f"изменились по сравнению с {base.path}, "
                    f"но не показаны на странице (первая: {quote})"
                )
            elif changed is not None:
                message = (
                    f"строка {hidden[0]} файла {path} изменилась по сравнению "
                    f"с {base.path}, но не показана на странице ({quote})"
                )
            elif hidden[0] == hidden[-1]:
                message = (
                    f"строка {hidden[0]} файла {path} не показана на странице ({quote})"
                )
            else:
                message = (
                    f"строки {hidden[0]}–{hidden[-1]} файла {path} "
                    f"не показаны на странице (первая: {quote})"
                )
            problems.append(at.problem(message, GAP))
    return problems


def structural_problems(site: Site) -> list[Problem]:
    """Пункты 1–4 для всех страниц."""
    problems = list(site.problems)
    for page in site.pages:
        problems.extend(page.problems)
        for directive in page.directives:
            if directive.form_error:
                problems.append(directive.problem(directive.form_error, BAD_FORM))
                continue
            problems.extend(check_fence(directive))
            problems.extend(check_range(site, directive))
        problems.extend(check_markers(site, page))
        problems.extend(check_coverage(site, page))
    return problems


# ---------------------------------------------------------------- пункт 5: замок

LockKey = tuple[str, str, int]
LOCK_FIELDS = ("page", "file", "ordinal", "start", "end", "sha256")


@dataclass
class Lock:
    entries: dict[LockKey, dict]
    lines: dict[LockKey, int]  # строка записи в файле замка (для сообщений)
    problems: list[Problem]


def valid_entry(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and set(entry) == set(LOCK_FIELDS)
        and isinstance(entry["page"], str)
        and isinstance(entry["file"], str)
        and all(isinstance(entry[k], int) for k in ("ordinal", "start", "end"))
        and isinstance(entry["sha256"], str)
        and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) is not None
    )


def entry_key(entry: dict) -> LockKey:
    return entry["page"], entry["file"], entry["ordinal"]


def load_lock(root: Path) -> Lock:
    lock = Lock({}, {}, [])
    full = Path(root) / LOCK_PATH
    if not full.is_file():
        return lock
    try:
        text = full.read_text(encoding="utf-8")
        data = json.loads(text)
    except ValueError as error:
        lock.problems.append(
            Problem(
                LOCK_PATH,
                1,
                f"замок не читается как JSON: {error}; запустите {LOCK_HINT}",
                BAD_LOCK,
            )
        )
        return lock
    entries = data.get("snippets") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("version") != LOCK_VERSION
        or not isinstance(entries, list)
        or not all(valid_entry(e) for e in entries)
    ):
        lock.problems.append(
            Problem(
                LOCK_PATH,
                1,
                f"замок в неизвестном формате; запустите {LOCK_HINT}",
                BAD_LOCK,
            )
        )
        return lock
    for entry in entries:
        lock.entries[entry_key(entry)] = entry
    # Каждая запись стоит в своей строке: запомним её номер для сообщений.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip().rstrip(",")
        if line.startswith("{") and line.endswith("}"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if valid_entry(entry):
                lock.lines[entry_key(entry)] = number
    return lock


def render_lock(entries: list[dict]) -> str:
    """Замок: JSON, по записи в строке, записи отсортированы — удобно смотреть в git
    diff."""
    ordered = sorted(entries, key=entry_key)
    rows = [
        json.dumps({k: e[k] for k in LOCK_FIELDS}, ensure_ascii=False) for e in ordered
    ]
    body = ",\n".join(f"    {row}" for row in rows)
    return (
        "{\n"
        '  "about": "Фрагменты кода, перечитанные вместе с текстом вокруг. '
        "Пишет python tools/snippets.py lock, "
        'правит диапазоны python tools/snippets.py fix.",\n'
        f'  "version": {LOCK_VERSION},\n'
        '  "snippets": [\n' + (body + "\n" if rows else "") + "  ]\n}\n"
    )


def directive_key(directive: Directive) -> LockKey:
    return directive.page, directive.path, directive.ordinal


def relocation(site: Site, directive: Directive, entry: dict) -> list[int]:
    """Где в файле теперь стоит текст из замка (начала окон, ближайшие к прежнему
    началу)."""
    source = site.source(directive.path)
    length = entry["end"] - entry["start"] + 1
    if length < 1:
        return []
    starts = source.find_text(entry["sha256"], length)
    if not starts:
        return []
    best = min(abs(s - entry["start"]) for s in starts)
    return [s for s in starts if abs(s - entry["start"]) == best]


def review_problems(site: Site, lock: Lock) -> list[Problem]:
    """Пункт 5: каждая вставка кода записана в замке, и её текст с тех пор не
    менялся."""
    problems = list(lock.problems)
    seen: set[LockKey] = set()
    for directive in site.directives():
        if not directive.lockable:
            continue
        key = directive_key(directive)
        seen.add(key)
        source = site.source(directive.path)
        if not source.exists or source.read_error:
            continue  # об этом уже сказал пункт 1
        entry = lock.entries.get(key)
        if entry is None:
            problems.append(
                directive.problem(
                    f"не проверен: запустите {LOCK_HINT} "
                    "после перечитывания текста вокруг",
                    UNREVIEWED,
                )
            )
            continue
        current = site.current_range(directive)
        if current is not None and source.range_hash(*current) == entry["sha256"]:
            continue
        locked = f"{entry['start']}:{entry['end']}"
        same_range = not directive.whole and (directive.start, directive.end) == (
            entry["start"],
            entry["end"],
        )
        starts = relocation(site, directive, entry) if same_range else []
        length = entry["end"] - entry["start"] + 1
        if len(starts) == 1 and blank_edges(
            source.lines, starts[0], starts[0] + length - 1
        ):
            # замок старше правила о пустых краях: fix такой диапазон не поставит
            problems.append(
                directive.problem(
                    "код сдвинулся: "
                    f"строки {line_span(starts[0], starts[0] + length - 1)}, "
                    "но такой диапазон начинается или кончается пустой строкой: "
                    "выберите диапазон без пустых строк по краям "
                    f"и запустите {LOCK_HINT}",
                    MOVED,
                )
            )
        elif len(starts) == 1:
            problems.append(
                directive.problem(
                    "код сдвинулся: "
                    f"строки {line_span(starts[0], starts[0] + length - 1)}; "
                    f"запустите {FIX_HINT}",
                    MOVED,
                )
            )
        elif len(starts) > 1:
            places = ", ".join(line_span(s, s + length - 1) for s in starts)
            problems.append(
                directive.problem(
                    f"код сдвинулся, но найден в нескольких местах (строки {places}): "
                    f"поправьте диапазон вручную и запустите {LOCK_HINT}",
                    AMBIGUOUS,
                )
            )
        elif same_range or directive.whole:
            problems.append(
                directive.problem(
                    "текст изменился с последней проверки: перечитайте текст вокруг, "
                    f"поправьте страницу и запустите {LOCK_HINT}",
                    CHANGED,
                )
            )
        else:
            problems.append(
                directive.problem(
                    "текст изменился с последней проверки "
                    f"(в замке диапазон {locked}): "
                    f"перечитайте текст вокруг и запустите {LOCK_HINT}",
                    CHANGED,
                )
            )
    for key, entry in sorted(lock.entries.items()):
        if key not in seen:
            page, path, ordinal = key
            problems.append(
                Problem(
                    LOCK_PATH,
                    lock.lines.get(key, 1),
                    "запись не соответствует ни одному фрагменту "
                    f"({page}, {path} №{ordinal}, "
                    f"строки {line_span(entry['start'], entry['end'])}): "
                    f"запустите {LOCK_HINT}",
                    STALE,
                )
            )
    return problems


# ---------------------------------------------------------------- команды (API)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    # sorted устойчив: порядок внутри строки сохранится
    return sorted(problems, key=lambda p: (p.path, p.line))


def check(root: Path = DEFAULT_ROOT) -> list[Problem]:
    """Все проблемы (пункты 1–5); пустой список — всё в порядке."""
    site = Site(root)
    problems = structural_problems(site)
    problems += review_problems(site, load_lock(site.root))
    return sort_problems(problems)


@dataclass
class CodeBlock:
    """Блок кода страницы и что в нём должно стоять (для сверки с собранным сайтом)."""

    line: int  # строка ограды на странице (с 1)
    linenums: str | None  # значение linenums как написано (None — без номеров)
    path: str | None = None  # файл, который вставляет блок (None — обычный код)
    start: int = 0  # диапазон строк файла; у вставки целого файла — 1..N
    end: int = 0


def code_blocks(root: Path, page: str) -> list[CodeBlock]:
    """Все блоки кода страницы (путь от корня: docs/lab1/task1.md) в порядке страницы.

    Тот же разбор, что у check: вставка — первая директива блока. Вставки с
    ошибкой формы или за концом файла остаются с path=None: о них говорит check.
    """
    root = Path(root).resolve()
    with open(root / page, encoding="utf-8", newline="") as stream:
        parsed = parse_page(page, stream.read())
    blocks = []
    for fence in parsed.fences:
        block = CodeBlock(fence.index + 1, fence.linenums)
        directive = fence.directives[0] if fence.directives else None
        if directive is not None and directive.path is not None:
            lines = SourceFile(root, directive.path).lines
            start, end = (
                (1, len(lines)) if directive.whole else (directive.start, directive.end)
            )
            if 1 <= start <= end <= len(lines):
                block.path, block.start, block.end = directive.path, start, end
        blocks.append(block)
    return blocks


@dataclass
class LockResult:
    problems: list[Problem]  # непустой — замок не записан
    added: int = 0
    updated: int = 0
    removed: int = 0


def lock(root: Path = DEFAULT_ROOT) -> LockResult:
    """Записывает замок заново, если пункты 1–4 в порядке."""
    site = Site(root)
    problems = structural_problems(site)
    if problems:
        return LockResult(sort_problems(problems))
    old = load_lock(site.root).entries
    new = {}
    for directive in site.directives():
        if directive.lockable:
            start, end = site.current_range(directive)
            new[directive_key(directive)] = {
                "page": directive.page,
                "file": directive.path,
                "ordinal": directive.ordinal,
                "start": start,
                "end": end,
                "sha256": site.source(directive.path).range_hash(start, end),
            }
    result = LockResult([])
    result.added = sum(1 for key in new if key not in old)
    result.removed = sum(1 for key in old if key not in new)
    result.updated = sum(1 for key in new if key in old and old[key] != new[key])
    full = site.root / LOCK_PATH
    text = render_lock(list(new.values()))
    if not full.is_file() or full.read_text(encoding="utf-8") != text:
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text, encoding="utf-8", newline="\n")
    return result


@dataclass
class Fix:
    page: str
    line: int
    old: tuple[int, int]
    new: tuple[int, int]

    def __str__(self) -> str:
        return (
            f"{self.page}:{self.line}: "
            f"диапазон {self.old[0]}:{self.old[1]} → {self.new[0]}:{self.new[1]}"
        )


def rewrite_directive(page: Page, directive: Directive, start: int, end: int) -> None:
    """Меняет в строках страницы только числа диапазона и linenums, остальное — байт в
    байт."""
    raw = page.lines[directive.index]
    left, right = directive.quoted_span
    quoted = raw[left:right]
    # Числа стоят в конце содержимого кавычек:
    # "путь:12:30" (возможны пробелы перед кавычкой).
    quoted = re.sub(r":\d+:\d+(?=\s*[\"']$)", f":{start}:{end}", quoted, count=1)
    page.lines[directive.index] = raw[:left] + quoted + raw[right:]
    fence = directive.fence
    if (
        fence is not None
        and fence.directives[0] is directive
        and fence.linenums_span is not None
    ):
        raw = page.lines[fence.index]
        left, right = fence.linenums_span
        page.lines[fence.index] = raw[:left] + str(start) + raw[right:]


def fix(root: Path = DEFAULT_ROOT) -> tuple[list[Fix], list[Problem]]:
    """Переставляет диапазоны, чей код только сдвинулся; возвращает исправления и
    оставшиеся проблемы."""
    site = Site(root)
    stored = load_lock(site.root)
    fixes: list[Fix] = []
    touched: set[str] = set()
    for page in site.pages:
        for directive in page.directives:
            if not directive.lockable or directive.whole or directive.form_error:
                continue
            if (
                not site.source(directive.path).exists
                or site.source(directive.path).read_error
            ):
                continue
            entry = stored.entries.get(directive_key(directive))
            if entry is None or (directive.start, directive.end) != (
                entry["start"],
                entry["end"],
            ):
                # Не проверен или диапазон правили на странице — это работа для человека
                continue
            source = site.source(directive.path)
            if (
                directive.end <= len(source.lines)
                and directive.start >= 1
                and source.range_hash(directive.start, directive.end) == entry["sha256"]
            ):
                continue
            starts = relocation(site, directive, entry)
            if len(starts) != 1:
                # Текст изменился или найден в нескольких местах — скажет check
                continue
            new_start = starts[0]
            new_end = new_start + entry["end"] - entry["start"]
            if directive.fence is not None and blank_edges(
                source.lines, new_start, new_end
            ):
                # Замок старше правила о пустых краях: такой диапазон нельзя
                # ставить молча — check скажет, что с ним делать
                continue
            rewrite_directive(page, directive, new_start, new_end)
            fixes.append(
                Fix(
                    page.path,
                    directive.line,
                    (directive.start, directive.end),
                    (new_start, new_end),
                )
            )
            entry["start"], entry["end"] = new_start, new_end
            touched.add(page.path)
    for page in site.pages:
        if page.path in touched:
            with open(
                site.root / page.path, "w", encoding="utf-8", newline=""
            ) as stream:
                stream.write("\n".join(page.lines))
    if fixes:
        (site.root / LOCK_PATH).write_text(
            render_lock(list(stored.entries.values())), encoding="utf-8", newline="\n"
        )
    return fixes, check(site.root)


# ---------------------------------------------------------------- командная строка


def plural(number: int, one: str, few: str, many: str) -> str:
    if number % 10 == 1 and number % 100 != 11:
        return one
    if 2 <= number % 10 <= 4 and not 12 <= number % 100 <= 14:
        return few
    return many


def summary(root: Path) -> str:
    site = Site(root)
    lockable = [d for d in site.directives() if d.lockable]
    pages = len({d.page for d in lockable})
    return (
        f"snippets: {len(lockable)} "
        f"{plural(len(lockable), 'фрагмент', 'фрагмента', 'фрагментов')} "
        f"на {pages} {plural(pages, 'странице', 'страницах', 'страницах')} в порядке"
    )


def report(problems: list[Problem], root: Path) -> int:
    """Печатает проблемы (по строке на каждую) или сводку; возвращает код выхода."""
    if not problems:
        print(summary(root))
        return 0
    for problem in problems:
        print(problem)
    print(f"snippets: ошибок: {len(problems)}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="корень репозитория (по умолчанию — папка над tools/)",
    )
    parser = argparse.ArgumentParser(
        prog="snippets.py",
        description="Страж фрагментов: "
        "код на страницах docs/ совпадает с настоящими файлами.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{check,lock,fix}"
    )
    commands.add_parser(
        "check", parents=[common], help="проверить все фрагменты кода на страницах"
    )
    commands.add_parser(
        "lock",
        parents=[common],
        help="записать фрагменты как проверенные (после перечитывания текста вокруг)",
    )
    commands.add_parser(
        "fix", parents=[common], help="поправить диапазоны, если код только сдвинулся"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()

    if args.command == "check":
        return report(check(root), root)
    if args.command == "lock":
        result = lock(root)
        if result.problems:
            for problem in result.problems:
                print(problem)
            print(
                "lock: замок не записан — сначала исправьте ошибки выше",
                file=sys.stderr,
            )
            return 1
        print(
            f"{LOCK_PATH}: добавлено {result.added}, обновлено {result.updated}, "
            f"удалено {result.removed}"
        )
        return 0
    fixes, problems = fix(root)
    for item in fixes:
        print(item)
    if not fixes:
        print("fix: сдвинувшихся диапазонов нет")
    return report(problems, root)


if __name__ == "__main__":
    sys.exit(main())
