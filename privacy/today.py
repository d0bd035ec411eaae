"""The admin's front page for staff, "Tänään": what is due, what waits, what was last
imported or exported, and the buttons for the daily tasks (issue 12, item 1).

Bounded whatever the register's size: a fixed number of queries, each limited to a page's
worth of rows and served by an index (requests by status and due date, holds by their end).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .audit_display import readable
from .models import (
    PENDING_STATUSES,
    AuditAction,
    AuditEvent,
    DataRequest,
    LegalHold,
    RequestKind,
    RequestStatus,
)

DUE_SOON_DAYS = 7  # requests due within a week are listed with the overdue ones
HOLDS_ENDING_DAYS = 30  # legal holds ending within a month
ROWS = 15  # at most this many rows in each list; the list pages have the rest

# What fulfilling each kind of request means, once identity and customers are done.
FULFIL = {
    RequestKind.ACCESS: _("Release the access report"),
    RequestKind.RECTIFICATION: _("Correct the data"),
    RequestKind.OBJECTION: _("Record the objections"),
    RequestKind.ANONYMISATION: _("Anonymise the customer"),
    RequestKind.ERASURE: _("Erase the customer"),
}


@dataclass(frozen=True)
class DueRequest:
    pk: int
    reference: str
    requester: str
    kind: str
    days: int  # negative: days late
    next_step: str
    url: str

    @property
    def overdue(self) -> bool:
        return self.days < 0

    @property
    def days_text(self) -> str:
        return days_text(self.days)


def days_text(days: int) -> str:
    """Days to the deadline in words: "4 päivää myöhässä", "tänään", "3 päivää jäljellä"."""
    if days < 0:
        return ngettext("%(n)s day late", "%(n)s days late", -days) % {"n": -days}
    if days == 0:
        return gettext("due today")
    return ngettext("%(n)s day left", "%(n)s days left", days) % {"n": days}


# The steps of a request in the order of work (the request's page lists them so).
STEPS = ["verify", "link", "fulfil", "answer"]


def next_step_key(data_request: DataRequest, linked: int) -> str | None:
    """Which of STEPS staff take next on an open request (None once it is closed):
    verify the identity, link the customers, fulfil, answer."""
    if not data_request.is_open:
        return None
    if data_request.identity_verified_at is None:
        return "verify"
    if not linked:
        return "link"
    if data_request.kind == RequestKind.ACCESS and data_request.report_released_at:
        return "answer"
    return "fulfil"


def next_step(data_request: DataRequest, linked: int) -> str:
    """The next thing staff do on a pending request, in words."""
    key = next_step_key(data_request, linked)
    if key == "verify":
        return str(_("Verify the requester's identity"))
    if key == "link":
        return str(_("Link the request to the customer"))
    if key == "fulfil":
        return str(FULFIL.get(RequestKind(data_request.kind), _("Answer the requester")))
    return str(_("Answer the requester"))


def due_requests(today: datetime.date) -> list[DueRequest]:
    """Pending requests overdue or due within a week, the most urgent first."""
    horizon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    queryset = (
        DataRequest.objects.filter(status__in=PENDING_STATUSES, due_date__lte=horizon)
        .annotate(linked=Count("customers"))
        .order_by("due_date", "pk")
        .only(
            "reference",
            "kind",
            "status",
            "first_name",
            "last_name",
            "due_date",
            "identity_verified_at",
            "report_released_at",
        )[:ROWS]
    )
    kinds = dict(RequestKind.choices)
    return [
        DueRequest(
            pk=r.pk,
            reference=r.reference,
            requester=r.full_name or gettext("(name erased)"),
            kind=str(kinds.get(r.kind, r.kind)),
            days=(r.due_date - today).days,
            next_step=next_step(r, r.linked),
            url=reverse("admin:privacy_datarequest_change", args=[r.pk]),
        )
        for r in queryset
    ]


def waiting_erasures() -> list[DataRequest]:
    return list(
        DataRequest.objects.filter(status=RequestStatus.WAITING)
        .only("reference", "first_name", "last_name", "kind")
        .order_by("submitted_at")[:ROWS]
    )


def holds_ending(today: datetime.date) -> list[LegalHold]:
    horizon = today + datetime.timedelta(days=HOLDS_ENDING_DAYS)
    return list(
        LegalHold.objects.in_force()
        .filter(kept_until__isnull=False, kept_until__lte=horizon)
        .order_by("kept_until", "pk")[:ROWS]
    )


def last_transfers(rows: int = 5):
    """The latest imports and exports, in words (who, what, how many)."""
    events = list(
        AuditEvent.objects.filter(action__in=[AuditAction.IMPORT, AuditAction.EXPORT]).order_by("-id")[:rows]
    )
    return list(zip(events, readable(events), strict=True))


def daily_tasks(user) -> list[tuple[str, str]]:
    """(label, url) of the buttons, each only for those who may do it."""
    tasks = [
        ("customers.add_customer", _("Add a customer"), "admin:customers_customer_add"),
        ("customers.add_order", _("Add an order"), "admin:customers_order_add"),
        ("customers.view_customer", _("Mailing labels"), "admin:customers_customer_labels"),
        ("customers.add_customer", _("Import customers"), "admin:customers_customer_import"),
        ("customers.add_marketingobjection", _("Import a ban list"), "admin:customers_customer_banlist"),
        (
            "privacy.add_datarequest",
            _("Register a request received by post"),
            "admin:privacy_datarequest_add",
        ),
    ]
    return [(str(label), reverse(name)) for perm, label, name in tasks if user.has_perm(perm)]


def front_page(user, today: datetime.date | None = None) -> dict:
    """The context of the front page for a staff member who has signed the commitment."""
    today = today or timezone.localdate()
    context: dict = {"tasks": daily_tasks(user), "today": today}
    if user.has_perm("privacy.view_datarequest"):
        context["due_requests"] = due_requests(today)
        context["waiting_erasures"] = waiting_erasures()
        context["request_counts"] = DataRequest.objects.inbox_counts(today)
    if user.has_perm("privacy.view_legalhold"):
        context["holds_ending"] = holds_ending(today)
    if user.has_perm("privacy.view_auditevent"):
        context["last_transfers"] = last_transfers()
    return context
