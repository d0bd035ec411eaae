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


def test_owner_adds_an_order_for_a_customer_found_by_part_of_the_surname(
    page, live_server, admin_login, owner_account, shots
):
    """Issue 12, item 3: in Finnish, the owner types part of a surname in the order's
    customer search, chooses the customer, types the sum the Finnish way (65,50), keeps
    the order number offered, and the order list shows 65,50 €."""
    from customers.models import Order
    from tests.factories import OrderFactory

    aino = CustomerFactory(first_name="Aino", last_name="Mäkelä-Virtanen", city="Tampere")
    CustomerFactory(first_name="Eino", last_name="Laine", city="Oulu")
    OrderFactory(customer=aino, order_number="2026-0041", total="12.00")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner_account, PASSWORD)
    page.goto(f"{live_server.url}/admin/customers/order/add/")
    expect(page.locator("h1")).to_contain_text("Lisää tilaus")
    expect(page.locator("#id_order_number")).to_have_value("2026-0042")
    expect(page.locator("#id_total")).to_have_attribute("type", "text")
    shots(page, "order-add-empty")
    page.locator(".field-customer .select2-selection").click()
    page.locator(".select2-search__field").fill("kelä-vir")
    option = page.locator(".select2-results__option", has_text="Aino Mäkelä-Virtanen")
    expect(option).to_contain_text("Tampere")
    expect(page.locator(".select2-results__option", has_text="Laine")).to_have_count(0)
    shots(page, "order-customer-search")
    option.click()
    page.select_option("#id_channel", "shop")
    page.fill("#id_description", "Hieronta 60 min")
    page.fill("#id_total", "kuusikymmentäviisi")
    page.get_by_role("button", name="Tallenna ja poistu").click()
    expect(page.locator(".field-total .errorlist")).to_contain_text("esimerkiksi 65,50 tai 1 234,50")
    expect(page.locator(".field-customer")).to_contain_text("Aino Mäkelä-Virtanen")  # still chosen
    shots(page, "order-sum-refused")
    assert not Order.objects.filter(order_number="2026-0042").exists()
    page.fill("#id_total", "65,50")
    shots(page, "order-add-filled")
    page.get_by_role("button", name="Tallenna ja poistu").click()
    expect(page.locator(".messagelist")).to_contain_text("on lisätty")
    shots(page, "order-list")
    row = page.locator("#result_list tbody tr", has_text="2026-0042")
    expect(row).to_contain_text("65,50 €")
    expect(row).to_contain_text("Aino Mäkelä-Virtanen")
    order = Order.objects.get(order_number="2026-0042")
    assert order.customer == aino and str(order.total) == "65.50"
