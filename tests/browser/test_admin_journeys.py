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
