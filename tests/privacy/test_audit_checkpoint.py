"""Issue 13, item 6: a chain whose end is anchored. `audit_checkpoint` writes the newest
event's id and hash, signed, to a file outside the database; `verify_audit_log
--checkpoint FILE` then fails when events were cut from the end of the log (a restored
older backup looks exactly like that), and passes on an intact log that grew since."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from privacy import triggers
from privacy.audit import GENESIS, content_hash, record
from privacy.models import AuditAction, AuditEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def make_events(n: int) -> list[AuditEvent]:
    customer = CustomerFactory()
    return [record(action=AuditAction.VIEW, obj=customer) for _ in range(n)]


def cut_newest(n: int) -> None:
    """What restoring yesterday's backup, or an owner of the database, does: the newest
    events are gone and the chain that is left is intact (the triggers bypassed)."""
    newest = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:n])
    triggers.run(connection, triggers.DROP)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM privacy_auditevent WHERE id IN ({', '.join(['%s'] * len(newest))})",  # noqa: S608
            newest,
        )
    triggers.run(connection, triggers.CREATE)


def checkpoint(path: Path) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit_checkpoint", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def verify(path: Path) -> str:
    out = io.StringIO()
    call_command("verify_audit_log", "--checkpoint", str(path), stdout=out)
    return out.getvalue()


@pytest.fixture
def checkpoint_file(settings, tmp_path):
    path = tmp_path / "checkpoints" / "audit-checkpoints.log"
    path.parent.mkdir()
    settings.AUDIT_CHECKPOINT_FILE = str(path)
    settings.AUDIT_CHECKPOINT_KEY = "checkpoint-key-for-tests-only"
    return path


def test_checkpoint_passes_on_an_intact_log(checkpoint_file):
    """Item 6: an intact log passes its checkpoint; the file holds one signed line per run."""
    events = make_events(4)
    output = checkpoint(checkpoint_file)
    assert f"event #{events[-1].pk}, 4 events" in output
    assert "Warning" not in output  # the key is set
    line = json.loads(checkpoint_file.read_text())
    assert line["event_id"] == events[-1].pk and line["hash"] == events[-1].hash
    assert oct(checkpoint_file.stat().st_mode & 0o777) == "0o600"
    assert "Audit log intact: 4 events checked" in verify(checkpoint_file)


def test_checkpoint_fails_after_the_newest_events_are_removed(checkpoint_file):
    """Item 6: a cut tail (or an older backup restored) passes the plain chain check but
    fails the checkpoint, naming the missing event."""
    make_events(5)
    checkpoint(checkpoint_file)
    cut_newest(2)
    call_command("verify_audit_log", stdout=io.StringIO())  # the chain alone cannot see it
    with pytest.raises(CommandError) as failure:
        verify(checkpoint_file)
    message = str(failure.value)
    assert "fewer than the 5 of the checkpoint" in message
    assert "removed from its end, or an older backup was restored" in message


def test_checkpoint_fails_when_its_event_is_missing_though_the_log_regrew(checkpoint_file):
    """Item 6: the tail was cut and new events written since: as many events as the
    checkpoint counted, but its event is gone."""
    events = make_events(3)
    checkpoint(checkpoint_file)
    cut_newest(1)
    make_events(2)
    with pytest.raises(CommandError, match=rf"event #{events[-1].pk} of the checkpoint .* is missing"):
        verify(checkpoint_file)


def test_checkpoint_fails_on_a_different_hash_at_its_number(checkpoint_file):
    """Item 6: a log replaced by another valid chain of the same length and ids (the
    triggers bypassed): the checkpoint's event holds a different hash."""
    events = make_events(3)
    checkpoint(checkpoint_file)
    triggers.run(connection, triggers.DROP)
    AuditEvent.objects.all().delete()
    triggers.run(connection, triggers.CREATE)
    prev = GENESIS
    for original in events:
        forged = AuditEvent(
            id=original.pk, occurred_at=timezone.now(), actor_type="system", action="export", prev_hash=prev
        )
        forged.hash = prev = content_hash(forged)
        forged.save(force_insert=True)
    call_command("verify_audit_log", stdout=io.StringIO())  # a chain of its own, intact
    with pytest.raises(CommandError, match=rf"event #{events[-1].pk} has a different hash"):
        verify(checkpoint_file)


def test_a_tampered_checkpoint_line_fails(checkpoint_file):
    """Item 6: a checkpoint edited to match a shortened log does not verify."""
    make_events(5)
    checkpoint(checkpoint_file)
    cut_newest(2)
    line = json.loads(checkpoint_file.read_text())
    newest = AuditEvent.objects.order_by("-id").first()
    line.update(event_id=newest.pk, hash=newest.hash, events=3)
    checkpoint_file.write_text(json.dumps(line) + "\n")
    with pytest.raises(CommandError, match="line 1: its signature does not verify"):
        verify(checkpoint_file)


def test_a_checkpoint_written_under_another_key_fails(checkpoint_file, settings):
    make_events(2)
    checkpoint(checkpoint_file)
    settings.AUDIT_CHECKPOINT_KEY = "another-key"
    with pytest.raises(CommandError, match="signature does not verify"):
        verify(checkpoint_file)


def test_a_log_that_grew_after_its_checkpoints_passes_and_history_is_kept(checkpoint_file):
    """Item 6: checkpoints are appended (one line per run); a log that grew after them
    passes every one."""
    make_events(2)
    checkpoint(checkpoint_file)
    make_events(3)
    checkpoint(checkpoint_file)
    newest = make_events(4)[-1]
    assert len(checkpoint_file.read_text().splitlines()) == 2
    output = verify(checkpoint_file)
    assert "Audit log intact: 9 events checked" in output
    assert "the newest of 2 checkpoints" in output
    assert AuditEvent.objects.order_by("-id").first() == newest


def test_an_empty_or_missing_checkpoint_file_fails(checkpoint_file):
    make_events(1)
    with pytest.raises(CommandError, match="Cannot read the checkpoint file"):
        verify(checkpoint_file)
    checkpoint_file.write_text("")
    with pytest.raises(CommandError, match="holds no checkpoint"):
        verify(checkpoint_file)
    checkpoint_file.write_text("not a checkpoint\n")
    with pytest.raises(CommandError, match="line 1: not a checkpoint line"):
        verify(checkpoint_file)


def test_without_a_checkpoint_key_the_command_warns(checkpoint_file, settings):
    """Item 6: the default key is derived from SECRET_KEY (documented); the command says so."""
    settings.AUDIT_CHECKPOINT_KEY = ""
    make_events(1)
    assert "Warning: AUDIT_CHECKPOINT_KEY is not set" in checkpoint(checkpoint_file)
    assert "Audit log intact" in verify(checkpoint_file)


def test_an_unwritable_checkpoint_file_is_a_clear_error(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "no-such-directory" / "checkpoints.log")
    make_events(1)
    with pytest.raises(CommandError, match="Cannot write the checkpoint to"):
        call_command("audit_checkpoint", stdout=io.StringIO(), stderr=io.StringIO())


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_manage_py_exit_codes(tmp_path, settings):
    """Item 6, as cron runs it: `manage.py audit_checkpoint` exits 0; after the newest
    events are cut, `manage.py verify_audit_log --checkpoint FILE` exits 1 with its
    message on stderr."""
    path = tmp_path / "checkpoints.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "AUDIT_LOG_KEY": settings.AUDIT_LOG_KEY,
        "AUDIT_CHECKPOINT_FILE": str(path),
        "AUDIT_CHECKPOINT_KEY": "cron-key",
        "DJANGO_READ_DOT_ENV": "0",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, env=env
        )

    make_events(3)
    written = manage("audit_checkpoint")
    assert written.returncode == 0, written.stderr
    assert "3 events" in written.stdout
    intact = manage("verify_audit_log", "--checkpoint", str(path))
    assert intact.returncode == 0 and "Audit log intact: 3 events checked" in intact.stdout
    cut_newest(1)
    cut = manage("verify_audit_log", "--checkpoint", str(path))
    assert cut.returncode == 1
    assert "fails its checkpoint" in cut.stderr and "fewer than the 3" in cut.stderr
