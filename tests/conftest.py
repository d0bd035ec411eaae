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
    the audit log's triggers rightly reject; the test flush drops and recreates them.
    Patched on the backend's class, so every connection (any thread or context) has it."""
    from django.db import connection

    from privacy import triggers

    ops_class = type(connection.ops)
    original = ops_class.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if triggers.TABLE in tables:
            vendor = self.connection.vendor
            return [*triggers.DROP[vendor], *statements, *triggers.CREATE[vendor]]
        return statements

    ops_class.sql_flush = sql_flush
    yield
    ops_class.sql_flush = original
