"""Error pages that tell the truth (issue 13, item 5): a database outage is a 503 page in
the page's language saying whether the request was saved and what to do; any other error
the 500 page; neither reads the database nor shows a traceback or personal data."""

from __future__ import annotations

import pytest
from django.test import Client

from privacy.models import DataRequest
from tests.factories import request_form_data
from tests.outage import database_unreachable

pytestmark = pytest.mark.django_db

NO_TRACE = ("Traceback", "OperationalError", "Connection refused", "aino@example.fi", "Mäkinen")


@pytest.fixture
def visitor():
    """A browser: the error reaches it as the page it gets, not as an exception."""
    return Client(raise_request_exception=False)


@pytest.fixture
def contact(settings):
    settings.OUTAGE_CONTACT_NAME = "Kehobalanssi Oy"
    settings.OUTAGE_CONTACT_ADDRESS = "Ellintie 4, 00100 HELSINKI"
    settings.OUTAGE_CONTACT_PHONE = "+358 40 123 4567"


def assert_no_trace(response):
    for text in NO_TRACE:
        assert text not in response.text


def test_the_request_form_posted_during_an_outage_gets_the_finnish_503_page(visitor, contact):
    """Issue 13, item 5: the requester learns the request may not be saved, that trying
    again creates no second request, and how to reach the controller without the web."""
    with database_unreachable():
        response = visitor.post("/fi/privacy/request/", request_form_data())
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert '<html lang="fi">' in response.text
    assert "Pyyntösi ei ehkä tallentunut." in response.text
    assert "Uusi yritys ei luo toista pyyntöä" in response.text
    assert "Ellintie 4, 00100 HELSINKI" in response.text and "+358 40 123 4567" in response.text
    assert_no_trace(response)
    assert not DataRequest.objects.exists()


def test_the_english_request_form_gets_the_english_503_page(visitor, contact):
    with database_unreachable():
        response = visitor.post("/en/privacy/request/", request_form_data(reply_language="en"))
    assert response.status_code == 503
    assert '<html lang="en">' in response.text
    assert "Your request may not have been saved." in response.text
    assert "Trying again will not create a second request" in response.text
    assert_no_trace(response)


@pytest.mark.parametrize(
    ("path", "language", "expected"),
    [
        ("/fi/privacy/", "fi", "Rekisterin tietokantaan ei juuri nyt saada yhteyttä."),
        ("/en/privacy/", "en", "The register's database cannot be reached just now."),
    ],
)
def test_a_public_page_read_during_an_outage_is_a_503_saying_nothing_changed(
    visitor, path, language, expected
):
    """Issue 13, item 5: the notice reads the controller details from the database; when
    it cannot, the page says so in the address's language, with Retry-After."""
    with database_unreachable():
        response = visitor.get(path)
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert f'<html lang="{language}">' in response.text and expected in response.text
    assert ("Mitään ei tallennettu" if language == "fi" else "Nothing was saved") in response.text
    assert "request-form-advice" not in response.text
    assert_no_trace(response)


def test_without_contact_settings_the_page_names_no_contact(visitor):
    with database_unreachable():
        response = visitor.get("/fi/privacy/")
    assert response.status_code == 503 and 'id="outage-contact"' not in response.text


@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("path", "expected"),
    [("/fi/bug/", "Jokin meni vikaan"), ("/en/bug/", "Something went wrong")],
)
def test_a_bug_gets_the_500_page_without_touching_the_database(visitor, path, expected):
    """Issue 13, item 5: DEBUG is off; the 500 page renders even with the database gone
    (every query would raise), and shows no traceback and none of the error's text."""
    with database_unreachable():
        response = visitor.get(path)
    assert response.status_code == 500
    assert expected in response.text
    assert "Retry-After" not in response
    assert "RuntimeError" not in response.text and "a bug" not in response.text
    assert_no_trace(response)


@pytest.mark.urls("tests.error_urls")
def test_a_bug_on_a_post_says_what_was_sent_may_not_be_saved(visitor):
    response = visitor.post("/en/bug/", {"x": "1"})
    assert response.status_code == 500 and "What you sent may not have been saved." in response.text


@pytest.mark.skipif(
    not __import__("django.db").db.connection.vendor == "postgresql", reason="PostgreSQL only"
)
def test_a_database_that_stops_answering_is_cancelled_and_gets_the_503_page(visitor):
    """Issue 13, items 2 and 5: the connection carries the settings' statement_timeout, and
    a statement that outlasts it (here a 2 s sleep before each query, with the limit
    lowered to 0.2 s) is cancelled: the page is the 503, not a worker killed at 30 s."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "30s"
        cursor.execute("SET statement_timeout = 200")

    def database_hangs(execute, sql, params, many, context):
        execute("SELECT pg_sleep(2)", None, False, context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_hangs):
        response = visitor.post("/fi/privacy/request/", request_form_data())
    assert response.status_code == 503 and "Pyyntösi ei ehkä tallentunut." in response.text
    assert_no_trace(response)
