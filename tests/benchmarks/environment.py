"""The environment every benchmark runs in: a database of its own (never the
development one), a throwaway secret key, no .env, plain HTTP on loopback."""

from __future__ import annotations

import os

DEFAULTS = {
    "DJANGO_SETTINGS_MODULE": "kehobalanssi.settings",
    "DATABASE_URL": "sqlite:////tmp/kehobalanssi-bench.sqlite3",
    "SECRET_KEY": "benchmark-only-secret-key-not-for-production-use-123",
    "DJANGO_READ_DOT_ENV": "0",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "testserver",
}


def setup_django() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()
