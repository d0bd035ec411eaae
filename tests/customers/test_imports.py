import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from customers.models import Customer, MarketingObjection
from privacy.models import AuditEvent
from tests.factories import CustomerFactory, MarketingObjectionFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
IMPORT = reverse("admin:customers_customer_import")
CONFIRM = reverse("admin:customers_customer_process_import")
CSV_FORMAT = "0"  # django-import-export's first format: CSV
XLSX_FORMAT = "1"


def preview(client, content: bytes, name="customers.csv", fmt=CSV_FORMAT, source="web_shop"):
    upload = SimpleUploadedFile(name, content)
    return client.post(
        IMPORT,
        {"import_file": upload, "format": fmt, "source": source, "resource": "0"},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def confirm(client, response):
    form = response.context["confirm_form"]
    return client.post(CONFIRM, {**form.initial}, HTTP_ACCEPT_LANGUAGE="en")


def import_file(client, content: bytes, **kwargs):
    response = preview(client, content, **kwargs)
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    return result, confirm(client, response)


@pytest.mark.parametrize("fixture", ["shopify_customers.csv", "woocommerce_customers.csv"])
def test_web_shop_exports_are_recognised_and_imported(owner_client, fixture):
    """S8: customers from Shopify and WooCommerce exports, each recording its source."""
    result, response = import_file(owner_client, (FIXTURES / fixture).read_bytes())
    assert response.status_code == 302
    assert result.totals["new"] == 2
    customers = Customer.objects.order_by("last_name")
    assert customers.count() == 2 and {c.source for c in customers} == {"web_shop"}
    first = customers.first()
    assert first.email and first.postal_code and first.city and str(first.phone).startswith("+358")


def test_shopify_marketing_consent_becomes_an_email_consent(owner_client):
    import_file(owner_client, (FIXTURES / "shopify_customers.csv").read_bytes())
    assert list(Customer.objects.email_marketable().values_list("last_name", flat=True)) == ["Verkkonen"]


def test_duplicates_update_instead_of_multiplying(owner_client):
    """S8: an existing customer is matched by e-mail, then phone, then name and postal code."""
    by_email = CustomerFactory(email="liisa.verkkonen@example.fi", city="Vanha")
    by_phone = CustomerFactory(email="", phone="+358405556677", first_name="P", last_name="Shoppinen")
    result, _ = import_file(owner_client, (FIXTURES / "shopify_customers.csv").read_bytes())
    assert result.totals["update"] == 2 and result.totals["new"] == 0
    assert Customer.objects.count() == 2
    by_email.refresh_from_db()
    assert by_email.city == "Jyväskylä"
    assert by_email.changes.get().source == "web_shop"
    by_phone.refresh_from_db()
    assert by_phone.first_name == "Pekka"
    own = b"first_name,last_name,postal_code,city\nPekka,Shoppinen,20100,Turku\n"
    result, _ = import_file(owner_client, own)
    assert result.totals["skip"] == 1 and Customer.objects.count() == 2


def test_own_format_in_xlsx(owner_client):
    book = Workbook()
    sheet = book.active
    sheet.append(["first_name", "last_name", "email", "postal_code", "city"])
    sheet.append(["Eeva", "Excelinen", "eeva@example.fi", "00100", "Helsinki"])
    buffer = io.BytesIO()
    book.save(buffer)
    result, _ = import_file(owner_client, buffer.getvalue(), name="c.xlsx", fmt=XLSX_FORMAT)
    assert Customer.objects.get().last_name == "Excelinen"


def test_one_invalid_row_imports_nothing_and_says_why(owner_client):
    """S8: all or nothing, with the reason per row."""
    content = (
        "first_name,last_name,email,postal_code,city\n"
        "Hyvä,Rivi,hyva@example.fi,00100,Helsinki\n"
        "Huono,Rivi,huono@example.fi,123,Helsinki\n"
    ).encode()
    response = preview(owner_client, content)
    result = response.context["result"]
    assert result.has_validation_errors()
    assert "five digits" in response.text
    assert "confirm_form" not in response.context or not response.context["confirm_form"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("first_name;last_name\nAino;Mäkinen\n".encode(), "Missing columns"),
        ("first_name,last_name\nAino,Mäkinen\n".encode("utf-16"), "encoding"),
        (bytes(range(256)) * 400, ""),
        (b"email,city\nx@example.fi,Oulu\n", "Missing columns"),
    ],
    ids=["wrong-delimiter", "bad-encoding", "garbage", "missing-columns"],
)
def test_broken_files_change_nothing_and_say_why(owner_client, content, message):
    response = preview(owner_client, content)
    assert response.status_code in (200, 400)
    assert message in response.text
    errors = response.context.get("form") and response.context["form"].errors
    result = response.context.get("result")
    assert errors or (result and (result.has_errors() or result.has_validation_errors()))
    assert not Customer.objects.exists()


def test_a_file_over_the_size_limit_is_refused(owner_client, settings):
    settings.IMPORT_MAX_BYTES = 1024
    response = preview(owner_client, b"first_name,last_name\n" + b"a,b\n" * 1000)
    assert "larger than" in response.text and not Customer.objects.exists()


def test_import_is_audited_with_counts(owner_client, owner):
    import_file(owner_client, (FIXTURES / "woocommerce_customers.csv").read_bytes())
    events = AuditEvent.objects.filter(action="import", object_type="customers.customer")
    assert events.count() == 2  # the preview and the import
    assert events.latest("id").counts["new"] == 2 and events.latest("id").actor_id == owner.pk


def test_ban_list_records_direct_advertising_objections(owner_client):
    """S17: everyone on a direct-marketing ban list gets an objection from the ban register."""
    banned = CustomerFactory(
        first_name="Kiello", last_name="Listalla", street_address="Kieltotie 1", postal_code="00100"
    )
    already = CustomerFactory(
        first_name="Jo", last_name="Kieltänyt", street_address="Tie 2", postal_code="00200"
    )
    MarketingObjectionFactory(customer=already, purpose="direct_advertising")
    free = CustomerFactory(
        first_name="Vapaa", last_name="Ihminen", street_address="Kieltotie 1", postal_code="00100"
    )
    content = (
        "etunimi;sukunimi;katuosoite;postinumero\n"
        "Kiello;Listalla;Kieltotie  1;00100\nJo;Kieltänyt;Tie 2;00200\n"
        "Ei;Rekisterissä;Muu 3;00300\n"
    ).encode()
    response = owner_client.post(
        reverse("admin:customers_customer_banlist"),
        {"file": SimpleUploadedFile("ban.csv", content)},
        follow=True,
    )
    assert "1 uutta kieltoa" in response.text or "1 new objections" in response.text
    objection = MarketingObjection.objects.get(customer=banned)
    assert objection.channel == "ban_register" and objection.purpose == "direct_advertising"
    assert already.objections.count() == 1 and not free.objections.exists()
    assert banned not in Customer.objects.contactable("direct_advertising")


def test_bad_ban_list_gets_a_message(owner_client):
    response = owner_client.post(
        reverse("admin:customers_customer_banlist"), {"file": SimpleUploadedFile("ban.csv", b"name\nx\n")}
    )
    assert response.status_code == 400 and "first_name" in response.text
