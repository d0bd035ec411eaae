"""The daily retention run counts from real activity (issue 18, item 1; S19, GDPR art.
5(1)(e)) and gives purchase history a period of its own (issue 18, item 10)."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Order
from privacy.models import AuditEvent
from tests.factories import CustomerFactory, DataRequestFactory, OrderFactory, customer_admin_form

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC)
SIX_YEARS_AGO = NOW - datetime.timedelta(days=6 * 366)
LAST_MONTH = NOW - datetime.timedelta(days=30)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def long_ago_customer(**fields) -> Customer:
    """A customer entered six years ago and not heard of since, by the clock of then."""
    with time_machine.travel(SIX_YEARS_AGO, tick=False):
        return CustomerFactory(**fields)


def run_retention(capsys, *args) -> str:
    call_command("apply_retention", *args)
    return capsys.readouterr().out


def count(out: str, name: str) -> int:
    found = re.search(rf"^{name}: (\d+)$", out, re.MULTILINE)
    assert found, out
    return int(found.group(1))


def test_a_customer_who_bought_last_month_is_not_anonymised_one_inactive_is(owner_client, capsys):
    """S19, issue 18 item 1: an order entered on the admin's order form last month keeps
    its buyer in the register; a customer inactive for RETENTION_YEARS is anonymised."""
    buyer = long_ago_customer(last_name="Ostaja")
    gone = long_ago_customer(last_name="Poissa")
    with time_machine.travel(LAST_MONTH, tick=False):
        response = owner_client.post(
            reverse("admin:customers_order_add"),
            {
                "customer": buyer.pk,
                "order_number": "K-2026-1",
                "ordered_on": LAST_MONTH.date().isoformat(),
                "channel": "shop",
                "total": "89.00",
                "invoice_status": "paid",
            },
        )
        assert response.status_code == 302, response.content.decode()[:400]
    with time_machine.travel(NOW, tick=False):
        dry = run_retention(capsys, "--dry-run")
        assert count(dry, "customers anonymised for inactivity") == 1
        out = run_retention(capsys)
    assert count(out, "customers anonymised for inactivity") == 1
    buyer.refresh_from_db()
    gone.refresh_from_db()
    assert buyer.anonymised_at is None and buyer.last_name == "Ostaja"
    assert gone.anonymised_at is not None and gone.last_name == ""
    event = AuditEvent.objects.get(action="retention_run")
    assert event.counts["customers_anonymised_for_inactivity"] == 1


def test_a_request_last_month_keeps_the_customer(owner_client, capsys):
    """S19, issue 18 item 1: a customer whose only recent activity is a data request
    (linked on the request's page) is not anonymised."""
    customer = long_ago_customer(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    with time_machine.travel(LAST_MONTH, tick=False):
        request = DataRequestFactory(kind="access")
        response = owner_client.post(
            reverse("admin:privacy_datarequest_link", args=[request.pk]), {"customers": [str(customer.pk)]}
        )
        assert response.status_code == 302
    assert request.customers.get() == customer
    with time_machine.travel(NOW, tick=False):
        out = run_retention(capsys)
    assert count(out, "customers anonymised for inactivity") == 0
    customer.refresh_from_db()
    assert customer.anonymised_at is None


def test_a_staff_change_last_month_keeps_the_customer(owner_client, capsys):
    """S19, issue 18 item 1: a customer whose only recent activity is a change staff made
    on their page (recorded with its source) is not anonymised; the recorded contact
    itself is left as it was."""
    customer = long_ago_customer(street_address="Vanhatie 1")
    recorded = timezone.localtime(customer.last_activity_at)
    form = customer_admin_form(
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        phone=str(customer.phone),
        street_address="Uusitie 2",
        birth_date=customer.birth_date.isoformat(),
        last_activity_at_0=recorded.date().isoformat(),
        last_activity_at_1=recorded.strftime("%H:%M:%S"),
        change_source="address_update",
    )
    # A field with a default carries its initial value in the form (show_hidden_initial).
    form["initial-last_activity_at_0"] = form["last_activity_at_0"]
    form["initial-last_activity_at_1"] = form["last_activity_at_1"]
    with time_machine.travel(LAST_MONTH, tick=False):
        url = reverse("admin:customers_customer_change", args=[customer.pk])
        assert owner_client.post(url, form).status_code == 302
    customer.refresh_from_db()
    assert customer.changes.get().fields == ["street_address"], customer.changes.get().fields
    assert customer.last_activity_at == recorded.replace(microsecond=0)
    with time_machine.travel(NOW, tick=False):
        out = run_retention(capsys)
    assert count(out, "customers anonymised for inactivity") == 0
    customer.refresh_from_db()
    assert customer.anonymised_at is None and customer.street_address == "Uusitie 2"


def test_the_customer_page_and_list_show_the_derived_last_activity(owner_client):
    """Issue 18 item 1: staff see the last activity the retention period counts from
    ("Viimeisin toiminta"), read-only, on the list and on the customer's page."""
    customer = long_ago_customer(last_name="Näkyvä")
    with time_machine.travel(LAST_MONTH, tick=False):
        OrderFactory(customer=customer, ordered_on=datetime.date(2026, 10, 25))
    page = owner_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    shown = page.text.split("Viimeisin toiminta")[1][:300]
    assert "25.10.2026" in shown, shown
    assert 'name="last_activity"' not in page.text  # read-only
    listing = owner_client.get(reverse("admin:customers_customer_changelist"))
    header = listing.text.split('class="column-last_activity"')[1][:300]
    assert "Viimeisin toiminta" in header, header
    assert re.search(r'class="field-last_activity[^"]*">25\.10\.2026</td>', listing.text)


def test_an_objection_from_a_ban_register_is_not_the_customers_activity(capsys):
    """S19, issue 18 item 1: importing a ban list does not keep everyone on it in the
    register for ever; an objection the customer made does keep them."""
    listed = long_ago_customer()
    objected = long_ago_customer()
    with time_machine.travel(LAST_MONTH, tick=False):
        listed.objections.create(purpose="direct_advertising", channel="ban_register")
        objected.objections.create(purpose="direct_advertising", channel="customer_service")
    with time_machine.travel(NOW, tick=False):
        run_retention(capsys)
    assert set(Customer.objects.filter(anonymised_at__isnull=False)) == {listed}


def test_seeded_demo_register_keeps_everyone_who_bought_within_the_period(settings, capsys):
    """Issue 18 item 1: on the demo register the dry run anonymises nobody with an order,
    request or change inside RETENTION_YEARS."""
    call_command("seed_demo", customers=300, seed=1)
    capsys.readouterr()
    cutoff = timezone.now().replace(year=timezone.now().year - settings.RETENTION_YEARS)
    recent_buyers = set(
        Order.objects.filter(ordered_on__gte=cutoff.date()).values_list("customer", flat=True)
    )
    out = run_retention(capsys, "--dry-run")
    from privacy.retention import inactive_customers

    would_go = set(inactive_customers().values_list("pk", flat=True))
    assert count(out, "customers anonymised for inactivity") <= len(would_go)
    assert not would_go & recent_buyers


def yearly(client) -> list[tuple[str, str, str]]:
    """The order statistics page, read as staff read it: (year, orders, total) rows."""
    listing = client.get(reverse("admin:customers_order_changelist"))
    link = reverse("admin:customers_order_statistics")
    assert link in listing.text
    page = client.get(link)
    assert page.status_code == 200
    table = page.text.split('id="order-statistics"')[1].split("</table>")[0]
    return re.findall(r"<tr><td>(\d{4})</td><td>(\d+)</td><td>([\d,.\s]+)</td></tr>", table)


def test_an_active_customers_old_orders_leave_the_purchase_history(now, owner_client, settings, capsys):
    """Issue 18 item 10 (GDPR art. 5(1)(e), 25(2); Kesko 2023): an order older than
    ORDER_HISTORY_YEARS is detached from the person by apply_retention even though they
    still buy; the statistics (orders and sum per year) are the same before and after."""
    settings.ORDER_HISTORY_YEARS = 3
    customer = CustomerFactory(last_name="Kanta-asiakas")
    old = OrderFactory(
        customer=customer, ordered_on=datetime.date(2022, 6, 1), total=Decimal("40.00"), description="Lahja"
    )
    unpaid = OrderFactory(customer=customer, ordered_on=datetime.date(2022, 5, 1), invoice_status="open")
    recent = OrderFactory(customer=customer, ordered_on=datetime.date(2026, 11, 1), total=Decimal("60.00"))
    before = yearly(owner_client)
    assert ("2022", "2", "99,00") in before

    dry = run_retention(capsys, "--dry-run")
    assert count(dry, "orders detached from purchase history") == 1
    assert Order.objects.get(pk=old.pk).customer == customer
    out = run_retention(capsys)
    assert count(out, "orders detached from purchase history") == 1

    old.refresh_from_db()
    assert old.customer is None and old.description == "" and old.total == Decimal("40.00")
    assert set(customer.orders.all()) == {unpaid, recent}  # an open invoice keeps its buyer
    assert yearly(owner_client) == before
    customer.refresh_from_db()
    assert customer.anonymised_at is None
    event = AuditEvent.objects.get(action="retention_run")
    assert event.counts["orders_detached_from_purchase_history"] == 1
    assert count(run_retention(capsys), "orders detached from purchase history") == 0  # daily runs are safe


def test_a_detached_purchase_still_counts_as_the_customers_activity(now, settings, capsys):
    """S19, issue 18 items 1 and 10: with a purchase history shorter than the retention
    period, a customer whose last purchase left the history is not anonymised for it:
    their last activity stays the purchase's date."""
    settings.ORDER_HISTORY_YEARS = 2
    customer = long_ago_customer()
    OrderFactory(customer=customer, ordered_on=datetime.date(2023, 3, 1))
    run_retention(capsys)
    customer.refresh_from_db()
    assert not customer.orders.exists() and customer.anonymised_at is None
    assert Customer.objects.with_last_activity().get(pk=customer.pk).last_activity.date() == datetime.date(
        2023, 3, 1
    )


@pytest.mark.parametrize(("value", "ok"), [("0", False), ("3", True), ("6", True), ("7", False)])
def test_order_history_years_is_between_one_and_the_bookkeeping_period(value, ok):
    """Issue 18 item 10: a purchase history has a stated period, no longer than the
    bookkeeping period; a bad value stops the start with a message."""
    from tests.test_settings import run_settings

    result = run_settings({"SECRET_KEY": "x" * 50, "ORDER_HISTORY_YEARS": value})
    assert (result.returncode == 0) is ok, result.stderr
    if not ok:
        assert "ORDER_HISTORY_YEARS must be at least 1" in result.stderr


def test_the_notice_states_the_purchase_history_period(client, settings):
    """Issue 18 item 10: the privacy notice states how long purchase history is linked to
    the person, in Finnish and in English."""
    settings.ORDER_HISTORY_YEARS = 4
    assert "Ostohistoria (tilaukset) on liitettynä asiakkaaseen 4 vuotta" in client.get("/fi/privacy/").text
    assert "stays linked to the customer for 4 years" in client.get("/en/privacy/").text
