"""Issue 12, item 7: staff accounts that explain themselves. Putting a user in a staff
group makes them staff (or the form says it must); a user without staff status is told
at the password why the register does not open; every refusal page is in Finnish and
says what to do; the groups are called Omistaja and Henkilökunta."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy.groups import OWNER_GROUP, STAFF_GROUP
from privacy.models import AuditEvent
from privacy.staff import is_owner
from tests.factories import CustomerFactory
from tests.personas import PASSWORD, make_staff, verified_client

pytestmark = pytest.mark.django_db
User = get_user_model()


def user_form(user, *, groups, is_staff: bool) -> dict:
    form = {
        "username": user.username,
        "first_name": "Ella",
        "last_name": "Esimerkki",
        "email": "",
        "is_active": "on",
        "groups": [g.pk for g in groups],
        "date_joined_0": "2.1.2026",
        "date_joined_1": "08:00:00",
        "confidentiality_commitment-TOTAL_FORMS": "0",
        "confidentiality_commitment-INITIAL_FORMS": "0",
    }
    if is_staff:
        form["is_staff"] = "on"
    return form


@pytest.fixture
def newcomer(db):
    return User.objects.create_user("ella", password=PASSWORD)


def test_putting_a_user_in_the_staff_group_makes_them_staff(owner_client, owner, newcomer):
    staff_group = Group.objects.get(name=STAFF_GROUP)
    url = reverse("admin:auth_user_change", args=[newcomer.pk])
    response = owner_client.post(url, user_form(newcomer, groups=[staff_group], is_staff=False), follow=True)
    assert response.status_code == 200
    newcomer.refresh_from_db()
    assert newcomer.is_staff and list(newcomer.groups.all()) == [staff_group]
    assert "sai henkilökunnan tilan" in response.text
    event = AuditEvent.objects.get(action="change", object_type="auth.user", object_id=str(newcomer.pk))
    assert {"groups", "is_staff"} <= set(event.fields)


def test_taking_staff_status_away_from_a_group_member_is_refused_with_what_to_do(owner_client, staff_member):
    staff_group = Group.objects.get(name=STAFF_GROUP)
    url = reverse("admin:auth_user_change", args=[staff_member.pk])
    response = owner_client.post(url, user_form(staff_member, groups=[staff_group], is_staff=False))
    assert response.status_code == 200
    error = " ".join(response.context["adminform"].form.errors["is_staff"])
    assert "Omistaja- tai Henkilökunta-ryhmän jäsenellä" in error and "Voimassa" in error
    staff_member.refresh_from_db()
    assert staff_member.is_staff


def test_a_user_in_no_staff_group_keeps_the_status_the_owner_gave(owner_client, newcomer):
    url = reverse("admin:auth_user_change", args=[newcomer.pk])
    assert owner_client.post(url, user_form(newcomer, groups=[], is_staff=False)).status_code == 302
    newcomer.refresh_from_db()
    assert not newcomer.is_staff


def test_the_user_page_says_what_the_groups_mean(owner_client, staff_member):
    page = owner_client.get(reverse("admin:auth_user_change", args=[staff_member.pk])).text
    assert "Omistaja- tai Henkilökunta-ryhmän jäsen saa henkilökunnan tilan" in page


def test_a_group_member_without_staff_status_is_told_at_the_password_and_enrols_nothing(client):
    """The issue's finding: such a user enrolled a second factor, typed the right code and
    landed on an empty login page. Now the password step says why, in Finnish."""
    user = User.objects.create_user("ella", password=PASSWORD)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    response = client.post(
        reverse("staff-login"),
        {"login_view-current_step": "auth", "auth-username": "ella", "auth-password": PASSWORD},
    )
    assert response.status_code == 200
    assert "Tällä tunnuksella ei voi vielä käyttää rekisteriä" in response.text
    assert "Henkilökunta-ryhmään" in response.text
    assert "_auth_user_id" not in client.session
    assert not user.totpdevice_set.exists()


def test_a_verified_user_who_lost_staff_status_is_told_on_the_login_page(client, staff_member):
    client = verified_client(client, staff_member)
    User.objects.filter(pk=staff_member.pk).update(is_staff=False)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 200
    assert "Tällä tunnuksella ei voi vielä käyttää rekisteriä" in response.text
    assert 'name="auth-username"' in response.text  # the password form, not an empty page


def test_a_bookmarked_page_without_a_commitment_says_in_finnish_what_to_do(client, staff_without_commitment):
    customer = CustomerFactory(last_name="Salassapidettävä")
    client = verified_client(client, staff_without_commitment)
    response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert response.status_code == 403
    text = response.content.decode()
    assert "Salassapitositoumustasi ei ole vielä kirjattu" in text
    assert "omistaja kirjaa sen päivämäärän" in text
    assert "Forbidden" not in text and "Salassapidettävä" not in text


def test_a_page_without_permission_says_in_finnish_whom_to_ask(staff_client):
    response = staff_client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 403
    text = response.content.decode()
    assert "Sinulla ei ole oikeutta tähän sivuun" in text and "pyydä omistajalta" in text
    assert "Forbidden" not in text


def test_a_refusal_outside_the_admin_is_in_finnish_too(client):
    from django.core.exceptions import PermissionDenied

    from privacy.refusals import permission_denied

    request = Client().get("/fi/").wsgi_request
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "Tämä sivu ei ole avoinna sinulle" in response.content.decode()


def test_the_locked_out_page_is_in_finnish_and_says_what_to_do(client, owner):
    url = reverse("staff-login")
    data = {"login_view-current_step": "auth", "auth-username": owner.username, "auth-password": "väärä-1"}
    for _ in range(6):
        response = client.post(url, data, REMOTE_ADDR="10.0.0.8")
    assert response.status_code == 429
    text = response.content.decode()
    assert "Liian monta epäonnistunutta kirjautumista" in text
    assert "kirjaudu sitten uudelleen" in text and "pyydä omistajaa asettamaan uusi" in text


def test_the_groups_are_called_omistaja_and_henkilokunta(owner_client, owner):
    assert set(Group.objects.values_list("name", flat=True)) >= {"Omistaja", "Henkilökunta"}
    assert not Group.objects.filter(name__in=["Owner", "Staff"]).exists()
    page = owner_client.get(reverse("admin:auth_group_changelist")).text
    assert "Omistaja" in page and "Henkilökunta" in page


def test_the_migration_renames_the_english_groups_keeping_members_and_permissions(db):
    """An existing database: its groups "Owner" and "Staff" (with members) become the
    Finnish ones; where a Finnish group exists already, the members move to it."""
    migration = importlib.import_module("privacy.migrations.0016_finnish_group_names")
    old_staff = Group.objects.get(name=STAFF_GROUP)
    old_staff.name = "Staff"
    old_staff.save()
    permissions = set(old_staff.permissions.values_list("pk", flat=True))
    member = make_staff("vanha", group="Staff")
    second_owner = User.objects.create_user("toinen", password=PASSWORD, is_staff=True)
    Group.objects.create(name="Owner").user_set.add(second_owner)

    migration.to_finnish(apps, None)

    renamed = Group.objects.get(name=STAFF_GROUP)
    assert renamed.pk == old_staff.pk and set(renamed.permissions.values_list("pk", flat=True)) == permissions
    assert list(member.groups.values_list("name", flat=True)) == [STAFF_GROUP]
    assert list(second_owner.groups.values_list("name", flat=True)) == [OWNER_GROUP]
    assert not Group.objects.filter(name__in=["Owner", "Staff"]).exists()
    assert is_owner(second_owner)
    assert second_owner.last_login is None or second_owner.last_login <= timezone.now()


def test_the_staff_groups_cannot_be_renamed_or_deleted_in_the_admin(owner_client, owner):
    """The code finds the groups by name: a renamed Omistaja would leave the owner no owner."""
    group = Group.objects.get(name=OWNER_GROUP)
    url = reverse("admin:auth_group_change", args=[group.pk])
    permissions = list(group.permissions.values_list("pk", flat=True))
    response = owner_client.post(url, {"name": "Pomot", "permissions": permissions})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == OWNER_GROUP
    assert (
        owner_client.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Group.objects.filter(name=OWNER_GROUP).exists()
