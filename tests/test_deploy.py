"""The reference deployment in deploy/ (issue 13, item 2): nginx buffers and times out slow
clients at the app's own body limits, gunicorn runs sync workers with a timeout on
loopback, and systemd runs the web and the daily retention run."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
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
    site = site.replace("/etc/nginx/kehobalanssi_proxy.conf", str(NGINX_PROXY))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    kinds = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    temp_paths = "\n".join(f"    {kind}_temp_path {tmp_path / kind};" for kind in kinds)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n{temp_paths}\n    access_log off;\n    include {tmp_path / 'site.conf'};\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(  # noqa: S603
        [_nginx(), "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf")],  # noqa: E501
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
