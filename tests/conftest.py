"""Personas and shared fixtures."""

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_superuser(
        username="omistaja", email="", password="owner-password-123"
    )


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Tests do not run collectstatic; production's manifest storage needs it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session", autouse=True)
def audit_log_flushable():
    """Transactional tests empty every table between tests (TRUNCATE or DELETE), which
    the audit log's triggers rightly reject; the test flush drops and recreates them."""
    from django.db import connection

    from privacy import triggers

    original = connection.ops.sql_flush

    def sql_flush(style, tables, **kwargs):
        statements = original(style, tables, **kwargs)
        if triggers.TABLE in tables:
            vendor = connection.vendor
            return [*triggers.DROP[vendor], *statements, *triggers.CREATE[vendor]]
        return statements

    connection.ops.sql_flush = sql_flush
    yield
    connection.ops.sql_flush = original
