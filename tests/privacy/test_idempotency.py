"""The request form carries a one-time key (issue 13, item 5): the same form sent twice,
e.g. retried after a timeout or the 503 page, is one request (S16)."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail

from privacy import data_requests, views
from privacy.models import DataRequest
from tests.factories import request_form_data
from tests.mailbox import deliver_mail

pytestmark = pytest.mark.django_db
FORM = "/fi/privacy/request/"
EN_FORM = "/en/privacy/request/"


def form_key(client, path=FORM) -> str:
    """The key of one rendering of the form, as the browser gets it."""
    response = client.get(path)
    found = re.search(r'name="idempotency_key" value="([^"]+)"', response.text)
    assert found, "the form carries no key"
    return found.group(1)


def send(client, capture, key, path=FORM, **fields):
    with capture(execute=True):
        return client.post(path, request_form_data(idempotency_key=key, **fields))


def test_the_same_form_sent_twice_stores_one_request_and_shows_the_same_page(
    client, django_capture_on_commit_callbacks
):
    """Issue 13, item 5: the retry lands on the first request's status page ("open the
    confirmation link we sent"), with one request stored and one mail sent."""
    key = form_key(client)
    first = send(client, django_capture_on_commit_callbacks, key)
    again = send(client, django_capture_on_commit_callbacks, key)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    deliver_mail()
    assert DataRequest.objects.count() == 1 and len(mail.outbox) == 1
    page = client.get(again["Location"])
    assert page.status_code == 200
    assert DataRequest.objects.get().reference in page.text
    assert "avaa sähköpostiisi lähettämämme vahvistuslinkki" in page.text


def test_each_rendering_of_the_form_has_its_own_key(client, django_capture_on_commit_callbacks):
    first, second = form_key(client), form_key(client)
    assert first != second and len(first) >= 32
    send(client, django_capture_on_commit_callbacks, first)
    send(client, django_capture_on_commit_callbacks, second)
    assert DataRequest.objects.count() == 2


def test_the_form_page_is_never_kept_by_a_shared_cache(client):
    """Two visitors given one cached rendering would share its key."""
    assert "private" in client.get(FORM)["Cache-Control"]


def test_a_repeated_form_is_not_counted_by_the_rate_limit(
    client, settings, django_capture_on_commit_callbacks
):
    """Issue 13, item 5: a retry is not a new request, so it uses no allowance."""
    settings.REQUEST_RATE_LIMIT = "1/h"
    key = form_key(client)
    first = send(client, django_capture_on_commit_callbacks, key)
    for _ in range(3):
        assert send(client, django_capture_on_commit_callbacks, key)["Location"] == first["Location"]
    refused = send(client, django_capture_on_commit_callbacks, form_key(client))
    assert refused.status_code == 429
    assert DataRequest.objects.count() == 1


def test_two_posts_racing_past_the_check_still_store_one_request(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    """Issue 13, item 5: the second of two simultaneous posts finds nothing yet, then
    meets the unique key when it inserts, and gets the first one's page."""
    key = form_key(client)
    first = send(client, django_capture_on_commit_callbacks, key)
    real_lookup, calls = data_requests.earlier_submission, []

    def not_committed_yet(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real_lookup(**kwargs)

    monkeypatch.setattr(views, "earlier_submission", lambda **kwargs: None)
    monkeypatch.setattr(data_requests, "earlier_submission", not_committed_yet)
    again = send(client, django_capture_on_commit_callbacks, key)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert len(calls) == 2
    deliver_mail()
    assert DataRequest.objects.count() == 1 and len(mail.outbox) == 1


def test_a_key_used_for_another_address_stores_nothing_and_gives_a_new_key(
    client, django_capture_on_commit_callbacks
):
    """Someone else's key opens no one else's status page: the form comes back with a
    message and a fresh key, and sending it then makes a request of its own."""
    key = form_key(client, EN_FORM)
    send(client, django_capture_on_commit_callbacks, key, path=EN_FORM)
    other = send(client, django_capture_on_commit_callbacks, key, path=EN_FORM, email="eino@example.fi")
    assert other.status_code == 200
    assert "This form has been sent before." in other.text
    assert "privacy/status/" not in other.text
    new_key = re.search(r'name="idempotency_key" value="([^"]+)"', other.text).group(1)
    assert new_key != key
    assert DataRequest.objects.count() == 1
    stored = send(client, django_capture_on_commit_callbacks, new_key, path=EN_FORM, email="eino@example.fi")
    assert stored.status_code == 302 and DataRequest.objects.count() == 2


def test_a_key_is_recognised_for_a_day(client, django_capture_on_commit_callbacks):
    key = form_key(client)
    with time_machine.travel(datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC), tick=False):
        first = send(client, django_capture_on_commit_callbacks, key)
    with time_machine.travel(datetime.datetime(2026, 12, 2, 8, 0, tzinfo=datetime.UTC), tick=False):
        assert send(client, django_capture_on_commit_callbacks, key)["Location"] == first["Location"]
    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC), tick=False):
        late = send(client, django_capture_on_commit_callbacks, key)
    assert late.status_code == 200 and "Tämä lomake on jo lähetetty" in late.text
    assert DataRequest.objects.count() == 1


def test_a_form_posted_without_a_key_is_still_stored(client, django_capture_on_commit_callbacks):
    """A page rendered before the key existed, or a damaged hidden field: no refusal."""
    for key in ["", "not a key"]:
        assert send(client, django_capture_on_commit_callbacks, key).status_code == 302
    assert DataRequest.objects.count() == 2
    assert all(DataRequest.objects.values_list("idempotency_key_hash", flat=True))
