"""Rectification (GDPR art. 16 and 19; privacy notice S18).

The notice: a rectification request names what is wrong and why; it is done
without delay; the party the data came from and the parties it was disclosed
to are told; a refusal gets a written certificate with the reasons and the
route to the Data Protection Ombudsman.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext

from customers.changes import record_change
from customers.models import ChangeKind, Customer, Source

from .audit import record
from .models import AuditAction

RECTIFIABLE_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "street_address",
    "postal_code",
    "city",
    "country",
    "birth_date",
    "age",
]


def field_label(name: str) -> str:
    """The name of a rectifiable field, in the active language."""
    model_field = Customer._meta.get_field(name)
    assert isinstance(model_field, models.Field), f"{name} is not a column of Customer"
    return str(model_field.verbose_name)


def clearable(name: str) -> bool:
    """Whether rectification may delete the field's value: the register needs the names
    (and the country of the address), so those are corrected, never cleared."""
    model_field = Customer._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return model_field.blank


def _empty(value: Any) -> bool:
    return value is None or str(value) == ""


class RectificationForm(forms.ModelForm):
    """Validates a rectification exactly as the admin validates the same fields."""

    class Meta:
        model = Customer
        fields = RECTIFIABLE_FIELDS


# The sources that are someone else, told of a rectification (S18: "the one the wrong
# data came from"): the business's own shop, web shop, registrations and imports, and
# the person's own notices, are not third parties to tell.
THIRD_PARTY_SOURCES = (Source.RESELLER, Source.ADDRESS_UPDATE, Source.SUBCONTRACTOR)


@dataclass(frozen=True)
class Recipient:
    """Someone who must be told of the rectification or erasure (art. 19)."""

    kind: str  # privacy.models.RecipientKind: "source" or "disclosure"
    name: str
    category: str  # a Source or a DisclosureCategory code
    disclosure_ids: tuple[int, ...] = ()


@dataclass
class RectificationOutcome:
    customer_id: int
    applied: bool
    changed_fields: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # field name -> ChangeKind
    errors: dict[str, list[str]] = field(default_factory=dict)
    notify: list[Recipient] = field(default_factory=list)


def disclosure_recipients(customer: Customer) -> list[Recipient]:
    """Every recipient in the customer's disclosure log, once per recipient and category."""
    found: dict[tuple[str, str], list[int]] = {}
    for disclosure in customer.disclosures.order_by("disclosed_on", "pk"):
        found.setdefault((disclosure.recipient, disclosure.category), []).append(disclosure.pk)
    return [Recipient("disclosure", name, category, tuple(ids)) for (name, category), ids in found.items()]


def recipients_to_notify(customer: Customer) -> list[Recipient]:
    """The third-party sources the data came from and every recipient in the disclosure log."""
    sources = {customer.source} | set(customer.changes.values_list("source", flat=True))
    recipients = [Recipient("source", str(Source(s).label), s) for s in THIRD_PARTY_SOURCES if s in sources]
    return recipients + disclosure_recipients(customer)


def _kind(old: Any, new: Any) -> str:
    if _empty(old):
        return ChangeKind.COMPLETED.value
    return ChangeKind.DELETED.value if _empty(new) else ChangeKind.CORRECTED.value


KIND_ACTIONS = {
    ChangeKind.CORRECTED: AuditAction.RECTIFIED,
    ChangeKind.DELETED: AuditAction.RECTIFIED_DELETED,
    ChangeKind.COMPLETED: AuditAction.RECTIFIED_COMPLETED,
}


def _refused_clears(changes: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [
            gettext("%(field)s is required in the register and cannot be cleared: correct it instead.")
            % {"field": capfirst(field_label(name))}
        ]
        for name, value in changes.items()
        if _empty(value) and not clearable(name)
    }


@transaction.atomic
def apply_rectification(
    *, customer: Customer, changes: dict[str, Any], actor, reasons: dict[str, str] | None = None
) -> RectificationOutcome:
    """Correct, delete or complete what a data subject asked for (GDPR art. 16, 17(1)(a)).

    `changes` maps a field to its new value; an empty value deletes the field's value.
    Steps:
    1. refuse clearing a required field, and validate the new values with the admin's
       own rules; on error change nothing;
    2. save the changed fields, recorded per kind (corrected, deleted, completed) and
       reason as changes with source "data subject request";
    3. list who must be told (recipients_to_notify);
    4. one audit event per kind with the field names (never the values).
    """
    outcome = RectificationOutcome(customer_id=customer.pk, applied=False)
    unknown = set(changes) - set(RECTIFIABLE_FIELDS)
    if unknown:
        outcome.errors = {name: [gettext("This field cannot be rectified here.")] for name in unknown}
        return outcome
    outcome.errors = _refused_clears(changes)
    if outcome.errors:
        return outcome
    initial = {name: getattr(customer, name) for name in RECTIFIABLE_FIELDS}
    data = {**initial, **{k: "" if v is None else v for k, v in changes.items()}}
    form = RectificationForm(data=data, instance=customer)
    if not form.is_valid():
        outcome.errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        customer.refresh_from_db()
        return outcome
    outcome.changed_fields = sorted(form.changed_data)
    outcome.kinds = {n: _kind(initial[n], form.cleaned_data[n]) for n in outcome.changed_fields}
    if outcome.kinds.get("age") == ChangeKind.DELETED:
        customer.age_recorded_on = None  # the day an age was stated goes with the age
    if outcome.changed_fields:
        form.save()
    groups: dict[tuple[str, str], list[str]] = {}
    for name, kind in outcome.kinds.items():
        groups.setdefault((kind, (reasons or {}).get(name, "")), []).append(name)
    for (kind, reason), names in groups.items():
        record_change(
            customer=customer,
            fields=names,
            source=Source.DATA_SUBJECT_REQUEST,
            actor=actor,
            kind=kind,
            reason=reason,
        )
    outcome.applied = True
    outcome.notify = recipients_to_notify(customer)
    for kind in ChangeKind:
        names = [n for n, k in outcome.kinds.items() if k == kind]
        if names or (kind == ChangeKind.CORRECTED and not outcome.kinds):
            record(action=KIND_ACTIONS[kind], actor=actor, obj=customer, fields=names)
    return outcome


def _pdf(template: str, context: dict, language: str) -> bytes:
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(template, {**context, "language": language, "today": timezone.localdate()})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def refusal_certificate_pdf(
    *,
    reference: str,
    requester_name: str,
    requested: str,
    reasons: str,
    received_on: datetime.date,
    controller: dict,
    language: str,
    rectification: bool = True,
) -> bytes:
    """The written certificate of a refused rectification (S18; art. 12(4)), or of
    another refused request (`rectification` False: `requested` names its kind)."""
    return _pdf(
        "privacy/refusal_certificate.html",
        {
            "reference": reference,
            "requester_name": requester_name,
            "requested": requested,
            "reasons": reasons,
            "received_on": received_on,
            "controller": controller,
            "rectification": rectification,
        },
        language,
    )
