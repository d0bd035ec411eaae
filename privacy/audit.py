"""Writing and verifying the audit log.

Events are written explicitly by the operations and views that act (never
from signals, which miss bulk_create and update()).

The hash chain stays consistent under concurrent writers because every write
takes one database-wide lock for the rest of its transaction before it reads
the previous hash: `pg_advisory_xact_lock` on PostgreSQL; on SQLite every
transaction begins IMMEDIATE (settings), so writers are serialised by the
database lock. Two writers therefore never chain to the same predecessor, and
ids grow in chain order.

On PostgreSQL that lock is held from record() until the transaction ends, and every
public submission and login waits for it: record() comes at the end of the work, and
whatever takes long (a label XLSX or PDF, the requester's report PDF) is made before
it, outside any transaction, and sent only after its event is recorded
(customers/label_views.py, privacy/views.py; measured by make bench,
tests/benchmarks/bench_audit_lock.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from .models import ActorType, AuditAction, AuditEvent

GENESIS = "0" * 64
# Any 64-bit number; identifies the audit log's advisory lock on PostgreSQL.
ADVISORY_LOCK_KEY = 7_261_551_300_194
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
OBJECT_ID = re.compile(r"^[0-9A-Za-z_-]{0,64}$")


def _key() -> bytes:
    return (getattr(settings, "AUDIT_LOG_KEY", "") or settings.SECRET_KEY).encode()


def content_hash(event: AuditEvent) -> str:
    payload = json.dumps(
        {
            "prev": event.prev_hash,
            "at": event.occurred_at.isoformat(timespec="microseconds"),
            "actor_type": event.actor_type,
            "actor_id": event.actor_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "fields": list(event.fields),
            "counts": dict(event.counts),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])


def _check_no_values(object_type: str, object_id: str, fields: list[str], counts: dict[str, int]) -> None:
    """Refuse anything that could carry a value rather than a name."""
    if object_type and not IDENTIFIER.match(object_type):
        raise ValueError("object_type must be an identifier such as 'customers.customer'.")
    if not OBJECT_ID.match(object_id):
        raise ValueError("object_id must be a short id, not free text.")
    for name in [*fields, *counts]:
        if not IDENTIFIER.match(name):
            raise ValueError("Field and count names must be identifiers.")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in counts.values()):
        raise ValueError("Counts must be integers.")


@transaction.atomic
def record(
    *,
    action: str,
    actor=None,
    actor_type: str | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    fields: Iterable[str] = (),
    counts: Mapping[str, int] | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a staff user; without one the actor is the system
    (or `actor_type=ActorType.DATA_SUBJECT` for a requester acting on the public pages)."""
    AuditAction(action)  # an unknown action is a programming error
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_type, actor_id = ActorType.STAFF, actor.pk
    else:
        actor_type, actor_id = actor_type or ActorType.SYSTEM, None
    fields, counts = sorted(set(fields)), dict(counts or {})
    object_id = "" if object_id is None else str(object_id)
    _check_no_values(object_type, object_id, fields, counts)

    _lock_chain()
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        fields=fields,
        counts=counts,
        prev_hash=last or GENESIS,
    )
    event.hash = content_hash(event)
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainCheck:
    checked: int
    first_broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify_chain() -> ChainCheck:
    """Walk the log in id order and recompute every link."""
    expected_prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            return ChainCheck(
                checked,
                event.pk,
                "does not follow the previous event (an event before it was removed or inserted)",
            )
        if not hmac.compare_digest(content_hash(event), event.hash):
            return ChainCheck(checked, event.pk, "its content does not match its hash (altered or forged)")
        expected_prev = event.hash
        checked += 1
    return ChainCheck(checked)


# Checkpoints: the chain proves that nothing inside it was altered, removed or inserted,
# but not that nothing was cut from its end (a restored older backup looks intact).
# A checkpoint, kept outside the database, anchors the end: the newest event's id and
# hash, how many events the log held, signed with the checkpoint key.

CHECKPOINT_VERSION = 1


def _checkpoint_key() -> bytes:
    """AUDIT_CHECKPOINT_KEY, or a key derived from the audit log's key (never stored in
    the database)."""
    configured = getattr(settings, "AUDIT_CHECKPOINT_KEY", "")
    if configured:
        return configured.encode()
    return hmac.new(_key(), b"kehobalanssi audit checkpoint key", hashlib.sha256).digest()


def checkpoint_key_is_derived() -> bool:
    return not getattr(settings, "AUDIT_CHECKPOINT_KEY", "")


@dataclass(frozen=True)
class Checkpoint:
    event_id: int
    hash: str
    events: int
    written_at: str

    def _signed_text(self) -> bytes:
        return f"v{CHECKPOINT_VERSION}|{self.event_id}|{self.hash}|{self.events}|{self.written_at}".encode()

    def signature(self) -> str:
        return hmac.new(_checkpoint_key(), self._signed_text(), hashlib.sha256).hexdigest()

    def line(self) -> str:
        return json.dumps(
            {
                "v": CHECKPOINT_VERSION,
                "event_id": self.event_id,
                "hash": self.hash,
                "events": self.events,
                "written_at": self.written_at,
                "signature": self.signature(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        """The checkpoint on one line; ValueError when it is not one or its signature
        does not verify under the checkpoint key."""
        try:
            data = json.loads(line)
            checkpoint = cls(
                event_id=int(data["event_id"]),
                hash=str(data["hash"]),
                events=int(data["events"]),
                written_at=str(data["written_at"]),
            )
            signature = str(data["signature"])
            version = data["v"]
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError("not a checkpoint line") from error
        if version != CHECKPOINT_VERSION or not hmac.compare_digest(signature, checkpoint.signature()):
            raise ValueError(
                "its signature does not verify (the line was altered, or written under another "
                "AUDIT_CHECKPOINT_KEY)"
            )
        return checkpoint


def current_checkpoint() -> Checkpoint:
    """The newest committed event (ids grow in chain order, see record())."""
    latest = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    event_id, event_hash = latest or (0, GENESIS)
    events = AuditEvent.objects.filter(id__lte=event_id).count()
    return Checkpoint(
        event_id=event_id,
        hash=event_hash,
        events=events,
        written_at=timezone.now().isoformat(timespec="seconds"),
    )


def append_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> None:
    """Add one line to the file, keeping the lines before it. Atomic: the old file is
    replaced by a complete new one (written beside it, flushed to disk), so a crash
    leaves either the old history or the new, never half a line."""
    path = Path(path)
    try:
        before = path.read_bytes()
    except FileNotFoundError:
        before = b""
    if before and not before.endswith(b"\n"):
        before += b"\n"
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(before + checkpoint.line().encode() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass(frozen=True)
class CheckpointCheck:
    checkpoints: int
    newest: Checkpoint | None = None
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem


def verify_checkpoints(lines: Iterable[str]) -> CheckpointCheck:
    """Every checkpoint line must verify, and the log must still hold each
    checkpoint's event with the same hash and at least as many events: otherwise
    events were cut from its end or an older copy replaced it. A log that grew since
    passes."""
    checked = 0
    newest = None
    total = AuditEvent.objects.count()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint.parse(line)
        except ValueError as error:
            return CheckpointCheck(checked, newest, f"checkpoint line {number}: {error}")
        if checkpoint.events > total:
            return CheckpointCheck(
                checked,
                newest,
                f"the log holds {total} events, fewer than the {checkpoint.events} of the checkpoint "
                f"written {checkpoint.written_at} (line {number}): events were removed from its end, "
                "or an older backup was restored",
            )
        if checkpoint.event_id:
            found = AuditEvent.objects.filter(id=checkpoint.event_id).values_list("hash", flat=True).first()
            if found is None:
                return CheckpointCheck(
                    checked,
                    newest,
                    f"event #{checkpoint.event_id} of the checkpoint written {checkpoint.written_at} "
                    f"(line {number}) is missing: events were removed from the end of the log, "
                    "or an older backup was restored",
                )
            if not hmac.compare_digest(found, checkpoint.hash):
                return CheckpointCheck(
                    checked,
                    newest,
                    f"event #{checkpoint.event_id} has a different hash than the checkpoint written "
                    f"{checkpoint.written_at} (line {number}): the log was replaced or rewritten",
                )
        checked += 1
        newest = checkpoint
    if not checked:
        return CheckpointCheck(0, None, "the file holds no checkpoint")
    return CheckpointCheck(checked, newest)
