"""Подмешивается в клиент чата через PYTHONPATH: сброс stdout внутри input()
длится SLOW_FLUSH_SECONDS, а перед ним появляется файл SLOW_FLUSH_MARK.

Так тест попадает сигналом ровно туда, где input() глотает исключение
(он сбрасывает stdout перед чтением и ошибку сброса отбрасывает).
"""

import io
import os
import sys
import time
from pathlib import Path

SLOW_FLUSH_SECONDS = 2.0


class SlowFlushInInput(io.TextIOWrapper):
    def flush(self) -> None:
        super().flush()
        # input() — функция на C: вызывающий кадр Python — тот, кто звал input().
        caller = sys._getframe().f_back  # при выходе из программы кадра нет
        if caller is not None and caller.f_code.co_name == "chat":
            Path(os.environ["SLOW_FLUSH_MARK"]).touch()
            time.sleep(SLOW_FLUSH_SECONDS)


sys.stdout = SlowFlushInInput(
    sys.stdout.detach(), encoding="utf-8", errors="replace", write_through=True
)
