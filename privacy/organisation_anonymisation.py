"""Anonymising organisations (issue 17, item 8): an organisation is never deleted by hand.

Its name (a sole trader's trade name is often the person's own), business ID and
address are removed; the people who represented it are detached, not deleted, each with
a row in their history; their orders stay. An organisation whose people have an open
invoice or debt collection is left as it is: the business has a legal claim to establish
(GDPR art. 17(3)(e), privacy.holds), and whom the debtor represented may be part of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from customers.changes import change_entry
from customers.models import Customer, CustomerChange, InvoiceStatus, Organisation

from .audit import record
from .holds import DEBT_COLLECTION_HOLD, OPEN_INVOICE_HOLD
from .models import AuditAction
from .personal_data import erased_values, removed_fields

# What anonymisation blanks or replaces (privacy/personal_data.py): the name becomes
# personal_data.ORGANISATION_PLACEHOLDER, the business ID and the address are blanked.
ORGANISATION_REMOVED = removed_fields(Organisation)


@dataclass(frozen=True)
class OrganisationPlan:
    """What anonymising one organisation would do, or why it cannot be done now."""

    organisation: Organisation
    people: int
    orders: int
    holds: tuple[str, ...]

    @property
    def already_anonymised(self) -> bool:
        return self.organisation.anonymised_at is not None

    @property
    def blocked(self) -> bool:
        return bool(self.holds) and not self.already_anonymised

    @property
    def to_do(self) -> bool:
        return not self.blocked and not self.already_anonymised


@dataclass(frozen=True)
class OrganisationAnonymisation:
    anonymised: int
    people_detached: int
    already_anonymised: int
    blocked: int


def plan_anonymisation(organisations: QuerySet[Organisation]) -> list[OrganisationPlan]:
    """One plan per organisation, in one query: its people, their orders, the holds."""
    rows = (
        Organisation.objects.filter(pk__in=organisations.values("pk"))
        .annotate(
            n_people=Count("people", distinct=True),
            n_orders=Count("people__orders", distinct=True),
            n_open=Count(
                "people__orders", filter=Q(people__orders__invoice_status=InvoiceStatus.OPEN), distinct=True
            ),
            n_collection=Count(
                "people__orders",
                filter=Q(people__orders__invoice_status=InvoiceStatus.DEBT_COLLECTION),
                distinct=True,
            ),
        )
        .order_by("name", "pk")
    )
    plans = []
    for row in rows:
        holds = [str(OPEN_INVOICE_HOLD)] if row.n_open else []
        holds += [str(DEBT_COLLECTION_HOLD)] if row.n_collection else []
        plans.append(OrganisationPlan(row, row.n_people, row.n_orders, tuple(holds)))
    return plans


@transaction.atomic
def anonymise_organisations(
    organisations: QuerySet[Organisation], *, actor, source: str
) -> OrganisationAnonymisation:
    """Anonymise every organisation in `organisations` that no hold blocks.

    Steps:
    1. plan (plan_anonymisation): leave out those anonymised before (idempotent) and
       those whose people have an open invoice or debt collection;
    2. detach their people (people and orders stay), one history row each naming the
       field "organisation", `source` and the staff member;
    3. blank the business ID and the address, replace the name with a placeholder, set
       anonymised_at;
    4. blank their entries in Django's admin history, which copies the name;
    5. write one audit event (field names and counts only).
    """
    plans = plan_anonymisation(organisations)
    pks = [plan.organisation.pk for plan in plans if plan.to_do]
    already = sum(plan.already_anonymised for plan in plans)
    blocked = sum(plan.blocked for plan in plans)
    if not pks:
        return OrganisationAnonymisation(0, 0, already, blocked)
    now = timezone.now()
    people = list(Customer.objects.filter(organisation__in=pks).only("pk"))
    CustomerChange.objects.bulk_create(
        [
            change_entry(customer=person, fields=["organisation"], source=source, actor=actor)
            for person in people
        ]
    )
    Customer.objects.filter(pk__in=[person.pk for person in people]).update(organisation=None, updated_at=now)
    for pk in pks:
        Organisation.objects.filter(pk=pk, anonymised_at__isnull=True).update(
            **erased_values(Organisation(pk=pk)), anonymised_at=now, updated_at=now
        )
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Organisation), object_id__in=[str(pk) for pk in pks]
    ).update(object_repr="", change_message="")
    record(
        action=AuditAction.ANONYMISED,
        actor=actor,
        object_type="customers.organisation",
        object_id=str(pks[0]) if len(pks) == 1 else "",
        fields=[*ORGANISATION_REMOVED, "people.organisation"],
        counts={
            "organisations": len(pks),
            "people_detached": len(people),
            "already_anonymised": already,
            "blocked": blocked,
        },
    )
    return OrganisationAnonymisation(len(pks), len(people), already, blocked)
