"""The public request form under gunicorn, against bare Django views (make bench).

One gunicorn (3 sync workers, loopback, a free port) serves the register with
bench_settings, which adds the bare views; a bounded load from a few client threads
goes to the register's pages and to the bare views in turns, so load from elsewhere on
the machine hits both alike. Every request must succeed; the gunicorn is always stopped.
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
HOST = "127.0.0.1"
FORM = "/fi/privacy/request/"
NOTICE = "/fi/privacy/"
BARE_INSERT = "/bench/bare/insert/"
BARE_READ = "/bench/bare/read/"
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of the app a benchmark serves with gunicorn (bench_settings)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.bench_settings",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": HOST,
        "DEBUG": "false",
        "DJANGO_READ_DOT_ENV": "0",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        # The form's rate limit is per address, and every request here comes from one.
        "REQUEST_RATE_LIMIT": "1000000/s",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@contextmanager
def gunicorn(database_url: str):
    """A gunicorn serving bench_settings on a free loopback port; stopped however the
    block ends."""
    port = free_port()
    # The confirmation mail is rendered and handed to a backend that drops it.
    env = app_env(database_url, EMAIL_URL="dummymail://")
    log = tempfile.NamedTemporaryFile(prefix="kb_bench_gunicorn_", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "kehobalanssi.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(WORKERS),
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(port, process, log.name)
        yield port
        failed = False
    except BaseException:
        failed = True
        print(f"gunicorn's log: {log.name}", flush=True)
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        if not failed:
            os.unlink(log.name)


def _wait_until_up(port: int, process: subprocess.Popen, log: str) -> None:
    for _ in range(300):  # 30 s at most
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            status, _body, _cookie = request(port, "GET", NOTICE)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start in 30 s")


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, data, response.getheader("Set-Cookie") or ""
    finally:
        connection.close()


@dataclass
class Session:
    """A client thread's CSRF cookie and token, from the request form."""

    cookie: str
    token: str

    @classmethod
    def open(cls, port: int) -> Session:
        status, body, set_cookie = request(port, "GET", FORM)
        if status != 200:
            raise RuntimeError(f"GET {FORM} gave {status}")
        cookie = set_cookie.split(";", 1)[0]
        return cls(cookie=cookie, token=TOKEN.search(body).group(1).decode())

    def post(self, port: int, path: str, fields: dict) -> int:
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.token}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie}
        return request(port, "POST", path, body, headers)[0]

    def get(self, port: int, path: str) -> int:
        return request(port, "GET", path, headers={"Cookie": self.cookie})[0]


_numbers = itertools.count()


def submission() -> dict:
    """A valid access request: the typed signature contains the last name, the
    declaration is ticked, the honeypot `website` is empty."""
    n = next(_numbers)
    return {
        "kind": "access",
        "first_name": "Kuormitus",
        "last_name": "Testaaja",
        "email": f"kuormitus{n}@bench.example",
        "reply_language": "fi",
        "signature_name": "Kuormitus Testaaja",
        "declaration": "on",
        "website": "",
    }


@dataclass(frozen=True)
class Load:
    writes: int
    reads: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return (self.writes + self.reads) / self.seconds

    @property
    def writes_per_second(self) -> float:
        return self.writes / self.seconds


def load(
    port: int, *, posts: int, post_path: str, writers: int, reader_path: str = "", readers: int = 0
) -> Load:
    """`posts` POSTs from `writers` threads; meanwhile `readers` threads GET reader_path
    until the POSTs are done (at most 20 reads per POST, so the loop is bounded)."""
    expected_post = 302  # both the form and the bare view redirect after a stored POST
    sessions = [Session.open(port) for _ in range(writers + readers)]
    left = iter(range(posts))
    lock = threading.Lock()
    done = threading.Event()
    counts = {"writes": 0, "reads": 0, "errors": 0}

    def count(key: str) -> None:
        with lock:
            counts[key] += 1

    def writer(session: Session) -> None:
        while True:
            with lock:
                if next(left, None) is None:
                    return
            try:
                ok = session.post(port, post_path, submission()) == expected_post
            except OSError:
                ok = False
            count("writes" if ok else "errors")

    def reader(session: Session) -> None:
        for _ in range(posts * 20):
            if done.is_set():
                return
            try:
                ok = session.get(port, reader_path) == 200
            except OSError:
                ok = False
            count("reads" if ok else "errors")

    write_threads = [threading.Thread(target=writer, args=(s,)) for s in sessions[:writers]]
    read_threads = [threading.Thread(target=reader, args=(s,)) for s in sessions[writers:]]
    started = time.perf_counter()
    for thread in write_threads + read_threads:
        thread.start()
    for thread in write_threads:
        thread.join()
    seconds = time.perf_counter() - started
    done.set()
    for thread in read_threads:
        thread.join()
    return Load(counts["writes"], counts["reads"], counts["errors"], seconds)


def in_turns(rounds: int, peer, ours) -> tuple[list, list]:
    peers, ourselves = [], []
    for _ in range(rounds):
        peers.append(peer())
        ourselves.append(ours())
    return peers, ourselves


def run(figure, database_url: str, *, vendor: str, posts: int, rounds: int = 3, writers: int = 4) -> None:
    from tests.benchmarks import bare_views

    bare_views.create_table()
    try:
        with gunicorn(database_url) as port:
            # Warm every worker and both code paths before anything is timed.
            load(port, posts=30, post_path=FORM, writers=writers, reader_path=NOTICE, readers=1)
            load(port, posts=30, post_path=BARE_INSERT, writers=writers, reader_path=BARE_READ, readers=1)
            peers, ours = in_turns(
                rounds,
                lambda: load(port, posts=posts, post_path=BARE_INSERT, writers=writers),
                lambda: load(port, posts=posts, post_path=FORM, writers=writers),
            )
            report(figure, "request_post", peers, ours)
            if vendor != "sqlite":
                # Readers beside a writer is SQLite's question (one writer at a time).
                sqlite_only = {"applies": False, "only": "SQLite"}
                figure("request_post_with_reads_vs_bare_view", None, "x", ">=0.7", **sqlite_only)
                figure("request_post_with_reads_errors", None, "errors", "0", **sqlite_only)
                return
            mixed = {"posts": posts, "writers": writers - 1, "readers": 2}
            peers, ours = in_turns(
                rounds,
                lambda: load(port, post_path=BARE_INSERT, reader_path=BARE_READ, **mixed),
                lambda: load(port, post_path=FORM, reader_path=NOTICE, **mixed),
            )
            report(figure, "request_post_with_reads", peers, ours)
    finally:
        bare_views.drop_table()


def report(figure, name: str, peers: list[Load], ours: list[Load]) -> None:
    peer_rate = statistics.median(p.per_second for p in peers)
    our_rate = statistics.median(o.per_second for o in ours)
    errors = sum(p.errors for p in peers) + sum(o.errors for o in ours)
    figure(f"{name}_bare_view", peer_rate, "req/s")
    figure(f"{name}_form", our_rate, "req/s")
    if any(o.reads for o in ours):
        figure(f"{name}_form_reads", statistics.median(o.reads / o.seconds for o in ours), "req/s")
        figure(f"{name}_form_writes", statistics.median(o.writes_per_second for o in ours), "req/s")
    ratio = our_rate / peer_rate
    figure(f"{name}_vs_bare_view", ratio, "x", ">=0.7", ratio >= 0.7)
    figure(f"{name}_errors", errors, "errors", "0", errors == 0)
