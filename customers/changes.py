"""Recording where each change of a customer's data came from (S8)."""

from __future__ import annotations

from .models import Customer, CustomerChange


def change_entry(
    *, customer: Customer, fields: list[str], source: str, actor, kind: str = "", reason: str = ""
) -> CustomerChange:
    """The history row for one change, unsaved: the field names (never values), the source
    and who; for a rectification also the kind of change and why."""
    return CustomerChange(
        customer=customer,
        fields=sorted(fields),
        source=source,
        kind=kind,
        reason=reason,
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def record_change(
    *, customer: Customer, fields: list[str], source: str, actor, kind: str = "", reason: str = ""
) -> CustomerChange | None:
    """One row per saved change."""
    if not fields:
        return None
    entry = change_entry(
        customer=customer, fields=fields, source=source, actor=actor, kind=kind, reason=reason
    )
    entry.save()
    return entry
