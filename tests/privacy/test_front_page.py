"""S16, S13: the admin's front page "Tänään" (issue 12, item 1): what is due with the
requester's name, kind, days left or late and the next step as a link; waiting erasures;
the latest imports and exports; buttons for the daily tasks; the login libraries' tables
under one Finnish section for the owner only."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from privacy.audit import record
from privacy.models import AuditAction, RequestStatus
from tests.factories import CustomerFactory, DataRequestFactory
from tests.personas import verified_client

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace("\xa0", " ")


def section(response, element_id: str) -> str:
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start : html.index("</div>", start)]))


def submitted_days_ago(days: int, **fields):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=days)):
        return DataRequestFactory(**fields)


def test_overdue_and_soon_due_requests_lead_to_their_next_step(staff_client):
    late = submitted_days_ago(35, first_name="Lauri", last_name="Myöhäinen", kind="erasure")
    soon = submitted_days_ago(25, first_name="Sara", last_name="Pian", kind="access")
    submitted_days_ago(2, first_name="Kaisa", last_name="Kaukana")  # due in four weeks
    submitted_days_ago(40, first_name="Valmis", last_name="Jo", status=RequestStatus.COMPLETED)

    page = staff_client.get(INDEX, HTTP_ACCEPT_LANGUAGE="fi")
    due = section(page, "due-requests")
    assert "Lauri Myöhäinen" in due and "Sara Pian" in due
    assert "Kaukana" not in due and "Valmis" not in due
    assert due.index("Lauri Myöhäinen") < due.index("Sara Pian")  # the most urgent first
    late_days = (timezone.localdate() - late.due_date).days
    assert f"{late_days} päivää myöhässä" in due
    assert f"{(soon.due_date - timezone.localdate()).days} päivää jäljellä" in due
    assert "Tietojeni poistaminen" in due and "Tietojeni tarkastaminen" in due
    assert "Vahvista pyytäjän henkilöllisyys" in due

    html = page.content.decode()
    step = re.search(r'<a href="([^"]+)">Vahvista pyytäjän henkilöllisyys</a>', html).group(1)
    assert step == reverse("admin:privacy_datarequest_change", args=[late.pk])
    assert staff_client.get(step).status_code == 200


def test_the_next_step_follows_the_order_of_work(owner_client):
    data_request = submitted_days_ago(28, kind="access")
    customer = CustomerFactory(email=data_request.email)
    change = reverse("admin:privacy_datarequest_change", args=[data_request.pk])
    owner_client.post(
        reverse("admin:privacy_datarequest_verify", args=[data_request.pk]), {"method": "email_on_file"}
    )
    assert "Liitä pyyntö asiakkaaseen" in section(owner_client.get(INDEX), "due-requests")
    owner_client.post(
        reverse("admin:privacy_datarequest_link", args=[data_request.pk]), {"customers": [str(customer.pk)]}
    )
    assert "Anna tarkastusraportti" in section(owner_client.get(INDEX), "due-requests")
    assert owner_client.get(change).status_code == 200


def test_every_daily_task_button_opens_its_page(staff_member, owner):
    for user in (staff_member, owner):
        client = verified_client(Client(), user)
        page = client.get(INDEX, HTTP_ACCEPT_LANGUAGE="fi")
        html = page.content.decode()
        nav = html[html.index('class="daily-tasks"') : html.index("</nav>")]
        buttons = re.findall(r'<a class="button" href="([^"]+)">([^<]+)</a>', nav)
        links = {label: url for url, label in buttons}
        assert set(links) >= {"Lisää asiakas", "Lisää tilaus", "Postitustarrat", "Tuo asiakkaita"}
        for label, url in links.items():
            assert client.get(url).status_code == 200, label


def test_the_latest_imports_and_exports_say_who_and_how_many(staff_client, owner):
    owner.first_name, owner.last_name = "Olli", "Omistaja"
    owner.save()
    record(action=AuditAction.EXPORT, actor=owner, object_type="customers.customer", fields=["labels_csv"],
           counts={"rows": 1200})
    transfers = section(staff_client.get(INDEX, HTTP_ACCEPT_LANGUAGE="fi"), "last-transfers")
    assert "Olli Omistaja" in transfers and "osoitetarrat CSV-tiedostona" in transfers
    assert re.search(r"rivejä: 1\s200", transfers.replace("\xa0", " "))


def test_the_login_libraries_are_one_finnish_section_for_the_owner_only(staff_member, owner):
    staff_page = text(verified_client(Client(), staff_member).get(INDEX, HTTP_ACCEPT_LANGUAGE="fi"))
    owner_page = text(verified_client(Client(), owner).get(INDEX, HTTP_ACCEPT_LANGUAGE="fi"))
    leaks = ("AXES", "Access attempts", "OTP_TOTP", "OTP_STATIC", "TOTP devices", "Model name", "Add link")
    for leak in leaks:
        assert leak not in staff_page and leak not in owner_page
    assert "Kirjautumisen suojaus" in owner_page and "Todennussovellukset" in owner_page
    assert "Kirjautumisen suojaus" not in staff_page
    # The register is the first section of the menu.
    assert owner_page.index("Asiakasrekisteri") < owner_page.index("Tietosuoja")


def test_staff_without_a_commitment_get_no_register_data(client, staff_without_commitment):
    submitted_days_ago(35, first_name="Lauri", last_name="Myöhäinen")
    page = verified_client(client, staff_without_commitment).get(INDEX, HTTP_ACCEPT_LANGUAGE="fi")
    assert page.status_code == 200 and "Myöhäinen" not in page.content.decode()


def test_the_front_page_queries_do_not_grow_with_the_register(owner_client, owner):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(INDEX).status_code == 200
        return len(captured)

    submitted_days_ago(30)
    record(action=AuditAction.IMPORT, actor=owner, object_type="customers.customer", counts={"rows": 3})
    few = queries()
    for days in range(20, 40):
        submitted_days_ago(days)
    CustomerFactory.create_batch(30)
    for _ in range(8):
        record(action=AuditAction.EXPORT, actor=owner, object_type="customers.customer", counts={"rows": 3})
    assert queries() == few
