import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from customers.imports import import_customers
from customers.models import Customer, CustomerChange, EmailMarketingConsent
from privacy.models import AuditEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
IMPORT = reverse("admin:customers_customer_import")
CONFIRM = reverse("admin:customers_customer_process_import")


def preview(client, content: bytes, name="customers.csv", source="web_shop"):
    upload = SimpleUploadedFile(name, content)
    return client.post(IMPORT, {"import_file": upload, "source": source}, HTTP_ACCEPT_LANGUAGE="en")


def confirm(client, response):
    form = response.context["confirm_form"]
    return client.post(CONFIRM, {"token": form.initial["token"]}, HTTP_ACCEPT_LANGUAGE="en")


def import_file(client, content: bytes, **kwargs):
    """Upload, preview and confirm, as staff click through it; the preview's outcome."""
    response = preview(client, content, **kwargs)
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert not outcome.invalid
    return outcome, confirm(client, response)


def xlsx(*rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fixture", ["shopify_customers.csv", "woocommerce_customers.csv"])
def test_web_shop_exports_are_recognised_and_imported(owner_client, fixture):
    """S8: customers from Shopify and WooCommerce exports, each recording its source."""
    result, response = import_file(owner_client, (FIXTURES / fixture).read_bytes())
    assert response.status_code == 302
    assert result.new == 2
    customers = Customer.objects.order_by("last_name")
    assert customers.count() == 2 and {c.source for c in customers} == {"web_shop"}
    first = customers.first()
    assert first.email and first.postal_code and first.city and str(first.phone).startswith("+358")


def test_shopify_marketing_consent_becomes_an_email_consent(owner_client):
    import_file(owner_client, (FIXTURES / "shopify_customers.csv").read_bytes())
    assert list(Customer.objects.email_marketable().values_list("last_name", flat=True)) == ["Verkkonen"]


def test_duplicates_update_instead_of_multiplying(owner_client):
    """S8: an existing customer is matched by e-mail, then phone, then name and postal code."""
    by_email = CustomerFactory(email="liisa.verkkonen@example.fi", first_name="Liisa", city="Vanha")
    by_phone = CustomerFactory(email="", phone="+358405556677", first_name="pekka", last_name="Shoppinen")
    result, _ = import_file(owner_client, (FIXTURES / "shopify_customers.csv").read_bytes())
    assert result.updated == 2 and result.new == 0
    assert Customer.objects.count() == 2
    by_email.refresh_from_db()
    assert by_email.city == "Jyväskylä"
    assert by_email.changes.get().source == "web_shop"
    by_phone.refresh_from_db()
    assert by_phone.first_name == "Pekka"
    own = b"first_name,last_name,postal_code,city\nPekka,Shoppinen,20100,Turku\n"
    result, _ = import_file(owner_client, own)
    assert result.unchanged == 1 and Customer.objects.count() == 2


def test_a_person_listed_twice_in_one_file_becomes_one_customer(owner_client):
    """S8: duplicates within the file are matched like duplicates in the register."""
    content = (
        b"first_name,last_name,email,phone,postal_code,city,accepts_email_marketing\n"
        b"Tupla,Rivinen,tupla@example.fi,,00100,Helsinki,yes\n"
        b"Tupla,Rivinen,TUPLA@example.fi,,00100,Espoo,yes\n"
        b"Puhe,Linen,,040 111 2222,33100,Tampere,\n"
        b"Puhe,Linen,,+358401112222,33100,Tampere,\n"
        b"Nimi,Postinen,,,90100,Oulu,\n"
        b"nimi,POSTINEN,,,90100,,\n"
    )
    result, _ = import_file(owner_client, content)
    assert (result.new, result.updated, result.unchanged) == (3, 1, 2)
    assert Customer.objects.count() == 3
    customer = Customer.objects.get(email="tupla@example.fi")
    assert customer.city == "Espoo" and customer.source == "web_shop"
    assert customer.email_consents.count() == 1
    by_name = Customer.objects.get(postal_code="90100")
    # An empty cell wipes nothing; the same name in capitals does not replace it either.
    assert by_name.last_name == "Postinen" and by_name.city == "Oulu"
    assert str(Customer.objects.get(last_name="Linen").phone) == "+358401112222"
    assert not CustomerChange.objects.exists()  # new customers record their source, not a change


def test_every_updated_customer_gets_one_change_row_with_what_changed(
    owner_client, owner, django_assert_max_num_queries
):
    """S8: a large import records, per updated customer, which fields changed, the source and who."""
    existing = [
        CustomerFactory(email=f"vanha{i}@example.fi", city="Vanha", birth_date=None) for i in range(30)
    ]
    with_consent = existing[0]
    EmailMarketingConsent.objects.create(customer=with_consent, channel="web_form")
    rows = ["first_name,last_name,email,phone,city,birth_date,accepts_email_marketing"]
    for i, customer in enumerate(existing):
        birth = "1990-01-02" if i % 2 else ""
        rows.append(f"{customer.first_name},{customer.last_name},{customer.email},,Uusi,{birth},yes")
    rows += [f"Uusi,Asiakas{i},uusi{i}@example.fi,,Oulu,1985-03-04,no" for i in range(20)]
    phone_before = str(existing[1].phone)
    with django_assert_max_num_queries(
        80
    ):  # about 60 for the preview and the import of 50 rows: none per row
        result, _ = import_file(owner_client, "\n".join(rows).encode(), source="reseller")
    assert result.updated == 30 and result.new == 20
    changes = CustomerChange.objects.filter(customer__in=existing)
    assert changes.count() == 30
    assert {c.source for c in changes} == {"reseller"} and {c.changed_by_id for c in changes} == {owner.pk}
    customer = existing[1]
    customer.refresh_from_db()
    assert customer.changes.get().fields == ["birth_date", "city"]
    assert customer.birth_year == 1990 and customer.city == "Uusi"
    assert str(customer.phone) == phone_before and customer.updated_at > customer.created_at
    assert existing[2].changes.get().fields == ["city"]
    assert Customer.objects.get(last_name="Asiakas0").birth_year == 1985
    # One consent per customer who accepted: the one already in force is not duplicated.
    assert EmailMarketingConsent.objects.count() == 30
    assert with_consent.email_consents.count() == 1


def test_the_preview_writes_nothing(owner_client):
    CustomerFactory(email="esikatselu@example.fi", first_name="E", city="Vanha")
    content = (
        b"first_name,last_name,email,city\nE,Katselu,esikatselu@example.fi,Uusi\nU,Usi,u@example.fi,Oulu\n"
    )
    response = preview(owner_client, content)
    assert response.context["outcome"].updated == 1
    assert Customer.objects.count() == 1 and Customer.objects.get().city == "Vanha"
    assert not CustomerChange.objects.exists()


def test_an_invalid_row_after_many_valid_ones_imports_nothing_unless_skipped(owner_client, owner, settings):
    """S8: nothing is imported without staff choosing to skip the invalid row, also when
    it comes after thousands of valid ones; its number is the spreadsheet's (header = 1)."""
    settings.IMPORT_BACKGROUND_ROWS = 10_000  # previewed at once (in the background: test_import_jobs.py)
    rows = ["first_name,last_name,email,postal_code"]
    rows += [f"Monta,Rivia{i},monta{i}@example.fi,00100" for i in range(2500)]
    rows.append("Viallinen,Rivi,viallinen@example.fi,1234X")
    content = "\n".join(rows).encode()
    response = preview(owner_client, content)
    assert [row.number for row in response.context["outcome"].invalid_rows] == [2502]
    assert response.context["confirm_form"].initial["skip_invalid"]
    outcome = import_customers(content=content, source="import", actor=owner)
    assert not outcome.imported and outcome.invalid == 1 and outcome.new == 2500
    assert not Customer.objects.exists()


def test_own_format_in_xlsx(owner_client):
    content = xlsx(
        ["first_name", "last_name", "email", "postal_code", "city"],
        ["Eeva", "Excelinen", "eeva@example.fi", "00100", "Helsinki"],
    )
    import_file(owner_client, content, name="c.xlsx")
    assert Customer.objects.get().last_name == "Excelinen"


def test_numbers_typed_as_numbers_in_excel_import_as_text(owner_client):
    """Excel stores a phone or postal code typed as digits as a number (dropping the
    leading zero); the import reads them as the text they were meant to be."""
    content = xlsx(
        ["first_name", "last_name", "email", "phone", "postal_code", "city"],
        ["Numero", "Excelinen", "numero@example.fi", 401234567, 33100, "Tampere"],
        ["Liuku", "Excelinen", "liuku@example.fi", 358407654321.0, "00100", "Helsinki"],
    )
    import_file(owner_client, content, name="c.xlsx")
    numero = Customer.objects.get(first_name="Numero")
    assert str(numero.phone) == "+358401234567" and numero.postal_code == "33100"
    assert str(Customer.objects.get(first_name="Liuku").phone) == "+358407654321"


def test_a_person_who_asked_never_to_be_contacted_again_is_left_out(owner_client, owner):
    """S11, S17: erased at their wish never to be contacted again, a person on a stale
    shop list is not brought back; the preview and the import say how many rows were
    left out (a count only)."""
    from privacy.erasure import erase_customer

    erase_customer(CustomerFactory(email="pois@example.fi"), actor=owner, suppress_contact=True)
    content = (
        b"first_name,last_name,email,postal_code,city\n"
        b"Paluu,Poistettu,POIS@example.fi,00100,Helsinki\n"
        b"Uusi,Asiakas,uusi@example.fi,00100,Helsinki\n"
    )
    response = preview(owner_client, content)
    assert "1 row was left out" in response.text
    result, done = import_file(owner_client, content)
    assert list(Customer.objects.values_list("last_name", flat=True)) == ["Asiakas"]
    event = AuditEvent.objects.filter(action="import", fields=["import"]).latest("id")
    assert event.counts["left_out_suppressed"] == 1 and event.counts["new"] == 1


def test_one_invalid_row_is_listed_with_why_before_anything_is_imported(owner_client):
    """S8: the preview lists the row by its number in the spreadsheet, with the reason."""
    content = (
        "first_name,last_name,email,postal_code,city\n"
        "Hyvä,Rivi,hyva@example.fi,00100,Helsinki\n"
        "Huono,Rivi,huono@example.fi,123456,Helsinki\n"
    ).encode()
    response = preview(owner_client, content)
    outcome = response.context["outcome"]
    assert [(row.number, list(row.errors)) for row in outcome.invalid_rows] == [(3, ["postal_code"])]
    assert "five digits" in response.text
    assert "Import the 1 valid row and skip the rows listed" in response.text
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("first_name|last_name\nAino|Mäkinen\n".encode(), "were not recognised: “first_name|last_name”"),
        (bytes(range(256)) * 400, ""),
        (b"email,city,huom\nx@example.fi,Oulu,x\n", "were not recognised: “huom”"),
        (b"email,city\nx@example.fi,Oulu\n", "no columns for the first name and the last name"),
    ],
    ids=["unknown-delimiter", "garbage", "unknown-column", "missing-columns"],
)
def test_broken_files_change_nothing_and_say_why(owner_client, content, message):
    response = preview(owner_client, content)
    assert response.status_code in (200, 400)
    assert message in response.text
    errors = response.context.get("form") and response.context["form"].errors
    outcome = response.context.get("outcome")
    assert errors or (outcome and outcome.invalid)
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


@pytest.mark.parametrize("earlier_row", ["new_in_this_file", "existing_customer"])
def test_a_suppressed_row_never_reaches_a_customer_the_file_touches(owner_client, owner, earlier_row):
    """S11, S17: the row of a person who asked never to be contacted again must not leak
    into a customer it would match (one created or updated by an earlier row)."""
    from privacy.erasure import erase_customer

    if earlier_row == "existing_customer":
        CustomerFactory(email="vanha@example.fi", phone="+358401234567", first_name="Matti", last_name="Uusi")
    erase_customer(CustomerFactory(email="pois@example.fi"), actor=owner, suppress_contact=True)
    content = (
        b"first_name,last_name,email,phone,postal_code,city\n"
        b"Matti,Uusi,uusi@example.fi,040 123 4567,33100,Tampere\n"
        b"Matti,Uusi,pois@example.fi,040 123 4567,33100,Tampere\n"
    )
    result, _ = import_file(owner_client, content)
    assert result.left_out_suppressed == 1
    assert list(Customer.objects.values_list("email", flat=True)) == ["uusi@example.fi"]


def test_a_consent_in_the_file_is_recorded_for_an_otherwise_unchanged_customer(owner_client):
    known = CustomerFactory(email="sama@example.fi", first_name="Sama", last_name="Nen")
    content = b"first_name,last_name,email,accepts_email_marketing\nSama,Nen,sama@example.fi,yes\n"
    import_file(owner_client, content)
    assert EmailMarketingConsent.objects.in_force().filter(customer=known).count() == 1
    import_file(owner_client, content)  # the same file again adds nothing
    assert EmailMarketingConsent.objects.filter(customer=known).count() == 1
    assert not CustomerChange.objects.filter(customer=known).exists()


def test_a_postal_code_typed_as_a_number_in_excel_gets_its_zeros_back(owner_client):
    content = xlsx(
        ["first_name", "last_name", "postal_code", "city"], ["Helka", "Helsinkiläinen", 100, "Helsinki"]
    )
    import_file(owner_client, content, name="c.xlsx")
    assert Customer.objects.get().postal_code == "00100"


def test_the_preview_shows_each_rows_values_before_anything_is_imported(owner_client):
    """S8: staff see what each row would write, then confirm."""
    content = b"first_name,last_name,email,postal_code,city\nEsko,Esikatselu,esko@example.fi,00100,Helsinki\n"
    response = preview(owner_client, content)
    assert response.status_code == 200
    assert "Esikatselu" in response.text and "esko@example.fi" in response.text
    assert not Customer.objects.exists()


def test_the_customer_list_links_to_the_import(owner_client):
    response = owner_client.get(reverse("admin:customers_customer_changelist"))
    assert f'href="{IMPORT}"' in response.text


def test_staff_without_a_confidentiality_commitment_cannot_import(client, staff_without_commitment):
    """S13: no access to customer data before the commitment is on record."""
    from tests.personas import verified_client

    staff_client = verified_client(client, staff_without_commitment)
    assert staff_client.get(IMPORT).status_code == 403
    assert staff_client.post(CONFIRM, {"token": "0" * 32}).status_code == 403


def test_the_file_waits_privately_between_preview_and_confirm_and_is_then_deleted(owner_client, upload_dir):
    """The uploaded file is kept under a random name known to the session only; no
    personal data goes into a URL; the file is gone once imported."""
    content = b"first_name,last_name,email\nTiedosto,Odottaja,odottaja@example.fi\n"
    response = preview(owner_client, content)
    [kept] = list(upload_dir.iterdir())
    assert kept.read_bytes() == content and kept.stat().st_mode & 0o077 == 0
    assert owner_client.session["customer_import"]["token"] == kept.name
    assert f'action="{CONFIRM}"' in response.text and "odottaja" not in CONFIRM
    done = confirm(owner_client, response)
    assert done.status_code == 302 and done.url == reverse("admin:customers_customer_changelist")
    assert not list(upload_dir.iterdir()) and "customer_import" not in owner_client.session
    assert Customer.objects.get().last_name == "Odottaja"


def test_a_replaced_preview_cannot_be_confirmed(owner_client, upload_dir):
    """Confirming a preview in a stale tab imports nothing: only the latest preview counts."""
    first = preview(owner_client, b"first_name,last_name\nEka,Esikatselu\n")
    second = preview(owner_client, b"first_name,last_name\nToka,Esikatselu\n")
    assert len(list(upload_dir.iterdir())) == 1  # the first file was deleted
    response = confirm(owner_client, first)
    assert response.status_code == 302 and response.url == IMPORT
    assert not Customer.objects.exists()
    confirm(owner_client, second)
    assert Customer.objects.get().first_name == "Toka"


def test_an_abandoned_preview_is_swept_within_the_hour(owner_client, upload_dir):
    import os
    import time

    preview(owner_client, b"first_name,last_name\nHylatty,Esikatselu\n")
    [old] = list(upload_dir.iterdir())
    an_hour_ago = time.time() - 3601
    os.utime(old, (an_hour_ago, an_hour_ago))
    preview(owner_client, b"first_name,last_name\nUusi,Esikatselu\n", source="import")
    assert old.name not in {f.name for f in upload_dir.iterdir()}


def test_finnish_dates_are_read(owner_client):
    content = b"first_name,last_name,birth_date\nSuomi,Paivays,31.12.1980\nIso,Paivays,1981-01-02\n"
    import_file(owner_client, content)
    assert {str(c.birth_date) for c in Customer.objects.all()} == {"1980-12-31", "1981-01-02"}


def test_a_preview_of_a_large_file_shows_every_invalid_row_and_the_first_rows(owner_client):
    rows = ["first_name,last_name,postal_code"] + [f"Iso,Tiedosto{i},00100" for i in range(700)]
    rows.append("Huono,Postinumero,1X")
    response = preview(owner_client, "\n".join(rows).encode())
    assert "Tiedosto499<" in response.text and "Tiedosto500<" not in response.text
    assert response.context["invalid_rows"][0][0] == 702
    assert "201 more rows are not shown" in response.text


def test_the_import_speaks_finnish_by_default(owner_client):
    upload = SimpleUploadedFile("c.csv", b"sahkoposti\nx@example.fi\n")
    response = owner_client.post(IMPORT, {"import_file": upload, "source": "import"})
    assert "Tiedoston sarakkeita ei tunnistettu: “sahkoposti”" in response.text
    upload = SimpleUploadedFile("c.csv", b"first_name,last_name\nAino,Suominen\n")
    response = owner_client.post(IMPORT, {"import_file": upload, "source": "import"})
    assert "Uusia: 1." in response.text and "Vahvista tuonti" in response.text


@pytest.mark.parametrize(
    ("shared", "row"),
    [
        ({"email": "sama@example.fi", "first_name": "Uusi"}, b"Uusi,Nimi,sama@example.fi,,,Uusi"),
        ({"email": "", "phone": "+358401112233", "first_name": "Uusi"}, b"Uusi,Nimi,,040 111 2233,,Uusi"),
        (
            {"email": "", "first_name": "Sama", "last_name": "Nimi", "postal_code": "00100"},
            b"sama,NIMI,,,00100,Uusi",
        ),
    ],
    ids=["email", "phone", "name-and-postal-code"],
)
def test_the_older_customer_wins_when_two_share_a_key(owner_client, shared, row):
    """S8: a key shared by two customers in the register matches the older one."""
    older, newer = CustomerFactory(city="Vanha", **shared), CustomerFactory(city="Vanha", **shared)
    import_file(owner_client, b"first_name,last_name,email,phone,postal_code,city\n" + row + b"\n")
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.city, newer.city) == ("Uusi", "Vanha")


def test_a_spouse_on_a_shared_landline_is_another_person_and_nobody_is_renamed(owner_client):
    """S8: a Shopify row found by the home landline, with another first name, is shown
    as a conflict; unticked, it becomes a new customer and the wife keeps her name."""
    wife = CustomerFactory(
        first_name="Liisa", last_name="Virtanen", email="liisa.virtanen@example.fi", phone="+35898765432"
    )
    content = (FIXTURES / "shopify_shared_landline.csv").read_bytes()
    response = preview(owner_client, content)
    assert response.context["outcome"].conflict_rows[0].conflict.customer_id == wife.pk
    page = response.text
    assert "Matti Virtanen" in page and "Liisa Virtanen" in page and "the same phone number" in page
    assert "An unticked row is added as a new customer" in page
    confirm(owner_client, response)
    wife.refresh_from_db()
    assert (wife.first_name, wife.email, wife.city) != ("Matti", "matti.virtanen@example.fi", "Espoo")
    assert wife.first_name == "Liisa" and not wife.changes.exists()
    husband = Customer.objects.get(first_name="Matti")
    assert str(husband.phone) == "+35898765432" and husband.email == "matti.virtanen@example.fi"
    # The same file again finds Matti, not Liisa: no conflict, no third customer.
    outcome, _ = import_file(owner_client, content)
    assert (outcome.unchanged, outcome.conflict_rows) == (1, [])
    assert Customer.objects.count() == 2


def test_a_daughter_on_her_mothers_email_is_another_person_unless_ticked(owner_client):
    """S8: WooCommerce rows found by a shared e-mail address with another first name:
    the unticked one (a daughter) becomes a new customer and her mother is left as she
    was; the ticked one (Katariina, in the register as Kati) updates that customer."""
    mother = CustomerFactory(
        first_name="Helena", last_name="Korhonen", email="korhonen.perhe@example.fi", city="Lahti"
    )
    kati = CustomerFactory(first_name="Kati", last_name="Laine", email="kati.laine@example.fi", city="Kemi")
    response = preview(owner_client, (FIXTURES / "woocommerce_shared_email.csv").read_bytes())
    conflicts = {row.values["first_name"]: row for row in response.context["outcome"].conflict_rows}
    assert conflicts["Emma"].conflict.customer_id == mother.pk and "the same e-mail address" in response.text
    token = response.context["confirm_form"].initial["token"]
    ticked = f"{conflicts['Katariina'].number}:{kati.pk}"
    assert f'value="{ticked}"' in response.text
    done = owner_client.post(CONFIRM, {"token": token, "same_person": [ticked]})
    assert done.status_code == 302
    mother.refresh_from_db()
    assert (mother.first_name, mother.city, mother.changes.count()) == ("Helena", "Lahti", 0)
    daughter = Customer.objects.get(first_name="Emma")
    assert daughter.email == "korhonen.perhe@example.fi" and daughter.city == "Tampere"
    kati.refresh_from_db()
    assert (kati.first_name, kati.city) == ("Katariina", "Oulu")
    assert kati.changes.get().fields == ["city", "first_name", "postal_code", "street_address"]
    assert Customer.objects.count() == 3
    event = AuditEvent.objects.filter(action="import", fields=["import"]).latest("id")
    assert (event.counts["conflicts"], event.counts["conflicts_same_person"]) == (2, 1)


def test_a_row_in_capitals_never_rewrites_a_name_or_address_and_shows_what_it_changes(owner_client):
    """S7, S8: a reseller's file in ALL CAPS finds Aino Mäkinen by e-mail; her name and
    address keep their spelling, the one real change (her phone) is shown old beside new."""
    aino = CustomerFactory(
        first_name="Aino",
        last_name="Mäkinen",
        email="aino.makinen@example.fi",
        phone="+358401234567",
        street_address="Mannerheimintie 5 A 3",
        postal_code="00100",
        city="Helsinki",
    )
    response = preview(owner_client, (FIXTURES / "reseller_all_caps.csv").read_bytes(), source="reseller")
    assert not response.context["outcome"].conflict_rows
    page = response.text
    # The old phone beside the new one (as the file writes it, or as it will be stored).
    assert re.search(r"\+358401234567</del> → <ins[^>]*>(040 765 4321|\+358407654321)</ins>", page)
    assert "(file: MÄKINEN)" in page and "(file: MANNERHEIMINTIE 5 A 3)" in page
    confirm(owner_client, response)
    aino.refresh_from_db()
    assert (aino.first_name, aino.last_name, aino.street_address, aino.city) == (
        "Aino",
        "Mäkinen",
        "Mannerheimintie 5 A 3",
        "Helsinki",
    )
    assert str(aino.phone) == "+358407654321" and aino.changes.get().fields == ["phone"]
    assert Customer.objects.count() == 1


def test_a_better_spelling_in_the_file_replaces_the_registers(owner_client):
    """S7: the register's name in capitals or without its accents takes the file's."""
    shouting = CustomerFactory(first_name="PEKKA", last_name="MAKELA", email="pekka.makela@example.fi")
    import_file(
        owner_client, b"first_name,last_name,email\nPekka,M\xc3\xa4kel\xc3\xa4,pekka.makela@example.fi\n"
    )
    shouting.refresh_from_db()
    assert (shouting.first_name, shouting.last_name) == ("Pekka", "Mäkelä")


def test_two_people_of_one_name_and_postal_code_with_their_own_e_mails_stay_two(owner_client):
    """S8: Urho Vuorila and Urho Vuorilä of 20100 fold to the same name, but each has an
    e-mail address of their own: the file makes two customers, and a register customer of
    that name with another address is shown as a conflict and left as he is."""
    content = (
        "first_name;last_name;email;postal_code\n"
        "Urho;Vuorila;urho.vuorila@example.fi;20100\n"
        "Urho;Vuorilä;urho.vuorila2@example.fi;20100\n"
    ).encode()
    outcome, _ = import_file(owner_client, content, name="nimet.csv")
    assert outcome.new == 2
    assert sorted(Customer.objects.values_list("last_name", "email")) == [
        ("Vuorila", "urho.vuorila@example.fi"),
        ("Vuorilä", "urho.vuorila2@example.fi"),
    ]

    again = b"first_name;last_name;email;postal_code\nUrho;Vuorila;urho.uusi@example.fi;20100\n"
    response = preview(owner_client, again, name="uusi.csv")
    conflict = response.context["outcome"].conflict_rows[0].conflict
    assert conflict.shared == "name" and "the same name and postal code" in response.text
    confirm(owner_client, response)
    assert Customer.objects.filter(email="urho.vuorila@example.fi").exists()  # not rewritten
    assert Customer.objects.count() == 3
