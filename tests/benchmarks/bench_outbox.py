"""Load checks of issue 13 (make bench; BENCH_ONLY=outbox,slow_clients runs only these).

outbox: a few thousand public submissions from many client threads at once against
gunicorn with the reference configuration (deploy/gunicorn.conf.py), the mail worker
(`manage.py run_worker`) running beside it, while the mail server on loopback accepts
connections and never answers for the first half of the run, then answers. Counts the
submissions, the requests stored, the 5xx answers and, once the worker has drained the
outbox, the mails the server received: nothing lost, no 5xx. Also the median time of a
submission while the server hangs against after it answers (the web request never waits
for the mail server, so about 1x).

slow_clients: 20 slowloris clients (the request's headers a byte at a time, the
connection held, reopened when nginx cuts it) against the reference nginx
(deploy/nginx/kehobalanssi.conf, Debian's binary from `make nginx`) in front of the same
gunicorn: the median time of other clients' requests with and without them, as a ratio,
and how many of those requests were answered.

Both are bounded (a few minutes at most), send traffic only to 127.0.0.1, and stop every
process they start however they end.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.benchmarks.bench_http import HOST, NOTICE, Session, app_env, free_port, request

# aiosmtpd logs every SMTP command it reads (addresses too) at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = int(os.environ.get("BENCH_OUTBOX_SUBMISSIONS", "2000"))
CLIENTS = 40
DRAIN_SECONDS = 180
EMAIL_DOMAIN = "outbox.bench.example"


class MailServer:
    """A mail server on a loopback port that first accepts connections and never answers
    (hang), then answers (aiosmtpd, on the same port) once `answer()` is called."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[str] = []
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, self.port))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._hang, daemon=True)
        self._thread.start()
        self._controller: Controller | None = None

    def _hang(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.held.append(connection)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"

    def answer(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        for connection in self.held:
            connection.close()
        self._controller = Controller(self, hostname=HOST, port=self.port)
        self._controller.start()

    def close(self) -> None:
        if self._controller is not None:
            self._controller.stop()
        else:
            self._stop.set()
            self._listener.close()
            for connection in self.held:
                connection.close()


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        return -9


@contextmanager
def deployed_gunicorn(env: dict[str, str]):
    """gunicorn with deploy/gunicorn.conf.py (its workers, timeout, worker class) on a free
    loopback port; stopped however the block ends."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="kb_bench_gunicorn_", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "kehobalanssi.wsgi"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"{HOST}:{port}"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log.name}")
            try:
                if request(port, "GET", NOTICE)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start in 30 s; see {log.name}")
            time.sleep(0.1)
        yield port
    finally:
        _stop(process)
        log.close()


def _submission(n: int) -> dict:
    return {
        "kind": "access",
        "first_name": "Kuormitus",
        "last_name": "Testaaja",
        "email": f"outbox{n}@{EMAIL_DOMAIN}",
        "reply_language": "fi",
        "signature_name": "Kuormitus Testaaja",
        "declaration": "on",
        "website": "",
    }


def run_outbox(figure, database_url: str) -> None:
    from django.db import close_old_connections

    from privacy.models import DataRequest, MailState, OutgoingMail

    DataRequest.objects.filter(email__endswith=EMAIL_DOMAIN).delete()
    mail = MailServer()
    # The worker's try gives up after 2 s on the hanging server; retries 5, 10, 20, 40 s on.
    env = app_env(
        database_url,
        EMAIL_URL=f"smtp://{HOST}:{mail.port}?timeout=2",
        EMAIL_RETRY_SECONDS="5",
        EMAIL_MAX_RETRIES="6",
        WORKER_IDLE_SECONDS="0.5",
    )
    worker_log = tempfile.NamedTemporaryFile(prefix="kb_bench_worker_", suffix=".log", delete=False)  # noqa: SIM115
    worker = None
    try:
        with deployed_gunicorn(env) as port:
            worker = subprocess.Popen(  # noqa: S603
                [sys.executable, "manage.py", "run_worker"],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )
            numbers = iter(range(SUBMISSIONS))
            lock = threading.Lock()
            statuses: dict[int, int] = {}
            times: dict[str, list[float]] = {"hanging": [], "answering": []}
            phase = {"now": "hanging"}
            answered = threading.Event()

            def client() -> None:
                session = Session.open(port)
                while True:
                    with lock:
                        n = next(numbers, None)
                    if n is None:
                        return
                    started = time.perf_counter()
                    try:
                        status = session.post(port, "/fi/privacy/request/", _submission(n))
                    except OSError:
                        status = 0
                    took = time.perf_counter() - started
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1
                        times[phase["now"]].append(took)
                        if not answered.is_set() and sum(statuses.values()) >= SUBMISSIONS // 2:
                            answered.set()

            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            answered.wait(timeout=300)
            hang_seconds = time.perf_counter() - started
            tried_while_hanging = len(mail.held)
            mail.answer()
            with lock:
                phase["now"] = "answering"
            for thread in threads:
                thread.join(timeout=300)
            submit_seconds = time.perf_counter() - started

            close_old_connections()
            stored = DataRequest.objects.filter(email__endswith=EMAIL_DOMAIN).count()
            deadline = time.monotonic() + DRAIN_SECONDS
            mails = OutgoingMail.objects.filter(request__email__endswith=EMAIL_DOMAIN)
            while time.monotonic() < deadline and mails.filter(state=MailState.QUEUED).exists():
                time.sleep(0.5)
            drained_seconds = time.perf_counter() - started
            worker_exit = _stop(worker, timeout=90)
    finally:
        if worker is not None and worker.poll() is None:
            _stop(worker)
        worker_log.close()
        mail.close()

    posted = sum(statuses.values())
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    other = sum(count for status, count in statuses.items() if status not in (302,) and status < 500)
    delivered = len(set(mail.received))
    failed = mails.filter(state=MailState.FAILED).count()
    still_queued = mails.filter(state=MailState.QUEUED).count()
    lost = stored - delivered
    figure("outbox_submissions", posted, "requests")
    figure("outbox_stored", stored, "requests", f"={posted}", stored == posted)
    figure("outbox_5xx", server_errors, "responses", "0", server_errors == 0)
    figure("outbox_other_errors", other, "responses", "0", other == 0)
    figure("outbox_smtp_connections_while_hanging", tried_while_hanging, "connections")
    figure("outbox_hang_seconds", hang_seconds, "s")
    figure("outbox_submit_seconds", submit_seconds, "s")
    figure("outbox_mails_delivered", delivered, "mails")
    figure("outbox_mails_failed", failed, "mails")
    figure("outbox_mails_still_queued", still_queued, "mails", "0", still_queued == 0)
    figure("outbox_mails_lost", lost, "mails", "0", lost == 0 and failed == 0)
    figure("outbox_drained_after", drained_seconds, "s")
    figure("outbox_worker_exit_on_sigterm", worker_exit, "code", "0", worker_exit == 0)
    if times["hanging"] and times["answering"]:
        hanging, answering = statistics.median(times["hanging"]), statistics.median(times["answering"])
        figure("outbox_submit_median_hanging", hanging * 1000, "ms")
        figure("outbox_submit_median_answering", answering * 1000, "ms")
        figure(
            "outbox_submit_hanging_vs_answering", hanging / answering, "x", "<=2", hanging / answering <= 2
        )
    os.unlink(worker_log.name) if worker_exit == 0 else print(f"worker's log: {worker_log.name}")
    DataRequest.objects.filter(email__endswith=EMAIL_DOMAIN).delete()


def _nginx_in_front(tmp: Path, app_port: int) -> tuple[list[str], int]:
    """The reference site (deploy/nginx/kehobalanssi.conf), its HTTPS server on a free
    loopback port without TLS (buffering and timeouts as they are), in front of app_port."""
    from tests.test_deploy import NGINX_SITE, _nginx_prefix

    proxy_port = free_port()
    site = NGINX_SITE.read_text(encoding="utf-8").split("server {", 2)
    https = "server {" + site[2]
    https = re.sub(r"\n\s*listen [^;]+;", "", https)
    https = re.sub(r"\n\s*ssl_certificate(_key)? [^;]+;", "", https)
    https = https.replace("server {", f"server {{\n    listen {HOST}:{proxy_port};", 1)
    https = https.replace("http://127.0.0.1:8000", f"http://{HOST}:{app_port}")
    return _nginx_prefix(tmp, site[0] + https, foreground=True), proxy_port


def _slowloris(port: int, stop: threading.Event, opened: list[int]) -> None:
    """Send a request's headers one byte a second, never finishing; reconnect when cut."""
    header = b"GET /fi/privacy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\nX-Slow: " + b"a" * 200
    while not stop.is_set():
        try:
            with socket.create_connection((HOST, port), timeout=5) as client:
                opened.append(1)
                for byte in header:
                    if stop.wait(1.0):
                        return
                    client.sendall(bytes([byte]))
        except OSError:
            stop.wait(0.2)


def _timed_requests(port: int, count: int) -> tuple[list[float], int]:
    times, answered = [], 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            status = request(port, "GET", NOTICE)[0]
        except OSError:
            status = 0
        if status == 200:
            answered += 1
            times.append(time.perf_counter() - started)
    return times, answered


def run_slow_clients(figure, database_url: str, *, slow: int = 20, requests_per_turn: int = 40) -> None:
    env = app_env(database_url, EMAIL_URL="dummymail://")
    with tempfile.TemporaryDirectory(prefix="kb_bench_nginx_") as tmp, deployed_gunicorn(env) as app_port:
        command, proxy_port = _nginx_in_front(Path(tmp), app_port)
        nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if request(proxy_port, "GET", NOTICE)[0] == 200:
                        break
                except OSError:
                    pass
                if nginx.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start")
                time.sleep(0.2)
            _timed_requests(proxy_port, 10)  # warm every worker
            quiet, busy, asked, answered, opened = [], [], 0, 0, []
            for _ in range(3):  # in turns: without, with
                times, ok = _timed_requests(proxy_port, requests_per_turn)
                quiet += times
                stop = threading.Event()
                held = [
                    threading.Thread(target=_slowloris, args=(proxy_port, stop, opened), daemon=True)
                    for _ in range(slow)
                ]
                for thread in held:
                    thread.start()
                time.sleep(2)  # all of them connected and dripping
                times, ok = _timed_requests(proxy_port, requests_per_turn)
                busy += times
                asked, answered = asked + requests_per_turn, answered + ok
                stop.set()
                for thread in held:
                    thread.join(timeout=5)
        finally:
            _stop(nginx, timeout=10)
    figure("slow_clients_held", slow, "clients")
    figure("slow_clients_connections_opened", len(opened), "connections")
    figure("slow_clients_median_without", statistics.median(quiet) * 1000, "ms")
    figure("slow_clients_median_with", statistics.median(busy) * 1000, "ms")
    ratio = statistics.median(busy) / statistics.median(quiet)
    figure("slow_clients_median_with_vs_without", ratio, "x", "<=3", ratio <= 3)
    figure("slow_clients_others_answered", answered, f"of {asked}", f"={asked}", answered == asked)
