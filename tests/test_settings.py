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


SHOW_DATABASE = (
    "import django, json; django.setup(); from django.conf import settings;"
    "d = settings.DATABASES['default'];"
    "print(json.dumps([d.get('OPTIONS', {}), d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']]))"
)


def test_production_postgresql_gives_up_on_a_database_that_does_not_answer():
    """Issue 13, item 2: a connection attempt ends after 5 s and a statement after 30 s
    (both from the environment), and connections are kept 60 s with a health check."""
    import json

    url = "postgres://kehobalanssi@127.0.0.1:5432/kehobalanssi"
    result = run_settings({"SECRET_KEY": "x" * 50, "DATABASE_URL": url}, SHOW_DATABASE)
    assert result.returncode == 0, result.stderr
    options, max_age, health_checks = json.loads(result.stdout.splitlines()[-1])
    assert options["connect_timeout"] == 5
    assert options["options"] == "-c statement_timeout=30000"
    assert (max_age, health_checks) == (60, True)

    tuned = run_settings(
        {
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": url,
            "DATABASE_STATEMENT_TIMEOUT": "600",
            "DATABASE_CONNECT_TIMEOUT": "2",
            "CONN_MAX_AGE": "0",
        },
        SHOW_DATABASE,
    )
    options, max_age, _ = json.loads(tuned.stdout.splitlines()[-1])
    assert options == {"connect_timeout": 2, "options": "-c statement_timeout=600000"}
    assert max_age == 0
