import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


SHOW_SETTINGS = (
    "import django; django.setup(); from django.conf import settings;"
    "print(settings.DATABASES['default']['ENGINE'], settings.DEBUG, settings.TIME_ZONE,"
    " settings.LANGUAGE_CODE)"
)


def run_settings(env: dict, code: str = SHOW_SETTINGS) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "kehobalanssi.settings",
            "DJANGO_READ_DOT_ENV": "0",
            **env,
        },
    )


def test_debug_is_off_and_sqlite_is_the_default():
    result = run_settings({"SECRET_KEY": "x" * 50})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "False", "Europe/Helsinki", "fi"]


def test_database_url_selects_postgresql():
    result = run_settings(
        {"SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/somedb"}
    )
    assert result.stdout.split()[0] == "django.db.backends.postgresql", result.stderr


def test_missing_secret_key_without_debug_is_refused():
    result = run_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_bad_debug_value_is_refused():
    result = run_settings({"SECRET_KEY": "x" * 50, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_production_hashes_staff_passwords_with_argon2():
    """S13: the tests hash with MD5 for speed (tests/conftest.py); the settings a server
    runs with store a staff member's password as an Argon2 hash."""
    result = run_settings(
        {"SECRET_KEY": "x" * 50},
        "import django; django.setup(); from django.contrib.auth.hashers import make_password;"
        "print(make_password('a-long-staff-password').split('$')[0])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "argon2"
