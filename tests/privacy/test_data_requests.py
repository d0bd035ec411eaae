import base64
import datetime
import io
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from PIL import Image

from privacy.data_requests import due_date_for
from privacy.models import AuditEvent, DataRequest, RequestStatus
from tests.factories import request_form_data
from tests.mailbox import deliver_mail, links

pytestmark = pytest.mark.django_db
KINDS = ["access", "rectification", "objection", "anonymisation", "erasure"]


def submit(client, language="fi", **kwargs):
    with_callbacks = kwargs.pop("capture")
    with with_callbacks(execute=True):
        return client.post(f"/{language}/privacy/request/", request_form_data(**kwargs))


@pytest.mark.parametrize("language", ["fi", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_submits_confirms_and_shows_its_status(
    client, language, kind, django_capture_on_commit_callbacks
):
    """S16–S19: a signed request of every kind, in Finnish and English: submitted,
    e-mailed in the reply language, confirmed from the link, status page with due date."""
    response = submit(
        client, language, kind=kind, reply_language=language, capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    request = DataRequest.objects.get()
    assert request.kind == kind and request.status == RequestStatus.AWAITING_CONFIRMATION
    assert re.fullmatch(r"KB-\d{4}-0001", request.reference)
    deliver_mail()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["aino@example.fi"]
    message = mail.outbox[0]
    assert request.reference in message.subject
    assert ("Vahvista" in message.subject) == (language == "fi")
    confirm_url, status_url = links(message)
    assert response.url == status_url
    # Opening the link shows a button; confirming signs the request.
    assert client.get(confirm_url).status_code == 200
    assert DataRequest.objects.get().status == RequestStatus.AWAITING_CONFIRMATION
    client.post(confirm_url)
    assert DataRequest.objects.get().status == RequestStatus.RECEIVED
    page = client.get(status_url)
    assert request.reference in page.text
    assert request.due_date.strftime("%-d.%-m.%Y") in page.text
    assert f'lang="{language}"' in page.text


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (datetime.datetime(2027, 1, 31, 10, tzinfo=datetime.UTC), datetime.date(2027, 2, 28)),
        (datetime.datetime(2028, 1, 31, 10, tzinfo=datetime.UTC), datetime.date(2028, 2, 29)),
        (datetime.datetime(2026, 3, 31, 10, tzinfo=datetime.UTC), datetime.date(2026, 4, 30)),
        (datetime.datetime(2026, 11, 24, 10, tzinfo=datetime.UTC), datetime.date(2026, 12, 24)),
        # 23:30 UTC on 31 December is already 1 January in Helsinki.
        (datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC), datetime.date(2027, 2, 1)),
    ],
)
def test_deadline_is_one_calendar_month_after_submission(
    client, submitted, due, django_capture_on_commit_callbacks
):
    """S16: GDPR art. 12(3): one month from receipt, counted from submission."""
    with time_machine.travel(submitted, tick=False):
        submit(client, capture=django_capture_on_commit_callbacks)
    assert DataRequest.objects.get().due_date == due


def test_due_date_helper_handles_month_ends():
    assert due_date_for(datetime.date(2026, 1, 31)) == datetime.date(2026, 2, 28)
    assert due_date_for(datetime.date(2026, 5, 31), months=3) == datetime.date(2026, 8, 31)


def test_confirmation_link_expires_after_seven_days(client, django_capture_on_commit_callbacks):
    submit(client, capture=django_capture_on_commit_callbacks)
    deliver_mail()
    confirm_url, _ = links(mail.outbox[0])
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=8)):
        response = client.post(confirm_url)
        assert "vanhentunut" in response.text
        assert DataRequest.objects.expired_unconfirmed().count() == 1
    assert DataRequest.objects.get().status == RequestStatus.AWAITING_CONFIRMATION


@pytest.mark.parametrize("language", ["fi", "en"])
def test_requester_withdraws_from_the_status_page(client, language, django_capture_on_commit_callbacks):
    """S16: the requester can withdraw; the event is on the timeline and in the audit log."""
    submit(client, language, reply_language=language, capture=django_capture_on_commit_callbacks)
    deliver_mail()
    confirm_url, status_url = links(mail.outbox[0])
    client.post(confirm_url)
    unconfirmed = client.post(status_url, {"action": "withdraw"}, follow=True)
    assert DataRequest.objects.get().status == RequestStatus.RECEIVED  # one click is not enough
    assert ("Tick the box" in unconfirmed.text) == (language == "en")
    client.post(status_url, {"action": "withdraw", "confirm_withdraw": "yes"})
    request = DataRequest.objects.get()
    assert request.status == RequestStatus.WITHDRAWN and request.closed_at
    assert list(request.events.values_list("action", flat=True)) == [
        "request_submitted",
        "request_confirmed",
        "request_status",
    ]
    assert (
        AuditEvent.objects.filter(object_type="privacy.datarequest", actor_type="data_subject").count() == 3
    )


@pytest.mark.parametrize("language", ["fi", "en"])
def test_staff_extend_the_deadline_with_a_reason_and_the_requester_is_told(
    client, owner_client, language, django_capture_on_commit_callbacks
):
    """S16: art. 12(3): an extension needs a reason and is told to the requester."""
    with time_machine.travel(datetime.datetime(2026, 1, 31, 10, tzinfo=datetime.UTC)):
        submit(client, language, reply_language=language, capture=django_capture_on_commit_callbacks)
        deliver_mail()
        client.post(links(mail.outbox[0])[0])
        request = DataRequest.objects.get()
        url = reverse("admin:privacy_datarequest_extend", args=[request.pk])
        owner_client.post(url, {"months": "2", "reason": ""})
        assert DataRequest.objects.get().due_date == datetime.date(2026, 2, 28)
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(url, {"months": "2", "reason": "Numerous requests"})
    request = DataRequest.objects.get()
    assert request.due_date == datetime.date(2026, 4, 28)
    deliver_mail()
    assert len(mail.outbox) == 2 and "Numerous requests" in mail.outbox[1].body
    assert ("lisää aikaa" in mail.outbox[1].subject) == (language == "fi")
    page = client.get(links(mail.outbox[0])[1])
    assert "Numerous requests" in page.text and "28.4.2026" in page.text


def test_request_without_typed_name_and_declaration_is_refused(client):
    """S16: the typed name and the declaration are the signature."""
    response = client.post("/en/privacy/request/", request_form_data(signature_name="", declaration=""))
    assert response.status_code == 200
    assert "Confirm the declaration to sign the request." in response.text
    assert "This field is required." in response.text
    assert not DataRequest.objects.exists()


def test_rectification_and_objection_need_their_details(client):
    """S17, S18: a rectification names what and why; an objection names purposes."""
    response = client.post(
        "/en/privacy/request/", request_form_data("rectification", rectification_grounds="")
    )
    assert "names what is wrong" in response.text
    response = client.post("/en/privacy/request/", request_form_data("objection", objection_purposes=[]))
    assert "Tick at least one purpose" in response.text
    assert not DataRequest.objects.exists()


def png_data_url(width=300, height=100) -> str:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, 0)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_drawn_signature_is_optional_stored_and_shown_to_staff_only(
    client, owner_client, django_capture_on_commit_callbacks
):
    """S16: a drawn signature, when given, is visible to staff only."""
    submit(client, drawn_signature=png_data_url(), capture=django_capture_on_commit_callbacks)
    request = DataRequest.objects.get()
    assert request.drawn_signature.startswith(b"\x89PNG")
    deliver_mail()
    status_page = client.get(links(mail.outbox[0])[1])
    assert "data:image/png" not in status_page.text
    admin_page = owner_client.get(reverse("admin:privacy_datarequest_change", args=[request.pk]))
    assert "data:image/png;base64," in admin_page.text


def crafted_png(width: int, height: int, *, corrupt: bool = False) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) ^ (1 if corrupt and kind == b"IDAT" else 0)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (width + 1) * 2)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "value",
    [
        "data:image/png;base64,!!!",
        "data:text/html;base64,PGI+",
        "data:image/png;base64," + base64.b64encode(b"GIF89a").decode(),
        # a header that claims 30,000 x 30,000 pixels (a decompression bomb)
        "data:image/png;base64," + base64.b64encode(crafted_png(30000, 30000)).decode(),
        # a chunk whose checksum is wrong
        "data:image/png;base64," + base64.b64encode(crafted_png(100, 50, corrupt=True)).decode(),
    ],
)
def test_broken_signature_image_gets_a_form_error(client, value):
    response = client.post("/en/privacy/request/", request_form_data(drawn_signature=value))
    assert response.status_code == 200 and "could not be read" in response.text
    assert not DataRequest.objects.exists()


def test_honeypot_refuses_a_bot_and_lets_a_person_through(client, django_capture_on_commit_callbacks):
    response = client.post("/en/privacy/request/", request_form_data(website="http://spam.example"))
    assert response.status_code == 200 and "Leave the last field empty" in response.text
    assert not DataRequest.objects.exists()
    assert submit(client, capture=django_capture_on_commit_callbacks).status_code == 302


def test_rate_limit_refuses_a_flood_and_lets_another_address_through(
    client, settings, django_capture_on_commit_callbacks
):
    settings.REQUEST_RATE_LIMIT = "3/h"
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                client.post("/fi/privacy/request/", request_form_data(), REMOTE_ADDR="10.1.1.1").status_code
                == 302
            )
    refused = client.post("/fi/privacy/request/", request_form_data(), REMOTE_ADDR="10.1.1.1")
    assert refused.status_code == 429 and "Liian monta" in refused.text
    assert DataRequest.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post("/fi/privacy/request/", request_form_data(), REMOTE_ADDR="10.1.1.2").status_code
            == 302
        )


def test_pages_behind_the_secret_link_are_never_cached_or_indexed(client, django_capture_on_commit_callbacks):
    submit(client, "en", reply_language="en", capture=django_capture_on_commit_callbacks)
    deliver_mail()
    confirm_url, status_url = links(mail.outbox[0])
    for url in [confirm_url, status_url]:
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and "noindex" in response["X-Robots-Tag"]


def test_unknown_token_is_404_and_no_personal_data_in_urls(client):
    assert client.get("/fi/privacy/status/not-a-token/").status_code == 404
    assert client.get("/fi/privacy/status/" + "x" * 500 + "/").status_code == 404
    assert client.get("/fi/privacy/request/confirm/nope/").status_code == 404


# A mail server that is down or hangs, and sending the link again: tests/privacy/test_outbox.py.


def test_resending_makes_the_old_link_useless_and_is_limited(client, django_capture_on_commit_callbacks):
    submit(client, "en", reply_language="en", capture=django_capture_on_commit_callbacks)
    deliver_mail()
    first_confirm, status_url = links(mail.outbox[0])
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(status_url, {"action": "resend"})
    deliver_mail()
    assert len(mail.outbox) == 4
    assert client.get(first_confirm).status_code == 404
    page = client.post(status_url, {"action": "resend"}, follow=True)
    assert "cannot be sent again" in page.text
    deliver_mail()
    assert len(mail.outbox) == 4


def test_plain_text_mail_is_not_html_escaped(client, django_capture_on_commit_callbacks):
    submit(
        client,
        "en",
        reply_language="en",
        first_name="D'Arcy & Co",
        capture=django_capture_on_commit_callbacks,
    )
    deliver_mail()
    body = mail.outbox[0].body
    assert "“D'Arcy & Co Mäkinen”" in body and "&amp;" not in body and "&#x27;" not in body


def test_no_extension_once_the_first_month_is_over(client, owner_client, django_capture_on_commit_callbacks):
    """Art. 12(3): the requester must hear of an extension within one month."""
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, tzinfo=datetime.UTC)):
        submit(client, "en", reply_language="en", capture=django_capture_on_commit_callbacks)
        deliver_mail()
        client.post(links(mail.outbox[0])[0])
    request = DataRequest.objects.get()
    url = reverse("admin:privacy_datarequest_extend", args=[request.pk])
    with time_machine.travel(datetime.datetime(2026, 4, 3, 10, tzinfo=datetime.UTC)):
        page = owner_client.get(reverse("admin:privacy_datarequest_change", args=[request.pk]))
        assert "Extend the deadline" not in page.text
        owner_client.post(url, {"months": "1", "reason": "Numerous requests"})
    assert DataRequest.objects.get().due_date == datetime.date(2026, 4, 2)
    deliver_mail()
    assert len(mail.outbox) == 1


def test_behind_a_proxy_the_limit_is_per_client_and_a_forged_header_does_not_escape_it(
    client, settings, django_capture_on_commit_callbacks
):
    """With PROXY_COUNT=1 every request comes from the proxy's address: the limit must
    follow the client the proxy saw, and a header the client wrote itself must not
    give it a fresh allowance."""
    settings.REQUEST_RATE_LIMIT, settings.PROXY_COUNT = "2/h", 1
    from django.core.cache import cache

    cache.clear()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def post(forwarded: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/fi/privacy/request/", request_form_data(), HTTP_X_FORWARDED_FOR=forwarded, **proxy
            )

    assert post("198.51.100.7").status_code == 302
    assert post("198.51.100.7").status_code == 302
    assert post("198.51.100.7").status_code == 429
    assert post("203.0.113.1, 198.51.100.7").status_code == 429  # forged left entry
    assert post("198.51.100.8").status_code == 302  # another customer behind the same proxy


def test_status_and_confirmation_tokens_never_reach_the_log(client):
    """A status link is as good as a password to the request: the 4xx lines Django
    logs must not write it down (read from the handler settings.LOGGING sets up)."""
    import logging

    from privacy.data_requests import submit_request

    fields = {k: v for k, v in request_form_data().items() if k not in ("website", "declaration")}
    submitted = submit_request(
        fields={**fields, "declaration": True}, drawn_signature=None, site_url="http://testserver/"
    )
    token = submitted.status_token
    handler = logging.getLogger("django.request").parent.handlers[0]
    written = io.StringIO()
    old_stream = handler.setStream(written)
    try:
        assert client.get(f"/fi/privacy/status/{token}/report.pdf").status_code == 404
        assert client.get(f"/fi/privacy/request/confirm/{token}x/").status_code == 404
    finally:
        handler.setStream(old_stream)
    assert "Not Found: /fi/privacy/status/[token]/report.pdf" in written.getvalue()
    assert token not in written.getvalue()
