"""Staff journeys in the admin (S2, S7, S13)."""

import pytest
from playwright.sync_api import expect

from privacy.groups import OWNER_GROUP
from tests.factories import CustomerFactory
from tests.personas import PASSWORD, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner_account():
    return make_staff("omistaja", group=OWNER_GROUP, superuser=True)


def test_owner_finds_a_customer_by_phone_in_finnish(page, live_server, admin_login, owner_account, shots):
    """S2, S7: the owner logs in and finds a customer by a phone number typed as people do."""
    CustomerFactory(first_name="Aino", last_name="Löydettävä", phone="+358407654321")
    CustomerFactory(first_name="Eino", last_name="Muu")
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner_account, PASSWORD)
    shots(page, "admin-index")
    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.fill("#searchbar", "040 765 4321")
    page.press("#searchbar", "Enter")
    shots(page, "search-result")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Aino Löydettävä")
    expect(page.locator("h1")).to_contain_text("Valitse muokattava asiakas")


def test_owner_imports_a_shop_export_from_the_customer_list(
    page, live_server, admin_login, owner_account, shots, tmp_path
):
    """S8: from the customer list the owner uploads a Shopify export, sees each row in the
    preview (a known customer updated, a new one added), confirms, and the register holds
    them once each, with where they came from."""
    CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi", city="Espoo")
    export = tmp_path / "customers_export.csv"
    export.write_text(
        "First Name,Last Name,Email,Phone,Default Address Address1,Default Address City,"
        "Default Address Zip,Default Address Country Code,Accepts Email Marketing\n"
        "Aino,Mäkinen,AINO@example.fi,,Ellintie 4,Helsinki,00100,FI,no\n"
        "Eero,Uusiasiakas,eero@example.fi,+358401234567,Kauppakatu 1,Tampere,33100,FI,yes\n",
        encoding="utf-8",
    )
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner_account, PASSWORD)
    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.get_by_role("link", name="Tuo asiakkaita").click()
    page.set_input_files("input[type=file]", str(export))
    page.select_option("select[name=source]", "web_shop")
    shots(page, "import-form")
    page.get_by_role("button", name="Esikatsele").click()
    shots(page, "import-preview")
    preview = page.locator("#preview-rows tbody tr")
    expect(preview).to_have_count(2)
    expect(preview.nth(0)).to_contain_text("päivitetty")
    expect(preview.nth(1)).to_contain_text("uusi")
    page.get_by_role("button", name="Vahvista tuonti").click()
    shots(page, "import-done")
    expect(page.locator(".messagelist")).to_contain_text("Tuotu: 1 uutta, 1 päivitettyä")

    from customers.models import Customer

    assert Customer.objects.filter(email__iexact="aino@example.fi").count() == 1
    aino = Customer.objects.get(email__iexact="aino@example.fi")
    assert aino.city == "Helsinki" and aino.street_address == "Ellintie 4"
    eero = Customer.objects.get(email="eero@example.fi")
    assert eero.source == "web_shop" and eero.postal_code == "33100"


def test_owner_sees_a_shared_landline_as_another_person_and_nobody_is_renamed(
    page, live_server, admin_login, owner_account, shots
):
    """S8: a Shopify row with the landline of a customer of another first name is shown
    in the preview beside that customer; left unticked, it becomes a new customer and
    the register's customer keeps her name."""
    from pathlib import Path

    from customers.models import Customer

    liisa = CustomerFactory(
        first_name="Liisa", last_name="Virtanen", email="liisa.virtanen@example.fi", phone="+35898765432"
    )
    export = Path(__file__).parents[1] / "customers" / "fixtures" / "shopify_shared_landline.csv"
    page.set_viewport_size({"width": 1366, "height": 768})
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner_account, PASSWORD)
    page.goto(f"{live_server.url}/admin/customers/customer/import/")
    page.set_input_files("input[type=file]", str(export))
    page.select_option("select[name=source]", "web_shop")
    page.get_by_role("button", name="Esikatsele").click()
    shots(page, "import-preview-conflict")
    conflict = page.locator("#conflict-rows tbody tr")
    expect(conflict).to_have_count(1)
    expect(conflict.first).to_contain_text("Matti Virtanen")
    expect(conflict.first).to_contain_text("Liisa Virtanen")
    expect(page.locator("#conflicts")).to_contain_text("Valitsematon rivi lisätään uutena asiakkaana")
    expect(page.get_by_label("Sama henkilö")).not_to_be_checked()
    page.get_by_role("button", name="Vahvista tuonti").click()
    expect(page.locator(".messagelist")).to_contain_text("Tuotu: 1 uutta, 0 päivitettyä")
    liisa.refresh_from_db()
    assert liisa.first_name == "Liisa" and not liisa.changes.exists()
    assert str(Customer.objects.get(first_name="Matti").phone) == "+35898765432"


def test_owner_previews_a_ban_register_list_ticks_a_near_match_and_records_the_objections(
    page, live_server, admin_login, owner_account, shots
):
    """S17: the ban register's extract (Windows-1252, `;`, capitals) is previewed with who
    matches and who nearly does; the ticked near match is recorded with the matches."""
    from pathlib import Path

    from customers.models import MarketingObjection

    aino = CustomerFactory(
        first_name="Aino", last_name="Mäkinen", street_address="Mannerheimintie 5 C 29", postal_code="00100"
    )
    helena = CustomerFactory(
        first_name="Helena", last_name="Korhonen", street_address="Rantatie 10", postal_code="33720"
    )
    CustomerFactory(
        first_name="Juhani", last_name="Virtanen", street_address="Koivukuja 3 as 4", postal_code="02100"
    )
    CustomerFactory(
        first_name="Matti", last_name="Virtanen", street_address="Koivukuja 3 as 4", postal_code="02100"
    )
    ban_list = Path(__file__).parents[1] / "customers" / "fixtures" / "ban_register_direct_mail.csv"
    page.set_viewport_size({"width": 1366, "height": 768})
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner_account, PASSWORD)
    page.goto(f"{live_server.url}/admin/customers/customer/ban-list/")
    page.set_input_files("input[type=file]", str(ban_list))
    page.get_by_role("button", name="Esikatsele").click()
    shots(page, "ban-list-preview")
    expect(page.locator("#ban-list-summary")).to_contain_text("Rekisterissä: 2. Lähes vastaavia: 2.")
    expect(page.locator("#ban-list-matches tbody tr")).to_have_count(2)
    page.locator("#near-matches tr", has_text="Helena").get_by_label("Sama henkilö").check()
    page.get_by_role("button", name="Kirjaa kiellot").click()
    shots(page, "ban-list-done")
    expect(page.locator(".messagelist")).to_contain_text("3 uutta kieltoa kirjattu")
    assert {o.customer_id for o in MarketingObjection.objects.all()} >= {aino.pk, helena.pk}
    assert MarketingObjection.objects.count() == 3
