"""Holds with release dates that release themselves (issue 18, item 8; privacy notice S11,
GDPR art. 17(3)(b) and (e))."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from customers.models import Customer, Order
from privacy.models import AuditEvent, DataRequest, LegalHold, RequestStatus
from tests.factories import CustomerFactory, DataRequestFactory, OrderFactory, verify_identity_on_page
from tests.factories import request_url as url
from tests.mailbox import deliver_mail
from tests.personas import verified_client

pytestmark = pytest.mark.django_db

ERASED_ON = datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC)


def at(year: int, month: int, day: int):
    return time_machine.travel(datetime.datetime(year, month, day, 9, tzinfo=datetime.UTC), tick=False)


def erasure_request(client, customer) -> DataRequest:
    """A confirmed erasure request from the customer, linked and verified on its page."""
    data_request = DataRequestFactory(
        kind="erasure", first_name=customer.first_name, last_name=customer.last_name, email=customer.email
    )
    client.post(url("link", data_request), {"customers": [str(customer.pk)]})
    verify_identity_on_page(client, data_request)
    return data_request


def held_items_page(client) -> str:
    """The held-items view, reached from the admin's front page by its link."""
    index = client.get(reverse("admin:index"))
    link = reverse("admin:privacy_legalhold_changelist")
    assert f'href="{link}"' in index.text and "Lailliset säilytykset" in index.text
    page = client.get(link)
    assert page.status_code == 200
    return page.text


def timeline(client, data_request) -> str:
    page = client.get(url("change", data_request)).text
    return page.split("<h2>Aikajana</h2>")[1]


@pytest.fixture
def customer():
    return CustomerFactory(first_name="Kerttu", last_name="Poistettava", email="kerttu@example.fi")


def test_orders_held_until_a_date_are_deleted_the_day_after_and_not_before(owner, customer, capsys):
    """S11, issue 18 item 8: an erasure keeps an order of 2024 for bookkeeping until
    31.12.2030 (the outcome says so); apply_retention leaves it on that day, deletes it on
    1.1.2031, writes one audit event with the count, and the request's timeline shows it."""
    with at(2026, 11, 24):
        client = verified_client(Client(), owner)
        OrderFactory(customer=customer, ordered_on=datetime.date(2024, 3, 1), order_number="V-2024")
        data_request = erasure_request(client, customer)
        client.post(url("erase", data_request), {"confirm_reference": data_request.reference})
        data_request.refresh_from_db()
        assert data_request.status == RequestStatus.COMPLETED
        assert "31.12.2030" in data_request.outcome
        assert not Customer.objects.filter(pk=customer.pk).exists()
        page = held_items_page(client)
        assert "31.12.2030" in page and data_request.reference in page and "Kirjanpitolaki" in page

    with at(2030, 12, 31):
        call_command("apply_retention")
        assert "held orders deleted: 0" in capsys.readouterr().out
        assert Order.objects.filter(order_number="V-2024").exists()

    with at(2031, 1, 1):
        call_command("apply_retention")
        assert "held orders deleted: 1" in capsys.readouterr().out
        assert not Order.objects.filter(order_number="V-2024").exists()
        assert AuditEvent.objects.filter(action="retention_run").first().counts["held_orders_deleted"] == 1
        hold = LegalHold.objects.get()
        assert hold.released_at is not None
        client = verified_client(Client(), owner)
        assert "Kirjanpitoa varten säilytetyt tilaukset poistettu" in timeline(client, data_request)
        assert "säilytysajo" in timeline(client, data_request)
        call_command("apply_retention")  # daily runs are safe
        assert "held orders deleted: 0" in capsys.readouterr().out


def test_an_erasure_waiting_for_an_open_invoice_completes_once_it_is_paid(
    owner, customer, capsys, django_capture_on_commit_callbacks
):
    """S11, issue 18 item 8: an erasure blocked by an open invoice waits (the held-items
    page says until when: the invoice is paid); once staff mark the invoice paid,
    apply_retention erases the customer as staff would, completes the request, tells the
    requester, and the request's timeline shows the run did it."""
    with at(2026, 11, 24):
        client = verified_client(Client(), owner)
        invoice = OrderFactory(customer=customer, invoice_status="open", order_number="AVOIN-1")
        data_request = erasure_request(client, customer)
        blocked = client.post(url("erase", data_request), {"confirm_reference": data_request.reference})
        assert blocked.status_code == 400 and "Poisto odottaa" in blocked.text
        page = held_items_page(client)
        assert "kunnes lasku on maksettu" in page and data_request.reference in page
        assert "Poistettava" not in page  # a customer by number only
        assert "Poisto odottaa säilytysperusteen päättymistä" in timeline(client, data_request)

        call_command("apply_retention")  # still open: nothing happens
        assert "waiting erasures still held: 1" in capsys.readouterr().out
        assert Customer.objects.filter(pk=customer.pk).exists()

    with at(2026, 12, 10):
        client = verified_client(Client(), owner)
        change = reverse("admin:customers_order_change", args=[invoice.pk])
        response = client.post(
            change,
            {
                "customer": customer.pk,
                "order_number": "AVOIN-1",
                "ordered_on": invoice.ordered_on.isoformat(),
                "channel": invoice.channel,
                "description": invoice.description,
                "total": str(invoice.total),
                "invoice_status": "paid",
            },
        )
        assert response.status_code == 302
        deliver_mail()
        mail.outbox.clear()
        call_command("apply_retention", "--dry-run")
        assert "waiting erasures completed: 1" in capsys.readouterr().out
        assert Customer.objects.filter(pk=customer.pk).exists()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("apply_retention")
        assert "waiting erasures completed: 1" in capsys.readouterr().out

    assert not Customer.objects.filter(pk=customer.pk).exists()
    data_request.refresh_from_db()
    assert data_request.status == RequestStatus.COMPLETED and data_request.identity_erased_at
    assert "poistettu" in data_request.outcome
    deliver_mail()
    assert [m.to for m in mail.outbox] == [["kerttu@example.fi"]]
    assert data_request.reference in mail.outbox[0].subject
    erased = AuditEvent.objects.get(action="erased")
    assert erased.actor_type == "system" and erased.actor_id is None
    assert LegalHold.objects.get(what="erasure").released_at is not None
    with at(2026, 12, 10):
        client = verified_client(Client(), owner)
        events = timeline(client, data_request)
        assert re.search(r"Pyynnön tila muuttui</td><td>Valmis</td><td>säilytysajo", events), events


def test_a_waiting_erasure_is_released_when_the_request_is_refused(owner, customer, capsys):
    """S11, issue 18 item 8: a request refused while it waited leaves nothing to wait for:
    the hold is released by the next run and the customer stays."""
    with at(2026, 11, 24):
        client = verified_client(Client(), owner)
        OrderFactory(customer=customer, invoice_status="debt_collection")
        data_request = erasure_request(client, customer)
        client.post(url("erase", data_request), {"confirm_reference": data_request.reference})
        assert "kunnes perintä on päättynyt" in held_items_page(client)
        client.post(url("refuse", data_request), {"reason": "Perintä kesken."})
        call_command("apply_retention")
        assert "waiting erasures released request closed: 1" in capsys.readouterr().out
    assert LegalHold.objects.get().released_at is not None
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_held_items_page_is_for_staff_with_a_commitment_and_audited(
    client, owner, staff_without_commitment
):
    """S13, issue 18 item 8: the list is read-only, opened only with a confidentiality
    commitment, and who looked is in the audit log."""
    link = reverse("admin:privacy_legalhold_changelist")
    verified_client(client, staff_without_commitment)
    assert client.get(link).status_code == 403
    verified_client(client, owner)
    page = client.get(link)
    assert page.status_code == 200 and reverse("admin:privacy_legalhold_add") not in page.text
    assert AuditEvent.objects.filter(action="view", object_type="privacy.legalhold").count() == 1
