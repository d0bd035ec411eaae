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

from customers.changes import record_change
from customers.models import Customer, Source

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


class RectificationForm(forms.ModelForm):
    """Validates a rectification exactly as the admin validates the same fields."""

    class Meta:
        model = Customer
        fields = RECTIFIABLE_FIELDS


@dataclass(frozen=True)
class Recipient:
    """Someone who must be told of the rectification (art. 19)."""

    kind: str  # "source" or "disclosure"
    name: str
    category: str


@dataclass
class RectificationOutcome:
    customer_id: int
    applied: bool
    changed_fields: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    notify: list[Recipient] = field(default_factory=list)


def recipients_to_notify(customer: Customer) -> list[Recipient]:
    """The source the data came from and every recipient in the disclosure log."""
    recipients = [Recipient("source", str(customer.get_source_display()), str(customer.get_source_display()))]
    sources = set(
        customer.changes.exclude(source=customer.source)
        .exclude(source=Source.DATA_SUBJECT_REQUEST)
        .values_list("source", flat=True)
    )
    recipients += [Recipient("source", str(Source(s).label), str(Source(s).label)) for s in sorted(sources)]
    seen = set()
    for disclosure in customer.disclosures.order_by("disclosed_on"):
        key = (disclosure.recipient, disclosure.category)
        if key not in seen:
            seen.add(key)
            recipients.append(
                Recipient("disclosure", disclosure.recipient, str(disclosure.get_category_display()))
            )
    return recipients


@transaction.atomic
def apply_rectification(*, customer: Customer, changes: dict[str, Any], actor) -> RectificationOutcome:
    """Apply the corrections a data subject asked for.

    Steps:
    1. validate the new values with the admin's own rules; on error change nothing;
    2. save the changed fields, recorded as a change with source "data subject request";
    3. list who must be told (recipients_to_notify);
    4. one audit event with the field names (never the values).
    """
    outcome = RectificationOutcome(customer_id=customer.pk, applied=False)
    unknown = set(changes) - set(RECTIFIABLE_FIELDS)
    if unknown:
        outcome.errors = {name: ["This field cannot be rectified here."] for name in unknown}
        return outcome
    initial = {name: getattr(customer, name) for name in RECTIFIABLE_FIELDS}
    form = RectificationForm(data={**initial, **changes}, instance=customer)
    if not form.is_valid():
        outcome.errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        customer.refresh_from_db()
        return outcome
    outcome.changed_fields = sorted(form.changed_data)
    if outcome.changed_fields:
        form.save()
        record_change(
            customer=customer,
            fields=outcome.changed_fields,
            source=Source.DATA_SUBJECT_REQUEST,
            actor=actor,
        )
    outcome.applied = True
    outcome.notify = recipients_to_notify(customer)
    record(
        action=AuditAction.RECTIFIED,
        actor=actor,
        obj=customer,
        fields=outcome.changed_fields,
        counts={"recipients_to_notify": len(outcome.notify)},
    )
    return outcome


def _pdf(template: str, context: dict, language: str) -> bytes:
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(template, {**context, "language": language, "today": timezone.localdate()})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def notification_letter_pdf(
    *,
    recipient: Recipient,
    customer: Customer,
    changed_fields: list[str],
    rectified_on: datetime.date,
    controller: dict,
    language: str = "fi",
) -> bytes:
    """A letter telling one recipient what was rectified (art. 19)."""
    labels = [field_label(name) for name in changed_fields]
    values = [(label, getattr(customer, name)) for label, name in zip(labels, changed_fields, strict=True)]
    return _pdf(
        "privacy/rectification_notice.html",
        {
            "recipient": recipient,
            "customer": customer,
            "values": values,
            "rectified_on": rectified_on,
            "controller": controller,
        },
        language,
    )


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
