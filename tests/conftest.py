"""Personas and shared fixtures."""

import pytest

from privacy.groups import OWNER_GROUP, STAFF_GROUP
from tests.personas import make_staff, verified_client


@pytest.fixture
def owner(db):
    return make_staff("omistaja", group=OWNER_GROUP, superuser=True)


@pytest.fixture
def owner_client(client, owner):
    return verified_client(client, owner)


@pytest.fixture
def staff_member(db):
    return make_staff("tyontekija", group=STAFF_GROUP)


@pytest.fixture
def staff_client(client, staff_member):
    return verified_client(client, staff_member)


@pytest.fixture
def staff_without_commitment(db):
    return make_staff("uusi", group=STAFF_GROUP, commitment=False)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hasher():
    """Argon2 is slow on purpose, and every persona hashes a password: tests hash with
    MD5 instead. tests/test_settings.py asserts that production keeps Argon2."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


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


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    """Each test's own folder for import files waiting between preview and confirmation."""
    settings.IMPORT_UPLOAD_DIR = str(tmp_path)
    return tmp_path / "kb-imports"


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate limits live in the cache; every test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(items):
    """A test outside tests/browser that asks for a fixture of pytest-playwright (say a
    parameter named `page`) is run among the browser journeys, after their database
    flush has emptied the staff groups and the controller's details: refuse it."""
    strays = [
        item.nodeid
        for item in items
        if "browser_name" in getattr(getattr(item, "callspec", None), "params", {})
        and "tests/browser/" not in str(item.fspath)
    ]
    if strays:
        raise pytest.UsageError(
            "These tests ask for a pytest-playwright fixture (rename a parameter called "
            "`page`?): " + ", ".join(strays)
        )
