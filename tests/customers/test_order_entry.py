"""Issue 12, item 3: order entry that cannot go wrong, through the admin's order form.
The customer is chosen with a search and required; a sum is read as euros and cents
however a person types it; the order number is offered in sequence."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Order
from privacy.models import AuditEvent
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

ORDER_ADD = reverse("admin:customers_order_add")
ORDER_LIST = reverse("admin:customers_order_changelist")
AUTOCOMPLETE = reverse("admin:autocomplete")


def order_form(customer=None, **overrides) -> dict:
    return {
        "customer": customer.pk if customer else "",
        "order_number": "2026-0001",
        "proposed_number": "",
        "ordered_on": "14.3.2026",
        "channel": "shop",
        "description": "Hieronta",
        "total": "65,50",
        "invoice_status": "paid",
        **overrides,
    }


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("65,50", "65.50"),
        ("65.50", "65.50"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50", "1234.50"),  # a non-breaking space, as a spreadsheet copies it
        ("1\u202f234,50", "1234.50"),  # a narrow one
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("65,50 €", "65.50"),
        ("120", "120.00"),
    ],
)
def test_a_sum_typed_the_finnish_or_the_english_way_is_saved_as_euros_and_cents(owner_client, typed, saved):
    customer = CustomerFactory()
    response = owner_client.post(ORDER_ADD, order_form(customer, total=typed))
    assert response.status_code == 302, form_errors(response)
    assert Order.objects.get().total == Decimal(saved)


@pytest.mark.parametrize("typed", ["kuusikymmentä", "65 50", "65,5,0", "6a5", "1 234.567,00", "65,505"])
def test_a_sum_that_cannot_be_read_is_refused_with_a_message_and_no_order(owner_client, typed):
    response = owner_client.post(ORDER_ADD, order_form(CustomerFactory(), total=typed))
    assert response.status_code == 200
    message = " ".join(form_errors(response)["total"])
    assert "65,50" in message or "desimaali" in message, message
    assert not Order.objects.exists()


def test_the_garbage_sum_message_is_in_finnish(owner_client):
    response = owner_client.post(ORDER_ADD, order_form(CustomerFactory(), total="noin 60"))
    assert "Kirjoita summa euroina ja sentteinä, esimerkiksi 65,50 tai 1 234,50." in response.text
    assert not Order.objects.exists()


def test_the_sum_is_a_text_input_showing_a_saved_sum_the_finnish_way(owner_client):
    order = OrderFactory(total=Decimal("1234.50"))
    response = owner_client.get(reverse("admin:customers_order_change", args=[order.pk]))
    html = response.text
    field = html[html.index('name="total"') - 200 : html.index('name="total"') + 200]
    assert 'type="text"' in field and 'inputmode="decimal"' in field
    assert 'value="1234,50"' in field


def test_a_new_order_without_a_customer_is_refused(owner_client):
    response = owner_client.post(ORDER_ADD, order_form(None))
    assert response.status_code == 200
    assert "Valitse asiakas, joka teki tilauksen." in " ".join(form_errors(response)["customer"])
    assert not Order.objects.exists()


def test_an_anonymised_customer_cannot_be_chosen_for_a_new_order(owner_client):
    gone = CustomerFactory(anonymised_at=timezone.now())
    response = owner_client.post(ORDER_ADD, order_form(gone))
    assert response.status_code == 200 and "customer" in form_errors(response)
    assert not Order.objects.exists()


def test_an_order_kept_after_its_buyers_erasure_can_still_be_changed(owner_client):
    kept = OrderFactory(customer=None, order_number="K-1", invoice_status="open")
    response = owner_client.post(
        reverse("admin:customers_order_change", args=[kept.pk]),
        order_form(None, order_number="K-1", invoice_status="paid", total="10,00"),
    )
    assert response.status_code == 302, form_errors(response)
    kept.refresh_from_db()
    assert kept.invoice_status == "paid" and kept.customer is None


def test_order_numbers_are_offered_in_sequence(owner_client):
    customer = CustomerFactory()
    OrderFactory(order_number="2026-0099")
    numbers = []
    for _ in range(3):
        page = owner_client.get(ORDER_ADD)
        offered = page.context["adminform"].form.initial["order_number"]
        numbers.append(offered)
        assert f'value="{offered}"' in page.text  # shown in the form, editable
        owner_client.post(ORDER_ADD, order_form(customer, order_number=offered, proposed_number=offered))
    assert numbers == ["2026-0100", "2026-0101", "2026-0102"]
    assert set(Order.objects.values_list("order_number", flat=True)) >= set(numbers)


def test_the_first_order_is_number_1_and_a_number_typed_by_hand_is_kept(owner_client):
    customer = CustomerFactory()
    assert owner_client.get(ORDER_ADD).context["adminform"].form.initial["order_number"] == "1"
    response = owner_client.post(ORDER_ADD, order_form(customer, order_number="KASSA-7", proposed_number="1"))
    assert response.status_code == 302
    assert Order.objects.get().order_number == "KASSA-7"


def test_two_staff_members_offered_one_number_both_save_in_sequence(owner_client, staff_client):
    """Both open the form, both are offered 0042; the first saves it, the second's order is
    saved as 0043 and they are told."""
    customer = CustomerFactory()
    OrderFactory(order_number="0041")
    first = owner_client.get(ORDER_ADD).context["adminform"].form.initial["order_number"]
    second = staff_client.get(ORDER_ADD).context["adminform"].form.initial["order_number"]
    assert first == second == "0042"
    owner_client.post(ORDER_ADD, order_form(customer, order_number=first, proposed_number=first))
    response = staff_client.post(
        ORDER_ADD, order_form(customer, order_number=second, proposed_number=second), follow=True
    )
    assert sorted(Order.objects.values_list("order_number", flat=True)) == ["0041", "0042", "0043"]
    assert "0042" in response.text and "0043" in response.text
    assert "oli jo" in response.text


def test_a_number_typed_by_hand_that_is_taken_is_refused(owner_client):
    OrderFactory(order_number="KASSA-7")
    response = owner_client.post(
        ORDER_ADD, order_form(CustomerFactory(), order_number="KASSA-7", proposed_number="KASSA-8")
    )
    assert response.status_code == 200 and "order_number" in form_errors(response)
    assert Order.objects.count() == 1


def test_the_order_list_shows_sums_in_euros_the_finnish_way(owner_client):
    OrderFactory(order_number="A-1", total=Decimal("65.50"))
    OrderFactory(order_number="A-2", total=Decimal("1234.50"))
    html = owner_client.get(ORDER_LIST).text
    assert "65,50\u00a0€" in html or "65,50 €" in html
    assert "1\u00a0234,50" in html


def test_the_order_list_shows_sums_the_english_way_in_english(owner_client):
    OrderFactory(order_number="A-1", total=Decimal("1234.50"))
    html = owner_client.get(ORDER_LIST, HTTP_ACCEPT_LANGUAGE="en").text
    assert "1,234.50 €" in html


def autocomplete(client, term: str) -> list[str]:
    params = {"app_label": "customers", "model_name": "order", "field_name": "customer", "term": term}
    response = client.get(AUTOCOMPLETE, params)
    assert response.status_code == 200
    return [result["text"] for result in response.json()["results"]]


def test_the_customer_is_found_by_part_of_the_surname_email_or_phone(staff_client):
    CustomerFactory(
        first_name="Aino", last_name="Mäkelä", city="Tampere", email="aino@example.fi", phone="+358407654321"
    )
    CustomerFactory(first_name="Eino", last_name="Laine", city="Oulu", email="eino@example.fi")
    for term in ["äkel", "aino@exa", "040 765 4321"]:
        assert autocomplete(staff_client, term) == ["Aino Mäkelä · Tampere · aino@example.fi"], term


def test_the_search_shows_no_anonymised_customer_and_writes_no_search_to_the_audit_log(staff_client):
    CustomerFactory(first_name="Aino", last_name="Mäkelä")
    anonymised = CustomerFactory(
        first_name="", last_name="", email="", phone="", anonymised_at=timezone.now()
    )
    events = AuditEvent.objects.count()
    assert [label.split(" · ")[0] for label in autocomplete(staff_client, "")] == ["Aino Mäkelä"]
    assert str(anonymised.pk) not in " ".join(autocomplete(staff_client, str(anonymised.pk)))
    assert AuditEvent.objects.count() == events


def test_the_search_shows_nothing_before_the_confidentiality_commitment(client, staff_without_commitment):
    from tests.personas import verified_client

    CustomerFactory(last_name="Salassapidettävä")
    params = {"app_label": "customers", "model_name": "order", "field_name": "customer", "term": "Sala"}
    response = verified_client(client, staff_without_commitment).get(AUTOCOMPLETE, params)
    assert response.status_code in (302, 403)
    assert "Salassapidettävä" not in response.text
