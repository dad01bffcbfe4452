#!/usr/bin/env python3
"""Нагрузочный стенд чата задания 4 — команда запуска.

    python tools/chat_bench.py --help

Сам стенд — пакет tools/chatbench/ (карта модулей — в его __init__.py);
что и как он мерит, рассказывает tools/README.md.
"""

import sys

from chatbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
