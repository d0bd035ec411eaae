"""S13: the audit log read by people (issue 12, item 6): who by name, the object by its name,
actions, fields and counts in words, filters by who, what, when and which object, and on a
customer's own page who has seen or changed them. The log itself still holds ids only."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from privacy.audit import record
from privacy.groups import STAFF_GROUP
from privacy.models import AuditAction, AuditEvent
from tests.factories import CustomerFactory, customer_admin_form
from tests.personas import make_staff, verified_client

pytestmark = pytest.mark.django_db

LOG = reverse("admin:privacy_auditevent_changelist")


def page_text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def result_rows(response) -> list[str]:
    """The text of each row of the change list's table."""
    html = response.content.decode()
    body = html.split('<table id="result_list">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


@pytest.fixture
def sanna(db):
    user = make_staff("sanna", group=STAFF_GROUP)
    user.first_name, user.last_name = "Sanna", "Saarinen"
    user.save()
    return user


def test_the_log_names_who_did_what_to_which_customer_in_finnish(client, sanna, owner):
    aino = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    staff = verified_client(client, sanna)
    url = reverse("admin:customers_customer_change", args=[aino.pk])
    form = customer_admin_form(email="aino.makinen@example.fi", change_source="customer_notice")
    assert staff.post(url, form).status_code == 302

    verified_client(client, owner)
    response = client.get(LOG, HTTP_ACCEPT_LANGUAGE="fi")
    assert response.status_code == 200
    change = next(row for row in result_rows(response) if "Mäkinen" in row)
    assert "Sanna Saarinen (sanna)" in change
    assert "asiakas: Aino Mäkinen" in change
    assert "sähköposti" in change
    text = page_text(response)
    for raw in ("customers.customer", "Työntekijän tunnus", "staff user id", '["email"]'):
        assert raw not in text
    # What is stored is still the number only.
    event = AuditEvent.objects.filter(object_type="customers.customer", actor_id=sanna.pk).latest("id")
    assert event.object_id == str(aino.pk) and "email" in event.fields


def test_counts_and_file_formats_read_as_words(owner_client, owner):
    record(
        action=AuditAction.EXPORT,
        actor=owner,
        object_type="customers.customer",
        fields=["labels_csv"],
        counts={"rows": 88000, "left_out_objection": 12, "left_out_anonymised": 0},
    )
    row = result_rows(owner_client.get(LOG, HTTP_ACCEPT_LANGUAGE="fi"))[0]
    assert "osoitetarrat CSV-tiedostona" in row
    assert re.search(r"rivejä: 88\s000", row.replace("\xa0", " "))
    assert "jätetty pois: kielto: 12" in row
    assert "labels_csv" not in row and "left_out" not in row and "anonymisoitu" not in row


def test_a_deleted_user_and_an_erased_customer_keep_their_events_readable(owner_client, db):
    gone = make_staff("lahtenyt", group=STAFF_GROUP)
    customer = CustomerFactory()
    record(action=AuditAction.VIEW, actor=gone, obj=customer)
    gone_id, customer_id = gone.pk, customer.pk
    gone.delete()
    customer.delete()
    row = result_rows(owner_client.get(LOG, HTTP_ACCEPT_LANGUAGE="fi"))[0]
    assert f"poistettu käyttäjä nro {gone_id}" in row
    assert f"asiakas nro {customer_id}, ei enää rekisterissä" in row


def test_filter_by_who_and_by_kind_of_object(owner_client, owner, sanna):
    customer = CustomerFactory()
    record(action=AuditAction.VIEW, actor=sanna, obj=customer)
    record(action=AuditAction.VIEW, actor=owner, obj=customer)
    record(action=AuditAction.LOGIN, actor=sanna, object_type="auth.user", object_id=sanna.pk)

    page = owner_client.get(LOG, HTTP_ACCEPT_LANGUAGE="fi")
    assert "Sanna Saarinen" in page_text(page)  # the filter lists staff by name
    mine = result_rows(owner_client.get(LOG, {"actor": f"staff:{sanna.pk}"}, HTTP_ACCEPT_LANGUAGE="fi"))
    assert len(mine) == 2 and all("Sanna Saarinen" in row for row in mine)
    customers = result_rows(
        owner_client.get(LOG, {"object_type": "customers.customer"}, HTTP_ACCEPT_LANGUAGE="fi")
    )
    assert len(customers) == 2 and all("asiakas:" in row for row in customers)
    assert owner_client.get(LOG, {"actor": "staff:x"}).status_code == 200  # a hand-typed value


def test_the_customer_page_shows_who_has_seen_or_changed_them(client, sanna, owner):
    aino = CustomerFactory(first_name="Aino", last_name="Mäkinen")
    other = CustomerFactory(first_name="Eero", last_name="Virtanen")
    order = aino.orders.create(order_number="T-1", ordered_on="2026-11-02", total="65.50")
    record(action=AuditAction.VIEW, actor=sanna, obj=aino)
    record(action=AuditAction.CHANGE, actor=sanna, obj=order, fields=["total"])
    record(action=AuditAction.VIEW, actor=sanna, obj=other)

    verified_client(client, owner)
    page = client.get(reverse("admin:customers_customer_change", args=[aino.pk]), HTTP_ACCEPT_LANGUAGE="fi")
    text = page_text(page)
    trail = text.split("Kuka on katsonut tai muuttanut tätä asiakasta", 1)[1]
    assert "Sanna Saarinen (sanna)" in trail and "tilaus: T-1" in trail and "summa" in trail
    assert "Virtanen" not in trail

    link = re.search(r'href="([^"]*\?customer=\d+)"', page.content.decode()).group(1)
    rows = result_rows(client.get(link.replace("&amp;", "&"), HTTP_ACCEPT_LANGUAGE="fi"))
    # Sanna's view and her change to the order, then the owner's own look at the page; not Eero's.
    assert len(rows) == 3 and "omistaja" in rows[0] and "tilaus: T-1" in rows[1]
    assert not any("Virtanen" in row for row in rows)


def test_staff_without_the_log_see_no_trail(client, db):
    from django.contrib.auth.models import Permission

    user = make_staff("rajattu", group=STAFF_GROUP)
    user.groups.clear()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="customers"))
    customer = CustomerFactory()
    page = verified_client(client, user).get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert page.status_code == 200
    assert "audit-trail" not in page.content.decode()


def test_names_are_looked_up_once_per_page_not_once_per_row(owner_client, owner):
    User = get_user_model()
    users = [User.objects.create_user(f"u{i}", first_name=f"Etu{i}", is_staff=True) for i in range(4)]
    customers = CustomerFactory.create_batch(5)

    def queries_for(events: int) -> int:
        for i in range(events):
            record(action=AuditAction.VIEW, actor=users[i % 4], obj=customers[i % 5])
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(LOG).status_code == 200
        return len(queries)

    few = queries_for(5)
    many = queries_for(60)
    assert many == few
