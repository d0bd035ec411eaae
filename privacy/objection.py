"""Objections to marketing (GDPR art. 21; privacy notice S6, S17).

An objection to direct marketing is absolute (art. 21(3)): there is no
refusal path here, and completing an objection request records every purpose
at once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from customers.models import Channel, Customer, MarketingObjection, ObjectionPurpose

from .audit import record
from .models import AuditAction


@dataclass(frozen=True)
class ObjectionOutcome:
    customer_id: int
    recorded: list[str]
    already_in_force: list[str]


@transaction.atomic
def record_objections(
    *, customer: Customer, purposes: list[str], channel: str, actor, received_at=None
) -> ObjectionOutcome:
    """Record an objection in force for every purpose not already objected to."""
    unknown = set(purposes) - set(ObjectionPurpose.values)
    if unknown or channel not in Channel.values:
        raise ValueError("Unknown purpose or channel.")
    in_force = set(customer.objections.in_force(*purposes).values_list("purpose", flat=True))
    new = [p for p in ObjectionPurpose.values if p in purposes and p not in in_force]
    MarketingObjection.objects.bulk_create(
        MarketingObjection(
            customer=customer,
            purpose=p,
            channel=channel,
            received_at=received_at or timezone.now(),
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for p in new
    )
    record(
        action=AuditAction.OBJECTION_RECORDED,
        actor=actor,
        obj=customer,
        fields=new,
        counts={"recorded": len(new), "already_in_force": len(in_force)},
    )
    return ObjectionOutcome(customer.pk, new, sorted(in_force))


def _staff(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def record_objection(*, objection: MarketingObjection, actor) -> MarketingObjection:
    """Record one objection staff entered (its purpose, date and channel, validated by its
    form); who recorded it is the staff member."""
    if objection.pk is not None:
        raise ValueError("This objection is recorded already.")
    objection.recorded_by = _staff(actor)
    objection.save()
    record(
        action=AuditAction.OBJECTION_RECORDED,
        actor=actor,
        obj=objection,
        fields=list(MarketingObjection.RECORD_FIELDS),
    )
    return objection


class ObjectionWithdrawnError(Exception):
    """The objection was withdrawn already: a withdrawal is recorded once."""


@transaction.atomic
def withdraw_objection(
    *, objection: MarketingObjection, channel: str, actor, withdrawn_at: datetime.datetime | None = None
) -> MarketingObjection:
    """Record that the customer withdrew an objection: when, by which channel, and who
    wrote it down. The objection itself stays as recorded, so the history shows what was
    in force when (S17); objecting again later records a new objection.

    Steps: check the channel and the date; write the withdrawal only if none is stored
    (one UPDATE, so two staff members cannot both withdraw it); audit it.
    """
    if channel not in Channel.values:
        raise ValueError("Unknown channel.")
    when = withdrawn_at or timezone.now()
    if when < objection.received_at or when > timezone.now():
        raise ValueError("A withdrawal is dated between the objection and now.")
    written = MarketingObjection.objects.filter(pk=objection.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=when, withdrawal_channel=channel, withdrawn_by=_staff(actor)
    )
    if not written:
        raise ObjectionWithdrawnError(objection.pk)
    record(
        action=AuditAction.OBJECTION_WITHDRAWN,
        actor=actor,
        obj=objection,
        fields=list(MarketingObjection.WITHDRAWAL_FIELDS),
    )
    objection.refresh_from_db()
    return objection
