"""Issue 18, item 6: the requester gets every answer (GDPR art. 12(3)-(4)).

The answer and refusal e-mails carry the outcome or the reasons, in the reply language,
and a link to the request's status page; from there the requester downloads the
certificate of a refused request. Everything is done as people click it: the requester
on the public pages and in their mailbox, the owner on the request's admin page."""

import re

import pytest
from django.core import mail
from django.test import Client

from privacy.models import AuditEvent, DataRequest, RequestStatus
from tests.factories import CustomerFactory, pdf_text, request_form_data, verify_identity_on_page
from tests.factories import request_url as url
from tests.mailbox import deliver_mail, links

pytestmark = pytest.mark.django_db

REASON = "Syntymäaika on kirjattu henkilöllisyystodistuksesta, eikä sitä voi muuttaa."
STATUS_LINK = re.compile(r"http://testserver(/(?:fi|en)/privacy/status/[\w-]+/)")


def requester_sends(capture, kind: str, language: str, **overrides) -> tuple[Client, DataRequest, str]:
    """The requester fills in the public form and confirms from the mail; returns their
    browser, the request and the status path of the first mail."""
    requester = Client()
    with capture(execute=True):
        requester.post(
            f"/{language}/privacy/request/", request_form_data(kind, reply_language=language, **overrides)
        )
    deliver_mail()
    confirm, status = links(mail.outbox[-1])
    requester.post(confirm)
    return requester, DataRequest.objects.get(), status


def status_link(message) -> str:
    found = STATUS_LINK.search(message.body)
    assert found, message.body
    html = message.alternatives[0][0]
    assert f'href="http://testserver{found.group(1)}"' in html
    return found.group(1)


def test_the_refusal_mail_gives_the_reasons_and_a_link_to_the_certificate(
    owner_client, django_capture_on_commit_callbacks
):
    """S18, art. 12(4): the refusal mail states the reasons and the right to complain and
    links the status page, from which the certificate (PDF) downloads, audited, with the
    reasons and the route to the Ombudsman; its address holds nothing but the token."""
    requester, request, first_status = requester_sends(
        django_capture_on_commit_callbacks, "rectification", "fi"
    )
    with django_capture_on_commit_callbacks(execute=True):
        refused = owner_client.post(url("refuse", request), {"reason": REASON})
    assert refused.status_code == 302

    deliver_mail()
    message = mail.outbox[-1]
    assert message.to == ["aino@example.fi"] and "evätty" in message.subject
    assert REASON in message.body and REASON in message.alternatives[0][0]
    assert "tietosuojavaltuutetun" in message.body and "PL 800, 00531 Helsinki" in message.body
    link = status_link(message)
    assert link != first_status  # a link of its own: the first one's token is not stored

    page = requester.get(link)
    assert page.status_code == 200 and "Pyyntösi evättiin" in page.text and REASON in page.text
    assert "noindex" in page["X-Robots-Tag"] and "no-store" in page["Cache-Control"]
    href = re.search(r'href="(/fi/privacy/status/[\w-]+/certificate\.pdf)"', page.text)
    assert href and "Todistus epäämisestä (PDF)" in page.text
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert href.group(1) == f"/fi/privacy/status/{token}/certificate.pdf"  # the token, nothing else

    certificate = requester.get(href.group(1))
    assert certificate.status_code == 200 and certificate["Content-Type"] == "application/pdf"
    assert "Mäkinen" not in certificate["Content-Disposition"]
    text = pdf_text(certificate.content)
    assert "Todistus tietojen korjaamisen epäämisestä" in text and request.reference in text
    assert "Syntymäaika on kirjattu" in text and "Tietosuojavaltuutetun toimisto" in text
    assert "no-store" in certificate["Cache-Control"]
    download = AuditEvent.objects.get(action="certificate_downloaded")
    assert download.actor_type == "data_subject" and download.object_id == str(request.pk)
    assert download.fields == ["pdf"] and REASON not in str(download.counts)

    # The link of the first mail still opens the same page and certificate.
    assert "Todistus epäämisestä (PDF)" in requester.get(first_status).text
    assert requester.get(first_status + "certificate.pdf").status_code == 200


def test_an_english_refusal_of_another_kind_gets_an_english_mail_and_certificate(
    owner_client, django_capture_on_commit_callbacks
):
    """Art. 12(4): any refused request (here an erasure) gets its certificate, in English
    for an English request, naming what was asked and the Data Protection Ombudsman."""
    requester, request, _ = requester_sends(django_capture_on_commit_callbacks, "erasure", "en")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(url("refuse", request), {"reason": "An open invoice is in debt collection."})
    deliver_mail()
    message = mail.outbox[-1]
    assert message.subject == f"Your request {request.reference} was refused"
    assert message.body.startswith("Hello,\n") and "We have refused your request" in message.body
    assert "An open invoice is in debt collection." in message.body
    assert "Data Protection Ombudsman" in message.body
    page = requester.get(status_link(message))
    assert "Certificate of the refusal (PDF)" in page.text
    href = re.search(r'href="(/en/privacy/status/[\w-]+/certificate\.pdf)"', page.text).group(1)
    text = pdf_text(requester.get(href).content)
    assert "Certificate of refused request" in text and "Erasure of my data" in text
    assert "An open invoice is in debt collection." in text and "Data Protection Ombudsman" in text


def test_the_answer_mail_carries_the_outcome_and_the_status_link(
    owner_client, django_capture_on_commit_callbacks
):
    """Art. 12(3): completing a request tells the outcome in the mail itself, in the reply
    language, with the link; there is no certificate for an answered request."""
    requester, request, _ = requester_sends(django_capture_on_commit_callbacks, "rectification", "en")
    outcome = "Your surname is now Mäkelä in the register."
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(url("complete", request), {"reason": outcome})
    deliver_mail()
    message = mail.outbox[-1]
    assert message.subject == f"Your request {request.reference} has been answered"
    assert f"We have answered your request {request.reference}" in message.body
    assert outcome in message.body and outcome in message.alternatives[0][0]
    link = status_link(message)
    assert link.startswith("/en/")
    page = requester.get(link)
    assert outcome in page.text and "certificate" not in page.text.lower()
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert requester.get(f"/en/privacy/status/{token}/certificate.pdf").status_code == 404
    assert not AuditEvent.objects.filter(action="certificate_downloaded").exists()


def test_a_released_access_report_is_announced_in_the_reply_language(
    owner_client, django_capture_on_commit_callbacks
):
    """S16: the release mail says the report is ready (the outcome), in English for an
    English request, and its link leads to the page the report downloads from."""
    aino = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    requester, request, _ = requester_sends(django_capture_on_commit_callbacks, "access", "en")
    owner_client.post(url("link", request), {"customers": [str(aino.pk)]})
    verify_identity_on_page(owner_client, request)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(url("release", request))
    deliver_mail()
    message = mail.outbox[-1]
    assert "Your access report is ready" in message.body and "Hello," in message.body
    page = requester.get(status_link(message))
    assert "Report (PDF)" in page.text
    href = re.search(r'href="(/en/privacy/status/[\w-]+/report\.pdf)"', page.text).group(1)
    assert "Mäkinen" in pdf_text(requester.get(href).content)


def test_the_certificate_is_only_for_a_refused_request_and_only_by_its_token(
    django_capture_on_commit_callbacks,
):
    """Issue 18, item 6: an open request has no certificate; a made-up token opens nothing."""
    requester, request, status = requester_sends(django_capture_on_commit_callbacks, "access", "fi")
    assert request.status == RequestStatus.RECEIVED
    assert "Todistus epäämisestä" not in requester.get(status).text
    assert requester.get(status + "certificate.pdf").status_code == 404
    assert requester.get("/fi/privacy/status/" + "x" * 43 + "/certificate.pdf").status_code == 404
    assert not AuditEvent.objects.filter(action="certificate_downloaded").exists()
