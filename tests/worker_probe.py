"""A worker task for tests/test_deploy.py: notes each call in WORKER_PROBE_FILE, handles nothing."""

import os


def tick() -> int:
    with open(os.environ["WORKER_PROBE_FILE"], "a", encoding="utf-8") as ticks:
        ticks.write("tick\n")
    return 0
