"""Recording where each change of a customer's data came from (S8)."""

from __future__ import annotations

from .models import Customer, CustomerChange


def record_change(*, customer: Customer, fields: list[str], source: str, actor) -> CustomerChange | None:
    """One row per saved change: the field names (never values), the source and who."""
    if not fields:
        return None
    return CustomerChange.objects.create(
        customer=customer,
        fields=sorted(fields),
        source=source,
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
