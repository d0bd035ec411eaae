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


def test_owner_sees_who_has_looked_at_a_customer_and_follows_it_to_the_log(
    page, live_server, admin_login, owner_account, shots
):
    """S13: on a customer's page the owner sees, by name, which staff member looked at or
    changed the customer and their order, and follows the link to the audit log, which reads
    in words and filters by who did it."""
    from django.contrib.auth.models import Group

    from privacy.audit import record
    from privacy.groups import STAFF_GROUP
    from privacy.models import AuditAction

    sanna = make_staff("sanna", group=STAFF_GROUP)
    sanna.first_name, sanna.last_name = "Sanna", "Saarinen"
    sanna.save()
    assert Group.objects.filter(name=STAFF_GROUP).exists()
    aino = CustomerFactory(first_name="Aino", last_name="Mäkinen")
    order = aino.orders.create(order_number="T-1001", ordered_on="2026-11-02", total="65.50")
    record(action=AuditAction.VIEW, actor=sanna, obj=aino)
    record(action=AuditAction.CHANGE, actor=sanna, obj=order, fields=["total"])
    record(action=AuditAction.VIEW, actor=sanna, obj=CustomerFactory(last_name="Virtanen"))

    page.set_viewport_size({"width": 1366, "height": 768})
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner_account, PASSWORD)
    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.get_by_role("link", name="Aino Mäkinen").click()
    trail = page.locator("#audit-trail")
    expect(trail).to_contain_text("Kuka on katsonut tai muuttanut tätä asiakasta")
    expect(trail.locator("tbody tr")).to_have_count(2)
    expect(trail).to_contain_text("Sanna Saarinen (sanna)")
    expect(trail).to_contain_text("tilaus: T-1001")
    trail.scroll_into_view_if_needed()
    shots(page, "customer-audit-trail")
    trail.get_by_role("link", name="Näytä kaikki").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)  # Sanna's two and the owner's own look just now
    expect(page.locator("#result_list")).not_to_contain_text("Virtanen")
    shots(page, "audit-log-of-a-customer")
    page.goto(f"{live_server.url}/admin/privacy/auditevent/")
    page.locator("#changelist-filter").get_by_role("link", name="Sanna Saarinen").click()
    expect(rows).to_have_count(3)
    expect(page.locator("#result_list")).not_to_contain_text("omistaja")
    shots(page, "audit-log-by-staff-member")


def test_owner_goes_from_the_front_page_by_clicks_to_the_labels_and_to_a_late_request(
    page, live_server, admin_login, owner_account, shots
):
    """S6, S16: the front page ("Tänään") is where the owner's day starts: the mailing
    labels are a button away and download as a spreadsheet; an overdue request is listed
    with the requester's name, how late it is and its next step, which opens its page."""
    import datetime
    import io
    import re

    import time_machine
    from django.utils import timezone
    from openpyxl import load_workbook

    from tests.factories import DataRequestFactory

    CustomerFactory(first_name="Eino", last_name="Postitettava", city="Tampere")
    with time_machine.travel(timezone.now() - datetime.timedelta(days=34)):
        late = DataRequestFactory(first_name="Lauri", last_name="Myöhäinen", kind="erasure")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner_account, PASSWORD)
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("h1")).to_contain_text("Tänään")
    due = page.locator("#due-requests")
    expect(due).to_contain_text("Lauri Myöhäinen")
    expect(due).to_contain_text("päivää myöhässä")
    shots(page, "front-page")

    page.locator(".daily-tasks").get_by_role("link", name="Postitustarrat").click()
    page.get_by_role("button", name="Näytä määrät").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("XLSX")).click()
    with open(download.value.path(), "rb") as saved:  # a download's file has no suffix
        sheet = load_workbook(io.BytesIO(saved.read()), read_only=True).active
    cells = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert any("Postitettava" in cell for cell in cells)

    page.get_by_role("link", name="Etusivu").click()
    page.locator("#due-requests").get_by_role("link", name="Vahvista pyytäjän henkilöllisyys").click()
    expect(page).to_have_url(re.compile(rf"/admin/privacy/datarequest/{late.pk}/change/$"))
    expect(page.locator("#content")).to_contain_text(late.reference)


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
