"""Issue 19: the import takes the files Finnish users really have, through the admin's
upload, preview and confirm pages, and the customers the register then holds are
checked. The fixtures are made by tests/customers/fixtures/make_fixtures.py."""

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from customers.models import Customer
from privacy.models import AuditEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
IMPORT = reverse("admin:customers_customer_import")
CONFIRM = reverse("admin:customers_customer_process_import")
CANCEL = reverse("admin:customers_customer_cancel_import")
SKIPPED = reverse("admin:customers_customer_import_skipped")


def upload(client, content: bytes, name: str, language="en"):
    file = SimpleUploadedFile(name, content)
    return client.post(IMPORT, {"import_file": file, "source": "import"}, HTTP_ACCEPT_LANGUAGE=language)


def confirm(client, preview, language="en"):
    form = preview.context["confirm_form"]
    data = {"token": form.initial["token"], "skip_invalid": "True" if form.initial["skip_invalid"] else ""}
    return client.post(CONFIRM, data, HTTP_ACCEPT_LANGUAGE=language)


def import_fixture(client, name: str, language="en"):
    """Upload the fixture, look at the preview, confirm: the preview and the result page."""
    preview = upload(client, (FIXTURES / name).read_bytes(), name, language)
    assert preview.status_code == 200, preview.context["form"].errors if "form" in preview.context else ""
    return preview, confirm(client, preview, language)


def customer(email="", **lookup) -> Customer:
    return Customer.objects.get(email=email, **lookup) if email else Customer.objects.get(**lookup)


@pytest.mark.parametrize(
    "fixture", ["finnish_excel.csv", "finnish_excel_utf8.csv", "finnish_excel_unicode.txt"]
)
def test_finnish_excel_csv_with_semicolons_finnish_headers_and_dates(owner_client, fixture):
    """S8: Excel in Finnish: "CSV" (Windows-1252), "CSV UTF-8" (with a BOM), "Unicode text"
    (UTF-16, tabs); Finnish column names, 31.12.1980 and 1.5.1990, postal codes typed as
    numbers (100 for 00100)."""
    preview, result = import_fixture(owner_client, fixture)
    assert preview.context["outcome"].new == 3 and result.status_code == 302
    aino = customer("aino.makinen@example.fi")
    assert (aino.first_name, aino.last_name, aino.street_address) == ("Aino", "Mäkinen", "Hämeenkatu 5 B 12")
    assert (str(aino.phone), aino.postal_code, aino.city) == ("+358401234567", "33100", "Tampere")
    assert aino.birth_date == datetime.date(1980, 12, 31)
    matti = customer(last_name="Öhman")
    assert (matti.email, matti.postal_code, matti.country) == ("", "00100", "FI")
    assert matti.birth_date == datetime.date(1990, 5, 1) and str(matti.phone) == "+358501234567"
    aija = customer("aija.k@example.fi")
    assert (aija.first_name, aija.street_address) == ("Äijä", "Sörnäisten rantatie 3 as. 4")
    assert (aija.postal_code, aija.birth_date) == ("00530", datetime.date(1975, 6, 5))


@pytest.mark.parametrize("fixture", ["finnish_workbook.xlsx", "finnish_workbook.ods"])
def test_libreoffice_workbooks_with_empty_cells_and_numbers_for_postal_codes(owner_client, fixture):
    preview, result = import_fixture(owner_client, fixture)
    assert preview.context["outcome"].new == 3 and result.status_code == 302
    aino = customer("aino.makinen@example.fi")
    assert (str(aino.phone), aino.birth_date) == ("+358401234567", datetime.date(1980, 12, 31))
    matti = customer(last_name="Öhman")  # empty e-mail and phone cells: empty, never NULL
    assert (matti.email, str(matti.phone), matti.postal_code) == ("", "", "00100")
    liisa = customer("liisa.l@example.fi")
    assert (liisa.street_address, liisa.postal_code, liisa.city, liisa.birth_date) == ("", "", "", None)


def test_shopify_2024_export_with_apostrophes_address2_and_a_subscriber_row(owner_client):
    preview, result = import_fixture(owner_client, "shopify_2024.csv")
    outcome = preview.context["outcome"]
    assert outcome.shop == "shopify" and (outcome.new, outcome.invalid) == (2, 1)
    assert preview.context["invalid_rows"][0][0] == 3  # the subscriber, row 3 of the sheet
    assert "The row has no first name or no last name" in preview.text
    assert "Import the 2 valid rows and skip the rows listed" in preview.text
    assert result.status_code == 200 and "Skipped: 1." in result.text
    assert "The row has no first name or no last name" in result.text
    assert Customer.objects.count() == 2 and not Customer.objects.filter(email="tilaaja@example.fi").exists()
    aino = customer("aino.asiakas@example.fi")
    assert (aino.street_address, aino.postal_code, str(aino.phone)) == (
        "Mannerheimintie 5 A 5",
        "00100",
        "+358401234567",
    )
    imran = customer("imran.khan@example.com")  # a Pakistani number read as Pakistan's
    assert (str(imran.phone), imran.country, imran.street_address) == (
        "+923004424406",
        "PK",
        "House 12 Street 4",
    )
    assert list(Customer.objects.email_marketable().values_list("first_name", flat=True)) == ["Aino"]


def test_the_skipped_rows_download_as_a_csv_to_fix_and_import_again(owner_client):
    import_fixture(owner_client, "shopify_2024.csv")
    download = owner_client.get(SKIPPED, HTTP_ACCEPT_LANGUAGE="en")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    event = AuditEvent.objects.filter(action="export").get()  # who took the rows, never what
    assert event.fields == ["import_skipped_rows"] and event.counts == {"rows": 1}
    assert download.content.startswith(b"\xef\xbb\xbf")  # opens right in Excel in Finnish
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Customer ID", "First Name", "Last Name", "Email"]
    assert rows[0][-1] == "Why the row was skipped"
    assert len(rows) == 2 and rows[1][3] == "tilaaja@example.fi" and rows[1][-1].startswith("Row 3: ")
    # Fixed (the names filled in), the file imports as it is.
    rows[1][1:3] = ["Tiina", "Tilaaja"]
    fixed = io.StringIO()
    csv.writer(fixed, delimiter=";").writerows(rows)
    preview = upload(owner_client, b"\xef\xbb\xbf" + fixed.getvalue().encode(), "skipped-rows.csv")
    assert preview.context["outcome"].new == 1 and not preview.context["outcome"].unused_columns
    confirm(owner_client, preview)
    assert customer("tilaaja@example.fi").last_name == "Tilaaja"


def test_import_nothing_imports_nothing(owner_client):
    preview = upload(owner_client, (FIXTURES / "shopify_2024.csv").read_bytes(), "customers.csv")
    assert "Import nothing" in preview.text
    owner_client.post(CANCEL)
    assert not Customer.objects.exists()


def test_without_choosing_to_skip_a_file_with_invalid_rows_imports_nothing(owner_client):
    preview = upload(owner_client, (FIXTURES / "shopify_2024.csv").read_bytes(), "customers.csv")
    token = preview.context["confirm_form"].initial["token"]
    result = owner_client.post(CONFIRM, {"token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert result.status_code == 200 and not Customer.objects.exists()


def test_woocommerce_user_export_with_billing_names_and_billing_email(owner_client):
    preview, result = import_fixture(owner_client, "woocommerce_users.csv")
    assert preview.context["outcome"].shop == "woocommerce" and result.status_code == 302
    kaisa = customer("kaisa.kauppa@example.fi")  # blank WordPress names, billing names filled
    assert (kaisa.first_name, kaisa.last_name, kaisa.street_address) == (
        "Kaisa",
        "Kauppa",
        "Rautatienkatu 7 B 12",
    )
    assert (kaisa.postal_code, kaisa.city, str(kaisa.phone)) == ("33100", "Tampere", "+358409876543")
    tapio = customer("tapio.tilaaja@example.fi")  # the account's e-mail blank: the billing e-mail
    assert (tapio.first_name, str(tapio.phone), tapio.city) == ("Tapio", "+358501112222", "Oulu")
    # Kaisa's shipping address (without the flat) is not imported, and the preview says so.
    assert preview.context["outcome"].unused_columns == [("shipping_address_1", 1)]


def test_mailchimp_audience_export(owner_client):
    preview, result = import_fixture(owner_client, "mailchimp_subscribed.csv")
    outcome = preview.context["outcome"]
    assert outcome.shop == "mailchimp" and (outcome.new, outcome.invalid) == (1, 1)
    mirja = customer("mirja.meili@example.fi")
    assert (mirja.first_name, mirja.last_name, str(mirja.phone)) == ("Mirja", "Meili", "+358401112233")
    assert (mirja.street_address, mirja.postal_code, mirja.city, mirja.country) == (
        "Kauppakatu 3",
        "40100",
        "Jyväskylä",
        "FI",
    )
    assert list(Customer.objects.email_marketable()) == [mirja]  # a confirmed subscriber
    assert Customer.objects.count() == 1


def test_google_contacts_csv(owner_client):
    preview, result = import_fixture(owner_client, "google_contacts.csv")
    assert preview.context["outcome"].shop == "google"
    gunilla = customer("gunilla.g@example.fi")
    assert (gunilla.first_name, gunilla.last_name, str(gunilla.phone)) == (
        "Gunilla",
        "Googlinen",
        "+358407654321",
    )
    assert (gunilla.street_address, gunilla.postal_code, gunilla.city, gunilla.country) == (
        "Aleksanterinkatu 10 C 7",
        "00170",
        "Helsinki",
        "FI",
    )
    assert gunilla.birth_date == datetime.date(1975, 6, 5)
    # The second number of "040... ::: 09 ..." is not imported: the preview says so.
    assert "“Phone 1 - Value” (1 row with a value)" in preview.text


def test_outlook_csv(owner_client):
    preview, result = import_fixture(owner_client, "outlook_contacts.csv")
    assert preview.context["outcome"].shop == "outlook" and not preview.context["outcome"].unused_columns
    olavi = customer("olavi.o@example.fi")
    assert (olavi.first_name, olavi.last_name, str(olavi.phone)) == ("Olavi", "Outlookinen", "+358456789012")
    assert (olavi.street_address, olavi.postal_code, olavi.city, olavi.country) == (
        "Puistotie 4 as. 2",
        "70100",
        "Kuopio",
        "FI",
    )
    assert olavi.birth_date == datetime.date(1980, 12, 31)


def test_a_column_the_import_does_not_take_is_shown_in_the_preview(owner_client):
    content = "Etunimi;Sukunimi;Työpuhelin\r\nAino;Mäkinen;09 123 4567\r\n".encode("cp1252")
    preview = upload(owner_client, content, "c.csv")
    assert preview.context["outcome"].unused_columns == [("Työpuhelin", 1)]
    assert "“Työpuhelin” (1 row with a value)" in preview.text


def test_an_existing_customer_is_updated_from_a_finnish_file(owner_client):
    known = CustomerFactory(
        email="aino.makinen@example.fi", first_name="Aino", last_name="Mäkinen", city="Oulu"
    )
    import_fixture(owner_client, "finnish_excel.csv")
    known.refresh_from_db()
    assert known.city == "Tampere" and Customer.objects.count() == 3


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_template_has_the_registers_columns_in_finnish_and_imports_as_filled(owner_client, kind):
    page = owner_client.get(IMPORT)
    link = reverse("admin:customers_customer_import_template", args=[kind])
    assert link in page.text and "Shopify" in page.text and "Mailchimp" in page.text and "ODS" in page.text
    download = owner_client.get(link)
    assert download.status_code == 200
    if kind == "xlsx":
        book = load_workbook(io.BytesIO(download.content))
        sheet = book.active
        headers = [cell.value for cell in sheet[1]]
        sheet.append(["Aino", "Mallikas", "aino@example.fi", "040 123 4567", "Tie 1", "00100", "Espoo"])
        buffer = io.BytesIO()
        book.save(buffer)
        content = buffer.getvalue()
    else:
        text = download.content.decode("utf-8-sig")
        headers = text.strip().split(";")
        content = download.content + b"Aino;Mallikas;aino@example.fi;040 123 4567;Tie 1;00100;Espoo\r\n"
    assert headers[:7] == [
        "Etunimi",
        "Sukunimi",
        "Sähköposti",
        "Puhelin",
        "Katuosoite",
        "Postinumero",
        "Postitoimipaikka",
    ]
    preview = upload(owner_client, content, f"pohja.{kind}", language="fi")
    confirm(owner_client, preview, language="fi")
    aino = customer("aino@example.fi")
    assert (aino.last_name, aino.postal_code, str(aino.phone)) == ("Mallikas", "00100", "+358401234567")


def test_the_preview_and_result_speak_finnish(owner_client):
    preview, result = import_fixture(owner_client, "shopify_2024.csv", language="fi")
    for text in ("Tiedosto luettiin muodossa: Shopify-vienti", "Ei voi tuoda: 1.", "Tuo 2 kelvollista riviä"):
        assert text in preview.text
    assert "Riviltä puuttuu etunimi tai sukunimi" in preview.text
    assert "Tuonti valmis" in result.text or "Tuotu" in result.text
    assert "Ohitettu: 1." in result.text and "Lataa ohitetut rivit (CSV)" in result.text
    english = ["Import the", "skip the rows", "Why it cannot", "The row has no", "Skipped:", "Download the"]
    assert not [phrase for phrase in english if phrase in preview.text + result.text]


def ragged() -> bytes:
    return b"first_name,last_name\nAino,Makinen,extra,cells\nEino\n,,,,,,\n"


BROKEN = {
    "nul-bytes": b"first_name,last_name\nAi\x00no,M\xc3\xa4kinen\n",
    "random-bytes": bytes(range(1, 256)) * 50,
    "random-with-nul": bytes(range(256)) * 50,
    "utf-16": "first_name\tlast_name\r\nAino\tMäkinen\r\n".encode("utf-16"),
    "utf-16-no-bom": "first_name,last_name\nAino,Mäkinen\n".encode("utf-16-le"),
    "ragged-rows": ragged(),
    "header-only": b"first_name;last_name\r\n",
    "empty": b"",
    "old-xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000,
    "broken-zip": b"PK\x03\x04" + b"\x01" * 500,
    "html": b"<html><body><table><tr><td>first_name</td></tr></table></body></html>",
    "only-quotes": b'"""""\n"',
    "bad-dates": b"first_name,last_name,birth_date\nAino,M,31.2.1980\nEino,L,12/31/1980\n",
    "huge-phone": b"first_name,last_name,phone,country\nAino,M," + b"9" * 200 + b",XX\n",
    "long-country": b"first_name,last_name,country\nAino,M,Kuningaskunta\n",
}
SERVER_PATH = re.compile(r"(/work/|/usr/|site-packages|\.py\b|File &quot;|File \")")


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_files_get_a_page_without_traceback_or_server_path(owner_client, name, debug):
    with override_settings(DEBUG=debug):
        for language in ("fi", "en"):
            response = upload(owner_client, BROKEN[name], "customers.csv", language=language)
            assert response.status_code in (200, 400), response.status_code
            pages = [response]
            if response.status_code == 200 and response.context.get("confirm_form"):
                pages.append(confirm(owner_client, response, language=language))
            for page in pages:
                assert page.status_code < 500
                text = page.content.decode("utf-8", errors="replace")
                assert "Traceback" not in text and not SERVER_PATH.search(text), name
            if response.status_code == 400:
                errors = response.context["form"].errors["import_file"]
                assert errors and all(message.strip() for message in errors)


def test_rows_that_cannot_be_imported_say_why_in_finnish(owner_client):
    content = (
        "Etunimi;Sukunimi;Sähköposti;Puhelin;Postinumero;Maa;Syntymäaika\r\n"
        "Aino;Mäkinen;huono@;040 123 4567;00100;FI;1.1.1980\r\n"
        "Eino;Leino;e@example.fi;;00100;Kuningaskunta;31.2.1980\r\n"
        "Olli;Oikea;o@example.fi;;100;Suomi;1.1.1970\r\n"
    ).encode("cp1252")
    preview = upload(owner_client, content, "a.csv", language="fi")
    reasons = dict(preview.context["invalid_rows"])
    assert list(reasons) == [2, 3]
    assert ("sähköposti", "Syötä kelvollinen sähköpostiosoite.") in reasons[2]
    assert ("maa", "Kirjoita maa kaksikirjaimisena koodina, esimerkiksi FI, SE tai EE.") in reasons[3]
    assert ("syntymäaika", "Syötä oikea päivämäärä.") in reasons[3]
    confirm(owner_client, preview, language="fi")
    olli = customer("o@example.fi")
    assert (olli.country, olli.postal_code) == ("FI", "00100") and Customer.objects.count() == 1
