"""Подмешивается в клиент чата через PYTHONPATH: когда появится файл
SIGNAL_ELSEWHERE_TRIGGER, SIGINT получит не главный поток, а свой поток этого
модуля.

Так ядро вправе поступить с Ctrl+C (сигнал процессу достаётся любому потоку,
который его не блокирует), и так же выглядит сигнал, пришедший за миг до
read() внутри input(): обработчик Python ждёт главный поток, а тот спит в
read(), и его никто не будит.
"""

import os
import signal
import threading
import time
from pathlib import Path

TRIGGER = Path(os.environ["SIGNAL_ELSEWHERE_TRIGGER"])


def signal_myself_when_triggered() -> None:
    while not TRIGGER.exists():
        time.sleep(0.01)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)


threading.Thread(target=signal_myself_when_triggered, daemon=True).start()
