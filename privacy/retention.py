"""The daily retention run: nothing kept too long (GDPR art. 5(1)(e); S11, S19).

`apply_retention` anonymises customers with no activity for RETENTION_YEARS and no
legal hold, detaches orders older than ORDER_HISTORY_YEARS from the person, releases
legal holds whose time has come and tidies requests, sessions and import files. It is
idempotent and safe to run daily (README: cron).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import DateTimeField, F, OuterRef, Subquery
from django.db.models.functions import Cast, Greatest
from django.utils import timezone

from customers.import_uploads import sweep_uploads
from customers.models import Customer, InvoiceStatus, Order

from . import data_requests, fulfilment
from .anonymisation import anonymise_customers
from .audit import record
from .models import AuditAction, DataRequest, HeldItem, HeldOrder, LegalHold


@dataclass(frozen=True)
class RetentionOutcome:
    """What one run did (or, on a dry run, would do), per reason."""

    dry_run: bool
    customers_anonymised_for_inactivity: int = 0
    inactive_customers_held_by_open_invoice: int = 0
    inactive_customers_held_by_debt_collection: int = 0
    orders_detached_from_purchase_history: int = 0
    held_orders_deleted: int = 0
    waiting_erasures_completed: int = 0
    waiting_erasures_still_held: int = 0
    waiting_erasures_released_request_closed: int = 0
    unconfirmed_requests_deleted: int = 0
    request_identities_cleared: int = 0
    expired_sessions_deleted: int = 0
    import_uploads_deleted: int = 0

    def as_counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if name != "dry_run"}


def years_before(moment, years: int):
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year - years, day=28)


def inactive_customers(now: datetime.datetime | None = None):
    """Customers not anonymised whose last activity (orders, requests, changes, contacts,
    objections, consents: Customer.with_last_activity) is older than RETENTION_YEARS."""
    cutoff = years_before(now or timezone.now(), settings.RETENTION_YEARS)
    return Customer.objects.not_anonymised().inactive_since(cutoff)


def orders_past_history(*, exclude_customers=()):
    """Orders older than ORDER_HISTORY_YEARS still linked to a person (not anonymised).
    An unsettled invoice keeps its buyer: the claim needs them (S11)."""
    before = years_before(timezone.localdate(), settings.ORDER_HISTORY_YEARS)
    return (
        Order.objects.filter(
            ordered_on__lt=before, customer__isnull=False, customer__anonymised_at__isnull=True
        )
        .exclude(invoice_status__in=[InvoiceStatus.OPEN, InvoiceStatus.DEBT_COLLECTION])
        .exclude(customer__in=list(exclude_customers))
    )


def detach_orders(orders) -> int:
    """Detach `orders` from their buyers (S3: dates, totals and channels stay for statistics
    and bookkeeping; the buyer and the free-text description go). Each buyer's recorded
    activity keeps the latest detached purchase, so their retention clock does not go back."""
    latest = Subquery(orders.filter(customer=OuterRef("pk")).order_by("-ordered_on").values("ordered_on")[:1])
    bought = Cast(latest, DateTimeField())
    Customer.objects.filter(pk__in=orders.values("customer")).update(
        last_activity_at=Greatest(F("last_activity_at"), bought, output_field=DateTimeField())
    )
    return orders.update(customer=None, description="")


def release_held_orders(*, dry_run: bool) -> int:
    """Delete the orders whose bookkeeping hold has passed its last day (the day after
    `kept_until`), mark the holds released and note it on their requests' timelines."""
    deleted = 0
    for hold in LegalHold.objects.due().filter(what=HeldItem.ORDERS).select_related("data_request"):
        orders = Order.objects.filter(legal_holds=hold, customer__isnull=True)  # never a buyer's
        if dry_run:
            deleted += orders.count()
            continue
        deleted += orders.delete()[1].get("customers.Order", 0)
        HeldOrder.objects.filter(hold=hold).delete()
        hold.released_at = timezone.now()
        hold.save(update_fields=["released_at"])
        if hold.data_request:
            data_requests.note_system_event(hold.data_request, AuditAction.HELD_ORDERS_DELETED)
    return deleted


def complete_waiting_erasures(*, dry_run: bool) -> dict[str, int]:
    """Erasures that wait for an open invoice or a debt collection: once nothing blocks
    them, the erasure is done as staff would do it (the request completed, the requester
    told); a request closed meanwhile (refused, withdrawn) has nothing left to wait for."""
    counts = {"completed": 0, "still_held": 0, "released_request_closed": 0}
    waiting = defaultdict(list)
    for hold in LegalHold.objects.in_force().filter(what=HeldItem.ERASURE).select_related("data_request"):
        waiting[hold.data_request].append(hold)
    for data_request, holds in waiting.items():
        if data_request is None or not data_request.is_open:
            counts["released_request_closed"] += 1
            if not dry_run:
                _release(holds, data_request, AuditAction.HOLD_RELEASED)
            continue
        if any(plan.blocked for plan in fulfilment.plan_erasure(data_request)):
            counts["still_held"] += 1
            continue
        counts["completed"] += 1
        if not dry_run:
            _release(holds, None, AuditAction.HOLD_RELEASED)
            fulfilment.fulfil_erasure(data_request=data_request, actor=data_requests.SYSTEM)
    return counts


def _release(holds: list[LegalHold], data_request: DataRequest | None, action: str) -> None:
    LegalHold.objects.filter(pk__in=[h.pk for h in holds]).update(released_at=timezone.now())
    if data_request is not None:
        data_requests.note_system_event(data_request, action)


@transaction.atomic
def apply_retention(*, dry_run: bool = False) -> RetentionOutcome:
    """Steps:
    1. find customers with no activity for RETENTION_YEARS, not yet anonymised;
    2. leave out those with an open invoice or debt collection (legal claim);
    3. delete orders kept for bookkeeping whose hold has passed its last day;
    4. complete erasures that waited for a hold which has now ended;
    5. anonymise the inactive customers (privacy.anonymisation);
    6. detach orders older than ORDER_HISTORY_YEARS from the people still in the register;
    7. delete requests never confirmed within 7 days, with their signatures;
    8. clear who asked (identity fields, signature, released report) from requests
       closed more than REQUEST_IDENTITY_RETENTION_DAYS ago;
    9. delete expired staff sessions (Django keeps them until told to);
    10. delete import files whose preview was abandoned over an hour ago
        (customers/import_uploads.py);
    11. write one audit event with the counts (not on a dry run).
    A dry run counts every step and changes nothing.
    """
    inactive = inactive_customers()
    held = inactive.with_open_invoices()
    in_collection = held.filter(orders__invoice_status=InvoiceStatus.DEBT_COLLECTION).distinct().count()
    held_count = held.count()
    expired = list(inactive.exclude(pk__in=held.values("pk")).values_list("pk", flat=True))
    unconfirmed = DataRequest.objects.expired_unconfirmed()
    closed_before = timezone.now() - datetime.timedelta(days=settings.REQUEST_IDENTITY_RETENTION_DAYS)
    old_closed = DataRequest.objects.closed().filter(
        closed_at__lt=closed_before, identity_erased_at__isnull=True
    )
    sessions = Session.objects.filter(expire_date__lt=timezone.now())
    held_orders_deleted = release_held_orders(dry_run=dry_run)
    erasures = complete_waiting_erasures(dry_run=dry_run)
    common = {
        "dry_run": dry_run,
        "inactive_customers_held_by_open_invoice": held_count - in_collection,
        "inactive_customers_held_by_debt_collection": in_collection,
        "held_orders_deleted": held_orders_deleted,
        "waiting_erasures_completed": erasures["completed"],
        "waiting_erasures_still_held": erasures["still_held"],
        "waiting_erasures_released_request_closed": erasures["released_request_closed"],
    }
    past_history = orders_past_history(exclude_customers=expired)
    if dry_run:
        return RetentionOutcome(
            **common,
            customers_anonymised_for_inactivity=len(expired),
            orders_detached_from_purchase_history=past_history.count(),
            unconfirmed_requests_deleted=unconfirmed.count(),
            request_identities_cleared=old_closed.count(),
            expired_sessions_deleted=sessions.count(),
            import_uploads_deleted=sweep_uploads(dry_run=True),
        )
    outcome = RetentionOutcome(
        **common,
        customers_anonymised_for_inactivity=anonymise_customers(
            Customer.objects.filter(pk__in=expired), audit=False
        ).customers,
        orders_detached_from_purchase_history=detach_orders(past_history),
        unconfirmed_requests_deleted=unconfirmed.delete()[1].get("privacy.DataRequest", 0),
        request_identities_cleared=old_closed.erase_identities(),
        expired_sessions_deleted=sessions.delete()[0],
        import_uploads_deleted=sweep_uploads(),
    )
    record(action=AuditAction.RETENTION_RUN, object_type="customers.customer", counts=outcome.as_counts())
    return outcome
