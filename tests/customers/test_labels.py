import csv
import io

import pdfplumber
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
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


def download(client, fmt: str, language: str = "fi", **params) -> bytes:
    response = client.get(URL, {**params, "export": fmt}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_csv_leaves_out_objectors_anonymised_and_incomplete_addresses(owner_client, register):
    """S6, S17: whoever objected, was anonymised or has no full address is never on a label."""
    body = download(owner_client, "csv", language="en").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    names = {r["Name"].split()[-1] for r in rows}
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


@pytest.mark.parametrize("fmt", ["csv", "excel_csv", "xlsx", "pdf"])
def test_export_labels_command_writes_every_format(register, tmp_path, fmt, capsys):
    out = tmp_path / f"labels.{fmt}"
    call_command("export_labels", format=fmt, output=str(out))
    assert out.stat().st_size > 0
    assert "rows: 3" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["", "csv", "excel_csv", "xlsx", "pdf"])
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
    CustomerFactory(city="Kralendijk", country="BQ")  # a country whose name has a comma
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

    with translation.override("en"):
        body = labels_csv(python_csv_chunks(label_selection(LabelFilters()).customers))
    assert body.startswith(b"\xef\xbb\xbfName,Organisation,Street address,Postal code,City,Country\r\n")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))[1:]
    assert len(rows) == len(HOSTILE) + 7
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n")) for cell in row)
    streets = {row[2] for row in rows}
    assert '\'=HYPERLINK("http://x","klik")' in streets and "two\nlines" in streets
    assert "STRASSE" in {row[4] for row in rows}  # Python's capitals, not the database's
    assert {row[5] for row in rows} == {"", "SWEDEN", "BONAIRE, SINT EUSTATIUS AND SABA"}


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


FINNISH_HEADERS = ["Nimi", "Organisaatio", "Katuosoite", "Postinumero", "Postitoimipaikka", "Maa"]
ENGLISH_HEADERS = ["Name", "Organisation", "Street address", "Postal code", "City", "Country"]


def excel_cells(body: bytes) -> list[list[str]]:
    """The file split as Excel in Finnish opens a CSV it is given: a BOM means UTF-8, its
    list separator ';' separates cells, double quotes enclose a cell."""
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline=""), delimiter=";", quotechar='"'))


def excel_value(cell: str) -> str:
    """What Excel shows for a cell: ="..." is a formula whose value is that text; digits
    alone become a number (leading zeros gone)."""
    if cell.startswith('="') and cell.endswith('"'):
        return cell[2:-1].replace('""', '"')
    return str(int(cell)) if cell.isdigit() else cell


def test_excel_csv_opens_in_finnish_excel_in_columns_with_postal_codes_as_text(owner_client, register):
    """S6: the CSV for Excel is what Excel in Finnish opens without an import wizard:
    ';' between cells, UTF-8 with a BOM (ä and ö right), Finnish headers, 00100 kept."""
    CustomerFactory(
        last_name="Pöllänen", street_address="Hämeentie 3; A 5", postal_code="00530", city="Helsinki"
    )
    body = download(owner_client, "excel_csv")
    rows = excel_cells(body)
    assert rows[0] == FINNISH_HEADERS
    assert all(len(row) == 6 for row in rows)
    by_name = {row[0].split()[-1]: row for row in rows[1:]}
    assert set(by_name) == {"Tavallinen", "Tutkimuskieltäjä", "Kaava", "Pöllänen"}
    assert excel_value(by_name["Tavallinen"][3]) == "00100"
    assert by_name["Pöllänen"][2] == "Hämeentie 3; A 5"
    assert excel_value(by_name["Pöllänen"][3]) == "00530"
    assert by_name["Pöllänen"][4] == "HELSINKI"
    # formulas other than the postal code's text stay escaped
    assert by_name["Kaava"][0].startswith("'=HYPERLINK") and by_name["Kaava"][1] == "'+SUM(1)"
    assert not any(name in body.decode("utf-8-sig") for name in LEFT_OUT)
    # the plain CSV of the same labels: commas, which Excel in Finnish would not split
    plain = download(owner_client, "csv")
    assert all(len(row) == 1 for row in excel_cells(plain)[1:] if "," not in "".join(row))
    assert plain.decode("utf-8-sig").splitlines()[0] == ",".join(FINNISH_HEADERS)


def test_excel_csv_postal_code_that_is_not_plain_text_is_escaped_not_a_formula(owner_client, db):
    from customers.models import Customer

    customer = CustomerFactory(last_name="Ulkomaa", country="SE")
    Customer.objects.filter(pk=customer.pk).update(postal_code='=1+1"')
    rows = excel_cells(download(owner_client, "excel_csv"))
    assert rows[1][3] == "'=1+1\""


def test_headers_follow_the_admin_language(owner_client, register):
    """The column headers are Finnish in the Finnish admin, English in the English one."""
    for language, headers in (("fi", FINNISH_HEADERS), ("en", ENGLISH_HEADERS)):
        assert excel_cells(download(owner_client, "excel_csv", language=language))[0] == headers
        body = download(owner_client, "csv", language=language).decode("utf-8-sig")
        assert body.splitlines()[0] == ",".join(headers)
        sheet = load_workbook(io.BytesIO(download(owner_client, "xlsx", language=language))).active
        assert [cell.value for cell in next(sheet.iter_rows())] == headers


def test_xlsx_keeps_postal_codes_as_text_cells(owner_client, register):
    CustomerFactory(last_name="Nollanen", postal_code="00010", city="Helsinki")
    sheet = load_workbook(io.BytesIO(download(owner_client, "xlsx"))).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == FINNISH_HEADERS
    postal = {row[0].value.split()[-1]: row[3] for row in rows[1:]}
    assert postal["Nollanen"].value == "00010" and postal["Nollanen"].data_type == "s"
    assert postal["Tavallinen"].value == "00100" and postal["Tavallinen"].number_format == "@"


def test_page_offers_xlsx_first_then_the_csv_for_excel_then_plain_csv(owner_client, register):
    page = owner_client.get(URL, {"city": ""}, HTTP_ACCEPT_LANGUAGE="fi").content.decode()
    links = [page.index(f'&amp;export={fmt}"') for fmt in ("xlsx", "excel_csv", "csv", "pdf")]
    assert links == sorted(links)
    assert "CSV Excelille" in page


def test_foreign_addresses_end_with_the_country_in_english_capitals(owner_client, db):
    """Posti: the last line of an address abroad is the country's name in capitals."""
    CustomerFactory(
        last_name="Svensson", street_address="Storgatan 1", postal_code="111 22", city="Stockholm",
        country="SE",
    )
    CustomerFactory(
        last_name="Tamm", street_address="Narva mnt 5", postal_code="10117", city="Tallinn", country="EE"
    )
    CustomerFactory(last_name="Kotimaa", postal_code="00100", city="Helsinki")
    labels = {label[0].split()[-1]: label for label in pdf_labels(download(owner_client, "pdf"))[0]}
    assert labels["Svensson"][-2:] == ["111 22 STOCKHOLM", "SWEDEN"]
    assert labels["Tamm"][-2:] == ["10117 TALLINN", "ESTONIA"]
    assert labels["Kotimaa"][-1] == "00100 HELSINKI"
    rows = {row[0].split()[-1]: row for row in excel_cells(download(owner_client, "excel_csv"))[1:]}
    assert rows["Svensson"][5] == "SWEDEN" and rows["Tamm"][5] == "ESTONIA" and rows["Kotimaa"][5] == ""
    assert excel_value(rows["Svensson"][3]) == "111 22"


MM = 72 / 25.4
LONG_STREET = "Pohjoisesplanadi 21 B 34 (2. krs, ovikoodi 1234)"
CUT_HEADING = "Lyhennetyt tarrat"


def label_rects() -> list[tuple[float, float, float, float]]:
    """(left, bottom, right, top) of each label of the sheet, in points, as the label
    stock is made: LABEL_SHEET's grid, centred on A4."""
    from django.conf import settings

    sheet = settings.LABEL_SHEET
    width, height = sheet["width_mm"] * MM, sheet["height_mm"] * MM
    left0 = (210 * MM - sheet["columns"] * width) / 2
    top0 = 297 * MM - (297 * MM - sheet["rows"] * height) / 2
    return [
        (left0 + col * width, top0 - (row + 1) * height, left0 + (col + 1) * width, top0 - row * height)
        for row in range(sheet["rows"])
        for col in range(sheet["columns"])
    ]


def drawn_lines(page) -> list[dict]:
    """Each text line as drawn, measured from its glyphs: consecutive characters of the
    content stream that follow one another on one baseline (the next starts where the
    previous ends) are one line; its box is that of its glyphs."""
    lines: list[dict] = []
    for char in page.chars:
        last = lines[-1] if lines else None
        if last and abs(char["y0"] - last["y0"]) < 0.01 and abs(char["x0"] - last["x1"]) < 0.01:
            last["text"] += char["text"]
            last["x1"] = char["x1"]
            last["y1"] = max(last["y1"], char["y1"])
            last["size"] = min(last["size"], char["size"])
        else:
            lines.append({k: char[k] for k in ("text", "x0", "x1", "y0", "y1", "size")})
    return lines


def pdf_labels(pdf_bytes: bytes) -> tuple[list[list[str]], list[str]]:
    """The labels' lines (label by label, page by page) and the lines of the list of
    cut labels, asserting that every line lies inside one label and inside the printer
    margin, and that a label's lines do not overlap."""
    from django.conf import settings

    edge = settings.LABEL_SHEET["printer_margin_mm"] * MM
    labels: list[list[str]] = []
    cut_list: list[str] = []
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            assert (page.width, page.height) == pytest.approx((210 * MM, 297 * MM), abs=0.01)
            lines = drawn_lines(page)
            for line in lines:
                assert line["x0"] >= edge - 0.01 and line["x1"] <= page.width - edge + 0.01, line
                assert line["y0"] >= edge - 0.01 and line["y1"] <= page.height - edge + 0.01, line
            if lines and lines[0]["text"].startswith(CUT_HEADING):
                cut_list += [line["text"] for line in lines]
                continue
            on_page: dict[int, list[dict]] = {}
            for line in lines:
                inside = [
                    n
                    for n, (left, bottom, right, top) in enumerate(label_rects())
                    if left - 0.01 <= line["x0"] and line["x1"] <= right + 0.01
                    and bottom - 0.01 <= line["y0"] and line["y1"] <= top + 0.01
                ]
                assert len(inside) == 1, f"{line['text']!r} is not inside one label: {line}"
                assert line["x1"] - line["x0"] <= label_rects()[inside[0]][2] - label_rects()[inside[0]][0]
                assert line["size"] >= settings.LABEL_SHEET["min_font_size"] - 0.01
                on_page.setdefault(inside[0], []).append(line)
            for n in sorted(on_page):
                ordered = on_page[n]
                for upper, lower in zip(ordered, ordered[1:], strict=False):
                    assert lower["y1"] <= upper["y0"] + 0.01, (upper, lower)
                labels.append([line["text"] for line in ordered])
    return labels, cut_list


@pytest.fixture
def long_addresses(db):
    """A sheet and a half of labels: plain ones, the long street line of the issue, a
    long organisation, and one address no font size can fit."""
    people = {}
    for n in range(26):
        CustomerFactory(last_name=f"Lyhyt{n:02d}", postal_code="00100")
    people["long"] = CustomerFactory(
        first_name="Maija", last_name="Pitkäosoite", street_address=LONG_STREET, postal_code="00130"
    )
    people["organisation"] = CustomerFactory(
        first_name="Kaarlo",
        last_name="Järjestö",
        organisation=OrganisationFactory(
            name="Pohjois-Pohjanmaan Hyvinvointi- ja Kuntoutuspalveluiden Osuuskunta", business_id=""
        ),
        street_address="Kauppatori 1",
        postal_code="00170",
    )
    people["word"] = CustomerFactory(
        first_name="Pekka",
        last_name="Sanapitkä",
        street_address="Lentokonesuihkuturbiinimoottoriapumekaanikkoaliupseerioppilas 5",
        postal_code="00180",
    )
    people["impossible"] = CustomerFactory(
        first_name="Anna-Maria Kristiina Josefiina Aleksandra Ylipitkä",
        last_name="Osoitteinen",
        organisation=OrganisationFactory(
            name=" ".join(["Pitkänimisen yhdistyksen osasto"] * 6), business_id=""
        ),
        street_address=" ".join(["Hyvin pitkä osoiterivi joka ei mahdu"] * 5),
        postal_code="00190",
    )
    return people


def label_of(labels: list[list[str]], surname: str) -> list[str]:
    return next(label for label in labels if surname in " ".join(label[:2]))


def test_pdf_every_line_fits_its_label_and_the_printer_margin(owner_client, long_addresses):
    """S6: each drawn line, measured from its glyphs on the downloaded sheet, lies inside
    its own label and the printer margin; a long street is wrapped whole, not cut."""
    labels, cut_list = pdf_labels(download(owner_client, "pdf"))
    assert len(labels) == 30
    long = label_of(labels, "Pitkäosoite")
    assert len(long) > 3 and " ".join(long[1:-1]) == LONG_STREET
    assert long[-1] == "00130 HELSINKI"
    assert " ".join(label_of(labels, "Järjestö")[1:-2]) == (
        "Pohjois-Pohjanmaan Hyvinvointi- ja Kuntoutuspalveluiden Osuuskunta"
    )
    word = label_of(labels, "Sanapitkä")
    # a word wider than the label is broken at the smallest size, nothing lost
    street = "Lentokonesuihkuturbiinimoottoriapumekaanikkoaliupseerioppilas 5"
    assert "".join(word[1:-1]).replace(" ", "") == street.replace(" ", "")
    impossible = label_of(labels, "Osoitteinen")
    # cut where it hurts least: the organisation loses its end, the street and the
    # postal code line are whole
    assert impossible[-1] == "00190 HELSINKI"
    assert " ".join(impossible[-5:-1]) == " ".join(["Hyvin pitkä osoiterivi joka ei mahdu"] * 5)
    assert [line for line in impossible if line.endswith("…")] == [impossible[-6]]
    assert impossible[-6].startswith("Pitkänimisen") or impossible[-6].startswith("yhdistyksen")
    # only the label that cannot fit is cut, and the last page says which it is
    assert cut_list[0].startswith(CUT_HEADING)
    assert [line for line in cut_list if "Osoitteinen" in line] == [
        "Sivu 2, tarra 6: Anna-Maria Kristiina Josefiina Aleksandra Ylipitkä Osoitteinen"
    ]
    assert not any(name in " ".join(cut_list) for name in ("Pitkäosoite", "Järjestö", "Sanapitkä"))


def test_pdf_with_nothing_cut_has_no_list_page(owner_client, register):
    labels, cut_list = pdf_labels(download(owner_client, "pdf"))
    assert len(labels) == 3 and cut_list == []


def test_label_page_names_the_labels_that_will_be_cut(owner_client, long_addresses):
    page = owner_client.get(URL, {"city": ""}, HTTP_ACCEPT_LANGUAGE="fi")
    text = " ".join(page.content.decode().split())
    assert "1 osoite ei mahdu tarraansa" in text
    name = "Anna-Maria Kristiina Josefiina Aleksandra Ylipitkä Osoitteinen"
    assert f"(6 pt), ja se lyhennetään tarra-arkilla: {name}." in text
    assert "Pitkäosoite" not in text


def test_narrower_printer_margin_moves_text_inside_it(owner_client, long_addresses, settings):
    """A printer that cannot print within 8 mm of the edge: the outer labels' text moves in."""
    settings.LABEL_SHEET = {**settings.LABEL_SHEET, "printer_margin_mm": 8.0}
    labels, _cut = pdf_labels(download(owner_client, "pdf"))
    assert " ".join(label_of(labels, "Pitkäosoite")[1:-1]) == LONG_STREET


def test_export_labels_command_pdf_fits_too(long_addresses, tmp_path):
    out = tmp_path / "labels.pdf"
    call_command("export_labels", format="pdf", output=str(out))
    labels, cut_list = pdf_labels(out.read_bytes())
    assert len(labels) == 30 and any("Osoitteinen" in line for line in cut_list)
    call_command("export_labels", format="excel_csv", output=str(tmp_path / "e.csv"), language="en")
    assert excel_cells((tmp_path / "e.csv").read_bytes())[0] == ENGLISH_HEADERS


def test_label_page_names_the_same_cut_labels_as_the_pdf(owner_client, long_addresses):
    """The page's warning and the PDF's list agree, for labels cut by their many wrapped
    lines of wide letters, of other scripts, and abroad."""
    wide = " ".join(["W" * 15] * 3)
    CustomerFactory(
        first_name="W" * 15,
        last_name="Leveä",
        street_address=" ".join(["W" * 15] * 6),  # one word a line: two are wider than the label
        organisation=OrganisationFactory(name=wide, business_id=""),
    )
    greek = " ".join(["Ωμέγα Ωμέγα Ωμέγα"] * 11)
    CustomerFactory(
        first_name="Ωμέγα",
        last_name="Ελληνικά",
        street_address=greek,
        organisation=OrganisationFactory(name=greek, business_id=""),
    )
    CustomerFactory(
        first_name="Sven", last_name="Utlandet", street_address=" ".join(["Storgatan"] * 20), country="SE",
        organisation=OrganisationFactory(name=" ".join(["Stora Föreningen"] * 10), business_id=""),
    )
    _labels, cut_list = pdf_labels(download(owner_client, "pdf"))
    in_pdf = sorted(line.split(": ", 1)[1] for line in cut_list if line.startswith("Sivu "))
    assert len(in_pdf) == 4 and any("Leveä" in name for name in in_pdf)
    assert any("Ελληνικά" in name for name in in_pdf) and any("Utlandet" in name for name in in_pdf)
    page = owner_client.get(URL, {"city": ""}, HTTP_ACCEPT_LANGUAGE="fi")
    assert sorted(page.context["cut"]) == in_pdf and page.context["cut_count"] == 4


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LABEL_MIN_FONT_SIZE", "2", "LABEL_MIN_FONT_SIZE must be 4 to 9 points"),
        ("LABEL_MIN_FONT_SIZE", "12", "LABEL_MIN_FONT_SIZE must be 4 to 9 points"),
        ("LABEL_PRINTER_MARGIN_MM", "-1", "LABEL_PRINTER_MARGIN_MM must be 0 to 20"),
    ],
)
def test_label_settings_out_of_range_stop_the_app(name, value, message):
    from tests.test_settings import run_settings

    result = run_settings({"SECRET_KEY": "x" * 50, name: value})
    assert result.returncode != 0 and message in result.stderr


def test_country_names_are_those_phonenumbers_ships_in_english_capitals():
    """The table of customers/country_names.py is phonenumbers' English names, upper-cased:
    it stays so when phonenumbers is upgraded (regenerate it if this fails)."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    from customers.country_names import COUNTRY_NAMES

    english = {code: names["aa"].upper() for code, names in LOCALE_DATA.items() if names.get("aa")}
    assert COUNTRY_NAMES == english
    assert (COUNTRY_NAMES["SE"], COUNTRY_NAMES["EE"], COUNTRY_NAMES["NO"]) == ("SWEDEN", "ESTONIA", "NORWAY")
