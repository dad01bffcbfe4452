"""argparse по-русски: справка и ошибки командной строки.

Каждую фразу argparse берёт через свои функции перевода `_` и `ngettext` в ту
минуту, когда она нужна. Модуль при импорте подменяет их: английский шаблон ищем
в словаре RUSSIAN, нет его там — оставляем английский. Ошибка в аргументах —
одна строка «Ошибка: …» в stderr и код 2, без строки «usage».

Одинаковая копия лежит в каждой папке с программами: папки самостоятельны.
"""

import argparse
import sys

# Шаблоны argparse (Python 3.11 и новее) → русские. %(type)s — имя функции-типа
# вроде port_number, пользователю оно ничего не скажет, поэтому его нет.
RUSSIAN = {
    "usage: ": "запуск: ",
    "positional arguments": "аргументы",
    "options": "параметры",
    "subcommands": "команды",
    "show this help message and exit": "показать эту справку и выйти",
    " (default: %(default)s)": " (по умолчанию %(default)s)",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "неверное значение %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "нет варианта %(value)r (есть: %(choices)s)"
    ),
    "invalid choice: %(value)r, maybe you meant %(closest)r? "
    "(choose from %(choices)s)": (
        "нет варианта %(value)r — может быть, %(closest)r? (есть: %(choices)s)"
    ),
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "нет команды %(parser_name)r (есть: %(choices)s)"
    ),
    "the following arguments are required: %s": "не хватает аргументов: %s",
    "one of the arguments %s is required": "нужен один из аргументов: %s",
    "not allowed with argument %s": "нельзя вместе с %s",
    "unrecognized arguments: %s": "лишние аргументы: %s",
    "ambiguous option: %(option)s could match %(matches)s": (
        "параметр %(option)s неоднозначен: подходят %(matches)s"
    ),
    "ignored explicit argument %r": "лишнее значение %r",
    "expected one argument": "нужно значение",
    "expected at most one argument": "нужно не больше одного значения",
    "expected at least one argument": "нужно хотя бы одно значение",
    # ngettext: «expected 2 arguments» — без согласования с числом
    "expected %s argument": "нужно значений: %s",
    "expected %s arguments": "нужно значений: %s",
}


def translate(text: str) -> str:
    return RUSSIAN.get(text, text)


def translate_plural(singular: str, plural: str, count: int) -> str:
    return translate(singular if count == 1 else plural)


# argparse ищет _ и ngettext среди имён своего модуля при каждом вызове — там их
# и заменяем (в argparse это функции модуля gettext).
argparse._ = translate
argparse.ngettext = translate_plural


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        """Ошибка в аргументах: одна строка и код 2, как у argparse."""
        print(f"Ошибка: {message} (справка: {self.prog} --help)", file=sys.stderr)
        sys.exit(2)
