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
    expect(page.locator(".messagelist")).to_contain_text(
        "Tuonti valmis – uusia asiakkaita: 1, päivitettyjä: 1"
    )

    from customers.models import Customer

    assert Customer.objects.filter(email__iexact="aino@example.fi").count() == 1
    aino = Customer.objects.get(email__iexact="aino@example.fi")
    assert aino.city == "Helsinki" and aino.street_address == "Ellintie 4"
    eero = Customer.objects.get(email="eero@example.fi")
    assert eero.source == "web_shop" and eero.postal_code == "33100"


def test_owner_imports_a_shopify_export_skipping_the_row_without_a_name(
    page, live_server, admin_login, owner_account, shots
):
    """Issue 19: a Shopify 2024 export with a newsletter subscriber who has only an
    e-mail address: the preview names row 3 and why, in Finnish; the owner imports the
    other rows, sees the skipped one again and downloads it as a CSV to fix."""
    from pathlib import Path

    from customers.models import Customer

    fixture = Path(__file__).resolve().parents[1] / "customers" / "fixtures" / "shopify_2024.csv"
    page.set_viewport_size({"width": 1366, "height": 768})
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner_account, PASSWORD)
    page.goto(f"{live_server.url}/admin/customers/customer/import/")
    expect(page.locator("#import-formats")).to_contain_text("Mailchimp")
    shots(page, "import-page")
    page.set_input_files("input[type=file]", str(fixture))
    page.get_by_role("button", name="Esikatsele").click()
    invalid = page.locator("#invalid-rows tbody tr")
    expect(invalid).to_have_count(1)
    expect(invalid.first).to_contain_text("3")
    expect(invalid.first).to_contain_text("Riviltä puuttuu etunimi tai sukunimi")
    expect(page.locator("#preview-rows tbody tr")).to_have_count(2)
    shots(page, "import-preview-skipped-rows")
    page.screenshot(path=shots.folder / "import-preview-skipped-rows-1366x768.png")
    page.get_by_role("button", name="Tuo 2 kelvollista riviä ja ohita luetellut rivit").click()
    expect(page.locator("#invalid-rows tbody tr")).to_have_count(1)
    page.screenshot(path=shots.folder / "import-result-skipped-rows-1366x768.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="Lataa ohitetut rivit (CSV)").click()
    content = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert "tilaaja@example.fi" in content and "Miksi rivi ohitettiin" in content
    assert sorted(Customer.objects.values_list("last_name", flat=True)) == ["Asiakas", "Khan"]
