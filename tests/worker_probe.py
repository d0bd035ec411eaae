"""A worker task for tests/test_deploy.py: notes each call in WORKER_PROBE_FILE, handles nothing."""

import os


def tick() -> int:
    with open(os.environ["WORKER_PROBE_FILE"], "a", encoding="utf-8") as ticks:
        ticks.write("tick\n")
    return 0


def fails() -> int:
    """A task whose error message names a person, as an SMTP error can."""
    raise RuntimeError("mail to aino@example.fi refused")
