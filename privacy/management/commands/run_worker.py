"""The background worker: `manage.py run_worker` (a service in production, deploy/systemd;
next to the development server in `make run`).

It calls, in turn, each function named in settings.WORKER_TASKS (dotted paths), again and
again. A task is a function without arguments that does one bounded batch of its work
(say, up to 25 due e-mails) and returns how many items it handled; it must be safe to
call when there is nothing to do (it returns 0) and must catch nothing it cannot handle.
When every task returned 0 the worker sleeps WORKER_IDLE_SECONDS; otherwise it goes round
again at once. To add a task, append its dotted path to WORKER_TASKS: the first is
privacy.outbox.deliver_mail (the mail outbox, issue 13).

A task that raises is logged (its name and the exception's type only: its message may
name a person) and the others still run; the worker goes on with the next round.

--once runs each task until it has nothing left that is due, then exits (tests, cron).
SIGTERM or SIGINT (Ctrl-C) stops the worker after the batch under way: each batch is
bounded (the mail task by BATCH_SIZE / THREADS * EMAIL_TIMEOUT), so systemd's stop
timeout is enough.

Run one worker process per database: the mail task does not lock its rows.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger("privacy.worker")

# --once gives up on a task still busy after this many rounds (one that keeps finding
# work, such as mail retried at once): a test or a cron line always ends.
ONCE_MAX_ROUNDS = 1000


class Command(BaseCommand):
    help = "Runs the background tasks (settings.WORKER_TASKS): e-mail delivery first."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Process what is due now, then exit.")

    def handle(self, *args, once: bool = False, **options):
        tasks = [(path, import_string(path)) for path in settings.WORKER_TASKS]
        stop = threading.Event()
        if once:
            self._drain(tasks)
            return
        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
        logger.info("Worker started with %d tasks", len(tasks))
        try:
            while not stop.is_set():
                handled = self._round(tasks, stop)
                if not handled:
                    stop.wait(settings.WORKER_IDLE_SECONDS)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        logger.info("Worker stopped")

    def _drain(self, tasks: list[tuple[str, Callable[[], int]]]) -> None:
        for path, task in tasks:
            for _ in range(ONCE_MAX_ROUNDS):
                if not self._run(path, task):
                    break

    def _round(self, tasks: list[tuple[str, Callable[[], int]]], stop: threading.Event) -> int:
        handled = 0
        for path, task in tasks:
            if stop.is_set():
                break
            close_old_connections()
            handled += self._run(path, task)
        return handled

    def _run(self, path: str, task: Callable[[], int]) -> int:
        try:
            return int(task() or 0)
        except Exception as error:
            logger.error("Worker task %s failed: %s", path, type(error).__name__)
            return 0
