"""The reference deployment in deploy/ (issue 13, item 2): nginx buffers and times out slow
clients at the app's own body limits, gunicorn runs sync workers with a timeout on
loopback, and systemd runs the web and the daily retention run."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from gunicorn.config import KNOWN_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "kehobalanssi.conf"
NGINX_PROXY = DEPLOY / "nginx" / "kehobalanssi_proxy.conf"
# Debian's nginx, unpacked into the venv by `make nginx` (make test does it), never run as
# a service; or an nginx on the PATH.
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
NGINX_IN_VENV = ROOT / ".venv" / "nginx" / "usr" / "sbin" / "nginx"


def nginx_directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        statement = line.split("#", 1)[0].strip()
        if statement.endswith(";"):
            name, _, value = statement[:-1].partition(" ")
            found.setdefault(name, []).append(value.strip())
    return found


def test_nginx_times_out_slow_clients_and_buffers_both_ways():
    """Issue 13, item 2: a slowloris client is cut off by nginx, not waited for by a worker."""
    directives = nginx_directives(NGINX_SITE.read_text(encoding="utf-8"))
    for name in ["client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout"]:
        assert name in directives, name
        seconds = int(directives[name][0].rstrip("s"))
        assert 0 < seconds <= 30, (name, seconds)
    assert directives["proxy_request_buffering"] == ["on"] and directives["proxy_buffering"] == ["on"]
    assert set(directives["proxy_pass"]) == {"http://127.0.0.1:8000"}
    assert "limit_conn" in directives


def test_nginx_is_slower_to_give_up_than_gunicorn():
    """gunicorn's own timeout ends a stuck request first, with its log line, not nginx."""
    directives = nginx_directives(NGINX_SITE.read_text(encoding="utf-8"))
    gunicorn = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert int(directives["proxy_read_timeout"][0].rstrip("s")) > gunicorn["timeout"]


def test_nginx_replaces_the_forwarded_address_for_proxy_count_one():
    directives = nginx_directives(NGINX_PROXY.read_text(encoding="utf-8"))
    assert "X-Forwarded-For $remote_addr" in directives["proxy_set_header"]


def _nginx() -> str:
    found = shutil.which("nginx") or (str(NGINX_IN_VENV) if NGINX_IN_VENV.exists() else None)
    assert found, "nginx is missing: `make nginx` unpacks Debian's package into .venv (make test does)"
    return found


def _nginx_prefix(tmp_path: Path, site: str, *, foreground: bool = False) -> list[str]:
    """An nginx.conf in tmp_path that includes this server configuration, with its own
    pid, log and temporary paths; the command line that runs nginx on it."""
    site = site.replace("/etc/nginx/kehobalanssi_proxy.conf", str(NGINX_PROXY))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    kinds = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    temp_paths = "\n".join(f"    {kind}_temp_path {tmp_path / kind};" for kind in kinds)
    (tmp_path / "nginx.conf").write_text(
        ("daemon off;\n" if foreground else "")
        + f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n{temp_paths}\n    access_log off;\n    include {tmp_path / 'site.conf'};\n}}\n",
        encoding="utf-8",
    )
    error_log, config = str(tmp_path / "error.log"), str(tmp_path / "nginx.conf")
    return [_nginx(), "-p", str(tmp_path), "-e", error_log, "-c", config]


def test_nginx_accepts_the_reference_configuration(tmp_path):
    """`nginx -t` on deploy/nginx/ as installed, with a throwaway certificate and paths."""
    subprocess.run(  # noqa: S603
        [
            "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=rekisteri.kehobalanssi.fi",
            "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    site = NGINX_SITE.read_text(encoding="utf-8")
    site = re.sub(r"ssl_certificate (\S+);", f"ssl_certificate {tmp_path / 'cert.pem'};", site)
    site = re.sub(r"ssl_certificate_key (\S+);", f"ssl_certificate_key {tmp_path / 'key.pem'};", site)
    result = subprocess.run(  # noqa: S603
        [*_nginx_prefix(tmp_path, site), "-t"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_gunicorn_runs_sync_workers_on_loopback_with_a_timeout():
    """Issue 13, item 2: every name in the file is a gunicorn setting (a typo would be
    ignored by gunicorn), and gunicorn itself accepts the file with the app."""
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    known = {setting.name for setting in KNOWN_SETTINGS}
    ours = {name for name, value in config.items() if not name.startswith("_") and not callable(value)}
    ours -= {"multiprocessing", "os"}
    assert ours <= known, ours - known
    assert config["bind"].startswith("127.0.0.1:")
    assert config["worker_class"] == "sync" and config["workers"] >= 3
    assert config["timeout"] == 30
    checked = subprocess.run(  # noqa: S603
        [GUNICORN, "--check-config", "--config", "deploy/gunicorn.conf.py", "kehobalanssi.wsgi"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_READ_DOT_ENV": "0", "SECRET_KEY": "x" * 50},
    )
    assert checked.returncode == 0, checked.stderr


def _unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section, then key, then every value (keys such as
    Environment= may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            section.setdefault(key, []).append(value)
    return sections


def test_systemd_runs_the_web_with_the_gunicorn_configuration():
    web = _unit("kehobalanssi.service")
    command = web["Service"]["ExecStart"][0].split()
    config = command[command.index("--config") + 1]
    assert command[0].endswith("/gunicorn") and config == "deploy/gunicorn.conf.py"
    assert (ROOT / config).exists()
    assert web["Service"]["Restart"] == ["on-failure"]


def test_a_timer_runs_apply_retention_daily():
    """README, Retention: the daily run, as a systemd timer instead of a cron line."""
    timer, service = _unit("kehobalanssi-retention.timer"), _unit("kehobalanssi-retention.service")
    assert timer["Timer"]["Unit"] == ["kehobalanssi-retention.service"]
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d Europe/Helsinki", timer["Timer"]["OnCalendar"][0])
    assert timer["Timer"]["Persistent"] == ["true"]
    assert service["Service"]["ExecStart"][0].endswith("manage.py apply_retention")
    assert service["Service"]["Type"] == ["oneshot"]
    # Both see the same import directory (a preview left over an hour is deleted by the run).
    web = _unit("kehobalanssi.service")
    shared = "IMPORT_UPLOAD_DIR=/var/lib/kehobalanssi/imports"
    assert shared in service["Service"]["Environment"] and shared in web["Service"]["Environment"]
    # A batch run may take longer per statement than a page (DATABASE_STATEMENT_TIMEOUT).
    assert "DATABASE_STATEMENT_TIMEOUT=600" in service["Service"]["Environment"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answer_time(port: int, timeout: float) -> float | None:
    """Seconds /healthz took to answer through this port, None if it did not in time."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:  # noqa: S310
            response.read()
    except (TimeoutError, urllib.error.URLError):
        return None
    return time.monotonic() - started


def _wait_until_answering(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped"
        if _answer_time(port, 1) is not None:
            return
        time.sleep(0.2)
    raise AssertionError(f"nothing answers on port {port}")


def _slow_clients(port: int, count: int) -> list[socket.socket]:
    """Slowloris: each sends the start of a request and then nothing."""
    held = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        held.append(client)
    return held


def test_twenty_slow_clients_stop_bare_gunicorn_but_not_the_reference_proxy(tmp_path):
    """Issue 13, item 2: with 20 clients that send half a request and wait, gunicorn alone
    (3 sync workers) answers nobody else; behind deploy/nginx/kehobalanssi.conf the site
    keeps answering others within a second."""
    app_port, proxy_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DJANGO_READ_DOT_ENV": "0",
        "SECRET_KEY": "x" * 50,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "GUNICORN_WORKERS": "3",
    }
    site = NGINX_SITE.read_text(encoding="utf-8")
    site = site.split("server {", 2)
    # The HTTPS server only, on a free port without TLS: buffering and timeouts are the same.
    https = "server {" + site[2]
    https = re.sub(r"\n\s*listen [^;]+;", "", https)
    https = re.sub(r"\n\s*ssl_certificate(_key)? [^;]+;", "", https)
    https = https.replace("server {", f"server {{\n    listen 127.0.0.1:{proxy_port};", 1)
    https = https.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{app_port}")
    nginx_command = _nginx_prefix(tmp_path, site[0] + https, foreground=True)
    gunicorn = subprocess.Popen(  # noqa: S603
        [GUNICORN, "--config", "deploy/gunicorn.conf.py", "kehobalanssi.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nginx = subprocess.Popen(  # noqa: S603
        nginx_command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    held: list[socket.socket] = []
    try:
        _wait_until_answering(app_port, gunicorn)
        _wait_until_answering(proxy_port, nginx)

        held = _slow_clients(app_port, 20)
        time.sleep(0.5)
        assert _answer_time(app_port, timeout=3) is None, "bare gunicorn kept answering"
        for client in held:
            client.close()
        _wait_until_answering(app_port, gunicorn)

        held = _slow_clients(proxy_port, 20)
        time.sleep(0.5)
        answers = [_answer_time(proxy_port, timeout=3) for _ in range(5)]
        assert all(answer is not None and answer < 1 for answer in answers), answers
        print(f"20 slow clients: bare gunicorn no answer in 3 s; behind nginx {max(answers):.3f} s")
    finally:
        for client in held:
            client.close()
        for process in (nginx, gunicorn):
            process.terminate()
        for process in (nginx, gunicorn):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_systemd_runs_the_mail_worker_and_stops_it_gently():
    """Issue 13, item 1: without the worker no mail leaves; SIGTERM lets it finish its batch."""
    worker = _unit("kehobalanssi-worker.service")["Service"]
    assert worker["ExecStart"][0].endswith("manage.py run_worker")
    assert worker["Restart"] == ["always"] and worker["KillSignal"] == ["SIGTERM"]
    assert worker["EnvironmentFile"] == _unit("kehobalanssi.service")["Service"]["EnvironmentFile"]
    assert "run_worker" in (ROOT / "README.md").read_text(encoding="utf-8")


WORKER_WITH_A_PROBE = """
import django, sys
django.setup()
from django.conf import settings
from django.core.management import call_command
settings.WORKER_TASKS = ["tests.worker_probe.tick"]
settings.WORKER_IDLE_SECONDS = 0.1
call_command("run_worker")
print("exited")
"""


def test_the_worker_runs_its_tasks_until_sigterm_and_then_exits_cleanly(tmp_path):
    """run_worker calls each task of WORKER_TASKS in a loop; SIGTERM ends it with 0."""
    ticks = tmp_path / "ticks"
    env = {**os.environ, "WORKER_PROBE_FILE": str(ticks), "DJANGO_SETTINGS_MODULE": "kehobalanssi.settings"}
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", WORKER_WITH_A_PROBE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not ticks.exists() or len(ticks.read_text().split()) < 3):
            time.sleep(0.05)
        assert len(ticks.read_text().split()) >= 3  # idle rounds, WORKER_IDLE_SECONDS apart
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert "exited" in out and "Worker stopped" in err


def test_email_url_timeout_sets_the_smtp_timeout():
    """EMAIL_URL=...?timeout=5 is the SMTP backend's timeout (it used to be ignored);
    EMAIL_TIMEOUT overrides it, and without either a mail server gets 10 s."""
    probe = "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_TIMEOUT)"

    def timeout(**extra: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "EMAIL_TIMEOUT")}
        env.update(DJANGO_SETTINGS_MODULE="kehobalanssi.settings", **extra)
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert timeout(EMAIL_URL="smtp+tls://user:pw@smtp.example.fi:587?timeout=5") == "5.0"
    assert timeout(EMAIL_URL="smtp://localhost:25") == "10.0"
    assert timeout(EMAIL_URL="smtp://localhost:25?timeout=5", EMAIL_TIMEOUT="3") == "3.0"
