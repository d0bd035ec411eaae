"""Issue 12, item 5: the request's admin page guides the work.

Its steps are listed in the order of work (verify the identity, link the customers,
fulfil, answer); done steps are ticked with what was recorded, the next one is
highlighted as "Seuraava vaihe"; each step tells what happened, or why it could not be
done, in Finnish; overdue reads "N päivää myöhässä"; the inbox shows who asked and what."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from privacy.models import DataRequest
from tests.factories import CustomerFactory, DataRequestFactory
from tests.factories import request_url as url

pytestmark = pytest.mark.django_db


def steps_on_page(client, data_request: DataRequest) -> list[tuple[str, str, str]]:
    """(step id, its state class, its text) of each step, in the order on the page."""
    page = client.get(reverse("admin:privacy_datarequest_change", args=[data_request.pk]))
    assert page.status_code == 200
    found = re.findall(
        r'<div class="module request-step(?: workflow)? (step-\w+)" id="step-(\w+)">'
        r'(.*?)<p class="step-state">(.*?)</p>',
        page.text,
        re.S,
    )
    return [(step, css, re.sub(r"<[^>]+>", "", head + " " + said).strip()) for css, step, head, said in found]


def next_step(client, data_request) -> str:
    return next(step for step, css, _ in steps_on_page(client, data_request) if css == "step-next")


def test_the_highlighted_next_step_follows_the_work_of_an_access_request(owner_client):
    customer = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    request = DataRequestFactory(kind="access")

    steps = steps_on_page(owner_client, request)
    assert [s for s, _, _ in steps] == ["verify", "link", "fulfil", "answer"]
    assert next_step(owner_client, request) == "verify"
    verify = steps[0][2]
    assert "Seuraava vaihe" in verify and "✓" not in verify
    assert "Ei vielä: vahvista ensin henkilöllisyys" in steps[2][2]

    done = owner_client.post(url("verify", request), {"method": "email_on_file", "note": ""}, follow=True)
    assert "Henkilöllisyys vahvistettu (tapa: Sähköpostiosoite" in done.text
    assert "Tallennettu" not in done.text
    steps = steps_on_page(owner_client, request)
    today = timezone.localdate()
    assert steps[0][1] == "step-done" and "✓" in steps[0][2]
    assert f"Henkilöllisyys vahvistettu {today.day}.{today.month}.{today.year}, tapa: " in steps[0][2]
    assert next_step(owner_client, request) == "link"

    linked = owner_client.post(url("link", request), {"customers": [str(customer.pk)]}, follow=True)
    assert "1 asiakas liitetty pyyntöön." in linked.text
    assert next_step(owner_client, request) == "fulfil"
    assert "Seuraava vaihe" in steps_on_page(owner_client, request)[2][2]

    released = owner_client.post(url("release", request), follow=True)
    assert "Raportti annettu pyytäjän ladattavaksi" in released.text
    assert [css for _, css, _ in steps_on_page(owner_client, request)] == ["step-done"] * 4

    again = owner_client.post(url("release", request), follow=True)
    assert "Mitään ei muutettu: pyynnön tila on jo" in again.text
    assert "does not fit" not in again.text and "ei sovi pyynnön tilaan" not in again.text


def test_a_mistyped_reference_at_erasure_says_so_in_finnish_and_erases_nobody(owner_client):
    customer = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    request = DataRequestFactory(kind="erasure")
    owner_client.post(url("link", request), {"customers": [str(customer.pk)]})
    owner_client.post(url("verify", request), {"method": "email_on_file", "note": ""})

    wrong = owner_client.post(url("erase", request), {"confirm_reference": "KB-2026-9999"})
    assert wrong.status_code == 400
    assert f"Viite ei täsmää: kirjoita {request.reference} täsmälleen" in wrong.text
    assert customer.__class__.objects.filter(pk=customer.pk, last_name="Mäkinen").exists()

    erased = owner_client.post(url("erase", request), {"confirm_reference": request.reference}, follow=True)
    assert "Asiakas on poistettu ja pyyntö käsitelty." in erased.text
    steps = dict((s, text) for s, _, text in steps_on_page(owner_client, request))
    assert "Asiakas on poistettu rekisteristä." in steps["link"]
    assert "Asiakasta ei ole vielä liitetty" not in erased.text


def test_an_overdue_request_reads_days_late_on_its_page_and_in_the_inbox(owner_client):
    request = DataRequestFactory(kind="access", first_name="Kaisa", last_name="Virtanen")
    DataRequest.objects.filter(pk=request.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=4)
    )

    page = owner_client.get(reverse("admin:privacy_datarequest_change", args=[request.pk]))
    assert "4 päivää myöhässä" in page.text and "jäljellä" not in page.text.split("Määräpäivä")[1][:300]

    inbox = owner_client.get(reverse("admin:privacy_datarequest_changelist")).text
    row = inbox.split(request.reference)[1].split("</tr>")[0]
    assert "4 päivää myöhässä" in row
    assert "Kaisa Virtanen" in row and "Tietojeni tarkastaminen" in row
