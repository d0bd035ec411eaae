"""Fulfilling each kind of request (S16–S19), called from the request's admin page.

Every function checks the request is open and linked and the requester verified as the
linked customers (data_requests.require_verified), does the work through
the operation modules (access_report, rectification, objection, anonymisation,
erasure), closes the request with an outcome the requester reads on the status
page, and returns what happened.
"""

from __future__ import annotations

import datetime
import json

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import Customer, InvoiceStatus, ObjectionPurpose, Order

from . import data_requests
from .access_report import build_access_report, report_json
from .anonymisation import anonymise_customers
from .audit import record
from .erasure import ErasureOutcome, erase_customer, vouchers_to_keep
from .holds import DEBT_COLLECTION_HOLD, OPEN_INVOICE_HOLD
from .models import (
    ActorType,
    AuditAction,
    ControllerDetails,
    DataRequest,
    HoldReason,
    LegalHold,
    RequestKind,
)
from .notifications import record_notifications
from .objection import record_objections
from .rectification import RectificationOutcome, apply_rectification, disclosure_recipients
from .suppression import suppress

REPORT_DOWNLOAD_DAYS = 30


def _require(data_request: DataRequest, kind: str) -> None:
    if data_request.kind != kind or not data_request.is_open:
        raise data_requests.RequestStateError("kind or status")
    if not data_request.customers.exists():
        raise data_requests.RequestStateError("no customer linked")
    data_requests.require_verified(data_request)


def report_for_request(data_request: DataRequest) -> dict:
    """The access report of every customer linked to the request, in its reply language."""
    customers = list(data_request.customers.values_list("pk", flat=True))
    report = build_access_report(
        customers, language=data_request.reply_language, controller=ControllerDetails.load().as_letterhead()
    )
    with translation.override(data_request.reply_language):
        report["requests"] = [
            {
                "reference": r.reference,
                "kind": r.kind,
                "kind_label": str(r.get_kind_display()),
                "received_at": r.submitted_at,
                "status": r.status,
                "status_label": str(r.get_status_display()),
            }
            for r in DataRequest.objects.filter(customers__in=customers).distinct().order_by("submitted_at")
        ]
    return report


@transaction.atomic
def release_access_report(*, data_request: DataRequest, actor, site_url: str = "") -> DataRequest:
    """Freeze the report staff previewed and let the requester download it; a linked
    customer whose e-mail on record is not the requester's is told there (no content)."""
    _require(data_request, RequestKind.ACCESS)
    data_request.report_json = report_json(report_for_request(data_request)).decode()
    data_request.report_released_at = timezone.now()
    data_request.report_expires_at = timezone.now() + datetime.timedelta(days=REPORT_DOWNLOAD_DAYS)
    data_request.save(update_fields=["report_json", "report_released_at", "report_expires_at"])
    record(action=AuditAction.REPORT_RELEASED, actor=actor, obj=data_request)
    data_requests.tell_addresses_on_record(data_request, actor=actor)
    with translation.override(data_request.reply_language):
        outcome = _(
            "Your access report is ready: download it on this page as a PDF and as "
            "machine-readable JSON until %(date)s."
        ) % {"date": timezone.localtime(data_request.report_expires_at).strftime("%-d.%-m.%Y")}
    return data_requests.complete_request(
        data_request=data_request, outcome=outcome, actor=actor, site_url=site_url
    )


def released_report(data_request: DataRequest) -> dict | None:
    if not data_request.report_json or not data_request.report_expires_at:
        return None
    if data_request.report_expires_at < timezone.now():
        return None
    return json.loads(data_request.report_json)


def record_download(data_request: DataRequest, fmt: str) -> None:
    record(
        action=AuditAction.REPORT_DOWNLOADED,
        actor_type=ActorType.DATA_SUBJECT,
        obj=data_request,
        fields=[fmt],
    )


@transaction.atomic
def fulfil_objection(*, data_request: DataRequest, actor, site_url: str = "") -> DataRequest:
    _require(data_request, RequestKind.OBJECTION)
    recorded = 0
    for customer in data_request.customers.all():
        recorded += len(
            record_objections(
                customer=customer,
                purposes=data_request.objection_purposes,
                channel=data_request.objection_channel,
                actor=actor,
                received_at=data_request.submitted_at,
            ).recorded
        )
    with translation.override(data_request.reply_language):
        labels = ", ".join(str(ObjectionPurpose(p).label) for p in data_request.objection_purposes)
        outcome = _("Your objection is recorded and in force: %(purposes)s.") % {"purposes": labels}
    return data_requests.complete_request(
        data_request=data_request, outcome=outcome, actor=actor, site_url=site_url
    )


@transaction.atomic
def fulfil_rectification(
    *,
    data_request: DataRequest,
    customer: Customer,
    changes: dict[str, str],
    actor,
    reasons: dict[str, str] | None = None,
) -> RectificationOutcome:
    """Correct, delete or complete fields of one linked customer and store on the request
    each recipient to tell (art. 19); the request stays open (staff tell the recipients,
    then complete it)."""
    _require(data_request, RequestKind.RECTIFICATION)
    if not data_request.customers.filter(pk=customer.pk).exists():
        raise data_requests.RequestStateError("customer not linked")
    outcome = apply_rectification(customer=customer, changes=changes, actor=actor, reasons=reasons)
    if outcome.applied and outcome.kinds:
        record_notifications(
            data_request=data_request,
            customer=customer,
            recipients=outcome.notify,
            changes=outcome.kinds,
            actor=actor,
        )
    return outcome


@transaction.atomic
def fulfil_anonymisation(*, data_request: DataRequest, actor, site_url: str = "") -> DataRequest:
    _require(data_request, RequestKind.ANONYMISATION)
    anonymise_customers(data_request.customers.all(), actor=actor)
    with translation.override(data_request.reply_language):
        outcome = _(
            "Your data in the customer register has been anonymised: names, contact "
            "details and the exact birth date are gone for good. Orders remain for "
            "bookkeeping and statistics without anything that identifies you."
        )
    data_request = data_requests.complete_request(
        data_request=data_request, outcome=outcome, actor=actor, site_url=site_url
    )
    data_request.erase_identity(keep_outcome=True)  # the text above, naming no one
    return data_request


def plan_erasure(data_request: DataRequest) -> list[ErasureOutcome]:
    wish = data_request.no_contact_again
    return [
        erase_customer(c, actor=None, data_request=data_request, dry_run=True, suppress_contact=wish)
        for c in data_request.customers.all()
    ]


def _wait_for_holds(
    data_request: DataRequest, customers, plans: list[ErasureOutcome], *, actor, site_url: str
) -> None:
    """A hold blocks the erasure (S11): the erasure is recorded as waiting, so the daily
    retention run completes it once the invoice is paid or the collection has ended, and
    the requester is answered (art. 12(3)-(4)): nothing erased yet, what is kept and why."""
    new = 0
    for customer, plan in zip(customers, plans, strict=True):
        if plan.hold_reason:
            _hold, created = LegalHold.objects.wait_for_erasure(
                customer=customer, reason=plan.hold_reason, data_request=data_request
            )
            new += created
    if new:
        data_requests.answer_erasure_waiting(
            data_request=data_request,
            outcome=_waiting_outcome(data_request, customers),
            actor=actor,
            holds=new,
            site_url=site_url,
        )


# What an erasure waits for: the invoice status that blocks it, and how the requester reads it.
WAITING_REASONS = {
    HoldReason.OPEN_INVOICE: (InvoiceStatus.OPEN, OPEN_INVOICE_HOLD),
    HoldReason.DEBT_COLLECTION: (InvoiceStatus.DEBT_COLLECTION, DEBT_COLLECTION_HOLD),
}


def _waiting_outcome(data_request: DataRequest, customers) -> str:
    """What the requester reads while the erasure waits, in their language: nothing is
    erased yet, what blocks it (a legal claim, GDPR art. 17(3)(e)), that it completes by
    itself, and what the bookkeeping period will keep then (art. 17(3)(b))."""
    # The plans' texts are in the staff member's language: the reasons are named again here.
    unsettled = set(
        Order.objects.filter(customer__in=customers).unsettled().values_list("invoice_status", flat=True)
    )
    reasons = {reason for reason, (status, _label) in WAITING_REASONS.items() if status in unsettled}
    vouchers: dict[datetime.date, int] = {}
    for customer in customers:
        for until, ids in vouchers_to_keep(customer).items():
            vouchers[until] = vouchers.get(until, 0) + len(ids)
    with translation.override(data_request.reply_language):
        blocked_by = "; ".join(str(WAITING_REASONS[reason][1]) for reason in sorted(reasons))
        parts = [
            _("Nothing has been erased yet."),
            _("Your data is kept for now because of: %(holds)s.") % {"holds": blocked_by},
        ]
        parts.append(_completes_when(reasons))
        if vouchers:
            kept = "; ".join(
                _("%(count)s order(s) until %(date)s")
                % {"count": count, "date": until.strftime("%-d.%-m.%Y")}
                for until, count in sorted(vouchers.items())
            )
            parts.append(
                _(
                    "After the erasure, orders are kept as accounting vouchers under the Accounting Act "
                    "(1336/1997, chapter 2, section 10), with no link to you: %(kept)s."
                )
                % {"kept": kept}
            )
    return "\n".join(str(part) for part in parts)


def _completes_when(reasons: set[HoldReason]) -> str:
    if reasons == {HoldReason.OPEN_INVOICE}:
        return _("The erasure completes by itself once the invoice is paid, and we will tell you then.")
    if reasons == {HoldReason.DEBT_COLLECTION}:
        return _(
            "The erasure completes by itself once the debt collection has ended, and we will tell you then."
        )
    return _(
        "The erasure completes by itself once the invoice is paid and the debt collection "
        "has ended, and we will tell you then."
    )


@transaction.atomic
def fulfil_erasure(*, data_request: DataRequest, actor, site_url: str = "") -> list[ErasureOutcome]:
    """Erase every linked customer, or nothing when a hold blocks any of them."""
    _require(data_request, RequestKind.ERASURE)
    customers, wish = list(data_request.customers.all()), data_request.no_contact_again
    plans = [
        erase_customer(c, actor=actor, data_request=data_request, dry_run=True, suppress_contact=wish)
        for c in customers
    ]
    if any(p.blocked for p in plans):
        _wait_for_holds(data_request, customers, plans, actor=actor, site_url=site_url)
        return plans
    for customer in customers:  # art. 19: the recipients are told of the erasure too
        record_notifications(
            data_request=data_request,
            customer=customer,
            recipients=disclosure_recipients(customer),
            changes={},
            actor=actor,
        )
    outcomes = [
        erase_customer(c, actor=actor, data_request=data_request, suppress_contact=wish) for c in customers
    ]
    if wish and data_request.email:
        # The address the person wrote from is theirs too, whatever the register held
        # (a customer found by phone or by name may have had another address, or none).
        suppress(data_request.email)
    with translation.override(data_request.reply_language):
        kept = [
            _("%(count)s order(s) kept until %(date)s under the Accounting Act, with no link to you")
            % {"count": k.count, "date": k.until.strftime("%-d.%-m.%Y")}
            for o in outcomes
            for k in o.kept
            if k.until
        ]
        outcome = _("Your data has been erased from the customer register.")
        if kept:
            outcome += " " + _("Kept:") + " " + "; ".join(kept) + "."
    data_request = data_requests.complete_request(
        data_request=data_request, outcome=outcome, actor=actor, site_url=site_url
    )
    data_request.erase_identity(keep_outcome=True)  # the text above, naming no one
    return outcomes
