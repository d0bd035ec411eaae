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
