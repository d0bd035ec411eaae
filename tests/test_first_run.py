"""Issue 12, item 9: the first run. `make run` says what it is doing while it installs
and migrates, and prints the owner's user name and password last, in a box, right
before the server starts (not among 60 lines of migrations); the README says how to set
a new password."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_run_until_the_server_listens(tmp_path: Path) -> list[str]:
    """The lines `make run` prints on a new database, up to the server's "Quit" line."""
    # As a developer runs it: with the .env `make run` writes (the tests' settings read none).
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_READ_DOT_ENV"},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'first-run.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(  # noqa: S603 - our own Makefile
        ["make", "--no-print-directory", "run", f"PORT={free_port()}", "DEMO_CUSTOMERS=20"],  # noqa: S607
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 600
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "Quit the server" in line or time.monotonic() > deadline:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make and the server it started, by group id
        process.wait(timeout=30)
    return lines


def test_make_run_prints_the_owners_password_in_a_box_right_before_the_server(tmp_path):
    lines = make_run_until_the_server_listens(tmp_path)
    text = "\n".join(lines)
    assert any("Quit the server" in line for line in lines), text
    assert not any(line.lstrip().startswith("Applying ") for line in lines), "migrations are listed"

    steps = [i for i, line in enumerate(lines) if line.startswith("==> ")]
    said = [lines[i] for i in steps]
    assert any("Migrating the database" in s and "minute" in s for s in said), said
    box_top = next(i for i, line in enumerate(lines) if line.startswith("+--"))
    box_bottom = next(i for i in range(box_top + 1, len(lines)) if lines[i].startswith("+--"))
    box = "\n".join(lines[box_top : box_bottom + 1])
    assert re.search(r"\|\s+user name:\s+owner\s", box), box
    assert re.search(r"\|\s+password:\s+\S{16,}\s", box), box
    assert "manage.py changepassword owner" in box
    # After the migrations and the demo data; after the box only the server's start.
    assert max(i for i in steps if "Migrating" in lines[i]) < box_top
    assert any("Seeded" in line for line in lines[:box_top])
    after = [line for line in lines[box_bottom + 1 :] if line.strip()]
    assert after[0].startswith("==> Starting the server"), after
    assert len(after) <= 12, after  # runserver's own few lines, the box still on screen


def test_the_makefile_says_how_long_installing_takes():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    stamp = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert stamp, "no install step"
    first = stamp.group(1).splitlines()[0]
    assert first.startswith("\t@echo") and "minutes" in first and "pip install" in stamp.group(1)


def test_the_readme_says_how_to_set_a_new_password():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "manage.py changepassword owner" in readme
