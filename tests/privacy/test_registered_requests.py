"""Issue 18, item 7: requests from any channel (the privacy notice names post, e-mail,
phone and the counter).

Staff register a request that reached them another way than the web form, from the
inbox's "Kirjaa pyyntö" button: it enters the same inbox and workflow, received, due one
month from the day it reached us, and nothing is fulfilled before the requester's
identity is verified. A scanned letter is kept privately and goes with the identity."""

import datetime
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from customers.models import Customer, MarketingObjection
from privacy.models import AuditEvent, DataRequest, RequestStatus
from tests.factories import CustomerFactory, verify_identity_on_page
from tests.mailbox import deliver_mail

pytestmark = pytest.mark.django_db

# 21 April 2026 in Helsinki: a letter received on 1 April (20 days ago) is due on 1 May.
TODAY = datetime.datetime(2026, 4, 21, 10, 0, tzinfo=datetime.UTC)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
NOT_VERIFIED = "Varmista ensin pyytäjän henkilöllisyys"
PERSONAL = ["Aino", "Mäkinen", "Ellintie", "00100", "aino@example.fi", "kirje-aino"]


@pytest.fixture(autouse=True)
def scan_dir(settings, tmp_path):
    """Each test's own private folder for scanned letters."""
    settings.LETTER_SCAN_DIR = str(tmp_path / "letter-scans")
    return tmp_path / "letter-scans"


def registration(kind: str = "access", **overrides) -> dict:
    """What staff fill in on the registration form for a letter (POST data)."""
    data = {
        "kind": kind,
        "channel": "post",
        "received_on": "1.4.2026",
        "reply_language": "fi",
        "first_name": "Aino",
        "last_name": "Mäkinen",
        "email": "",
        "phone": "",
        "street_address": "Ellintie 4",
        "postal_code": "00100",
        "city": "Helsinki",
    }
    data.update(overrides)
    return data


def register_page_from_inbox(client) -> str:
    """The inbox's "Kirjaa pyyntö" button, as staff click it."""
    inbox = client.get(reverse("admin:privacy_datarequest_changelist"))
    button = re.search(r'<a href="([^"]+)" class="addlink">Kirjaa pyyntö</a>', inbox.text)
    assert button, "no Kirjaa pyyntö button on the inbox"
    return button.group(1)


def test_the_owner_registers_a_letter_received_20_days_ago_and_it_is_due_in_10_days(
    owner_client, owner, scan_dir
):
    """Issue 18, item 7 (S16, art. 12(3)): the deadline counts from the day the letter
    reached us; the request is in the inbox with channel "Kirje", received, and the audit
    log says who registered it, with field names and no values."""
    with time_machine.travel(TODAY, tick=False):
        form_url = register_page_from_inbox(owner_client)
        form = owner_client.get(form_url)
        assert (
            form.status_code == 200
            and "Saapumispäivä" in form.text
            and 'enctype="multipart/form-data"' in form.text
        )
        letter = SimpleUploadedFile("kirje-aino-makinen.pdf", PDF, content_type="application/pdf")
        done = owner_client.post(form_url, registration(scanned_letter=letter), follow=True)
        assert done.status_code == 200
        request = DataRequest.objects.get()
        assert f"Pyyntö {request.reference} on kirjattu ja vastaanotettu" in done.text
        assert "Varmista pyytäjän henkilöllisyys" in done.text

        inbox = owner_client.get(reverse("admin:privacy_datarequest_changelist"))
        row = re.search(
            rf"<tr>(?:(?!</tr>).)*{request.reference}(?:(?!</tr>).)*</tr>", inbox.text, re.S
        ).group(0)
        assert "Kirje" in row and "Vastaanotettu" in row and "1.5.2026" in row
        assert re.search(r'<td class="field-days_left_column"><span class="[^"]*">10</span></td>', row)

        assert request.status == RequestStatus.RECEIVED and request.channel == "post"
        assert request.due_date == datetime.date(2026, 5, 1) and request.confirmed_at
        deliver_mail()
        assert mail.outbox == []  # no e-mail address: the answer goes by post
        registered = AuditEvent.objects.get(action="request_registered")
        assert registered.actor_id == owner.pk and registered.object_id == str(request.pk)
        assert "first_name" in registered.fields and registered.counts == {"scanned_letter": 1}
        every_event = json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)
        for value in PERSONAL:
            assert value not in every_event, value
        assert [(e.action, e.actor) for e in request.events.all()] == [("request_registered", owner)]

        # The letter is kept in the private folder, under a random name, outside served paths.
        (stored,) = list(scan_dir.iterdir())
        assert stored.read_bytes() == PDF and "aino" not in stored.name.lower()
        assert request.scanned_letter == stored.name
        for served in [settings.STATIC_ROOT, *settings.STATICFILES_DIRS, settings.MEDIA_ROOT or None]:
            if served:
                assert not stored.resolve().is_relative_to(Path(served).resolve())
        page = owner_client.get(reverse("admin:privacy_datarequest_change", args=[request.pk]))
        assert "Vastaanottokanava" in page.text and "Kirje" in page.text
        scan_url = reverse("admin:privacy_datarequest_scan", args=[request.pk])
        assert f'href="{scan_url}"' in page.text and stored.name not in page.text
        scan = owner_client.get(scan_url)
        assert scan.content == PDF and scan["Content-Type"] == "application/pdf"
        assert "aino" not in scan["Content-Disposition"].lower()
        assert AuditEvent.objects.filter(action="view", fields=["scanned_letter"], actor_id=owner.pk).exists()
        assert Client().get(scan_url).status_code == 302  # to the login page, never the file


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"scanned_letter": "exe"}, "Skannatun kirjeen on oltava PDF-, JPEG- tai PNG-tiedosto."),
        ({"scanned_letter": "fake-png"}, "Skannatun kirjeen on oltava PDF-, JPEG- tai PNG-tiedosto."),
        ({"scanned_letter": "large"}, "Skannattu kirje on liian suuri"),
        ({"received_on": "22.4.2026"}, "Saapumispäivä ei voi olla tulevaisuudessa."),
        ({"received_on": "31.2.2026"}, "Syötä oikea päivämäärä."),
        ({"street_address": "", "email": ""}, "Anna sähköpostiosoite tai koko postiosoite"),
        ({"channel": "web"}, "Valitse oikea vaihtoehto"),
        ({"kind": "objection"}, "Valitse vähintään yksi kiellettävä käyttötarkoitus."),
        ({"first_name": "", "email": "ei-osoite"}, "Tämä kenttä vaaditaan."),
    ],
)
def test_bad_input_is_a_400_with_messages_and_registers_nothing(
    owner_client, settings, scan_dir, overrides, message
):
    """Issue 18, item 7: a wrong type of letter (by its content, whatever its name), a
    letter too large, a date in the future or no way to answer: the form again, with the
    message, and no request, no file, no audit event."""
    settings.LETTER_SCAN_MAX_BYTES = 1024
    uploads = {
        "exe": SimpleUploadedFile("kirje.pdf", b"MZ\x90\x00" + b"\x00" * 60, content_type="application/pdf"),
        "fake-png": SimpleUploadedFile(
            "kirje.png", b"\x89PNG\r\n\x1a\n" + b"x" * 40, content_type="image/png"
        ),
        "large": SimpleUploadedFile("kirje.pdf", PDF + b"0" * 2000, content_type="application/pdf"),
    }
    if "scanned_letter" in overrides:
        overrides = {"scanned_letter": uploads[overrides["scanned_letter"]]}
    with time_machine.travel(TODAY, tick=False):
        response = owner_client.post(reverse("admin:privacy_datarequest_add"), registration(**overrides))
    assert response.status_code == 400
    assert message in response.text
    assert "Pyyntöä ei kirjattu: korjaa alla merkityt kentät." in response.text
    assert not DataRequest.objects.exists()
    assert not scan_dir.exists() or not any(scan_dir.iterdir())
    assert not AuditEvent.objects.filter(action="request_registered").exists()


def test_release_and_erasure_are_refused_until_the_identity_is_verified(
    owner_client, scan_dir, django_capture_on_commit_callbacks
):
    """Issue 18, item 7 (S16, S19): a registered request goes through the same workflow:
    neither the report nor the erasure happens before a verification is recorded; the
    erasure then takes the scanned letter with the identity."""
    aino = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    add = reverse("admin:privacy_datarequest_add")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(add, registration("access", channel="counter", received_on="1.4.2026"))
        letter = SimpleUploadedFile("kirje.pdf", PDF)
        owner_client.post(
            add,
            registration(
                "erasure",
                channel="email",
                email="aino@example.fi",
                received_on="2.4.2026",
                scanned_letter=letter,
            ),
        )
    access, erasure = DataRequest.objects.order_by("pk")
    # The e-mailed request gets a receipt with its status link; the counter's has no address.
    deliver_mail()
    assert [m.to for m in mail.outbox] == [["aino@example.fi"]]
    status = re.search(r"http://testserver(/fi/privacy/status/[\w-]+/)", mail.outbox[0].body).group(1)
    assert erasure.reference in Client().get(status).text

    for request, step, data in [
        (access, "release", {}),
        (erasure, "erase", {"confirm_reference": erasure.reference}),
    ]:
        change = reverse("admin:privacy_datarequest_change", args=[request.pk])
        owner_client.post(
            reverse("admin:privacy_datarequest_link", args=[request.pk]), {"customers": [aino.pk]}
        )
        refused = owner_client.post(reverse(f"admin:privacy_datarequest_{step}", args=[request.pk]), data)
        assert refused.status_code == 400 and NOT_VERIFIED in refused.text
        request.refresh_from_db()
        assert request.status == RequestStatus.RECEIVED and request.report_json == ""
        assert Customer.objects.filter(pk=aino.pk).exists()
        assert owner_client.get(change).status_code == 200

    verify_identity_on_page(
        owner_client, access, method="in_person", note="Ajokortti nähty asiakaspalvelussa"
    )
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("admin:privacy_datarequest_release", args=[access.pk]))
    access.refresh_from_db()
    assert access.status == RequestStatus.COMPLETED and access.report_json

    verify_identity_on_page(owner_client, erasure, method="email_on_file")
    with django_capture_on_commit_callbacks(execute=True):
        erased = owner_client.post(
            reverse("admin:privacy_datarequest_erase", args=[erasure.pk]),
            {"confirm_reference": erasure.reference},
        )
    assert erased.status_code == 302
    erasure.refresh_from_db()
    assert erasure.identity_erased_at and erasure.scanned_letter == ""
    assert not Customer.objects.filter(pk=aino.pk).exists()
    assert list(scan_dir.iterdir()) == []  # the scanned letter went with the identity
    assert owner_client.get(reverse("admin:privacy_datarequest_scan", args=[erasure.pk])).status_code == 404


def test_an_objection_by_phone_is_recorded_with_its_channel(owner_client):
    """S17: a phoned objection, once verified, is in force and says it came by phone."""
    aino = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    owner_client.post(
        reverse("admin:privacy_datarequest_add"),
        registration("objection", channel="phone", objection_purposes=["direct_marketing"]),
    )
    request = DataRequest.objects.get()
    assert request.channel == "phone" and request.objection_purposes == ["direct_marketing"]
    owner_client.post(reverse("admin:privacy_datarequest_link", args=[request.pk]), {"customers": [aino.pk]})
    verify_identity_on_page(owner_client, request, method="phone_callback", note="Soitettu takaisin numeroon")
    owner_client.post(reverse("admin:privacy_datarequest_objection", args=[request.pk]))
    objection = MarketingObjection.objects.get()
    assert objection.purpose == "direct_marketing" and objection.channel == "phone"


def test_staff_without_a_commitment_cannot_register(client, staff_without_commitment, staff_client):
    """S13: registering a request is customer data work: it needs the commitment."""
    from tests.personas import verified_client

    add = reverse("admin:privacy_datarequest_add")
    assert staff_client.get(add).status_code == 200  # a staff member with a commitment may
    newcomer = verified_client(Client(), staff_without_commitment)
    assert newcomer.get(add).status_code == 403
    assert newcomer.post(add, registration()).status_code == 403
    assert not DataRequest.objects.exists()
