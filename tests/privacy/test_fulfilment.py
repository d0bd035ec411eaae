import json

import pytest
from django.urls import reverse

from customers.models import Customer, MarketingObjection, ObjectionPurpose
from privacy.finder import find_personal_data
from privacy.models import AuditEvent, DataRequest, RequestStatus
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    DisclosureFactory,
    OrderFactory,
    customer_admin_form,
    pdf_text,
    rectify_form_data,
    request_form_data,
    submitted_request,
    verify_identity_on_page,
)
from tests.factories import (
    request_url as url,
)
from tests.mailbox import deliver_mail, links

pytestmark = pytest.mark.django_db


@pytest.fixture
def aino():
    return CustomerFactory(
        first_name="Aino", last_name="Mäkinen", email="aino@example.fi", street_address="Asiakaskatu 5"
    )


def test_access_report_is_previewed_released_and_downloaded(client, owner_client, aino):
    """S16: staff preview, then release; the requester downloads PDF and JSON from the
    status page; each download is in the audit log."""
    submitted = submitted_request(reply_language="en")
    request = submitted.data_request
    OrderFactory(customer=aino, order_number="ACC-1")
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    preview = owner_client.get(url("preview", request))
    assert preview["Content-Type"] == "application/pdf" and "ACC-1" in pdf_text(preview.content)
    status_url = f"/en/privacy/status/{submitted.status_token}/"
    assert "Report (PDF)" not in client.get(status_url).text

    owner_client.post(url("release", request))
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED and request.report_released_at
    page = client.get(status_url)
    assert "Report (PDF)" in page.text and "download it on this page" in page.text
    pdf = client.get(f"/en/privacy/status/{submitted.status_token}/report.pdf")
    assert "Mäkinen" in pdf_text(pdf.content) and "Access report" in pdf_text(pdf.content)
    assert "no-store" in pdf["Cache-Control"] and "noindex" in pdf["X-Robots-Tag"]
    data = json.loads(client.get(f"/en/privacy/status/{submitted.status_token}/report.json").content)
    assert data["data_subjects"][0]["orders"][0]["order_number"] == "ACC-1"
    assert data["requests"][0]["reference"] == request.reference
    downloads = AuditEvent.objects.filter(action="report_downloaded", actor_type="data_subject")
    assert sorted(e.fields[0] for e in downloads) == ["json", "pdf"]
    assert client.get(f"/en/privacy/status/{submitted.status_token}/report.exe").status_code == 404


def test_objection_to_direct_marketing_cannot_be_refused_and_is_recorded_at_once(owner_client, aino):
    """S17: art. 21(3): completing records every purpose; refusing is not possible."""
    request = DataRequestFactory(kind="objection", objection_purposes=["listing", "direct_marketing"])
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    owner_client.post(url("refuse", request), {"reason": "Ei käy."})
    assert DataRequest.objects.get().status == RequestStatus.IDENTITY_VERIFIED
    owner_client.post(url("objection", request))
    assert set(MarketingObjection.objects.in_force().values_list("purpose", flat=True)) == {
        "listing",
        "direct_marketing",
    }
    assert DataRequest.objects.get().status == RequestStatus.COMPLETED
    assert not Customer.objects.contactable("direct_marketing").exists()


def test_erasure_request_is_blocked_by_an_open_invoice_then_completed(owner_client, aino):
    """S11, S19: an open invoice blocks erasure with the reason; once paid, erasure runs
    after the reference is typed, and nothing of the person remains."""
    invoice = OrderFactory(customer=aino, invoice_status="open")
    request = DataRequestFactory(kind="erasure")
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    page = owner_client.get(url("change", request))
    assert "Avoin lasku" in page.text
    blocked = owner_client.post(url("erase", request), {"confirm_reference": request.reference})
    assert blocked.status_code == 400 and "Poisto on estetty: Avoin lasku" in blocked.text
    assert Customer.objects.filter(pk=aino.pk).exists()
    assert DataRequest.objects.get().status == RequestStatus.WAITING  # answered: it waits

    invoice.invoice_status = "paid"
    invoice.save()
    mistyped = owner_client.post(url("erase", request), {"confirm_reference": "KB-wrong"})
    assert mistyped.status_code == 400
    assert f"Viite ei täsmää: kirjoita {request.reference}" in mistyped.text
    assert Customer.objects.filter(pk=aino.pk).exists()
    done = owner_client.post(url("erase", request), {"confirm_reference": request.reference}, follow=True)
    assert "Asiakas on poistettu ja pyyntö käsitelty." in done.text
    request.refresh_from_db()
    assert not Customer.objects.filter(pk=aino.pk).exists()
    assert request.status == RequestStatus.COMPLETED and request.identity_erased_at
    assert "poistettu" in request.outcome
    deliver_mail()  # the worker sends the answer and deletes the outbox's copy
    for value in ["Mäkinen", "aino@example.fi", "Asiakaskatu"]:
        assert find_personal_data(value) == [], value


def test_rectification_is_applied_and_recipients_get_letters(owner_client, aino):
    """S18: the correction is applied and the source and recipients are listed, each with
    a notification letter."""
    DisclosureFactory(customer=aino, recipient="Perintä Oy")
    request = DataRequestFactory(
        kind="rectification",
        rectification_what="Sukunimi",
        rectification_correct="Mäkelä",
        rectification_grounds="Avioliitto",
    )
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    owner_client.post(url("rectify", request), rectify_form_data(aino, values={"last_name": "Mäkelä"}))
    assert Customer.objects.get(pk=aino.pk).last_name == "Mäkelä"
    page = owner_client.get(url("change", request))
    assert "Perintä Oy" in page.text
    notification = request.notifications.get()
    letter = owner_client.get(url("letter", request) + f"?n={notification.pk}")
    assert "Mäkelä" in pdf_text(letter.content)
    assert owner_client.get(url("letter", request) + f"?n={notification.pk + 9}").status_code == 404


def test_refused_rectification_gets_a_certificate(owner_client, aino):
    """S18: a refusal produces the written certificate with reasons and the Ombudsman."""
    request = DataRequestFactory(
        kind="rectification",
        rectification_what="Syntymäaika",
        rectification_correct="1.1.1990",
        rectification_grounds="Muistan",
    )
    owner_client.post(url("refuse", request), {"reason": "Tieto on oikein."})
    text = pdf_text(owner_client.get(url("certificate", request)).content)
    assert "Tieto on oikein." in text and "tietosuojavaltuutetun" in text.lower()


def test_anonymisation_request_anonymises_the_linked_customer(owner_client, aino):
    """S19: anonymisation on request."""
    request = DataRequestFactory(kind="anonymisation")
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    owner_client.post(url("anonymise", request))
    aino.refresh_from_db()
    assert aino.anonymised_at and aino.last_name == ""
    assert DataRequest.objects.get().status == RequestStatus.COMPLETED


@pytest.mark.parametrize("kind", ["erasure", "anonymisation"])
def test_the_answer_reaches_the_requester_after_their_identity_is_cleared(
    owner_client, aino, kind, django_capture_on_commit_callbacks
):
    """The outcome is told to the person who asked, though the request forgets them in
    the same step."""
    from django.core import mail

    request = DataRequestFactory(kind=kind)
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    deliver_mail()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        if kind == "erasure":
            owner_client.post(url("erase", request), {"confirm_reference": request.reference})
        else:
            owner_client.post(url("anonymise", request))
    deliver_mail()
    assert [m.to for m in mail.outbox] == [["aino@example.fi"]]
    assert mail.outbox[0].body.startswith("Hei,") and request.reference in mail.outbox[0].subject
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED and request.identity_erased_at
    assert request.email != "aino@example.fi"


def test_anonymising_a_customer_clears_their_earlier_requests_and_reports(owner_client, aino):
    """S19: after anonymisation no copy of the person lingers in their closed requests,
    a released access report (a full copy of their data) included."""
    access = DataRequestFactory(kind="access", identity_note="Passi FI1234567 näytetty")
    owner_client.post(url("link", access), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, access, "in_person", "Passi FI1234567 näytetty")
    owner_client.post(url("release", access))
    access.refresh_from_db()
    assert access.status == RequestStatus.COMPLETED and "Asiakaskatu" in access.report_json
    anonymisation = DataRequestFactory(kind="anonymisation")
    owner_client.post(url("link", anonymisation), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, anonymisation)
    owner_client.post(url("anonymise", anonymisation))
    deliver_mail()  # the worker sends the answers and deletes the outbox's copies
    for term in ["Mäkinen", "Asiakaskatu", "aino@example.fi", "FI1234567"]:
        assert find_personal_data(term) == [], term


def test_erasure_clears_the_identity_note(owner_client, aino):
    request = DataRequestFactory(kind="erasure", identity_note="Ajokortti 123456 näytetty")
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request, "in_person", "Ajokortti 123456 näytetty")
    owner_client.post(url("erase", request), {"confirm_reference": request.reference})
    request.refresh_from_db()
    # Staff's note is replaced by the placeholder: a note existed, what it said is gone.
    assert request.status == RequestStatus.COMPLETED and request.identity_note == "[poistettu]"


def test_do_not_contact_again_is_kept_as_a_hash_and_honoured_when_the_person_returns(
    client, owner_client, aino, django_capture_on_commit_callbacks
):
    """S11, S17: erased at their wish never to be contacted again, a person added back
    later (a new purchase) is objected for every purpose at once: no label reaches them."""
    from django.core import mail

    from customers.labels import LabelFilters, label_selection
    from privacy.models import ContactSuppression

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/fi/privacy/request/", request_form_data("erasure", no_contact_again="on"))
    deliver_mail()
    client.post(links(mail.outbox[0])[0])
    request = DataRequest.objects.get()
    assert request.no_contact_again
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    page = owner_client.get(
        reverse("admin:privacy_datarequest_change", args=[request.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Do not contact me again" in page.text
    assert "suppression entry (hashed e-mail address)" in page.text  # in the erasure plan
    owner_client.post(url("erase", request), {"confirm_reference": request.reference})
    assert not Customer.objects.filter(pk=aino.pk).exists()
    assert ContactSuppression.objects.count() == 1
    deliver_mail()  # the worker sends the answer and deletes the outbox's copy
    assert find_personal_data("aino@example.fi") == []

    added = owner_client.post(
        reverse("admin:customers_customer_add"),
        customer_admin_form(email="Aino@Example.fi"),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "never to be contacted again" in added.text
    back = Customer.objects.get(email="Aino@Example.fi")
    assert set(back.objections.in_force().values_list("purpose", flat=True)) == set(ObjectionPurpose.values)
    assert set(back.objections.values_list("channel", flat=True)) == {"suppression"}
    assert back not in label_selection(LabelFilters()).customers


def test_without_the_wish_nothing_is_kept(owner_client, aino):
    from privacy.models import ContactSuppression

    request = DataRequestFactory(kind="erasure")
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    owner_client.post(url("erase", request), {"confirm_reference": request.reference})
    assert not Customer.objects.filter(pk=aino.pk).exists()
    assert not ContactSuppression.objects.exists()
    owner_client.post(reverse("admin:customers_customer_add"), customer_admin_form(email="aino@example.fi"))
    assert not Customer.objects.get(email="aino@example.fi").objections.exists()


def test_the_requesters_own_address_is_suppressed_when_the_customer_had_another(
    client, owner_client, django_capture_on_commit_callbacks
):
    """The person asked from their own address; the customer found (by phone here) had
    another one, or none: both are kept from coming back."""
    from django.core import mail

    from privacy.models import ContactSuppression
    from privacy.suppression import is_suppressed

    found_by_phone = CustomerFactory(email="", phone="+358407654321")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/fi/privacy/request/", request_form_data("erasure", no_contact_again="on"))
    deliver_mail()
    client.post(links(mail.outbox[0])[0])
    request = DataRequest.objects.get()
    owner_client.post(url("link", request), {"customers": [str(found_by_phone.pk)]})
    verify_identity_on_page(owner_client, request, "phone_callback", "Soitettu numeroon rekisterissä")
    owner_client.post(url("erase", request), {"confirm_reference": request.reference})
    assert not Customer.objects.exists()
    assert ContactSuppression.objects.count() == 1 and is_suppressed("aino@example.fi")
