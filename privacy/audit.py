"""Writing and verifying the audit log.

Events are written explicitly by the operations and views that act (never
from signals, which miss bulk_create and update()).

The hash chain stays consistent under concurrent writers because every write
takes one database-wide lock for the rest of its transaction before it reads
the previous hash: `pg_advisory_xact_lock` on PostgreSQL; on SQLite every
transaction begins IMMEDIATE (settings), so writers are serialised by the
database lock. Two writers therefore never chain to the same predecessor, and
ids grow in chain order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
