"""Art. 19 notifications are records on the request (issue 18, item 4; privacy notice S9,
S18; GDPR art. 19): who is to be told of a rectification or an erasure is stored on the
request, every staff member sees the list and prints the letters at any time, marking one
sent records who and when, and the requester sees who was told."""

import datetime
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone

from customers.models import Customer
from privacy.groups import STAFF_GROUP
from privacy.models import AuditEvent, DataRequest, Notification
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    DisclosureFactory,
    pdf_text,
    rectify_form_data,
    verify_identity_on_page,
)
from tests.factories import (
    request_url as url,
)
from tests.mailbox import deliver_mail, links
from tests.personas import make_staff, verified_client

pytestmark = pytest.mark.django_db


def letter_links(page_html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]*/letter/\?n=\d+)"', page_html)]


@pytest.fixture
def aino():
    customer = CustomerFactory(
        first_name="Aino", last_name="Mäkinen", email="aino@example.fi", source="reseller"
    )
    DisclosureFactory(customer=customer, recipient="Perintä Oy", disclosed_on=datetime.date(2026, 10, 5))
    return customer


@pytest.fixture
def rectification(aino, django_capture_on_commit_callbacks):
    """A rectification request (and the status link its requester got by e-mail), linked
    to Aino and verified."""
    with django_capture_on_commit_callbacks(execute=True):
        request = DataRequestFactory(
            kind="rectification",
            rectification_what="Sukunimi",
            rectification_correct="Mäkelä",
            rectification_grounds="Avioliitto",
        )
    deliver_mail()
    request.status_path = links(mail.outbox[-1])[1]
    return request


def rectify_as(client, request: DataRequest, customer: Customer, **form) -> None:
    client.post(url("link", request), {"customers": [str(customer.pk)]})
    verify_identity_on_page(client, request)
    response = client.post(url("rectify", request), rectify_form_data(customer, **form))
    assert response.status_code == 302, response.content.decode()[:2000]


def test_a_second_staff_member_sees_and_prints_the_letters_after_the_first_ones_session_ended(
    staff_client, staff_member, rectification, aino
):
    """Issue 18 item 4, S18: the recipients to tell are stored on the request, not in the
    session of whoever applied the rectification: after that session has ended, another
    staff member finds the list on the request's page and prints each letter, made from
    the record and the customer's data as they are when printed; each print is audited."""
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        rectify_as(staff_client, rectification, aino, values={"last_name": "Mäkelä"})
        staff_client.logout()
    assert not Session.objects.exists()

    later = start + datetime.timedelta(hours=4)  # long past the first one's idle timeout
    with time_machine.travel(later, tick=False):
        colleague = make_staff("kollega", group=STAFF_GROUP)
        second = verified_client(Client(), colleague)
        page = second.get(url("change", rectification))
        assert page.status_code == 200
        assert "Jälleenmyyjä" in page.text and "Perintä Oy" in page.text
        assert "Tulosta kirje (PDF)" in page.text and "Merkitse lähetetyksi" in page.text
        hrefs = letter_links(page.text)
        assert len(hrefs) == 2
        letters = [second.get(href) for href in hrefs]

    assert [letter.status_code for letter in letters] == [200, 200]
    texts = [pdf_text(letter.content) for letter in letters]
    assert all("Aino Mäkelä" in text and "korjattu" in text for text in texts)
    assert "Jälleenmyyjä" in texts[0] and "Perintä Oy" in texts[1] and "5.10.2026" in texts[1]
    made = Notification.objects.order_by("pk").values_list("letter_made_at", flat=True)
    assert list(made) == [later] * 2
    printed = AuditEvent.objects.filter(action="view", fields=["notification_letter"])
    assert (
        list(printed.values_list("actor_id", "object_type", "object_id"))
        == [(colleague.pk, "customers.customer", str(aino.pk))] * 2
    )


def test_mark_sent_records_who_and_when(staff_client, staff_member, rectification, aino):
    """Issue 18 item 4: "mark sent" on the request's page records who told the recipient and
    when, on the notification, the request's timeline and the audit log; marking the same
    recipient again is refused with a message, and a number not on this request too."""
    rectify_as(staff_client, rectification, aino, values={"last_name": "Mäkelä"})
    notification = rectification.notifications.get(recipient_name="Perintä Oy")
    at = timezone.now().replace(microsecond=0) + datetime.timedelta(minutes=5)
    with time_machine.travel(at, tick=False):
        done = staff_client.post(
            url("notified", rectification), {"notification": notification.pk}, follow=True
        )
    assert "Vastaanottajalle ilmoittaminen on kirjattu." in done.text
    notification.refresh_from_db()
    assert notification.sent_at == at and notification.sent_by == staff_member
    assert f"{timezone.localtime(at):%-d.%-m.%Y %H:%M}, tyontekija" in done.text
    assert "Vastaanottajalle ilmoitettu (19 art.)" in done.text  # on the timeline
    event = AuditEvent.objects.get(action="notification_sent")
    assert (event.actor_id, event.object_type, event.object_id) == (
        staff_member.pk,
        "privacy.notification",
        str(notification.pk),
    )
    assert event.fields == ["sent_at", "sent_by"]

    again = staff_client.post(url("notified", rectification), {"notification": notification.pk})
    assert again.status_code == 400
    assert "Tälle vastaanottajalle on jo kirjattu ilmoitus, tai se ei kuulu tähän pyyntöön." in again.text
    other = DataRequestFactory(kind="rectification")
    foreign = staff_client.post(url("notified", other), {"notification": notification.pk})
    assert foreign.status_code == 400
    notification.refresh_from_db()
    assert notification.sent_at == at


def test_the_status_page_lists_the_recipient_after_it_is_marked_sent(staff_client, rectification, aino):
    """Issue 18 item 4, art. 19 last sentence: the requester sees on the status page which
    recipients were told and when, once staff mark them sent; never the values."""
    rectify_as(staff_client, rectification, aino, values={"last_name": "Mäkelä"}, reason="out_of_date")
    requester = Client()
    assert "Kenelle ilmoitimme" not in requester.get(rectification.status_path).text

    notification = rectification.notifications.get(recipient_name="Perintä Oy")
    at = timezone.now() + datetime.timedelta(minutes=5)
    with time_machine.travel(at, tick=False):
        staff_client.post(url("notified", rectification), {"notification": notification.pk})
    page = requester.get(rectification.status_path)
    card = page.text[page.text.index('id="notified"') :]
    card = card[: card.index("</table>")]
    told_on = f"{timezone.localtime(at):%-d.%-m.%Y}"
    assert "Kenelle ilmoitimme" in card and "Perintä Oy" in card and told_on in card
    assert "Sukunimi: korjattu" in card
    assert "Jälleenmyyjä" not in card  # not marked sent yet
    assert "Mäkelä" not in card and "Mäkinen" not in card

    english = requester.get(rectification.status_path.replace("/fi/", "/en/"))
    assert "Who we told" in english.text and "Last name: corrected" in english.text


def test_an_erasure_stores_the_disclosure_recipients_and_their_letter_prints_afterwards(owner_client, aino):
    """Issue 18 item 4, art. 19, S9: erasing a customer whose data was disclosed records
    each disclosure recipient on the request; the letter, printed after the erasure, gives
    the disclosure's date and the request's reference and nothing of the person."""
    request = DataRequestFactory(kind="erasure")
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    owner_client.post(url("erase", request), {"confirm_reference": request.reference})
    assert not Customer.objects.filter(pk=aino.pk).exists()

    notification = request.notifications.get()
    assert (notification.recipient_kind, notification.recipient_name, notification.changes) == (
        "disclosure",
        "Perintä Oy",
        {},
    )
    page = owner_client.get(url("change", request))
    assert "Ilmoita poistosta näille (tietosuoja-asetuksen 19 artikla)" in page.text
    text = pdf_text(owner_client.get(letter_links(page.text)[0]).content)
    assert "Perintä Oy" in text and "5.10.2026" in text and request.reference in text
    assert "Aino" not in text and "Mäkinen" not in text


def test_a_letter_number_not_on_the_request_is_not_found(owner_client, rectification, aino):
    """Issue 18 item 4: a letter is found by its record on this request only."""
    rectify_as(owner_client, rectification, aino, values={"last_name": "Mäkelä"})
    other = DataRequestFactory(kind="rectification")
    notification = rectification.notifications.first()
    assert owner_client.get(url("letter", other) + f"?n={notification.pk}").status_code == 404
    assert owner_client.get(url("letter", rectification) + "?n=x").status_code == 404
