"""Erasure, "the right to be forgotten" (GDPR art. 17; privacy notice S11, S19).

The notice promises erasure on request "unless the law, open invoices or debt
collection prevent it". `erase_customer` checks those holds first and says
what it deleted, what it anonymised and what it kept, under which hold, until
which date.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import (
    Customer,
    Disclosure,
    EmailMarketingConsent,
    InvoiceStatus,
    MarketingObjection,
    Order,
)

from .audit import record
from .holds import (
    BOOKKEEPING_HOLD,
    DEBT_COLLECTION_HOLD,
    OPEN_INVOICE_HOLD,
    first_voucher_date_still_held,
    voucher_kept_until,
)
from .models import AuditAction, DataRequest, HoldReason, LegalHold
from .personal_data import cleared_values
from .suppression import suppress

KEPT_LABELS = {
    "orders": gettext_lazy("orders, detached from the person"),
    "suppression": gettext_lazy("suppression entry (hashed e-mail address)"),
}


# What an erasure deletes or detaches, as staff read it in the plan.
ERASED_LABELS = {
    "customer": gettext_lazy("customer record"),
    "orders": gettext_lazy("orders past the bookkeeping period"),
    "objections": gettext_lazy("marketing objections"),
    "consents": gettext_lazy("e-mail marketing consents"),
    "request_identities": gettext_lazy("identity data of earlier requests"),
    "admin_history": gettext_lazy("admin history entries"),
    "disclosures": gettext_lazy("disclosures' personal fields"),
}


@dataclass(frozen=True)
class Kept:
    what: str  # a key of KEPT_LABELS
    count: int
    hold: str
    until: datetime.date | None  # None: kept while the reason lasts

    @property
    def label(self) -> str:
        return str(KEPT_LABELS[self.what])


@dataclass
class ErasureOutcome:
    customer_id: int
    dry_run: bool
    blocked_by: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    kept: list[Kept] = field(default_factory=list)
    hold_reason: str | None = None  # a HoldReason when blocked

    @property
    def completed(self) -> bool:
        return not self.blocked_by and not self.dry_run

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_by)

    @property
    def deleted_items(self) -> list[tuple[str, int]]:
        """What goes, for people: (label, count), leaving out what there is none of."""
        items = [*self.deleted.items(), *((k, v) for k, v in self.anonymised.items() if k != "orders")]
        return [(str(ERASED_LABELS.get(k, k)), v) for k, v in items if v]


class _DryRun(Exception):
    """Raised to roll a dry run back after it has computed its outcome."""


def erase_customer(
    customer: Customer, *, actor, data_request=None, dry_run: bool = False, suppress_contact: bool = False
) -> ErasureOutcome:
    """Erase a customer, keeping only what a stated legal hold requires.

    Steps, in one transaction (it completes or changes nothing):
    1. Holds: an open invoice or debt collection blocks erasure; nothing changes
       and the outcome names the hold (the request can be refused or postponed).
    2. Orders inside the bookkeeping period (Accounting Act 2:10) are kept,
       detached from the person (no buyer, none of its identifying or free-text fields,
       privacy/personal_data.py: the description), each group under a legal hold that
       says until when (the retention run deletes them the day after); older orders are
       deleted.
    3. Objections, e-mail consents and the admin history of the customer are
       deleted; when the person asks not to be contacted again, a keyed hash of
       the e-mail address is kept as a suppression entry.
    4. Disclosures keep date, category and recipient (accountability, art. 5(2))
       but lose the link to the person and their identifying or free-text fields (the
       description of what was given).
    5. The customer row is deleted.
    6. One audit event records counts and field names only.
    A dry run performs every step and rolls back, so its plan is exactly what
    a real run would do.
    """
    outcome = ErasureOutcome(customer_id=customer.pk, dry_run=dry_run)
    try:
        with transaction.atomic():
            _erase(customer, outcome, suppress_contact=suppress_contact, data_request=data_request)
            if outcome.blocked or dry_run:
                raise _DryRun
            record(
                action=AuditAction.ERASED,
                actor=actor,
                object_type="customers.customer",
                object_id=str(outcome.customer_id),
                counts={
                    **{f"deleted_{k}": v for k, v in outcome.deleted.items()},
                    **{f"kept_{k.what}": k.count for k in outcome.kept},
                },
            )
    except _DryRun:
        pass
    return outcome


def vouchers_to_keep(customer: Customer) -> dict[datetime.date, list[int]]:
    """The customer's orders an erasure today keeps for bookkeeping: {last day: [ids]}."""
    kept_by_date: dict[datetime.date, list[int]] = defaultdict(list)
    held = Order.objects.filter(customer=customer, ordered_on__gte=first_voucher_date_still_held())
    for pk, ordered_on in held.values_list("pk", "ordered_on"):
        kept_by_date[voucher_kept_until(ordered_on)].append(pk)
    return kept_by_date


def _erase(customer: Customer, outcome: ErasureOutcome, *, suppress_contact: bool, data_request=None) -> None:
    statuses = set(customer.orders.unsettled().values_list("invoice_status", flat=True))
    if InvoiceStatus.OPEN in statuses:
        outcome.blocked_by.append(str(OPEN_INVOICE_HOLD))
        outcome.hold_reason = HoldReason.OPEN_INVOICE
    if InvoiceStatus.DEBT_COLLECTION in statuses:
        outcome.blocked_by.append(str(DEBT_COLLECTION_HOLD))
        outcome.hold_reason = HoldReason.DEBT_COLLECTION  # the longer of the two
    if outcome.blocked_by:
        return

    held_from = first_voucher_date_still_held()
    orders = Order.objects.filter(customer=customer)
    kept_by_date = vouchers_to_keep(customer)
    for until, pks in sorted(kept_by_date.items()):
        outcome.kept.append(Kept("orders", len(pks), str(BOOKKEEPING_HOLD), until))
    # The holds are what deletes them on the day after their date (the retention run).
    LegalHold.objects.keep_orders(orders_by_date=kept_by_date, data_request=data_request)
    outcome.anonymised["orders"] = orders.filter(ordered_on__gte=held_from).update(
        customer=None, **cleared_values(Order)
    )
    outcome.deleted["orders"] = orders.filter(ordered_on__lt=held_from).delete()[0]

    if suppress_contact and customer.email:
        suppress(customer.email)
        outcome.kept.append(
            Kept("suppression", 1, _("The person's own wish not to be contacted again"), None)
        )
    outcome.deleted["objections"] = MarketingObjection.objects.filter(customer=customer).delete()[0]
    outcome.deleted["consents"] = EmailMarketingConsent.objects.filter(customer=customer).delete()[0]
    outcome.anonymised["disclosures"] = Disclosure.objects.filter(customer=customer).update(
        customer=None, **cleared_values(Disclosure)
    )
    # The person's other closed requests keep reference, kind and dates; who asked goes.
    earlier = DataRequest.objects.for_customers([customer.pk]).closed()
    if data_request is not None:  # the request being fulfilled is closed by its own step
        earlier = earlier.exclude(pk=data_request.pk)
    outcome.deleted["request_identities"] = earlier.erase_identities()
    outcome.deleted["admin_history"] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk)
    ).delete()[0]
    Customer.objects.filter(pk=customer.pk).delete()
    outcome.deleted["customer"] = 1
