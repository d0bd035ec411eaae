import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from privacy.groups import OWNER_GROUP, STAFF_GROUP
from privacy.models import AuditEvent, ControllerDetails
from tests.factories import CustomerFactory, OrderFactory
from tests.personas import PASSWORD, verified_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def admin_urls(customer) -> list[str]:
    return [
        reverse("admin:index"),
        reverse("admin:customers_customer_changelist"),
        reverse("admin:customers_customer_change", args=[customer.pk]),
        reverse("admin:customers_order_changelist"),
        reverse("admin:privacy_auditevent_changelist"),
        reverse("admin:auth_user_changelist"),
    ]


def test_password_alone_reaches_no_admin_page(client, owner):
    """S13: a second factor is required for every admin page."""
    customer = CustomerFactory()
    client.force_login(owner)  # password accepted, no second factor
    for url in admin_urls(customer):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("staff-login")), url


def test_staff_without_a_device_is_sent_to_enrol(client):
    """S13: on first login a staff member enrols a second factor (QR code)."""
    user = get_user_model().objects.create_user("uusi", password=PASSWORD, is_staff=True)
    response = client.post(
        reverse("staff-login"),
        {"login_view-current_step": "auth", "auth-username": "uusi", "auth-password": PASSWORD},
    )
    assert response.status_code == 302
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("two_factor:setup")
    assert not user.totpdevice_set.exists()


def test_sixth_wrong_password_locks_the_account_out(client, owner):
    """S13: lockout after repeated failed logins, in the audit log."""
    url = reverse("staff-login")

    def attempt(password: str):
        return client.post(
            url,
            {"login_view-current_step": "auth", "auth-username": owner.username, "auth-password": password},
            REMOTE_ADDR="10.0.0.7",
        )

    for _ in range(5):
        assert attempt("wrong-password-123").status_code == 200
    response = attempt("wrong-password-123")
    assert response.status_code == 429
    assert attempt(PASSWORD).status_code == 429  # even the right password, during cool-off
    assert AuditEvent.objects.filter(action="login_failed", object_id=str(owner.pk)).count() >= 5
    assert AuditEvent.objects.filter(action="locked_out", object_id=str(owner.pk)).exists()
    events = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert owner.username not in events and "10.0.0.7" not in events


def test_a_failed_login_does_not_store_the_typed_password_or_code(client, owner):
    """S13: axes keeps what a failed login posted; the two-factor login's password field
    and the one-time code are masked there, so nobody reading the attempts (the owner in
    the admin, a database backup) sees a typed password."""
    from axes.models import AccessAttempt

    client.post(
        reverse("staff-login"),
        {
            "login_view-current_step": "auth",
            "auth-username": owner.username,
            "auth-password": "Kesa2026!salis",
        },
    )
    attempt = AccessAttempt.objects.get()
    assert "Kesa2026!salis" not in attempt.post_data
    assert "auth-password=********************" in attempt.post_data


def test_a_typed_password_is_in_no_table_after_failed_logins(client, owner):
    """S13: after a wrong password, and after a right password with a wrong code, no
    column of any table holds the typed password or code (attempts, sessions, the audit
    log, the cache table): read back from the database itself, row by row."""
    from django.db import connection

    wrong = "Kesa2026!salis"
    client.post(
        reverse("staff-login"),
        {"login_view-current_step": "auth", "auth-username": owner.username, "auth-password": wrong},
    )
    client.post(
        reverse("staff-login"),
        {"login_view-current_step": "auth", "auth-username": owner.username, "auth-password": PASSWORD},
    )
    client.post(reverse("staff-login"), {"login_view-current_step": "token", "token-otp_token": "918273"})
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            # A table name from the database's own catalogue, quoted: no input reaches it.
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row)
                assert wrong not in text, table
                assert "918273" not in text, table


def test_staff_without_commitment_sees_no_customer_data(client, staff_without_commitment):
    """S13: no customer data before the confidentiality commitment is recorded."""
    customer = CustomerFactory(last_name="Salassapidettävä")
    OrderFactory(customer=customer)
    client = verified_client(client, staff_without_commitment)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "confidentiality commitment" in index.text or "salassapitositoumuksen" in index.text
    assert "Salassapidettävä" not in index.text
    for url in [
        reverse("admin:customers_customer_changelist"),
        reverse("admin:customers_customer_change", args=[customer.pk]),
        reverse("admin:customers_order_changelist"),
        reverse("admin:customers_customer_add"),
        reverse("admin:autocomplete") + "?app_label=customers&model_name=customer"
        "&field_name=organisation&term=a",
    ]:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert "Salassapidettävä" not in response.text


def test_deleting_a_staff_account_is_in_the_audit_log(owner, owner_client, staff_member):
    """S13: the owner's changes to staff accounts are audited like the register's."""
    response = owner_client.post(
        reverse("admin:auth_user_delete", args=[staff_member.pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(pk=staff_member.pk).exists()
    event = AuditEvent.objects.filter(action="delete", object_type="auth.user").get()
    assert event.object_id == str(staff_member.pk) and event.actor_id == owner.pk


def test_controller_details_need_a_commitment_and_changes_are_audited(owner_client, staff_without_commitment):
    """S1, S13: the contact details every requester's mail replies to are changed only by
    staff with a commitment, and each change is in the audit log."""
    details = ControllerDetails.objects.create(
        name="Kehobalanssi",
        street_address="Ellintie 4",
        email="info@kehobalanssi.fi",
        contact_person="Omistaja",
    )
    change = reverse("admin:privacy_controllerdetails_change", args=[details.pk])
    newcomer = verified_client(Client(), staff_without_commitment)
    assert newcomer.post(change, {"email": "attacker@example.com"}).status_code in (302, 403)
    details.refresh_from_db()
    assert details.email == "info@kehobalanssi.fi"

    form = {
        "name": "Kehobalanssi",
        "street_address": "Ellintie 4",
        "email": "asiakaspalvelu@kehobalanssi.fi",
        "contact_person": "Omistaja",
    }
    assert owner_client.post(change, form).status_code == 302
    details.refresh_from_db()
    assert details.email == "asiakaspalvelu@kehobalanssi.fi"
    event = AuditEvent.objects.get(action="change", object_type="privacy.controllerdetails")
    assert event.fields == ["email"]


def test_owner_without_commitment_is_not_exempt(client, owner):
    owner.confidentiality_commitment.delete()
    owner = get_user_model().objects.get(pk=owner.pk)
    client = verified_client(client, owner)
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 403


def test_staff_group_cannot_manage_staff_or_export_the_audit_log(staff_client):
    """S13: staff management and audit export are the owner's."""
    assert staff_client.get(reverse("admin:customers_customer_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert staff_client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert staff_client.get(reverse("admin:privacy_auditevent_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:privacy_auditevent_export")).status_code == 403


def test_groups_are_created_by_migration():
    owner, staff = Group.objects.get(name=OWNER_GROUP), Group.objects.get(name=STAFF_GROUP)
    assert owner.permissions.filter(codename="export_auditevent").exists()
    assert owner.permissions.filter(codename="change_user").exists()
    assert staff.permissions.filter(codename="change_customer").exists()
    assert not staff.permissions.filter(
        codename__in=["export_auditevent", "change_user", "add_user"]
    ).exists()


def test_audit_log_is_read_only_even_for_the_owner(owner_client):
    CustomerFactory()
    event = AuditEvent.objects.create(actor_type="system", action="view", prev_hash="0" * 64, hash="1" * 64)
    assert owner_client.get(reverse("admin:privacy_auditevent_add")).status_code == 403
    response = owner_client.post(
        reverse("admin:privacy_auditevent_change", args=[event.pk]), {"action": "delete"}
    )
    assert response.status_code == 403
    assert owner_client.get(reverse("admin:privacy_auditevent_delete", args=[event.pk])).status_code == 403


def test_owner_exports_the_audit_log_as_csv_and_the_export_is_audited(
    owner_client, owner, django_assert_max_num_queries
):
    for _ in range(3):
        CustomerFactory()
    with django_assert_max_num_queries(20):
        response = owner_client.get(reverse("admin:privacy_auditevent_export"))
        body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("id,occurred_at,actor_type")
    export = AuditEvent.objects.filter(action="export", object_type="privacy.auditevent").get()
    assert export.actor_id == owner.pk and export.counts["rows"] >= 1


@pytest.mark.parametrize("rows", [10, 200])
def test_audit_list_queries_do_not_grow(owner_client, rows, django_assert_max_num_queries):
    for _ in range(rows):
        AuditEvent.objects.create(
            actor_type="system", action="view", prev_hash="0" * 64, hash=f"{_:064d}{rows}"[:64]
        )
    # 17: the "who" filter lists the staff by name (one query), whatever the rows.
    with django_assert_max_num_queries(17):
        assert owner_client.get(reverse("admin:privacy_auditevent_changelist")).status_code == 200


def test_sessions_expire_when_idle_and_at_browser_close(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_check_deploy_with_production_settings_is_clean():
    """Production settings pass Django's deployment checklist without a warning."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_READ_DOT_ENV": "0",
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "production-like-secret-key-with-enough-entropy-9f8e7d",
        "ALLOWED_HOSTS": "rekisteri.kehobalanssi.fi",
        "BEHIND_TLS_PROXY": "true",
        "DATABASE_URL": "sqlite:////tmp/check-deploy.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_behind_a_proxy_a_lockout_follows_the_client_not_the_proxy(client, owner, settings):
    """Lockouts are per user name and address: behind a reverse proxy the address is
    the one the proxy saw, so a flood from one place does not lock the owner out
    everywhere, and the flooding client cannot shake the lockout with a forged header."""
    settings.PROXY_COUNT = 1
    url = reverse("staff-login")

    def attempt(password: str, forwarded: str):
        return client.post(
            url,
            {"login_view-current_step": "auth", "auth-username": owner.username, "auth-password": password},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for _ in range(6):
        attempt("wrong-password-123", "198.51.100.7")
    assert attempt(PASSWORD, "198.51.100.7").status_code == 429
    assert attempt(PASSWORD, "203.0.113.5, 198.51.100.7").status_code == 429
    elsewhere = attempt(PASSWORD, "192.0.2.44")  # the owner, from another place
    assert elsewhere.status_code == 200 and 'name="token-otp_token"' in elsewhere.text


def test_the_group_migration_leaves_the_app_registry_as_it_found_it():
    """Making the staff groups' permissions during migrate must not leave apps without
    their models module: Django then skips them in post_migrate handlers and dumpdata."""
    from django.apps import apps

    assert all(
        app.models_module is not None
        for app in apps.get_app_configs()
        if app.label in {"customers", "privacy"}
    )


def test_attempts_stored_before_the_fix_lose_their_posted_data(db):
    """S13: the migration removes the passwords that attempts stored before held."""
    import importlib

    from axes.models import AccessAttempt
    from django.apps import apps

    AccessAttempt.objects.create(
        username="omistaja",
        ip_address="10.0.0.7",
        user_agent="x",
        path_info="/admin/login/",
        post_data="auth-username=omistaja\nauth-password=Kesa2026!salis",
        failures_since_start=1,
    )
    migration = importlib.import_module("privacy.migrations.0008_mask_stored_login_passwords")
    migration.remove_posted_data(apps, None)
    attempt = AccessAttempt.objects.get()
    assert attempt.post_data == "" and attempt.failures_since_start == 1
