"""Rate limits are shared by every server process (issue 17, item 9): the database cache
by default, Redis when CACHE_URL names one, and a Redis outage never breaks the public
request form."""

import logging

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings

from privacy.models import DataRequest
from tests.factories import request_form_data
from tests.test_settings import run_settings

pytestmark = pytest.mark.django_db

DATABASE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "kehobalanssi_cache"}
}
SHOW_CACHE = (
    "import django; django.setup(); from django.conf import settings;"
    "c = settings.CACHES['default']; print(c['BACKEND'], c.get('LOCATION'), sorted(c.get('OPTIONS', {})))"
)


def post_request_form(client, capture, address="10.9.8.7"):
    with capture(execute=True):
        return client.post("/fi/privacy/request/", request_form_data(), REMOTE_ADDR=address)


def test_production_default_is_the_database_cache_and_redis_is_used_when_named():
    default = run_settings({"SECRET_KEY": "x" * 50}, SHOW_CACHE)
    assert default.stdout.split()[:2] == ["django.core.cache.backends.db.DatabaseCache", "kehobalanssi_cache"]
    redis = run_settings({"SECRET_KEY": "x" * 50, "CACHE_URL": "redis://127.0.0.1:6379/1"}, SHOW_CACHE)
    assert redis.stdout.split()[:2] == [
        "privacy.shared_cache.RedisCacheOrLocalMemory",
        "redis://127.0.0.1:6379/1",
    ]
    assert "'socket_connect_timeout'" in redis.stdout, redis.stderr


def test_two_workers_share_one_count_in_the_database_cache(
    client, settings, django_capture_on_commit_callbacks
):
    """With 3 workers a per-process cache allowed 3 x the limit; with the database cache the
    second worker refuses what the first one has already counted."""
    settings.REQUEST_RATE_LIMIT = "3/h"
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("migrate", verbosity=0)  # creates the cache table (privacy.apps)
        first_worker = caches["default"]
        for _ in range(2):
            assert post_request_form(client, django_capture_on_commit_callbacks).status_code == 302
    with override_settings(CACHES=DATABASE_CACHE):  # a new cache client: another process
        second_worker = caches["default"]
        assert second_worker is not first_worker
        assert post_request_form(client, django_capture_on_commit_callbacks).status_code == 302
        refused = post_request_form(client, django_capture_on_commit_callbacks)
        assert refused.status_code == 429 and "Liian monta" in refused.text
        # Another address still gets through.
        assert post_request_form(client, django_capture_on_commit_callbacks, "10.9.8.6").status_code == 302
    assert DataRequest.objects.count() == 4


def test_per_process_memory_would_not_share_the_count(client, settings, django_capture_on_commit_callbacks):
    """The contrast: two workers each with their own memory let twice the limit through."""
    settings.REQUEST_RATE_LIMIT = "2/h"
    for worker in ["worker-1", "worker-2"]:
        memory = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": worker}}
        with override_settings(CACHES=memory):
            for _ in range(2):
                assert post_request_form(client, django_capture_on_commit_callbacks).status_code == 302
    assert DataRequest.objects.count() == 4


def test_a_redis_that_is_down_does_not_break_the_request_form(
    client, settings, caplog, django_capture_on_commit_callbacks
):
    """Port 1 answers nobody: the form still works, and still limits (in the worker's own
    memory until Redis is back) rather than letting a flood through."""
    settings.REQUEST_RATE_LIMIT = "2/h"
    redis_down = {
        "default": {
            "BACKEND": "privacy.shared_cache.RedisCacheOrLocalMemory",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=redis_down), caplog.at_level(logging.WARNING, "privacy.shared_cache"):
        for _ in range(2):
            assert post_request_form(client, django_capture_on_commit_callbacks).status_code == 302
        refused = post_request_form(client, django_capture_on_commit_callbacks)
        assert refused.status_code == 429
        assert client.get("/fi/privacy/request/").status_code == 200
    assert DataRequest.objects.count() == 2
    assert "Redis cannot be reached" in caplog.text and "10.9.8.7" not in caplog.text
