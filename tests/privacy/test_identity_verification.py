"""Issue 17, finding 2: an access report or an erasure reaches only the person it is about.

Nothing is fulfilled before the requester's identity is verified; a match found by phone
or by name alone is weak; the e-mail link does not verify a requester whose e-mail is not
the linked customer's on record; and the address on record is told when a report about
the customer goes to another address. Everything here is done as staff click it on the
request's admin page."""

import json
import socket

import pytest
from django.core import mail

from customers.models import Customer, MarketingObjection
from privacy.models import AuditEvent, DataRequest, RequestStatus
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    OrderFactory,
    rectify_form_data,
    request_form_data,
    verify_identity_on_page,
)
from tests.factories import (
    request_url as url,
)
from tests.mailbox import deliver_mail, links

pytestmark = pytest.mark.django_db

NOT_VERIFIED = "Varmista ensin pyytäjän henkilöllisyys: mitään ei luovuteta, muuteta eikä poisteta"
LINK_DOES_NOT_VERIFY = "sähköpostilinkki ei osoita, että pyytäjä on hän"
WRITE_WHY = "Pyynnön sähköposti ei ole rekisterissä oleva: kirjoita, miten ja miksi"


def link(client, request: DataRequest, customer: Customer) -> None:
    assert client.post(url("link", request), {"customers": [str(customer.pk)]}).status_code == 302


@pytest.fixture
def aino():
    return CustomerFactory(
        first_name="Aino", last_name="Mäkinen", email="aino@example.fi", street_address="Asiakaskatu 5"
    )


@pytest.fixture
def victim():
    """A customer whose phone number someone else knows."""
    customer = CustomerFactory(
        first_name="Ville",
        last_name="Uhri",
        email="ville@example.fi",
        phone="+358407654321",
        street_address="Uhrikatu 9",
        preferred_language="en",
    )
    OrderFactory(customer=customer, order_number="VICTIM-1")
    return customer


def impostor_submits(client, kind: str, capture) -> tuple[DataRequest, str]:
    """The finding's attacker: their own name and e-mail, the victim's phone number, the
    request confirmed from their own mailbox. Returns the request and its status path."""
    form = request_form_data(
        kind,
        first_name="Matti",
        last_name="Meikäläinen",
        signature_name="Matti Meikäläinen",
        email="matti@example.fi",
        phone="040 765 4321",
        postal_code="00200",
    )
    with capture(execute=True):
        client.post("/fi/privacy/request/", form)
    deliver_mail()
    confirm, status = links(mail.outbox[-1])
    client.post(confirm)
    deliver_mail()
    mail.outbox.clear()
    return DataRequest.objects.get(), status


FULFILMENT_STEPS = ["release", "objection", "anonymise", "erase", "rectify"]
KIND_OF_STEP = {
    "release": "access",
    "objection": "objection",
    "anonymise": "anonymisation",
    "erase": "erasure",
    "rectify": "rectification",
}


def step_data(step: str, request: DataRequest, customer: Customer) -> dict:
    if step == "erase":
        return {"confirm_reference": request.reference}
    if step == "rectify":
        return rectify_form_data(customer, values={"last_name": "Mäkelä"})
    return {}


@pytest.mark.parametrize("step", FULFILMENT_STEPS)
def test_every_fulfilment_step_is_refused_until_the_identity_is_verified(
    owner_client, aino, step, django_capture_on_commit_callbacks
):
    """S16–S19: release, objection, anonymisation, erasure and rectification each refuse,
    with the reason on the request's page and nothing done, until a verification is
    recorded; then the same click does the work."""
    request = DataRequestFactory(kind=KIND_OF_STEP[step], objection_purposes=["listing"])
    link(owner_client, request, aino)
    deliver_mail()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        refused = owner_client.post(url(step, request), step_data(step, request, aino))
    assert refused.status_code == 400 and NOT_VERIFIED in refused.text
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED and request.report_json == ""
    aino.refresh_from_db()  # still there, unchanged
    assert aino.last_name == "Mäkinen" and aino.anonymised_at is None
    assert not MarketingObjection.objects.exists()
    deliver_mail()
    assert mail.outbox == []

    verify_identity_on_page(owner_client, request)
    with django_capture_on_commit_callbacks(execute=True):
        done = owner_client.post(url(step, request), step_data(step, request, aino), follow=True)
    assert done.status_code == 200 and NOT_VERIFIED not in done.text
    if step == "rectify":  # the request stays open until the recipients are told
        assert Customer.objects.get(pk=aino.pk).last_name == "Mäkelä"
    else:
        assert DataRequest.objects.get().status == RequestStatus.COMPLETED
        deliver_mail()
        assert [m.to for m in mail.outbox] == [["aino@example.fi"]]  # the same address: no notice


@pytest.mark.parametrize(
    "step, done",
    [
        ("refuse", lambda r: r.status == RequestStatus.REFUSED),
        ("complete", lambda r: r.status == RequestStatus.COMPLETED),
        ("extend", lambda r: r.is_open and r.due_date > r.original_due_date),
    ],
)
def test_closing_or_extending_a_request_needs_no_verification(owner_client, step, done):
    """Refusing, completing or extending gives out nothing of the customer's."""
    request = DataRequestFactory()
    data = {"reason": "Pyyntöä ei voitu yhdistää asiakkaaseen.", "months": "1"}
    assert owner_client.post(url(step, request), data).status_code == 302
    request.refresh_from_db()
    assert done(request) and request.identity_verified_at is None


def test_the_impostor_of_the_finding_gets_no_report(
    client, owner_client, victim, django_capture_on_commit_callbacks
):
    """S16: a request matching the victim by phone only is a weak match; once linked, the
    e-mail link (the impostor's own mailbox) does not verify it, so nothing is released
    and the impostor's status page offers no report."""
    request, status = impostor_submits(client, "access", django_capture_on_commit_callbacks)
    page = owner_client.get(url("change", request)).text
    assert "Ville Uhri" in page and "HEIKKO osuma: vain sama puhelinnumero" in page
    assert "vahva osuma" not in page

    link(owner_client, request, victim)
    page = owner_client.get(url("change", request)).text
    assert "Rekisterissä oleva sähköposti ei ole pyynnön osoite" in page

    released = owner_client.post(url("release", request))
    assert released.status_code == 400 and NOT_VERIFIED in released.text
    by_link = owner_client.post(url("verify", request), {"method": "email_on_file", "note": ""})
    assert by_link.status_code == 400
    assert LINK_DOES_NOT_VERIFY in by_link.text and f"#{victim.pk}" in by_link.text
    request.refresh_from_db()
    assert request.identity_verified_at is None
    with django_capture_on_commit_callbacks(execute=True):
        released = owner_client.post(url("release", request))
    assert released.status_code == 400
    deliver_mail()
    assert mail.outbox == []

    request.refresh_from_db()
    assert request.is_open and request.report_json == ""
    assert "Raportti (PDF)" not in client.get(status).text
    assert client.get(f"{status}report.json").status_code == 404
    assert not AuditEvent.objects.filter(action="report_released").exists()


def test_the_impostors_erasure_deletes_nobody(
    client, owner_client, victim, django_capture_on_commit_callbacks
):
    """S11, S19: the same flow with an erasure leaves the stranger in the register."""
    request, _ = impostor_submits(client, "erasure", django_capture_on_commit_callbacks)
    link(owner_client, request, victim)
    owner_client.post(url("verify", request), {"method": "email_on_file", "note": ""})
    erased = owner_client.post(url("erase", request), {"confirm_reference": request.reference})
    assert erased.status_code == 400 and NOT_VERIFIED in erased.text
    assert Customer.objects.filter(pk=victim.pk, last_name="Uhri").exists()
    assert DataRequest.objects.get().is_open


def test_another_address_needs_another_method_with_the_reason_and_the_address_on_record_is_told(
    client, owner_client, victim, django_capture_on_commit_callbacks
):
    """S16: staff call the victim's number on record back and write why; the report is
    then released, and the address on record is told, in the customer's language, with
    no data and no link; the notice is on the timeline and in the audit log."""
    request, status = impostor_submits(client, "access", django_capture_on_commit_callbacks)
    link(owner_client, request, victim)
    no_reason = owner_client.post(url("verify", request), {"method": "phone_callback", "note": " "})
    assert no_reason.status_code == 400 and WRITE_WHY in no_reason.text
    reason = "Soitettu rekisterin numeroon; hän vahvisti pyynnön ja uuden osoitteensa."
    verify_identity_on_page(owner_client, request, "phone_callback", reason)

    with django_capture_on_commit_callbacks(execute=True):
        released = owner_client.post(url("release", request), follow=True)
    assert "Raportti annettu pyytäjän ladattavaksi" in released.text
    deliver_mail()
    assert sorted(m.to[0] for m in mail.outbox) == ["matti@example.fi", "ville@example.fi"]
    notice = next(m for m in mail.outbox if m.to == ["ville@example.fi"])
    assert notice.subject == (
        f"A copy of your data was given on a request from another e-mail address ({request.reference})"
    )
    assert notice.body.startswith("Hello,\n") and "none of your data and no link" in notice.body
    html = notice.alternatives[0].content
    for text in [notice.subject, notice.body, html]:
        for secret in ["Uhrikatu", "VICTIM-1", "407654321", "765 4321", "matti", "Matti", "http", "/status/"]:
            assert secret not in text, secret

    events = list(request.events.values_list("action", flat=True))
    assert events[-3:] == ["identity_verified", "release_notice", "request_status"]
    audit = AuditEvent.objects.get(action="release_notice")
    assert audit.counts == {"addresses": 1} and audit.object_id == str(request.pk)
    page = owner_client.get(url("change", request)).text
    assert "Luovutuksesta kerrottu rekisterissä olevaan sähköpostiosoitteeseen" in page
    assert reason in page and "Soitettu takaisin rekisterissä olevaan puhelinnumeroon" in page

    report = json.loads(client.get(f"{status}report.json").content)
    assert report["data_subjects"][0]["orders"][0]["order_number"] == "VICTIM-1"


def test_a_verification_by_e_mail_link_does_not_cover_a_customer_linked_after_it(owner_client, aino):
    """The e-mail link verified the requester as the customer with their address; a
    customer with another address linked afterwards is not covered."""
    request = DataRequestFactory()
    link(owner_client, request, aino)
    verify_identity_on_page(owner_client, request)
    other = CustomerFactory(email="joku.muu@example.fi")
    owner_client.post(url("link", request), {"extra_customer_id": str(other.pk)})
    released = owner_client.post(url("release", request))
    assert released.status_code == 400
    assert LINK_DOES_NOT_VERIFY in released.text and f"#{other.pk}" in released.text
    assert f"#{aino.pk}," not in released.text  # only the customer with the other address
    request.refresh_from_db()
    assert request.is_open and request.report_json == ""


def test_suggested_matches_are_marked_strong_only_for_the_same_e_mail(owner_client):
    """A phone number or a name and postal code are anyone's to type: weak, and labelled
    so; the same e-mail (any ASCII case) is strong and listed first."""
    request = DataRequestFactory(email="aino@example.fi", phone="040 765 4321", postal_code="00100")
    by_name = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="", phone="")
    by_phone_and_name = CustomerFactory(
        first_name="Aino", last_name="Mäkinen", email="vanha@example.fi", phone="+358407654321"
    )
    by_email = CustomerFactory(first_name="A.", last_name="Mäkinen", email="AINO@Example.fi")
    page = owner_client.get(url("change", request))
    matches = page.context["suggestions"]
    assert [m.customer for m in matches][0] == by_email
    labels = dict(page.context["link_form"].fields["customers"].choices)
    assert labels[by_email.pk].endswith("vahva osuma: sama sähköposti")
    assert labels[by_name.pk].endswith("HEIKKO osuma: vain sama nimi ja postinumero")
    assert labels[by_phone_and_name.pk].endswith(
        "HEIKKO osuma: sama puhelinnumero, nimi ja postinumero, ei sähköposti"
    )
    for label in labels.values():
        assert label in page.text


def test_the_verification_is_recorded_with_method_who_and_when(owner_client, owner, aino):
    """Who verified, how and when: on the request's page, its timeline and the audit log
    (field names only, never the note)."""
    request = DataRequestFactory()
    link(owner_client, request, aino)
    verify_identity_on_page(owner_client, request, "in_person", "Kävi myymälässä, ajokortti nähty")
    request.refresh_from_db()
    assert request.identity_method == "in_person" and request.identity_verified_by == owner
    assert request.identity_verified_at is not None
    page = owner_client.get(url("change", request)).text
    assert "Tavattu henkilökohtaisesti: Kävi myymälässä, ajokortti nähty" in page
    assert f"{owner.username})" in page
    event = AuditEvent.objects.get(action="identity_verified")
    assert event.actor_id == owner.pk and "identity_method" in event.fields
    assert "ajokortti" not in json.dumps([event.fields, event.counts, event.object_id])


def test_a_notice_the_mail_server_refuses_is_on_the_timeline(
    client, owner_client, victim, settings, django_capture_on_commit_callbacks
):
    """Nothing lost: with the mail server down the release stands, and staff see on the
    timeline (and the audit log, by template name only) that the notice did not go."""
    request, _ = impostor_submits(client, "access", django_capture_on_commit_callbacks)
    link(owner_client, request, victim)
    verify_identity_on_page(owner_client, request, "phone_callback", "Soitettu rekisterin numeroon.")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    settings.POST_OFFICE = {**settings.POST_OFFICE, "MAX_RETRIES": 0}  # one try, then failed
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.post(url("release", request)).status_code == 302
    deliver_mail()
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED and request.report_released_at
    failed = request.events.filter(action="email_failed")
    assert failed.count() == 2  # the answer to the requester and the notice
    fields = sorted(e.fields for e in AuditEvent.objects.filter(action="email_failed"))
    assert fields == [["report_released_notice"], ["request_answered"]]
