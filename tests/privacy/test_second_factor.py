"""A staff account's first second factor needs a one-time enrolment code from the owner,
not only the password (privacy notice S13; issue 17 finding 14: whoever first logged in
with a new account's password enrolled the device)."""

import base64
import datetime
import json
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP

from privacy.enrolment import issue_enrolment_code
from privacy.models import AuditEvent, EnrolmentCode
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db
PREFIX = "staff_setup_view-current_step"
SECRET = re.compile(r"[A-Z2-7]{32}")  # the TOTP secret as the wizard shows it (base32)


def new_staff(username: str = "uusi"):
    return get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)


def logged_in(user, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(
        reverse("staff-login"),
        {"login_view-current_step": "auth", "auth-username": user.username, "auth-password": password},
    )
    assert response.status_code == 302  # password accepted, no device yet
    return client


def setup_step(client, step: str, **fields):
    data = {PREFIX: step, **{f"{step}-{name}": value for name, value in fields.items()}}
    return client.post(reverse("two_factor:setup"), data)


def token_for(page: str) -> str:
    secret = SECRET.search(page).group(0)
    return f"{TOTP(base64.b32decode(secret)).token():06d}"


def enrol(client, code: str):
    """Walk the wizard as the staff member does: welcome, the code, the QR code."""
    assert client.get(reverse("two_factor:setup")).status_code == 200
    setup_step(client, "welcome")
    response = setup_step(client, "code", code=code)
    page = response.content.decode()
    if not SECRET.search(page):
        return response
    return setup_step(client, "generator", token=token_for(page))


def test_the_password_alone_shows_no_qr_code_and_enrols_nothing(client):
    user = new_staff()
    client = logged_in(user)
    setup_step(client, "welcome")
    response = setup_step(client, "code", code="ABCD-EFGH-JKLM")
    page = response.content.decode()
    assert response.status_code == 200
    assert "This enrolment code does not work" in page or "Tämä käyttöönottokoodi ei kelpaa" in page
    assert not SECRET.search(page)
    # Jumping past the step is refused too, and the QR image has no secret to draw.
    response = client.post(reverse("two_factor:setup"), {PREFIX: "code", "wizard_goto_step": "generator"})
    assert not SECRET.search(response.content.decode())
    assert 'name="code-code"' in response.content.decode()
    assert client.get(reverse("two_factor:qr")).status_code == 404
    assert not user.totpdevice_set.exists()


def test_the_owners_code_enrols_the_device_once_and_both_are_audited(owner_client, owner):
    user = new_staff()
    response = owner_client.post(reverse("admin:auth_user_enrolment_code", args=[user.pk]))
    assert response.status_code == 200
    code = re.search(r'id="enrolment-code">([A-Z0-9-]+)<', response.content.decode()).group(1)

    client = logged_in(user)
    response = enrol(client, code)
    assert response.status_code == 302 and response.url == reverse("two_factor:setup_complete")
    assert user.totpdevice_set.filter(confirmed=True).count() == 1
    assert client.get(reverse("admin:index")).status_code == 200  # verified by the new device

    events = list(AuditEvent.objects.filter(object_type="auth.user", object_id=str(user.pk)).values())
    issued = [e for e in events if e["action"] == "enrolment_code_issued"]
    enrolled = [e for e in events if e["action"] == "otp_enrolled"]
    assert [e["actor_id"] for e in issued] == [owner.pk]
    assert [e["actor_id"] for e in enrolled] == [user.pk]
    assert code not in json.dumps(list(AuditEvent.objects.values()), default=str)
    assert code.replace("-", "") not in EnrolmentCode.objects.get().code_hash

    # The code is used up: with the device deleted (a lost phone), it enrols nothing.
    user.totpdevice_set.all().delete()
    response = enrol(logged_in(user), code)
    assert response.status_code == 200 and not user.totpdevice_set.exists()


def test_the_code_is_typed_in_any_case_and_with_or_without_dashes(client):
    user = new_staff()
    code = issue_enrolment_code(user=user).code
    response = enrol(logged_in(user), f" {code.replace('-', '').lower()} ")
    assert response.status_code == 302
    assert user.totpdevice_set.filter(confirmed=True).exists()


def test_a_code_expires_after_72_hours(client):
    user = new_staff()
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        code = issue_enrolment_code(user=user).code
    with time_machine.travel(now + datetime.timedelta(hours=72, minutes=1), tick=False):
        response = enrol(logged_in(user), code)
    assert response.status_code == 200 and not user.totpdevice_set.exists()
    with time_machine.travel(now + datetime.timedelta(hours=71), tick=False):
        assert enrol(logged_in(user), code).status_code == 302


def test_a_new_code_replaces_the_unused_one():
    user = new_staff()
    first = issue_enrolment_code(user=user).code
    second = issue_enrolment_code(user=user).code
    assert enrol(logged_in(user), first).status_code == 200
    assert enrol(logged_in(user), second).status_code == 302


def test_another_accounts_code_does_not_work():
    user, other = new_staff("uusi"), new_staff("toinen")
    code = issue_enrolment_code(user=other).code
    assert enrol(logged_in(user), code).status_code == 200
    assert not user.totpdevice_set.exists()


def test_the_command_prints_a_code_that_enrols(capsys):
    user = new_staff()
    call_command("issue_enrolment_code", "uusi")
    code = re.search(r"Enrolment code for uusi: (\S+)", capsys.readouterr().out).group(1)
    assert enrol(logged_in(user), code).status_code == 302
    event = AuditEvent.objects.get(action="enrolment_code_issued")
    assert event.actor_type == "system" and event.object_id == str(user.pk)


def test_the_command_refuses_an_unknown_account():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No active staff account"):
        call_command("issue_enrolment_code", "nobody")


def test_the_owner_made_by_make_run_enrols_with_the_printed_code(capsys):
    """`make run` (create_owner) prints the password and an enrolment code: the owner
    logs in and enrols with them, as the README says."""
    call_command("create_owner")
    out = capsys.readouterr().out
    password = re.search(r"password:\s+(\S+)", out).group(1)
    code = re.search(r"enrolment code:\s+(\S+)", out).group(1)
    client = logged_in(get_user_model().objects.get(username="owner"), password)
    assert enrol(client, code).status_code == 302
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 200


def test_switching_ones_second_factor_off_is_audited_and_needs_a_new_code(staff_client, staff_member):
    device = staff_member.totpdevice_set.get()
    response = staff_client.post(reverse("two_factor:disable"), {"understand": "on"})
    assert response.status_code == 302
    assert not staff_member.totpdevice_set.exists()
    event = AuditEvent.objects.get(action="delete", object_type="otp_totp.totpdevice")
    assert event.object_id == str(device.pk) and event.actor_id == staff_member.pk
    # The password alone does not enrol a new one.
    assert enrol(logged_in(staff_member), "ABCD-EFGH-JKLM").status_code == 200
    assert not staff_member.totpdevice_set.exists()


def test_new_backup_codes_are_audited_without_the_codes(staff_client, staff_member):
    response = staff_client.post(reverse("two_factor:backup_tokens"))
    assert response.status_code == 302
    device = staff_member.staticdevice_set.get()
    tokens = list(device.token_set.values_list("token", flat=True))
    assert len(tokens) == 10
    event = AuditEvent.objects.get(action="change", object_type="otp_static.staticdevice")
    assert event.object_id == str(device.pk) and event.fields == ["tokens"]
    dump = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert not any(token in dump for token in tokens)
