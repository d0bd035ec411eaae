"""What an import file may cost (issue 17, findings 8 and 9): rows, columns and cell
length are checked while the file is read; a hostile or broken file gets a clear
message on the import page, never a 500 and never a traceback."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from customers.models import Customer, MarketingObjection
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:customers_customer_import")
BAN_LIST = reverse("admin:customers_customer_banlist")
HEADER = ["first_name", "last_name", "email"]


def preview(client, content: bytes, name="asiakkaat.xlsx"):
    upload = SimpleUploadedFile(name, content)
    return client.post(IMPORT, {"import_file": upload, "source": "import"}, HTTP_ACCEPT_LANGUAGE="en")


def refused(response, message: str) -> None:
    """The import page again, with the message by the file field; nothing imported."""
    assert response.status_code == 400, response.status_code
    assert message in str(response.context["form"].errors["import_file"])
    assert "Traceback" not in response.text and "File &quot;" not in response.text
    assert not Customer.objects.exists()


def xlsx(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_sheet(content: bytes, sheet_data: bytes | None = None, *, replace=None) -> bytes:
    """The workbook with its sheet's XML rewritten, as a hostile file would be: the
    <sheetData> replaced, or (replace) a function of the whole part. Big parts are
    written through the zip a chunk at a time, as a tool would write them."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, data)
                continue
            if sheet_data is not None:
                data = re.sub(rb"<sheetData>.*</sheetData>", lambda _: sheet_data, data, flags=re.S)
            parts = replace(data) if replace else [data]
            entry = zipfile.ZipInfo(info.filename)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with target.open(entry, "w", force_zip64=True) as part:
                for chunk in parts:
                    part.write(chunk)
    return out.getvalue()


def inline(reference: str, text: str) -> bytes:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


HEADER_ROW = b'<row r="1">' + inline("A1", "first_name") + inline("B1", "last_name") + b"</row>"


def test_a_cell_of_a_gigabyte_is_refused_before_it_is_unpacked(owner_client):
    """Finding 8: one cell of a billion characters (a 1 MB file) is refused by the
    parts' declared sizes, without unpacking anything."""

    def huge_cell(data):
        head, tail = data.split(b"</sheetData>")
        yield head + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
        for _ in range(1024):
            yield b"a" * (1024 * 1024)
        yield b"</t></is></c>" + inline("B2", "Suuri") + b"</row></sheetData>" + tail

    content = with_sheet(xlsx(["first_name", "last_name"]), replace=huge_cell)
    assert len(content) < 2 * 1024 * 1024
    refused(preview(owner_client, content), "The file unpacks to more than 200 MB")


def test_a_long_cell_is_refused_while_it_is_read(owner_client, settings):
    """A 30-million-character cell inside the unpacked limit: the reading stops at the
    cell limit with a message saying so."""
    settings.IMPORT_MAX_UNPACKED_BYTES = 64 * 1024 * 1024

    def long_cell(data):
        yield data.split(b"<sheetData>")[0] + b"<sheetData>" + HEADER_ROW
        yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
        for _ in range(30):
            yield b"a" * (1024 * 1024)
        yield b"</t></is></c></row></sheetData></worksheet>"

    content = with_sheet(xlsx(["x"]), replace=long_cell)
    refused(preview(owner_client, content), "A cell of the file holds more than 10,000 characters")


def test_a_cell_just_over_the_limit_is_refused_in_xlsx_and_csv(owner_client, settings):
    settings.IMPORT_MAX_CELL_CHARS = 50
    long_name = "Pitkä" * 11
    refused(preview(owner_client, xlsx(HEADER, [long_name, "Nimi", ""])), "more than 50 characters")
    csv = f"first_name,last_name\r\n{long_name},Nimi\r\n".encode("utf-8-sig")
    refused(preview(owner_client, csv, name="asiakkaat.csv"), "more than 50 characters")


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_more_rows_than_the_limit_are_refused_and_the_limit_itself_is_imported(owner_client, settings, kind):
    settings.IMPORT_MAX_ROWS = 20

    def build(rows: int) -> tuple[bytes, str]:
        data = [[f"Etu{i}", f"Suku{i}", f"h{i}@example.fi"] for i in range(rows)]
        if kind == "xlsx":
            return xlsx(HEADER, *data), "asiakkaat.xlsx"
        lines = [",".join(HEADER)] + [",".join(row) for row in data]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig"), "asiakkaat.csv"

    refused(preview(owner_client, *build(21)), "The file has more than 20 rows")
    response = preview(owner_client, *build(20))
    assert response.status_code == 200 and response.context["outcome"].new == 20


def test_a_million_rows_in_a_small_file_are_refused_at_the_limit(owner_client, settings):
    """Finding 8: a few hundred kilobytes can hold a million rows; the reading stops at
    the first row over the limit."""
    settings.IMPORT_MAX_ROWS = 1000

    def million(data):
        yield data.split(b"<sheetData>")[0] + b"<sheetData>" + HEADER_ROW
        row = b"<row>" + b'<c t="inlineStr"><is><t>Aino</t></is></c>' * 2 + b"</row>"
        for _ in range(1000):
            yield row * 1000
        yield b"</sheetData></worksheet>"

    content = with_sheet(xlsx(["x"]), replace=million)
    assert len(content) < 1024 * 1024
    refused(preview(owner_client, content), "The file has more than 1,000 rows")


def test_a_row_numbered_a_million_is_refused(owner_client):
    content = with_sheet(
        xlsx(["x"]),
        HEADER_ROW.join([b"<sheetData>", b'<row r="1048576">' + inline("A1048576", "Aino") + b"</row>"])
        + b"</sheetData>",
    )
    refused(preview(owner_client, content), "The file has more than 100,000 rows")


def test_a_sheet_claiming_a_million_rows_and_every_column_reads_only_what_it_holds(owner_client):
    """The sheet's own <dimension> (A1:XFD1048576) made openpyxl pad every row to
    16,384 columns and the sheet to a million rows; only the cells holding a value are
    read."""
    content = xlsx(HEADER, ["Aino", "Ulottuvuus", "aino@example.fi"])
    content = with_sheet(
        content,
        replace=lambda data: [re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)],
    )
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    response = preview(owner_client, content)
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert len(outcome.rows) == 1 and outcome.new == 1


def test_formatted_empty_cells_far_to_the_right_do_not_count_as_columns(owner_client):
    """Excel writes an empty cell for a formatted one: it holds no value, so it is no column."""
    content = with_sheet(
        xlsx(["x"]),
        b"<sheetData>"
        + HEADER_ROW.replace(b"</row>", b'<c r="XFD1" s="0"/></row>')
        + b'<row r="2">'
        + inline("A2", "Aino")
        + inline("B2", "Muotoiltu")
        + b'<c r="XFD2" s="0"/></row></sheetData>',
    )
    response = preview(owner_client, content)
    assert response.status_code == 200 and response.context["outcome"].new == 1


def test_more_columns_than_the_limit_are_refused(owner_client, settings):
    settings.IMPORT_MAX_COLUMNS = 10
    refused(preview(owner_client, xlsx(HEADER + ["x"] * 8, ["Aino", "Leveä"])), "more than 10 columns")
    csv = ",".join(HEADER + ["x"] * 8).encode() + b"\r\nAino,Leve\r\n"
    refused(preview(owner_client, csv, name="leveä.csv"), "more than 10 columns")
    # Empty columns at the end of a CSV row (a spreadsheet's stray delimiters) are no columns.
    response = preview(owner_client, b"first_name,last_name" + b"," * 30 + b"\r\nAino,Leve\r\n", name="a.csv")
    assert response.status_code == 200 and response.context["outcome"].new == 1


WORKSHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s</worksheet>'


@pytest.mark.parametrize(
    "part",
    [
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaa">]>' + WORKSHEET % b"<sheetData/>",
        WORKSHEET
        % (b'<sheetData><row r="1"><c r="A1" x="' + b"a" * (3 * 1024 * 1024) + b'"/></row></sheetData>'),
        WORKSHEET % b'<sheetData><row r="-1"><c><v>1</v></c></row></sheetData>',
        WORKSHEET % b'<sheetData><row r="1"><c r="1A"><v>1</v></c></row></sheetData>',
        (WORKSHEET % b"<sheetData><row>")[:-12],
    ],
    ids=["doctype", "huge-attribute", "negative-row", "bad-reference", "truncated"],
)
def test_malformed_sheets_are_refused_as_unreadable(owner_client, part):
    content = with_sheet(xlsx(["x"]), replace=lambda data: [part])
    refused(preview(owner_client, content), "The file could not be read")


def test_a_bzip2_part_is_refused(owner_client):
    """Only what Excel writes (deflate, or stored): other methods unpack without a bound."""
    source = zipfile.ZipFile(io.BytesIO(xlsx(HEADER, ["Aino", "Pakattu", ""])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename), compress_type=zipfile.ZIP_BZIP2)
    refused(preview(owner_client, out.getvalue()), "The file could not be read")


def test_nul_characters_in_a_csv_get_a_message(owner_client):
    """Finding 9: a NUL byte, which PostgreSQL's text columns reject, stops the file."""
    response = preview(owner_client, b"first_name,last_name\r\nAi\x00no,Nolla\r\n", name="nolla.csv")
    refused(response, "NUL characters")


def test_a_cell_over_the_csv_modules_own_limit_gets_the_cell_message(owner_client):
    """Python's csv module raises on a field over 131,072 characters: the message is the
    cell limit's, not an error page."""
    content = b'first_name,last_name\r\n"' + b"a" * 140_000 + b'",Pitka\r\n'
    refused(preview(owner_client, content, name="pitka.csv"), "more than 10,000 characters")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("asiakkaat.html", b"<table><tr><td>first_name</td><td>last_name</td></tr></table>"),
        ("asiakkaat.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512),
        ("asiakkaat.json", b'[{"first_name": "Aino", "last_name": "Json"}]'),
        ("asiakkaat", "first_name,last_name\r\nAino,Nimetön\r\n".encode()),
    ],
    ids=["html", "xls", "json", "no-suffix"],
)
def test_only_the_formats_the_import_reads_are_accepted(owner_client, name, content):
    """Finding 9: an import in the html format was a 500; every other format now gets
    the list of those the import reads."""
    refused(
        preview(owner_client, content, name=name),
        "Only these kinds of file can be imported: .csv, .txt, .tsv, .xlsx, .ods.",
    )


def test_the_upload_field_offers_only_the_formats_read(owner_client):
    assert 'accept=".csv,.txt,.tsv,.xlsx,.ods"' in owner_client.get(IMPORT).text


def test_an_old_or_password_protected_excel_file_gets_a_message(owner_client):
    """Both are OLE compound files, whatever they are named."""
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024
    refused(preview(owner_client, content), "Save it in Excel as an XLSX workbook without a password")


def test_an_html_page_saved_as_csv_gets_a_message(owner_client):
    content = b"<html><body><table><tr><td>first_name</td></tr></table></body></html>"
    refused(preview(owner_client, content, name="asiakkaat.csv"), "could not be read as a table")


def test_error_messages_speak_finnish_by_default(owner_client, settings):
    settings.IMPORT_MAX_ROWS = 1
    upload = SimpleUploadedFile("a.csv", b"first_name,last_name\r\nA,B\r\nC,D\r\n")
    response = owner_client.post(IMPORT, {"import_file": upload, "source": "import"})
    assert response.status_code == 400 and "Tiedostossa on yli 1 riviä" in response.text


def ban_list(client, content: bytes, name="kielto.csv"):
    upload = SimpleUploadedFile(name, content)
    return client.post(BAN_LIST, {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")


BAN_HEADER = "etunimi;sukunimi;katuosoite;postinumero\r\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            (BAN_HEADER + "Kiello;" + "a" * 140_000 + ";Tie 1;00100\r\n").encode("utf-8-sig"),
            "more than 10,000",
        ),
        ((BAN_HEADER + "Kiel\x00lo;Listalla;Tie 1;00100\r\n").encode("utf-8-sig"), "NUL characters"),
        ((BAN_HEADER + "Kiello;Listalla;Tie 1;00100\r\n" * 3).encode("utf-8-sig"), "more than 2 rows"),
        (bytes(range(1, 256)) * 40, "could not be read"),
    ],
    ids=["field-over-131072", "nul", "too-many-rows", "binary"],
)
def test_a_hostile_ban_list_gets_a_message_and_changes_nothing(owner_client, settings, content, message):
    """Finding 9: a ban-list field over 131,072 characters was a 500."""
    settings.IMPORT_MAX_ROWS = 2
    CustomerFactory(first_name="Kiello", last_name="Listalla", street_address="Tie 1", postal_code="00100")
    response = ban_list(owner_client, content)
    assert response.status_code == 400
    assert message in str(response.context["form"].errors["file"]) and "Traceback" not in response.text
    assert not MarketingObjection.objects.exists()


def test_a_ban_list_as_finnish_excel_saves_it_still_works(owner_client):
    """The limits leave an ordinary list alone: semicolons, BOM, CRLF, short rows."""
    banned = CustomerFactory(
        first_name="Kiello", last_name="Listalla", street_address="Tie 1", postal_code="00100"
    )
    content = (BAN_HEADER + "Kiello;Listalla;Tie 1;00100\r\nLyhyt;Rivi\r\n").encode("utf-8-sig")
    response = ban_list(owner_client, content)
    assert response.status_code == 200 and not MarketingObjection.objects.exists()  # a preview first
    token = response.context["confirm_form"].initial["token"]
    assert owner_client.post(BAN_LIST, {"token": token}).status_code == 302
    assert MarketingObjection.objects.get().customer == banned
