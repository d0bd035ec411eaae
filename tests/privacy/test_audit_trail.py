import json

import pytest
from django.urls import reverse

from customers.models import Customer
from privacy.models import AuditEvent
from tests.factories import customer_admin_form

pytestmark = pytest.mark.django_db

PERSONAL_VALUES = [
    "Aino",
    "Mäkinen",
    "aino@example.fi",
    "+358407654321",
    "0407654321",
    "Ellintie 4",
    "1985-03-02",
]


def events_since(first_id: int) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(id__gt=first_id)
        .order_by("id")
        .values_list("actor_type", "action", "object_type", "fields")
    )


def test_a_customers_life_in_the_admin_is_audited_without_personal_data(owner_client, owner):
    """S13: what staff did with a customer is in the audit log; no value ever is."""
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    form = customer_admin_form(birth_date="1985-03-02")
    form.update(
        {
            "orders-TOTAL_FORMS": "1",
            "orders-0-order_number": "A-1",
            "orders-0-ordered_on": "2026-11-01",
            "orders-0-channel": "shop",
            "orders-0-total": "49.00",
            "orders-0-invoice_status": "paid",
        }
    )
    assert owner_client.post(reverse("admin:customers_customer_add"), form).status_code == 302
    customer = Customer.objects.get()
    change_url = reverse("admin:customers_customer_change", args=[customer.pk])
    assert owner_client.get(change_url).status_code == 200
    changed = {
        **customer_admin_form(birth_date="1985-03-02", city="Espoo", postal_code="02100"),
        "change_source": "customer_notice",
        # what the browser sends back for a field with a callable default
        "initial-last_activity_at_0": "2026-11-24",
        "initial-last_activity_at_1": "12:00:00",
        "orders-INITIAL_FORMS": "1",
        "orders-TOTAL_FORMS": "1",
        "orders-0-id": str(customer.orders.get().pk),
        "orders-0-customer": str(customer.pk),
        "orders-0-order_number": "A-1",
        "orders-0-ordered_on": "2026-11-01",
        "orders-0-channel": "shop",
        "orders-0-total": "49.00",
        "orders-0-invoice_status": "credited",
    }
    assert owner_client.post(change_url, changed).status_code == 302
    erase = {"action": "erase_customers", "_selected_action": [str(customer.pk)], "confirm": "yes"}
    assert owner_client.post(reverse("admin:customers_customer_changelist"), erase).status_code == 302

    events = events_since(start)
    assert [(a, o) for _, a, o, _ in events] == [
        ("create", "customers.customer"),
        ("create", "customers.order"),
        ("view", "customers.customer"),
        ("change", "customers.customer"),
        ("change", "customers.order"),
        ("erased", "customers.customer"),
    ]
    assert all(actor == "staff" for actor, *_ in events)
    assert set(events[3][3]) == {"city", "postal_code"}
    assert events[4][3] == ["invoice_status"]
    assert (
        AuditEvent.objects.filter(id__gt=start).values_list("actor_id", flat=True).distinct()[0] == owner.pk
    )
    dump = json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)
    for value in PERSONAL_VALUES:
        assert value not in dump, value
