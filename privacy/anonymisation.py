"""Anonymisation (GDPR art. 17 as the notice offers it, S19; statistics S3).

Irreversible: names, contact and address data, the exact birth date, the
organisation link and free texts that could identify are removed. What serves
statistics stays: orders' dates, totals and channels, the birth year (so the
age band), the municipality and the country.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from customers.models import Customer, Disclosure, Order

from .audit import record
from .models import AuditAction, DataRequest
from .personal_data import cleared_values

# Every Customer field that can identify a person, and what it becomes; what the orders
# and disclosures written about them lose (privacy/personal_data.py).
CUSTOMER_CLEARED = cleared_values(Customer)
ORDER_CLEARED = cleared_values(Order)
DISCLOSURE_CLEARED = cleared_values(Disclosure)


@dataclass(frozen=True)
class AnonymisationOutcome:
    customers: int
    already_anonymised: int
    orders_cleared: int
    disclosures_cleared: int


@transaction.atomic
def anonymise_customers(
    customers: QuerySet[Customer], *, actor=None, audit: bool = True
) -> AnonymisationOutcome:
    """Anonymise every customer in `customers`, in a fixed number of queries.

    Steps:
    1. leave out customers anonymised before (idempotent);
    2. clear identifying customer fields (CUSTOMER_CLEARED), set anonymised_at;
    3. clear orders' free-text descriptions (ORDER_CLEARED; dates, totals, channels stay);
    4. clear what was written in their disclosures (DISCLOSURE_CLEARED; category,
       recipient and date stay);
    5. rename their entries in Django's admin history, which copies the name;
    6. clear who asked on their closed data requests (names, addresses, signatures and
       any released access report, which is a full copy of their data);
    7. write one audit event (counts only).
    """
    pks = list(customers.filter(anonymised_at__isnull=True).values_list("pk", flat=True))
    already = customers.filter(anonymised_at__isnull=False).count()
    if not pks:
        return AnonymisationOutcome(0, already, 0, 0)
    Customer.objects.filter(pk__in=pks).update(
        **CUSTOMER_CLEARED, anonymised_at=timezone.now(), updated_at=timezone.now()
    )
    orders = Order.objects.filter(customer__in=pks).exclude(**ORDER_CLEARED).update(**ORDER_CLEARED)
    disclosures = Disclosure.objects.filter(customer__in=pks).update(**DISCLOSURE_CLEARED)
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id__in=[str(p) for p in pks]
    ).update(object_repr="", change_message="")
    DataRequest.objects.for_customers(pks).closed().erase_identities()
    outcome = AnonymisationOutcome(len(pks), already, orders, disclosures)
    if audit:
        record(
            action=AuditAction.ANONYMISED,
            actor=actor,
            object_type="customers.customer",
            object_id=str(pks[0]) if len(pks) == 1 else "",
            fields=[
                *CUSTOMER_CLEARED,
                *(f"orders.{name}" for name in ORDER_CLEARED),
                *(f"disclosures.{name}" for name in DISCLOSURE_CLEARED),
            ],
            counts={"customers": len(pks), "orders_cleared": orders, "disclosures_cleared": disclosures},
        )
    return outcome


def anonymise_customer(customer: Customer, *, actor=None) -> AnonymisationOutcome:
    outcome = anonymise_customers(Customer.objects.filter(pk=customer.pk), actor=actor)
    customer.refresh_from_db()
    return outcome
