import pytest
from django.urls import reverse

from customers.models import Customer, Order, Organisation
from tests.factories import (
    CustomerFactory,
    DisclosureFactory,
    MarketingObjectionFactory,
    OrderFactory,
    OrganisationFactory,
    customer_admin_form,
)

pytestmark = pytest.mark.django_db

CUSTOMER_ADD = reverse("admin:customers_customer_add")


@pytest.mark.parametrize("rows", [10, 200])
def test_customer_list_queries_do_not_grow_with_rows(owner_client, rows, django_assert_max_num_queries):
    """S2: the customer list stays fast as the register grows."""
    organisation = OrganisationFactory()
    CustomerFactory.create_batch(rows, organisation=organisation)
    with django_assert_max_num_queries(16):
        response = owner_client.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 200
    assert organisation.name in response.text


@pytest.mark.parametrize("rows", [10, 200])
def test_order_list_queries_do_not_grow_with_rows(owner_client, rows, django_assert_max_num_queries):
    OrderFactory.create_batch(rows)
    with django_assert_max_num_queries(16):
        response = owner_client.get(reverse("admin:customers_order_changelist"))
    assert response.status_code == 200


def test_owner_adds_a_customer_with_a_normalised_phone(owner_client):
    """S7, S8: a customer is created with validated fields and a source."""
    response = owner_client.post(CUSTOMER_ADD, customer_admin_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get()
    assert str(customer.phone) == "+358401234567".replace("401234567", "407654321")
    assert customer.source == "shop_purchase"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "123", "five digits"),
        ("phone", "not a phone", "phone number"),
        ("email", "aino@", "email address"),
        ("source", "", "required"),
    ],
)
def test_invalid_customer_data_gets_a_message_per_field(owner_client, settings, field, value, message):
    """S7: invalid data is refused with a clear message on the field."""
    response = owner_client.post(
        CUSTOMER_ADD, customer_admin_form(**{field: value}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field]).lower()
    assert not Customer.objects.exists()


def test_bad_business_id_is_refused(owner_client):
    response = owner_client.post(
        reverse("admin:customers_organisation_add"),
        {"name": "Testi Oy", "business_id": "1572860-1", "country": "FI", "source": "registration"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "check digit" in " ".join(response.context["adminform"].form.errors["business_id"])
    assert not Organisation.objects.exists()


def test_negative_order_total_is_refused_with_a_message(owner_client):
    customer = CustomerFactory()
    response = owner_client.post(
        reverse("admin:customers_order_add"),
        {
            "customer": customer.pk,
            "order_number": "X-1",
            "ordered_on": "2026-11-01",
            "channel": "shop",
            "total": "-5.00",
            "invoice_status": "paid",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "total" in response.context["adminform"].form.errors
    assert not Order.objects.exists()


@pytest.mark.parametrize("term", ["040 765 4321", "+358407654321", "0407654321"])
def test_search_finds_a_customer_by_phone_in_any_format(owner_client, term):
    wanted = CustomerFactory(phone="+358407654321")
    CustomerFactory(phone="+358401111111")
    response = owner_client.get(reverse("admin:customers_customer_changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == [wanted]


def test_search_by_name_email_and_postal_code(owner_client):
    wanted = CustomerFactory(
        first_name="Aino", last_name="Mäkinen", postal_code="33100", city="Tampere", email="aino.m@example.fi"
    )
    CustomerFactory(first_name="Eino", last_name="Laine")
    url = reverse("admin:customers_customer_changelist")
    for term in ["Aino Mäkinen", "aino.m@example.fi", "33100"]:
        response = owner_client.get(url, {"q": term})
        assert list(response.context["cl"].result_list) == [wanted], term


def test_search_lists_matches_by_name_whatever_the_case(owner_client):
    for last in ["Eskola", "de Silva", "Cederberg"]:
        CustomerFactory(first_name="Kaisa", last_name=last)
    CustomerFactory(first_name="Ville", last_name="Aalto")
    response = owner_client.get(reverse("admin:customers_customer_changelist"), {"q": "Kaisa"})
    names = [c.last_name for c in response.context["cl"].result_list]
    assert names == ["Cederberg", "de Silva", "Eskola"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"objection": "listing"}, {"objector"}),
        ({"objection": "none"}, {"plain", "debtor"}),
        ({"open_invoices": "yes"}, {"debtor"}),
        ({"city": "Oulu"}, {"debtor"}),
        ({"source": "web_shop"}, {"objector"}),
    ],
)
def test_customer_list_filters(owner_client, params, expected):
    people = {
        "plain": CustomerFactory(),
        "objector": CustomerFactory(source="web_shop"),
        "debtor": CustomerFactory(city="Oulu", postal_code="90100"),
    }
    MarketingObjectionFactory(customer=people["objector"], purpose="listing")
    OrderFactory(customer=people["debtor"], invoice_status="debt_collection")
    response = owner_client.get(reverse("admin:customers_customer_changelist"), params)
    found = {name for name, c in people.items() if c in response.context["cl"].result_list}
    assert found == expected


def test_customer_page_shows_orders_objections_and_disclosures_inline(owner_client):
    """S7, S9, S17: everything about a customer on one page."""
    customer = CustomerFactory()
    OrderFactory(customer=customer, order_number="T-INLINE-1")
    MarketingObjectionFactory(customer=customer, purpose="market_research")
    DisclosureFactory(customer=customer, recipient="Perintätoimisto Oy")
    response = owner_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert "T-INLINE-1" in response.text
    assert "Perintätoimisto Oy" in response.text
    assert "Markkina- ja mielipidetutkimus" in response.text  # shown read-only (S17)


def test_objection_added_in_admin_records_who_recorded_it(owner_client, owner):
    """S6: staff record an objection with the channel it came by."""
    customer = CustomerFactory()
    response = owner_client.post(
        reverse("admin:customers_marketingobjection_add"),
        {
            "customer": customer.pk,
            "purpose": "listing",
            "received_at_0": "2026-11-20",
            "received_at_1": "10:00:00",
            "channel": "email",
        },
    )
    assert response.status_code == 302
    objection = customer.objections.get()
    assert objection.recorded_by == owner and objection.channel == "email"


def test_organisation_page_lists_its_people(owner_client):
    organisation = OrganisationFactory()
    member = CustomerFactory(organisation=organisation, last_name="Edustaja")
    CustomerFactory(last_name="Ulkopuolinen")
    response = owner_client.get(reverse("admin:customers_organisation_change", args=[organisation.pk]))
    assert member.last_name in response.text
    assert "Ulkopuolinen" not in response.text


def test_admin_speaks_finnish_by_default(owner_client):
    response = owner_client.get(reverse("admin:customers_customer_changelist"))
    assert response.headers["Content-Language"] == "fi"
    assert "Asiakkaat" in response.text


def test_changing_a_customer_asks_and_records_where_the_data_came_from(owner_client, owner):
    """S8: every change records its source."""
    customer = CustomerFactory(street_address="Vanhatie 1")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = customer_admin_form(
        street_address="Uusitie 2",
        email=customer.email,
        phone=str(customer.phone),
        first_name=customer.first_name,
        last_name=customer.last_name,
    )
    response = owner_client.post(url, form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "change_source" in response.context["adminform"].form.errors
    response = owner_client.post(url, {**form, "change_source": "address_update"})
    assert response.status_code == 302
    change = customer.changes.get()
    assert change.source == "address_update" and "street_address" in change.fields
    assert change.changed_by == owner


def test_nothing_in_the_register_is_deleted_by_hand(staff_client):
    """S11, S17, S19: a customer with an open invoice, an order in the bookkeeping period
    or an objection's history cannot be removed with the admin's delete."""
    from tests.factories import DisclosureFactory, MarketingObjectionFactory, OrderFactory

    customer = CustomerFactory()
    order = OrderFactory(customer=customer, invoice_status="open")
    objection = MarketingObjectionFactory(customer=customer, purpose="listing")
    disclosure = DisclosureFactory(customer=customer)
    for name, obj in [
        ("customer", customer),
        ("order", order),
        ("marketingobjection", objection),
        ("disclosure", disclosure),
    ]:
        url = reverse(f"admin:customers_{name}_delete", args=[obj.pk])
        assert staff_client.post(url, {"post": "yes"}).status_code == 403, name
        assert type(obj).objects.filter(pk=obj.pk).exists(), name
    page = staff_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert "orders-0-DELETE" not in page.text and "objections-0-DELETE" not in page.text
    changelist = staff_client.get(reverse("admin:customers_customer_changelist"))
    assert "delete_selected" not in changelist.text


def test_erase_action_shows_the_plan_then_erases_and_respects_holds(staff_client):
    """Erasure by hand goes through the same rules as an erasure request."""
    from customers.models import Order
    from tests.factories import OrderFactory

    paid = CustomerFactory(last_name="Maksanut")
    OrderFactory(customer=paid, invoice_status="paid")
    debtor = CustomerFactory(last_name="Velallinen")
    OrderFactory(customer=debtor, invoice_status="open")
    url = reverse("admin:customers_customer_changelist")
    selected = {"action": "erase_customers", "_selected_action": [str(paid.pk), str(debtor.pk)]}
    plan = staff_client.post(url, selected, HTTP_ACCEPT_LANGUAGE="en")
    assert plan.status_code == 200
    assert "Maksanut" in plan.text and "Velallinen" in plan.text and "open invoice" in plan.text.lower()
    assert Customer.objects.count() == 2

    done = staff_client.post(url, {**selected, "confirm": "yes"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 customer erased." in done.text and "1 customer not erased" in done.text
    assert list(Customer.objects.values_list("last_name", flat=True)) == ["Velallinen"]
    assert Order.objects.filter(customer=None).count() == 1  # kept for bookkeeping, no link
    assert staff_client.get(url, {"q": "Maksanut"}).context["cl"].result_count == 0


def test_erase_action_erases_the_selection_in_one_transaction(staff_client, monkeypatch):
    """S11, S19: a failure half-way through the selection erases nobody (requests are not
    wrapped in a transaction: the action is)."""
    import customers.admin
    from privacy.erasure import erase_customer

    first, second = CustomerFactory(last_name="Aalto"), CustomerFactory(last_name="Berg")

    def erase_then_fail(customer, **kwargs):
        if customer.pk == second.pk:
            raise RuntimeError("the database went away")
        return erase_customer(customer, **kwargs)

    monkeypatch.setattr(customers.admin, "erase_customer", erase_then_fail)
    selected = {"action": "erase_customers", "_selected_action": [str(first.pk), str(second.pk)]}
    with pytest.raises(RuntimeError):
        staff_client.post(reverse("admin:customers_customer_changelist"), {**selected, "confirm": "yes"})
    assert set(Customer.objects.values_list("pk", flat=True)) == {first.pk, second.pk}


def test_row_checkbox_is_the_html_django_renders(db):
    """The admin lists' own checkbox gives byte for byte the HTML of Django's widget."""
    from django.contrib import admin as django_admin

    customer = CustomerFactory(first_name='<b>"Ä&Ö"</b>', last_name="O'Neill")
    model_admin = django_admin.site._registry[Customer]
    ours = model_admin.action_checkbox(customer)
    django = django_admin.ModelAdmin.action_checkbox(model_admin, customer)
    assert ours == django


def test_organisations_cannot_be_deleted_and_nothing_is_deleted_in_bulk(owner_client, owner):
    """S2, S11: an organisation stays (its people would lose their link without a trace),
    and no admin list of personal data offers Django's bulk delete."""
    from django.contrib.auth import get_user_model

    organisation = OrganisationFactory()
    CustomerFactory(organisation=organisation)
    response = owner_client.post(
        reverse("admin:customers_organisation_delete", args=[organisation.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Organisation.objects.filter(pk=organisation.pk).exists()
    get_user_model().objects.create_user("toinen", is_staff=True)
    for name in ["customers_organisation", "customers_customer", "customers_order", "auth_user"]:
        page = owner_client.get(reverse(f"admin:{name}_changelist"))
        assert page.status_code == 200
        assert 'value="delete_selected"' not in page.text, name
