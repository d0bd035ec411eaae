"""Issue 12, item 5: the owner works an overdue request from the inbox to the end,
following the highlighted next step, in Finnish on a 1366x768 screen."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from privacy.groups import OWNER_GROUP
from privacy.models import DataRequest
from tests.factories import CustomerFactory, DataRequestFactory
from tests.personas import PASSWORD, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_owner_follows_the_next_step_of_an_overdue_request_to_the_end(
    page, live_server, admin_login, shots
):
    owner = make_staff("omistaja", group=OWNER_GROUP, superuser=True)
    aino = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    request = DataRequestFactory(kind="access")
    DataRequest.objects.filter(pk=request.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=4)
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner, PASSWORD)

    page.goto(f"{live_server.url}/admin/privacy/datarequest/")
    row = page.locator("#result_list tbody tr", has_text=request.reference)
    expect(row).to_contain_text("Aino Mäkinen")
    expect(row).to_contain_text("Tietojeni tarkastaminen")
    expect(row).to_contain_text("4 päivää myöhässä")
    shots(page, "inbox")
    # The inbox fits: the days column is shown whole, left of the filters, with no page scroll.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    days = page.locator("td.field-days_left_column").first.bounding_box()
    filters = page.locator("#changelist-filter").bounding_box()
    assert days["x"] + days["width"] <= filters["x"]
    row.get_by_role("link", name=request.reference).click()

    following = page.locator(".request-step.step-next")
    expect(page.locator("#content")).to_contain_text("4 päivää myöhässä")
    expect(following).to_have_attribute("id", "step-verify")
    expect(following).to_contain_text("Seuraava vaihe")
    shots(page, "step-1-verify")
    following.locator("select[name=method]").select_option("email_on_file")
    following.get_by_role("button", name="Kirjaa varmistus").click()
    expect(page.locator(".messagelist")).to_contain_text("Henkilöllisyys vahvistettu")
    expect(page.locator("#step-verify")).to_contain_text("✓")

    expect(following).to_have_attribute("id", "step-link")
    shots(page, "step-2-link")
    following.get_by_label("Aino Mäkinen", exact=False).check()
    following.get_by_role("button", name="Liitä tähän pyyntöön").click()
    expect(page.locator(".messagelist")).to_contain_text("1 asiakas liitetty pyyntöön.")
    expect(page.locator("#step-link")).to_contain_text(f"#{aino.pk}")

    expect(following).to_have_attribute("id", "step-fulfil")
    shots(page, "step-3-fulfil")
    following.get_by_role("button", name="Anna raportti pyytäjän ladattavaksi").click()
    expect(page.locator(".messagelist")).to_contain_text("Raportti annettu pyytäjän ladattavaksi")
    expect(page.locator(".request-step.step-done")).to_have_count(4)
    expect(page.locator(".request-step.step-next")).to_have_count(0)
    shots(page, "done")
    assert DataRequest.objects.get().status == "completed"


def test_an_erasure_with_a_mistyped_reference_is_refused_then_done_in_finnish(
    page, live_server, admin_login, shots
):
    owner = make_staff("omistaja", group=OWNER_GROUP, superuser=True)
    CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    request = DataRequestFactory(kind="erasure")
    page.set_viewport_size({"width": 1366, "height": 768})
    admin_login(page, owner, PASSWORD)
    page.goto(f"{live_server.url}/admin/privacy/datarequest/{request.pk}/change/")
    page.locator("#step-verify select[name=method]").select_option("email_on_file")
    page.get_by_role("button", name="Kirjaa varmistus").click()
    page.get_by_label("Aino Mäkinen", exact=False).check()
    page.get_by_role("button", name="Liitä tähän pyyntöön").click()
    expect(page.locator(".request-step.step-next")).to_have_attribute("id", "step-fulfil")

    page.locator("#step-fulfil input[name=confirm_reference]").fill("KB-2026-0009")
    page.get_by_role("button", name="Poista ja merkitse valmiiksi").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Viite ei täsmää: kirjoita {request.reference}")
    shots(page, "erasure-wrong-reference")
    page.locator("#step-fulfil input[name=confirm_reference]").fill(request.reference)
    page.get_by_role("button", name="Poista ja merkitse valmiiksi").click()
    expect(page.locator(".messagelist")).to_contain_text("Asiakas on poistettu ja pyyntö käsitelty.")
    expect(page.locator("#step-link")).to_contain_text("Asiakas on poistettu rekisteristä.")
    expect(page.locator("#content")).not_to_contain_text("Asiakasta ei ole vielä liitetty")
    shots(page, "erasure-done")
