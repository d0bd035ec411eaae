"""A restored backup is ready for work (issue 13, item 7): `make restore` runs pg_restore
and then `vacuumdb --analyze-only`, since pg_restore leaves the planner no statistics."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

from privacy.audit import record
from privacy.models import AuditAction
from tests.factories import CustomerFactory

ROOT = Path(__file__).resolve().parent.parent


def test_the_makefile_restores_and_then_analyzes():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^restore:\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert target, "no restore target"
    steps = target.group(1)
    assert steps.index("pg_restore") < steps.index("vacuumdb --analyze-only")


def test_the_readme_restore_steps_gather_the_statistics():
    """README, Backups: the restore is `make restore` or pg_restore followed by vacuumdb."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    backups = readme[readme.index("## Backups") :]
    backups = backups[: backups.index("\n## ", 1)]
    assert "make restore DUMP=" in backups
    assert backups.index("pg_restore") < backups.index("vacuumdb --analyze-only")


def _url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _psql(url: str, sql: str) -> str:
    result = subprocess.run(  # noqa: S603
        ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.skipif(
    not __import__("django.db").db.connection.vendor == "postgresql", reason="pg_restore is PostgreSQL's"
)
@pytest.mark.django_db(transaction=True)
def test_make_restore_gives_a_database_with_its_rows_its_audit_chain_and_statistics(tmp_path):
    """Issue 13, item 7: the test database dumped, restored into a new one with
    `make restore`, has the same rows, an audit chain that verifies, and statistics."""
    CustomerFactory.create_batch(30)
    with transaction.atomic():
        record(action=AuditAction.EXPORT, actor=None, counts={"customers": 30})
    source = connection.settings_dict["NAME"]
    target = f"{source}_restored"[:63]
    dump = tmp_path / "backup.dump"
    subprocess.run(  # noqa: S603
        ["pg_dump", "--format=custom", f"--file={dump}", _url(source)],  # noqa: S607
        check=True,
        capture_output=True,
    )
    admin = _url("postgres")
    _psql(admin, f'DROP DATABASE IF EXISTS "{target}"')
    _psql(admin, f'CREATE DATABASE "{target}"')
    try:
        restored = subprocess.run(  # noqa: S603
            ["make", "--no-print-directory", "restore", f"DUMP={dump}"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "DATABASE_URL": _url(target)},
        )
        assert restored.returncode == 0, restored.stderr
        url = _url(target)
        assert _psql(url, "SELECT count(*) FROM customers_customer") == "30"
        analyzed = _psql(
            url,
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN "
            "('customers_customer', 'privacy_auditevent') AND last_analyze IS NOT NULL",
        )
        assert analyzed == "2"
        assert _psql(url, "SELECT count(*) > 0 FROM pg_stats WHERE tablename = 'customers_customer'") == "t"
        verified = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "verify_audit_log"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "DATABASE_URL": url},
        )
        assert verified.returncode == 0 and "Audit log intact" in verified.stdout, verified.stderr
    finally:
        _psql(admin, f'DROP DATABASE IF EXISTS "{target}"')
