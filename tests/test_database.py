"""How requests use the database: a page that reads never waits for a writer."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from customers.models import Customer
from privacy.audit import record
from privacy.models import AuditAction, ControllerDetails

# Bounded waits: long enough for a slow CI machine, far below SQLite's 20 s busy timeout,
# so a reader stuck behind the lock is reported as such and not as "database is locked".
STEP_TIMEOUT = 10


def test_requests_are_not_wrapped_in_one_transaction():
    """Each operation is its own atomic block; a whole request never holds a lock."""
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is False


def _status_path(client: Client) -> str:
    """A data request submitted through the public form; the path of its status page."""
    response = client.post(
        "/en/privacy/request/",
        {
            "kind": "access",
            "first_name": "Aino",
            "last_name": "Mäkinen",
            "email": "aino@example.fi",
            "street_address": "Ellintie 4",
            "postal_code": "00100",
            "city": "Helsinki",
            "reply_language": "en",
            "signature_name": "Aino Mäkinen",
            "declaration": "on",
            "website": "",
        },
    )
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


@pytest.mark.django_db(transaction=True)
def test_pages_that_read_the_register_answer_while_a_writer_holds_its_transaction():
    """A long write (an import, an erasure) holds the write lock and the audit log's lock
    until it commits; the public notice and a requester's status page, which only read,
    must answer meanwhile instead of queueing behind it (SQLite: WAL, no transaction
    per request; PostgreSQL: readers never wait)."""
    ControllerDetails.objects.create(name="Kehobalanssi Oy", street_address="Ellintie 4", email="a@b.fi")
    paths = ["/fi/privacy/", _status_path(Client())]

    holding, release = threading.Event(), threading.Event()
    answers: dict[str, int] = {}
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with transaction.atomic():
                Customer.objects.create(first_name="Kesken", last_name="Tuonti")
                record(action=AuditAction.IMPORT, object_type="customers.customer", counts={"rows": 1})
                holding.set()
                release.wait(STEP_TIMEOUT * 3)
        except BaseException as error:  # noqa: BLE001 - reported by the assertions below
            errors.append(error)
        finally:
            holding.set()
            connection.close()

    def reader() -> None:
        try:
            client = Client()
            for path in paths:
                answers[path] = client.get(path).status_code
        except BaseException as error:  # noqa: BLE001 - reported by the assertions below
            errors.append(error)
        finally:
            connection.close()

    writing = threading.Thread(target=writer)
    writing.start()
    try:
        assert holding.wait(STEP_TIMEOUT), "the writer never started"
        assert not errors, errors
        reading = threading.Thread(target=reader)
        reading.start()
        reading.join(STEP_TIMEOUT)
        answered_while_held = not reading.is_alive() and not release.is_set()
    finally:
        release.set()
        writing.join(STEP_TIMEOUT * 3)
    reading.join(STEP_TIMEOUT * 3)

    assert errors == []
    assert answered_while_held, "a page that only reads waited for the writer's lock"
    assert answers == {path: 200 for path in paths}
    assert Customer.objects.filter(last_name="Tuonti").count() == 1  # the writer did commit
