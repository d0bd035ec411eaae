"""What the owner does to staff accounts is in the audit log, and no admin page shows a
second factor's secret (privacy notice S1, S13; issue 17 findings 4 and 7: an owner
could set a password, add a TOTP device or read its key without a trace, and staff
without a commitment could change the controller's contact details)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy.groups import STAFF_GROUP
from privacy.models import AuditEvent, ControllerDetails
from tests.personas import PASSWORD, make_staff, verified_client

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "another-long-password-77"


def audit_dump() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def test_the_owner_setting_a_staff_members_password_is_audited(owner_client, owner, staff_member):
    url = reverse("admin:auth_user_password_change", args=[staff_member.pk])
    response = owner_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    staff_member.refresh_from_db()
    assert staff_member.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="password_set")
    assert event.actor_id == owner.pk
    assert (event.object_type, event.object_id) == ("auth.user", str(staff_member.pk))
    assert NEW_PASSWORD not in audit_dump()


def test_a_rejected_password_is_not_audited_as_set(owner_client, staff_member):
    url = reverse("admin:auth_user_password_change", args=[staff_member.pk])
    response = owner_client.post(url, {"password1": NEW_PASSWORD, "password2": "something-else-entirely"})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="password_set").exists()


def test_a_staff_member_changing_their_own_password_is_audited(staff_client, staff_member):
    response = staff_client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="password_set")
    assert event.actor_id == staff_member.pk and event.object_id == str(staff_member.pk)


def test_a_change_of_a_groups_permissions_is_audited(owner_client, owner):
    staff = Group.objects.get(name=STAFF_GROUP)
    extra = Permission.objects.get(codename="change_user")
    permissions = [*staff.permissions.values_list("pk", flat=True), extra.pk]
    url = reverse("admin:auth_group_change", args=[staff.pk])
    response = owner_client.post(url, {"name": STAFF_GROUP, "permissions": permissions})
    assert response.status_code == 302
    assert staff.permissions.filter(pk=extra.pk).exists()
    event = AuditEvent.objects.get(action="change", object_type="auth.group")
    assert event.object_id == str(staff.pk) and event.fields == ["permissions"] and event.actor_id == owner.pk


def test_no_admin_page_shows_a_totp_key_a_qr_code_or_backup_codes(owner_client, staff_member):
    device = staff_member.totpdevice_set.get()
    backup = StaticDevice.objects.create(user=staff_member, name="backup")
    StaticToken.objects.create(device=backup, token="q7r2k9m4")
    pages = [
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        reverse("admin:otp_static_staticdevice_changelist"),
        reverse("admin:otp_static_staticdevice_change", args=[backup.pk]),
    ]
    for url in pages:
        response = owner_client.get(url)
        page = response.content.decode()
        assert response.status_code == 200, url
        assert device.key not in page and "q7r2k9m4" not in page, url
        assert "qrcode" not in page.lower() and "otpauth://" not in page, url
    assert staff_member.username in owner_client.get(pages[0]).content.decode()
    assert owner_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 404


def test_the_owner_cannot_add_or_change_a_device_in_the_admin(owner_client, owner, staff_member):
    """An owner adding a device with a key they know would log in as that person."""
    assert owner_client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    response = owner_client.post(
        reverse("admin:otp_totp_totpdevice_add"),
        {"user": staff_member.pk, "name": "mine", "key": "00" * 20, "confirmed": "on"},
    )
    assert response.status_code == 403
    device = staff_member.totpdevice_set.get()
    change = reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    assert owner_client.post(change, {"user": owner.pk, "name": "x", "confirmed": "on"}).status_code == 403
    device.refresh_from_db()
    assert device.user_id == staff_member.pk and TOTPDevice.objects.count() == 2  # the owner's and theirs


def test_deleting_a_lost_device_is_audited(owner_client, owner, staff_member):
    device = staff_member.totpdevice_set.get()
    url = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    assert owner_client.post(url, {"post": "yes"}).status_code == 302
    assert not staff_member.totpdevice_set.exists()
    event = AuditEvent.objects.get(action="delete", object_type="otp_totp.totpdevice")
    assert event.object_id == str(device.pk) and event.actor_id == owner.pk


def test_staff_see_no_second_factors_and_cannot_issue_enrolment_codes(staff_client, staff_member):
    newcomer = get_user_model().objects.create_user("uusi", password=PASSWORD, is_staff=True)
    assert staff_client.get(reverse("admin:otp_totp_totpdevice_changelist")).status_code == 403
    url = reverse("admin:auth_user_enrolment_code", args=[newcomer.pk])
    assert staff_client.post(url).status_code == 403
    assert not newcomer.enrolment_codes.exists()
    assert not AuditEvent.objects.filter(action="enrolment_code_issued").exists()


def test_the_owner_finds_the_enrolment_code_button_on_the_account_page(owner_client, staff_member):
    page = owner_client.get(reverse("admin:auth_user_change", args=[staff_member.pk])).content.decode()
    url = reverse("admin:auth_user_enrolment_code", args=[staff_member.pk])
    assert url in page
    # Opening the page issues nothing: the code is made by the button's POST.
    response = owner_client.get(url)
    assert response.status_code == 200 and 'id="enrolment-code"' not in response.content.decode()
    assert not staff_member.enrolment_codes.exists()


def controller_form(email: str) -> dict:
    return {
        "name": "Kehobalanssi",
        "street_address": "Ellintie 4",
        "email": email,
        "contact_person": "Omistaja",
    }


@pytest.fixture
def controller():
    return ControllerDetails.objects.create(**controller_form("info@kehobalanssi.fi"))


def test_staff_see_the_controller_details_but_only_the_owner_changes_them(
    owner_client, owner, staff_member, controller
):
    """S1: the address the public notice shows and every requester's mail replies to."""
    staff_client = verified_client(Client(), staff_member)  # owner_client has the `client`
    change = reverse("admin:privacy_controllerdetails_change", args=[controller.pk])
    assert staff_client.get(change).status_code == 200
    assert staff_client.post(change, controller_form("attacker@example.com")).status_code == 403
    controller.refresh_from_db()
    assert controller.email == "info@kehobalanssi.fi"
    assert not AuditEvent.objects.filter(object_type="privacy.controllerdetails").exists()

    assert owner_client.post(change, controller_form("asiakaspalvelu@kehobalanssi.fi")).status_code == 302
    controller.refresh_from_db()
    assert controller.email == "asiakaspalvelu@kehobalanssi.fi"
    event = AuditEvent.objects.get(action="change", object_type="privacy.controllerdetails")
    assert event.fields == ["email"] and event.actor_id == owner.pk


def test_an_owner_without_a_commitment_cannot_change_the_controller_details(controller):
    from privacy.groups import OWNER_GROUP

    second_owner = make_staff("toinen-omistaja", group=OWNER_GROUP, commitment=False)
    client = verified_client(Client(), second_owner)
    change = reverse("admin:privacy_controllerdetails_change", args=[controller.pk])
    assert client.post(change, controller_form("attacker@example.com")).status_code == 403
    controller.refresh_from_db()
    assert controller.email == "info@kehobalanssi.fi"


def test_putting_a_staff_member_in_the_owner_group_is_audited(owner_client, owner, staff_member):
    from privacy.groups import OWNER_GROUP

    owner_group = Group.objects.get(name=OWNER_GROUP)
    form = {
        "username": staff_member.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "is_staff": "on",
        "groups": [owner_group.pk],
        "date_joined_0": "2026-01-02",
        "date_joined_1": "08:00:00",
        "confidentiality_commitment-TOTAL_FORMS": "1",
        "confidentiality_commitment-INITIAL_FORMS": "1",
        "confidentiality_commitment-0-id": staff_member.confidentiality_commitment.pk,
        "confidentiality_commitment-0-user": staff_member.pk,
        "confidentiality_commitment-0-signed_on": "2026-01-02",
    }
    response = owner_client.post(reverse("admin:auth_user_change", args=[staff_member.pk]), form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert list(staff_member.groups.values_list("name", flat=True)) == [OWNER_GROUP]
    event = AuditEvent.objects.get(action="change", object_type="auth.user")
    assert event.object_id == str(staff_member.pk) and event.actor_id == owner.pk
    assert "groups" in event.fields
