"""E-mails to requesters are the business's words: they greet with a fixed phrase, and the
name typed on the public form (by anyone, for any address) appears only later, quoted as
what was typed, or not at all (issue 17, item 11)."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from privacy.models import DataRequest
from tests.factories import request_form_data
from tests.mailbox import deliver_mail, links

pytestmark = pytest.mark.django_db

PHISHING = "Your account is locked: log in at evil.example now"


def submit(client, language, capture, **overrides):
    with capture(execute=True):
        return client.post(
            f"/{language}/privacy/request/",
            request_form_data(reply_language=language, first_name=PHISHING, **overrides),
        )


@pytest.mark.parametrize(
    ("language", "greeting", "quoted"),
    [
        ("fi", "Hei,", "Pyyntö tehtiin nimellä ”"),
        ("en", "Hello,", "The request was made in the name: “"),
    ],
)
def test_confirmation_mail_greets_by_a_fixed_phrase_and_quotes_the_typed_name_later(
    client, language, greeting, quoted, django_capture_on_commit_callbacks
):
    """S16: the first words of the mail are the business's, whatever the sender typed."""
    assert submit(client, language, django_capture_on_commit_callbacks).status_code == 302
    deliver_mail()
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    for body in [message.body, html]:
        first_line = body.split("\n", 1)[0] if body is message.body else body.split("<p>", 2)[1]
        assert PHISHING not in first_line and greeting in first_line
        assert f"{quoted}{PHISHING} Mäkinen" in body
        # The typed name comes after the link, never before the business's own text.
        assert body.index(PHISHING) > body.index("/privacy/request/confirm/")
    assert PHISHING not in message.subject
    assert message.body.startswith(f"{greeting}\n")


def test_later_mails_do_not_carry_the_typed_name(client, owner_client, django_capture_on_commit_callbacks):
    """Art. 12(3): the extension mail tells the reason and the date, and greets by a fixed
    phrase; the typed name is not repeated."""
    with time_machine.travel(datetime.datetime(2026, 1, 31, 10, tzinfo=datetime.UTC)):
        submit(client, "en", django_capture_on_commit_callbacks)
        deliver_mail()
        client.post(links(mail.outbox[0])[0])
        request = DataRequest.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(
                reverse("admin:privacy_datarequest_extend", args=[request.pk]),
                {"months": "2", "reason": "Numerous requests"},
            )
    deliver_mail()
    extension = mail.outbox[1]
    assert extension.body.startswith("Hello,\n") and "Numerous requests" in extension.body
    assert PHISHING not in extension.body and PHISHING not in extension.alternatives[0][0]
