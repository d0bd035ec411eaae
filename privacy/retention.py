"""The daily retention run: nothing kept too long (GDPR art. 5(1)(e); S19).

`apply_retention` anonymises customers with no activity for RETENTION_YEARS
and no legal hold. It is idempotent and safe to run daily (README: cron).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from customers.import_uploads import sweep_uploads
from customers.models import Customer

from .anonymisation import anonymise_customers
from .audit import record
from .models import AuditAction, DataRequest


@dataclass(frozen=True)
class RetentionOutcome:
    dry_run: bool
    customers_anonymised: int
    customers_held: int
    unconfirmed_requests_deleted: int
    request_identities_cleared: int
    expired_sessions_deleted: int
    import_uploads_deleted: int = 0

    def as_counts(self) -> dict[str, int]:
        return {
            "customers_anonymised": self.customers_anonymised,
            "customers_held": self.customers_held,
            "unconfirmed_requests_deleted": self.unconfirmed_requests_deleted,
            "request_identities_cleared": self.request_identities_cleared,
            "expired_sessions_deleted": self.expired_sessions_deleted,
            "import_uploads_deleted": self.import_uploads_deleted,
        }


def years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year - years, day=28)


def inactive_customers(now: datetime.datetime | None = None):
    cutoff = years_before(now or timezone.now(), settings.RETENTION_YEARS)
    return Customer.objects.not_anonymised().filter(last_activity_at__lt=cutoff)


@transaction.atomic
def apply_retention(*, dry_run: bool = False) -> RetentionOutcome:
    """Steps:
    1. find customers inactive for RETENTION_YEARS and not yet anonymised;
    2. leave out those with an open invoice or debt collection (legal claim);
    3. anonymise the rest (privacy.anonymisation);
    4. delete requests never confirmed within 7 days, with their signatures;
    5. clear who asked (identity fields, signature, released report) from requests
       closed more than REQUEST_IDENTITY_RETENTION_DAYS ago;
    6. delete expired staff sessions (Django keeps them until told to);
    7. delete import files whose preview was abandoned over an hour ago
       (customers/import_uploads.py);
    8. write one audit event with the counts (not on a dry run).
    """
    inactive = inactive_customers()
    held = inactive.with_open_invoices()
    expired = inactive.exclude(pk__in=held.values("pk"))
    held_count = held.count()
    unconfirmed = DataRequest.objects.expired_unconfirmed()
    closed_before = timezone.now() - datetime.timedelta(days=settings.REQUEST_IDENTITY_RETENTION_DAYS)
    old_closed = DataRequest.objects.closed().filter(
        closed_at__lt=closed_before, identity_erased_at__isnull=True
    )
    sessions = Session.objects.filter(expire_date__lt=timezone.now())
    if dry_run:
        counts = (expired.count(), held_count, unconfirmed.count(), old_closed.count(), sessions.count())
        return RetentionOutcome(True, *counts, import_uploads_deleted=sweep_uploads(dry_run=True))
    anonymised = anonymise_customers(expired, audit=False).customers
    deleted = unconfirmed.delete()[1].get("privacy.DataRequest", 0)
    cleared = old_closed.erase_identities()
    outcome = RetentionOutcome(
        False,
        anonymised,
        held_count,
        deleted,
        cleared,
        sessions.delete()[0],
        import_uploads_deleted=sweep_uploads(),
    )
    record(action=AuditAction.RETENTION_RUN, object_type="customers.customer", counts=outcome.as_counts())
    return outcome
