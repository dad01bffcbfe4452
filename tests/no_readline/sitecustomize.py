"""Подмешивается в клиент чата через PYTHONPATH: модуля readline «нет», как на
Windows. `import readline` бросает ImportError, если в sys.modules вместо модуля
стоит None.
"""

import sys

sys.modules["readline"] = None
