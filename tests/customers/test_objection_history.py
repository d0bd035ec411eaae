"""Objections are append-only (S17): once recorded, an objection's purpose, date, channel
and who recorded it never change; staff can only withdraw it, which is a new fact beside
it. Both are in the audit log."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from customers.models import MarketingObjection, ObjectionRewriteError
from privacy.models import AuditEvent
from tests.factories import CustomerFactory, MarketingObjectionFactory, customer_admin_form

pytestmark = pytest.mark.django_db
RECEIVED = datetime.datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))


@pytest.fixture
def objection(staff_member):
    return MarketingObjectionFactory(
        customer=CustomerFactory(),
        purpose="listing",
        channel="email",
        received_at=RECEIVED,
        recorded_by=staff_member,
    )


def stored(objection) -> tuple:
    row = MarketingObjection.objects.get(pk=objection.pk)
    return (row.purpose, row.received_at, row.channel, row.recorded_by_id, row.withdrawn_at)


def customer_page(customer) -> str:
    return reverse("admin:customers_customer_change", args=[customer.pk])


def events(action: str, objection) -> int:
    return AuditEvent.objects.filter(
        action=action, object_type="customers.marketingobjection", object_id=str(objection.pk)
    ).count()


def test_the_customer_page_shows_the_history_read_only_and_ignores_edits_posted_for_it(
    owner_client, objection
):
    """S17: the objection's purpose, date and channel are shown, not offered for editing;
    a form posted with them changed (or a withdrawal filled in) leaves the row as it was."""
    customer = objection.customer
    page = owner_client.get(customer_page(customer))
    assert "Julkaiseminen luetteloissa ja postitustarroissa" in page.text
    assert 'name="objections-0-purpose"' not in page.text
    assert 'name="objections-0-received_at_0"' not in page.text
    before = stored(objection)

    form = customer_admin_form(
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        phone=str(customer.phone),
        street_address=customer.street_address,
        change_source="customer_notice",
        **{
            "objections-TOTAL_FORMS": "1",
            "objections-INITIAL_FORMS": "1",
            "objections-0-id": str(objection.pk),
            "objections-0-customer": str(customer.pk),
            "objections-0-purpose": "market_research",
            "objections-0-received_at_0": "2020-01-01",
            "objections-0-received_at_1": "09:00:00",
            "objections-0-channel": "phone",
            "objections-0-withdrawn_at_0": "2026-03-05",
            "objections-0-withdrawn_at_1": "09:00:00",
        },
    )
    response = owner_client.post(customer_page(customer), form)
    assert response.status_code == 302
    assert stored(objection) == before
    assert events("change", objection) == 0


def test_the_objection_page_refuses_an_edit(staff_client, objection):
    """S17: the objection's own admin page is a view; posting a change is refused."""
    url = reverse("admin:customers_marketingobjection_change", args=[objection.pk])
    page = staff_client.get(url)
    assert page.status_code == 200 and 'name="purpose"' not in page.text
    before = stored(objection)
    response = staff_client.post(
        url,
        {
            "customer": objection.customer_id,
            "purpose": "market_research",
            "received_at_0": "2020-01-01",
            "received_at_1": "09:00:00",
            "channel": "phone",
        },
    )
    assert response.status_code == 403
    assert stored(objection) == before


def test_staff_record_an_objection_then_withdraw_it_and_both_are_audited(owner_client, owner):
    """S6, S17: a new objection is added on the customer page; its withdraw link asks for
    the date and channel, and records the withdrawal beside the unchanged objection."""
    customer = CustomerFactory()
    form = customer_admin_form(
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        phone=str(customer.phone),
        street_address=customer.street_address,
        change_source="customer_notice",
        **{
            "objections-TOTAL_FORMS": "1",
            "objections-0-customer": str(customer.pk),
            "objections-0-purpose": "direct_marketing",
            "objections-0-received_at_0": "2026-03-04",
            "objections-0-received_at_1": "10:00:00",
            "objections-0-channel": "contact_person",
        },
    )
    assert owner_client.post(customer_page(customer), form).status_code == 302
    objection = customer.objections.get()
    assert (objection.purpose, objection.channel, objection.recorded_by) == (
        "direct_marketing",
        "contact_person",
        owner,
    )
    assert events("objection_recorded", objection) == 1
    recorded = stored(objection)

    page = owner_client.get(customer_page(customer)).text
    link = re.search(r'href="([^"]+/withdraw/)"', page).group(1)
    confirmation = owner_client.get(link)
    assert confirmation.status_code == 200 and "Suoramarkkinointi" in confirmation.text
    response = owner_client.post(
        link, {"withdrawn_at_0": "2026-06-07", "withdrawn_at_1": "11:00:00", "channel": "phone"}
    )
    assert response.status_code == 302 and response.url == customer_page(customer)

    objection.refresh_from_db()
    assert stored(objection)[:4] == recorded[:4]  # the objection as it was recorded
    assert objection.withdrawn_at == datetime.datetime(2026, 6, 7, 11, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
    assert (objection.withdrawal_channel, objection.withdrawn_by) == ("phone", owner)
    assert not customer.objections.in_force().exists()
    event = AuditEvent.objects.get(action="objection_withdrawn")
    assert (event.object_id, event.actor_id) == (str(objection.pk), owner.pk)
    assert event.fields == ["withdrawal_channel", "withdrawn_at", "withdrawn_by"]
    assert "/withdraw/" not in owner_client.get(customer_page(customer)).text

    # A withdrawal is written once: withdrawing again changes nothing.
    again = owner_client.post(
        link, {"withdrawn_at_0": "2026-06-08", "withdrawn_at_1": "11:00:00", "channel": "email"}
    )
    assert again.status_code == 302
    objection.refresh_from_db()
    assert objection.withdrawal_channel == "phone" and events("objection_withdrawn", objection) == 1


@pytest.mark.parametrize(
    ("day", "message"),
    [("2026-03-01", "A withdrawal cannot precede the objection."), ("2099-01-01", "in the future")],
)
def test_a_withdrawal_is_dated_between_the_objection_and_now(owner_client, objection, day, message):
    """S17: a withdrawal before the objection, or in the future, gets a clear message."""
    link = reverse("admin:customers_marketingobjection_withdraw", args=[objection.pk])
    response = owner_client.post(
        link,
        {"withdrawn_at_0": day, "withdrawn_at_1": "11:00:00", "channel": "phone"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and message in response.text
    assert MarketingObjection.objects.get(pk=objection.pk).in_force
    assert events("objection_withdrawn", objection) == 0


def test_code_cannot_rewrite_a_recorded_objection(objection):
    """S17: the model itself refuses to change a recorded objection, or a withdrawal."""
    objection.purpose = "market_research"
    with pytest.raises(ObjectionRewriteError):
        objection.save()
    assert MarketingObjection.objects.get(pk=objection.pk).purpose == "listing"
