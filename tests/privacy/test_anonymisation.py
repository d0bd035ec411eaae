import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone, translation

from customers.models import Customer, Order
from privacy.anonymisation import anonymise_customer
from privacy.finder import find_personal_data
from privacy.models import AuditEvent
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    DisclosureFactory,
    OrderFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC))
def test_anonymisation_keeps_statistics_and_removes_identity(owner):
    """S3, S19: orders' totals, dates and channels, age band and municipality stay."""
    customer = CustomerFactory(
        first_name="Ilmari",
        last_name="Tunnistettava",
        email="ilmari.t@example.fi",
        street_address="Salakatu 9",
        postal_code="90100",
        city="Oulu",
        birth_date=datetime.date(1971, 2, 3),
        organisation=OrganisationFactory(),
    )
    order = OrderFactory(
        customer=customer,
        total="120.50",
        channel="web_shop",
        ordered_on=datetime.date(2025, 1, 2),
        description="Ilmarin lahja",
    )
    DisclosureFactory(customer=customer, data_disclosed="Ilmari Tunnistettava")
    band = customer.age_band

    outcome = anonymise_customer(customer, actor=owner)

    assert outcome.customers == 1
    assert (
        customer.first_name,
        customer.last_name,
        customer.email,
        str(customer.phone),
        customer.street_address,
        customer.postal_code,
        customer.birth_date,
        customer.organisation,
    ) == ("", "", "", "", "", "", None, None)
    assert customer.city == "Oulu" and customer.age_band == band and customer.anonymised_at
    order.refresh_from_db()
    assert (str(order.total), order.channel, order.ordered_on, order.description) == (
        "120.50",
        "web_shop",
        datetime.date(2025, 1, 2),
        "",
    )
    for value in ["Ilmari", "Tunnistettava", "ilmari.t@example.fi", "Salakatu"]:
        assert find_personal_data(value) == [], value
    with translation.override("en"):
        assert str(customer) == f"Anonymised customer #{customer.pk}"


def test_anonymisation_is_idempotent(owner):
    """S19: running it twice changes nothing the second time."""
    customer = CustomerFactory()
    anonymise_customer(customer, actor=owner)
    first = customer.anonymised_at
    again = anonymise_customer(customer, actor=owner)
    assert again.customers == 0 and again.already_anonymised == 1
    assert customer.anonymised_at == first
    assert AuditEvent.objects.filter(action="anonymised").count() == 1


def test_anonymised_customers_are_never_contactable(owner):
    customer = CustomerFactory()
    anonymise_customer(customer, actor=owner)
    assert not Customer.objects.contactable("direct_advertising").exists()


def test_retention_anonymises_inactive_customers_without_holds(capsys):
    """S19: nothing kept too long; an open invoice holds a customer back."""
    with time_machine.travel(timezone.now() - datetime.timedelta(days=6 * 366)):
        inactive = CustomerFactory()
        held = CustomerFactory()
        OrderFactory(customer=held, invoice_status="open", order_number="OPEN-1")
    active = CustomerFactory()

    call_command("apply_retention", dry_run=True)
    assert "customers anonymised for inactivity: 1" in capsys.readouterr().out
    assert not Customer.objects.filter(anonymised_at__isnull=False).exists()
    assert not AuditEvent.objects.exists()

    call_command("apply_retention")
    out = capsys.readouterr().out
    assert "customers anonymised for inactivity: 1" in out
    assert "inactive customers held by open invoice: 1" in out
    assert set(Customer.objects.filter(anonymised_at__isnull=False)) == {inactive}
    assert active.pk and held.orders.get().order_number == "OPEN-1"  # an open invoice keeps its buyer
    event = AuditEvent.objects.get()
    assert event.action == "retention_run" and event.counts["customers_anonymised_for_inactivity"] == 1

    call_command("apply_retention")  # daily runs are safe
    assert "customers anonymised for inactivity: 0" in capsys.readouterr().out
    assert Order.objects.count() == 1


def test_retention_deletes_unconfirmed_requests_and_clears_old_identities(capsys):
    """S19: expired unconfirmed requests go with their signatures; closed requests lose
    who asked after their retention."""
    from privacy.models import DataRequest

    now = timezone.now()
    with time_machine.travel(now - datetime.timedelta(days=10)):
        DataRequestFactory(status="awaiting_confirmation")
    fresh = DataRequestFactory(status="awaiting_confirmation")
    closed = DataRequestFactory(status="completed")
    DataRequest.objects.filter(pk=closed.pk).update(closed_at=now - datetime.timedelta(days=400))
    recent = DataRequestFactory(status="completed")
    DataRequest.objects.filter(pk=recent.pk).update(closed_at=now - datetime.timedelta(days=3))

    call_command("apply_retention")
    out = capsys.readouterr().out
    assert "unconfirmed requests deleted: 1" in out and "request identities cleared: 1" in out
    assert set(DataRequest.objects.values_list("pk", flat=True)) == {fresh.pk, closed.pk, recent.pk}
    closed.refresh_from_db()
    recent.refresh_from_db()
    assert closed.identity_erased_at and closed.first_name == "" and recent.first_name == "Aino"


def test_retention_deletes_expired_staff_sessions(client, owner, capsys):
    """S13, S19: a session that ended (30 idle minutes) is deleted by the daily run; one in
    use stays. Django itself never deletes them."""
    from django.contrib.sessions.models import Session

    with time_machine.travel(timezone.now() - datetime.timedelta(hours=2)):
        client.force_login(owner)
    ended = Session.objects.get()
    client.force_login(owner)
    assert Session.objects.count() == 2
    call_command("apply_retention", "--dry-run")
    assert "expired sessions deleted: 1" in capsys.readouterr().out
    assert Session.objects.count() == 2
    call_command("apply_retention")
    assert "expired sessions deleted: 1" in capsys.readouterr().out
    assert not Session.objects.filter(pk=ended.pk).exists() and Session.objects.count() == 1
