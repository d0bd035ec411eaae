"""/healthz checks the database and the cache (issue 13, items 2 and 3)."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.test import override_settings

from tests.outage import database_unreachable

pytestmark = pytest.mark.django_db

REDIS_DOWN = {
    "default": {
        "BACKEND": "privacy.shared_cache.RedisCacheOrLocalMemory",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


def test_healthz_answers_200_when_the_database_and_the_cache_answer(client):
    """Issue 13, item 2: no language prefix, no session cookie, JSON only."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_naming_the_database_when_it_is_unreachable(client, caplog):
    """Issue 13, item 2: the cursor raises OperationalError, as a database that is down does."""
    with database_unreachable(), caplog.at_level(logging.WARNING, "privacy.health"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "cache": "ok"}
    assert "Connection refused" not in caplog.text and "OperationalError" in caplog.text


def test_healthz_is_503_naming_the_cache_when_the_cache_raises(client, monkeypatch):
    """Issue 13, item 3: a cache that raises is reported, not a 500."""

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(caches["default"], "set", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "unavailable"}


def test_healthz_sees_through_the_redis_fallback(client):
    """Issue 13, item 3: while Redis is down the form counts in each worker's memory
    (privacy/shared_cache.py) and keeps working; /healthz still reports the outage."""
    with override_settings(CACHES=REDIS_DOWN):
        assert caches["default"].set("k", "v") is None  # the fallback hides it from callers
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "unavailable"}


def test_healthz_takes_no_post(client):
    assert client.post("/healthz").status_code == 405
