"""Подмешивается в клиент чата через PYTHONPATH: в модуле signal нет pthread_kill —
как на Windows, где сигнал отдельному потоку не послать и input() до Enter не
прервать (interrupt_main лишь поднимет флажок)."""

import signal

del signal.pthread_kill
