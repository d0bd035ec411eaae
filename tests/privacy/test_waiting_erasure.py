"""An erasure that waits for a legal hold is answered (issue 18, item 8 follow-up; privacy
notice S11, S16; GDPR art. 12(3)-(4), 17(3)(b) and (e)): the requester is told within the
deadline what was erased (nothing yet), what is kept and why, that the erasure completes by
itself, and the right to complain; the answered request is not overdue while it waits."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from privacy.models import DataRequest, RequestStatus
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    OrderFactory,
    request_form_data,
    verify_identity_on_page,
)
from tests.factories import (
    request_url as url,
)
from tests.mailbox import deliver_mail, links
from tests.personas import verified_client

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int):
    return time_machine.travel(datetime.datetime(year, month, day, 9, tzinfo=datetime.UTC), tick=False)


def status_link(message) -> str:
    return re.search(r"http://testserver(/\w\w/privacy/status/[\w-]+/)", message.body).group(1)


def requested_erasure(requester: Client, customer, capture, language: str = "fi") -> tuple[DataRequest, str]:
    """The customer asks for erasure on the public form and confirms it from the e-mail;
    returns the request and the status page's path from the confirmation mail."""
    form = request_form_data(
        "erasure",
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        signature_name=f"{customer.first_name} {customer.last_name}",
        reply_language=language,
    )
    with capture(execute=True):
        assert requester.post(f"/{language}/privacy/request/", form).status_code == 302
    deliver_mail()
    confirm_url, status_url = links(mail.outbox[-1])
    requester.post(confirm_url)
    return DataRequest.objects.get(kind="erasure"), status_url


def erase_on_page(staff: Client, data_request: DataRequest, customer, capture):
    """Staff link the customer, verify the requester and press 'Erase and complete'."""
    staff.post(url("link", data_request), {"customers": [str(customer.pk)]})
    verify_identity_on_page(staff, data_request)
    deliver_mail()
    mail.outbox.clear()
    with capture(execute=True):
        return staff.post(url("erase", data_request), {"confirm_reference": data_request.reference})


@pytest.fixture
def customer():
    return CustomerFactory(first_name="Kerttu", last_name="Odottava", email="kerttu@example.fi")


def test_a_waiting_erasure_is_answered_not_overdue_and_completed_when_the_invoice_is_paid(
    owner, customer, capsys, django_capture_on_commit_callbacks
):
    """S11, S16, art. 12(3)-(4): staff fulfil an erasure blocked by an open invoice; the
    requester's mail and status page say nothing was erased yet, the invoice is kept as a
    legal claim (art. 17(3)(e)), which orders the Accounting Act keeps and until when, that
    it completes by itself, and the right to complain. Past the due date it is listed as
    waiting, not overdue, and not counted overdue, while a normal open request is. Once the
    invoice is marked paid in the admin, apply_retention completes it and both status links
    show it completed."""
    capture = django_capture_on_commit_callbacks
    requester = Client()
    with at(2026, 11, 2):
        oct15 = datetime.date(2026, 10, 15)
        invoice = OrderFactory(customer=customer, invoice_status="open", ordered_on=oct15, order_number="AV")
        OrderFactory(customer=customer, ordered_on=datetime.date(2024, 3, 1))
        data_request, status_url = requested_erasure(requester, customer, capture)
        normal = DataRequestFactory(kind="access", email="toinen@example.fi")  # due 2.12.2026 too
        staff = verified_client(Client(), owner)
        blocked = erase_on_page(staff, data_request, customer, capture)
        assert "Pyytäjälle on kerrottu syy" in blocked.text

        deliver_mail()
        assert [m.to for m in mail.outbox] == [["kerttu@example.fi"]]
        answer = mail.outbox[0]
        assert data_request.reference in answer.subject and "odottaa" in answer.subject
        for told in [
            "Mitään ei ole vielä poistettu",
            "Avoin lasku (oikeusvaatimus, tietosuoja-asetuksen 17 artiklan 3 kohdan e",
            "kun lasku on maksettu",
            "kerromme sinulle silloin",
            "kirjanpitolain (1336/1997, 2 luku 10 §)",
            "1 tilaus(ta) 31.12.2030 asti; 1 tilaus(ta) 31.12.2032 asti",
            "tietosuoja.fi",
        ]:
            assert told in answer.body, told
        page = requester.get(status_url).text
        assert "Odottaa</span>" in page and "Mitään ei ole vielä poistettu" in page
        assert "Avoin lasku" in page and "tietosuoja.fi" in page
        assert "Vastaamme viimeistään" not in page
        assert "Odottaa</span>" in requester.get(status_link(answer)).text  # the answer's own link

    with at(2026, 12, 15):  # both were due on 2.12.2026
        staff = verified_client(Client(), owner)
        inbox = staff.get(reverse("admin:privacy_datarequest_changelist")).text
        row = inbox.split(data_request.reference)[1].split("</tr>")[0]
        assert "Odottaa säilytyksen päättymistä" in row and "myöhässä" not in row
        assert "13 päivää myöhässä" in inbox.split(normal.reference)[1].split("</tr>")[0]
        overdue = staff.get(reverse("admin:privacy_datarequest_changelist") + "?deadline=overdue").text
        assert normal.reference in overdue and data_request.reference not in overdue
        waiting = staff.get(reverse("admin:privacy_datarequest_changelist") + "?status=waiting").text
        assert data_request.reference in waiting and normal.reference not in waiting
        assert DataRequest.objects.filter(pk=data_request.pk).inbox_counts()["overdue"] == 0
        assert DataRequest.objects.inbox_counts() == {"open": 2, "overdue": 1, "waiting": 1, "awaiting": 0}
        front = staff.get(reverse("admin:index")).text
        assert "1 myöhässä" in front and "1 odottaa säilytyksen päättymistä" in front

        response = staff.post(
            reverse("admin:customers_order_change", args=[invoice.pk]),
            {
                "customer": customer.pk,
                "order_number": "AV",
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
        with capture(execute=True):
            call_command("apply_retention")
        assert "waiting erasures completed: 1" in capsys.readouterr().out

    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert DataRequest.objects.get(pk=data_request.pk).status == RequestStatus.COMPLETED
    deliver_mail()
    assert [m.to for m in mail.outbox] == [["kerttu@example.fi"]]
    assert "on vastattu" in mail.outbox[0].subject
    for link in [status_url, status_link(answer)]:  # the waiting answer's link still works
        page = requester.get(link).text
        assert "Valmis" in page and "poistettu asiakasrekisteristä" in page and "Odottaa</span>" not in page


def test_the_waiting_answer_is_in_english_for_an_english_request(
    owner, customer, django_capture_on_commit_callbacks
):
    """S11, S16: the reply language is English: the mail and the status page say so in English."""
    capture = django_capture_on_commit_callbacks
    requester = Client()
    OrderFactory(customer=customer, invoice_status="debt_collection")
    data_request, status_url = requested_erasure(requester, customer, capture, language="en")
    erase_on_page(verified_client(Client(), owner), data_request, customer, capture)
    deliver_mail()
    body = mail.outbox[0].body
    assert "Nothing has been erased yet" in body and "Debt collection (legal claim" in body
    assert "once the debt collection has ended" in body and "Data Protection Ombudsman" in body
    page = requester.get(status_url).text
    assert "Waiting</span>" in page and "Nothing has been erased yet" in page


def test_a_waiting_request_cannot_be_put_back_in_progress(
    owner, customer, django_capture_on_commit_callbacks
):
    """S16, art. 12(3): an answered, waiting request has no deadline running; 'Mark in
    progress' is not offered and posting it changes nothing."""
    capture = django_capture_on_commit_callbacks
    OrderFactory(customer=customer, invoice_status="open")
    data_request, _status_url = requested_erasure(Client(), customer, capture)
    staff = verified_client(Client(), owner)
    erase_on_page(staff, data_request, customer, capture)
    page = staff.get(url("change", data_request)).text
    assert url("start", data_request) not in page
    assert "Poisto odottaa, ja pyytäjälle on kerrottu syy" in page
    staff.post(url("start", data_request))
    assert DataRequest.objects.get(pk=data_request.pk).status == RequestStatus.WAITING
