"""Art. 19 notifications as records on the request (GDPR art. 19; privacy notice S9, S18).

Applying a rectification, or erasing a customer data was disclosed about, stores on the
request one `Notification` per recipient to tell. Every staff member sees the list on the
request's page, prints each letter (made from the record and the customer's data at that
moment) and marks it sent; the requester sees on the status page who was told and when.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from customers.models import ChangeKind, Customer

from .audit import record
from .models import AuditAction, DataRequest, DataRequestEvent, Notification, RequestKind
from .rectification import RECTIFIABLE_FIELDS, Recipient, _pdf, field_label


class AlreadySent(Exception):
    """The recipient is marked told already."""


class LetterUnavailable(Exception):
    """A rectification's letter once the customer is erased: nothing left to tell of."""


def _on_timeline(data_request: DataRequest, action: str, *, actor, obj, fields=(), counts=None) -> None:
    DataRequestEvent.objects.create(
        request=data_request,
        action=action,
        status=data_request.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(action=action, actor=actor, obj=obj, fields=list(fields), counts=counts)


@transaction.atomic
def record_notifications(
    *,
    data_request: DataRequest,
    customer: Customer,
    recipients: list[Recipient],
    changes: dict[str, str],
    actor,
) -> list[Notification]:
    """Store on the request each recipient to tell of `changes` (field name -> kind; empty
    for an erasure). A recipient not yet told of an earlier change to the same customer
    gets one letter with both: its record gains the fields, and a letter made before is
    to be made again."""
    stored = []
    for recipient in recipients:
        notification = data_request.notifications.filter(
            customer=customer,
            recipient_kind=recipient.kind,
            recipient_name=recipient.name,
            category=recipient.category,
            sent_at__isnull=True,
        ).first()
        if notification is None:
            notification = Notification.objects.create(
                request=data_request,
                customer=customer,
                recipient_kind=recipient.kind,
                recipient_name=recipient.name,
                category=recipient.category,
                changes=changes,
            )
        else:
            notification.changes = {**notification.changes, **changes}
            notification.letter_made_at = None
            notification.save(update_fields=["changes", "letter_made_at"])
        notification.disclosures.add(*recipient.disclosure_ids)
        stored.append(notification)
    if stored:
        _on_timeline(
            data_request,
            AuditAction.NOTIFICATIONS_RECORDED,
            actor=actor,
            obj=data_request,
            fields=sorted(changes),
            counts={"recipients": len(stored)},
        )
    return stored


def letter_rows(notification: Notification) -> list[tuple[str, str, object]]:
    """(field label, what was done, the value now) for each field concerned, in the
    register's order; a deleted field's value is gone."""
    customer = notification.customer
    kinds = {k.value: k.label for k in ChangeKind}
    return [
        (
            field_label(name),
            str(kinds.get(notification.changes[name], "")),
            getattr(customer, name) if customer is not None else None,
        )
        for name in RECTIFIABLE_FIELDS
        if name in notification.changes
    ]


@transaction.atomic
def make_letter(*, notification: Notification, actor, controller: dict, language: str) -> bytes:
    """The letter to one recipient, as the record and the customer's data stand now; the
    first time is recorded on the notification, every time in the audit log (a view)."""
    data_request = notification.request
    erasure = data_request.kind == RequestKind.ERASURE
    if not erasure and notification.customer is None:
        raise LetterUnavailable
    context = {
        "notification": notification,
        "data_request": data_request,
        "customer": notification.customer,
        "rows": letter_rows(notification),
        "disclosures": notification.disclosures.order_by("disclosed_on", "pk"),
        "changed_on": timezone.localdate(notification.created_at),
        "controller": controller,
    }
    template = "privacy/erasure_notice.html" if erasure else "privacy/rectification_notice.html"
    pdf = _pdf(template, context, language)
    if notification.letter_made_at is None:
        notification.letter_made_at = timezone.now()
        notification.save(update_fields=["letter_made_at"])
    shown = notification.customer if notification.customer is not None else data_request
    record(action=AuditAction.VIEW, actor=actor, obj=shown, fields=["notification_letter"])
    return pdf


@transaction.atomic
def mark_sent(*, notification: Notification, actor) -> Notification:
    """Record that the recipient was told, by whom and when (on the request's timeline)."""
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.sent_at is not None:
        raise AlreadySent
    notification.sent_at, notification.sent_by = timezone.now(), actor
    notification.save(update_fields=["sent_at", "sent_by"])
    _on_timeline(
        notification.request,
        AuditAction.NOTIFICATION_SENT,
        actor=actor,
        obj=notification,
        fields=["sent_at", "sent_by"],
    )
    return notification
