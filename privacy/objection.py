"""Objections to marketing (GDPR art. 21; privacy notice S6, S17).

An objection to direct marketing is absolute (art. 21(3)): there is no
refusal path here, and completing an objection request records every purpose
at once.
"""

from __future__ import annotations

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
