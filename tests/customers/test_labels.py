import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from customers.labels import escape_cell
from privacy.anonymisation import anonymise_customer
from privacy.models import AuditEvent
from tests.factories import CustomerFactory, MarketingObjectionFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
URL = reverse("admin:customers_customer_labels")


@pytest.fixture
def register(owner):
    people = {
        "plain": CustomerFactory(last_name="Tavallinen", postal_code="00100"),
        "listing": CustomerFactory(last_name="Listakieltäjä", postal_code="00120"),
        "advertising": CustomerFactory(last_name="Mainoskieltäjä", postal_code="00130"),
        "distance": CustomerFactory(last_name="Etämyyntikieltäjä", postal_code="00131"),
        "marketing": CustomerFactory(last_name="Suoramarkkinointikieltäjä", postal_code="00132"),
        "research": CustomerFactory(last_name="Tutkimuskieltäjä", postal_code="00140"),
        "anonymised": CustomerFactory(last_name="Anonyymi", postal_code="00150"),
        "no_street": CustomerFactory(last_name="Katuton", street_address=""),
        "no_postal": CustomerFactory(last_name="Postinumeroton", postal_code=""),
        "no_city": CustomerFactory(last_name="Kaupungiton", city=""),
        "formula": CustomerFactory(
            first_name='=HYPERLINK("http://x","klik")',
            last_name="Kaava",
            organisation=OrganisationFactory(name="+SUM(1)"),
        ),
    }
    MarketingObjectionFactory(customer=people["listing"], purpose="listing")
    MarketingObjectionFactory(customer=people["advertising"], purpose="direct_advertising")
    MarketingObjectionFactory(customer=people["distance"], purpose="distance_selling")
    MarketingObjectionFactory(customer=people["marketing"], purpose="direct_marketing")
    MarketingObjectionFactory(customer=people["research"], purpose="market_research")
    anonymise_customer(people["anonymised"], actor=owner)
    return people


LEFT_OUT = [
    "Listakieltäjä",
    "Mainoskieltäjä",
    "Etämyyntikieltäjä",
    "Suoramarkkinointikieltäjä",
    "Anonyymi",
    "Katuton",
    "Postinumeroton",
    "Kaupungiton",
]


def download(client, fmt: str, **params) -> bytes:
    response = client.get(URL, {**params, "export": fmt})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_csv_leaves_out_objectors_anonymised_and_incomplete_addresses(owner_client, register):
    """S6, S17: whoever objected, was anonymised or has no full address is never on a label."""
    body = download(owner_client, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    names = {r["name"].split()[-1] for r in rows}
    assert names == {"Tavallinen", "Tutkimuskieltäjä", "Kaava"}
    assert not any(name in body for name in LEFT_OUT)


def test_xlsx_leaves_out_the_same_and_escapes_formulas(owner_client, register):
    """S6: the spreadsheet gets text, never a formula."""
    book = load_workbook(io.BytesIO(download(owner_client, "xlsx")))
    values = [[c.value for c in row] for row in book.active.iter_rows()]
    flat = " ".join(str(v) for row in values for v in row if v)
    assert not any(name in flat for name in LEFT_OUT)
    formula_row = next(r for r in values if r[0] and "Kaava" in r[0])
    assert formula_row[0] == '\'=HYPERLINK("http://x","klik") Kaava'
    assert formula_row[1] == "'+SUM(1)"
    assert all(c.data_type == "s" for row in book.active.iter_rows() for c in row if c.value)


def test_csv_escapes_every_formula_start(owner_client, register):
    body = download(owner_client, "csv").decode("utf-8-sig")
    assert '"\'=HYPERLINK(""http://x"",""klik"") Kaava"' in body and "'+SUM(1)" in body
    for start in ["=", "+", "-", "@", "\t", "\r", "\n"]:
        assert escape_cell(start + "x") == "'" + start + "x"
    assert escape_cell("Mäkinen") == "Mäkinen"


def test_pdf_label_sheet_leaves_out_the_same_people(owner_client, register):
    """S6: the printable sheet has names above the address in Finnish order."""
    reader = PdfReader(io.BytesIO(download(owner_client, "pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Tavallinen" in text and "00100 HELSINKI" in text
    assert not any(name in text for name in LEFT_OUT)


def test_page_shows_counts_of_who_was_left_out_and_why(owner_client, register, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        page = owner_client.get(URL, {"city": ""})
    selection = page.context["selection"]
    assert page.context["included"] == 3
    assert (selection.left_out_objection, selection.left_out_anonymised, selection.left_out_incomplete) == (
        4,
        1,
        3,
    )


def test_filters_narrow_the_labels(owner_client, register):
    body = download(owner_client, "csv", postal_code_from="00100", postal_code_to="00110")
    assert "Tavallinen" in body.decode() and "Tutkimuskieltäjä" not in body.decode()


def test_bad_filter_gets_a_message_not_an_export(owner_client, register):
    page = owner_client.get(URL, {"postal_code_from": "abc", "export": "csv"})
    assert page.status_code == 200 and "postal_code_from" in page.context["form"].errors


def test_export_is_audited_with_counts(owner_client, register, owner):
    download(owner_client, "csv")
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.actor_id == owner.pk and event.fields == ["labels_csv"]
    assert event.counts == {
        "rows": 3,
        "left_out_objection": 4,
        "left_out_anonymised": 1,
        "left_out_incomplete": 3,
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_export_labels_command_writes_every_format(register, tmp_path, fmt, capsys):
    out = tmp_path / f"labels.{fmt}"
    call_command("export_labels", format=fmt, output=str(out))
    assert out.stat().st_size > 0
    assert "rows: 3" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["", "csv", "xlsx", "pdf"])
def test_staff_without_commitment_gets_no_labels(client, staff_without_commitment, register, fmt):
    """S13: the label page and its downloads hold names and addresses, so they need
    the confidentiality commitment like the customer list does."""
    from tests.personas import verified_client

    client = verified_client(client, staff_without_commitment)
    response = client.get(reverse("admin:customers_customer_labels") + (f"?export={fmt}" if fmt else ""))
    assert response.status_code == 403
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"Tavallinen" not in body
    assert not AuditEvent.objects.filter(action="export").exists()


def test_staff_without_commitment_cannot_import_a_ban_list(client, staff_without_commitment, register):
    from tests.personas import verified_client

    client = verified_client(client, staff_without_commitment)
    url = reverse("admin:customers_customer_banlist")
    assert client.get(url).status_code == 403
    upload = io.BytesIO(b"first_name,last_name,street_address,postal_code\nA,B,C 1,00100\n")
    upload.name = "ban.csv"
    assert client.post(url, {"file": upload}).status_code == 403


def test_staff_with_commitment_exports_labels(staff_client, register):
    response = staff_client.get(reverse("admin:customers_customer_labels") + "?export=csv")
    assert response.status_code == 200
    assert "Tavallinen" in b"".join(response.streaming_content).decode("utf-8-sig")


HOSTILE = [
    '=HYPERLINK("http://x","klik")',
    "+SUM(1)",
    "-2+3",
    "@cmd",
    "\t=tab first",
    "\r=cr first",
    "\n=lf first",
    'a "quoted" word',
    '"',
    "semi;colon",
    "comma, here",
    "two\nlines",
    "cr\rinside",
    "crlf\r\ninside",
    "back\\slash \\N \\. \\t",
    "\\",
    "tab\tinside",
    "  spaced  ",
    "\u00a0no-break\u3000",
    "Jyväskylä",
    "Straße",
    "ﬁnal ligature",
    "Ωμέγα",
    "Москва",
    "İstanbul",
    "emoji 🙂 ok",
    "'already",
    "ǆ",
    "\x0bvertical\x0cfeed\x08",
    "",
]


@pytest.fixture
def hostile_register(db):
    """Customers whose every label cell is something a CSV writer can get wrong."""
    from customers.models import Customer, Organisation

    CustomerFactory.create_batch(5, organisation=OrganisationFactory(business_id=""))  # plain ones too
    CustomerFactory(city="Hämeenlinna", country="SE")
    for i, value in enumerate(HOSTILE):
        customer = CustomerFactory(postal_code=f"{i:05d}")
        organisation = OrganisationFactory(business_id="")
        Organisation.objects.filter(pk=organisation.pk).update(name=value)
        nonempty = value or "x"  # an empty street or city leaves the label out
        Customer.objects.filter(pk=customer.pk).update(
            first_name=value,
            last_name=HOSTILE[-1 - i],
            street_address=nonempty,
            city=HOSTILE[(i + 3) % len(HOSTILE)] or "y",
            country="FI" if i % 3 else "SE",
            organisation=organisation if i % 2 else None,
        )


def labels_csv(chunks) -> bytes:
    return b"".join(chunks)


def test_python_csv_of_hostile_values_is_escaped_and_quoted(hostile_register):
    """S6: every formula start is escaped and every cell reads back as it was."""
    from customers.labels import LabelFilters, label_selection, python_csv_chunks

    body = labels_csv(python_csv_chunks(label_selection(LabelFilters()).customers))
    assert body.startswith(b"\xef\xbb\xbfname,organisation,street_address,postal_code,city,country\r\n")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))[1:]
    assert len(rows) == len(HOSTILE) + 6
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n")) for cell in row)
    streets = {row[2] for row in rows}
    assert '\'=HYPERLINK("http://x","klik")' in streets and "two\nlines" in streets
    assert "STRASSE" in {row[4] for row in rows}  # Python's capitals, not the database's


@pytest.mark.skipif(
    not __import__("django.db").db.connection.vendor == "postgresql", reason="COPY is PostgreSQL's"
)
def test_postgresql_copy_gives_the_same_file_as_the_python_writer(hostile_register):
    """S6: the CSV PostgreSQL writes with COPY is byte for byte the Python writer's, for
    formulas, quotes, delimiters, line breaks, backslashes and non-ASCII letters."""
    from customers.labels import LabelFilters, copy_csv_chunks, label_selection, python_csv_chunks

    queryset = label_selection(LabelFilters()).customers
    assert labels_csv(copy_csv_chunks(queryset)) == labels_csv(python_csv_chunks(queryset))


@pytest.mark.skipif(
    not __import__("django.db").db.connection.vendor == "postgresql", reason="COPY is PostgreSQL's"
)
def test_postgresql_copy_matches_in_blocks_too(hostile_register, monkeypatch):
    """Block boundaries fall between lines, wherever they are."""
    from customers import labels

    monkeypatch.setattr(labels, "CSV_BLOCK_BYTES", 10)
    queryset = labels.label_selection(labels.LabelFilters()).customers
    assert labels_csv(labels.copy_csv_chunks(queryset)) == labels_csv(labels.python_csv_chunks(queryset))
