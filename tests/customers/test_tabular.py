"""Reading the files staff have (customers/tabular.py): every cell as text, every row
with the number the spreadsheet shows, whatever the tool that wrote it."""

import io
import zipfile
from pathlib import Path

import pytest
from django.utils import translation

from customers.tabular import TableError, read_table

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


FINNISH_HEADERS = [
    "Etunimi",
    "Sukunimi",
    "Sähköposti",
    "Puhelin",
    "Katuosoite",
    "Postinumero",
    "Postitoimipaikka",
    "Maa",
    "Syntymäaika",
]


@pytest.mark.parametrize(
    ("fixture", "encoding", "delimiter"),
    [
        ("finnish_excel.csv", "cp1252", ";"),
        ("finnish_excel_utf8.csv", "utf-8-sig", ";"),
        ("finnish_excel_unicode.txt", "utf-16", "\t"),
    ],
)
def test_finnish_excel_text_files_are_read_with_their_encoding_and_delimiter(fixture, encoding, delimiter):
    table = read_table((FIXTURES / fixture).read_bytes(), fixture)
    assert (table.kind, table.encoding, table.delimiter) == ("csv", encoding, delimiter)
    assert table.headers == FINNISH_HEADERS
    assert [row.number for row in table.rows] == [2, 3, 4]
    assert table.rows[0].cells[:2] == ["Aino", "Mäkinen"]
    assert table.rows[1].cells == [
        "Matti",
        "Öhman",
        "",
        "0501234567",
        "Kauppatie 1",
        "100",
        "Helsinki",
        "",
        "1.5.1990",
    ]
    assert table.rows[2].cells[4] == "Sörnäisten rantatie 3 as. 4"


@pytest.mark.parametrize("fixture", ["finnish_workbook.xlsx", "finnish_workbook.ods"])
def test_libreoffice_workbooks_give_text_with_empty_cells_as_empty_strings(fixture):
    table = read_table((FIXTURES / fixture).read_bytes(), fixture)
    assert table.kind == fixture.rsplit(".", 1)[1]
    assert table.headers == FINNISH_HEADERS
    aino, matti, liisa = table.rows
    assert aino.number == 2 and aino.cells[3] == "401234567"  # a phone typed as a number
    assert aino.cells[8] == "1980-12-31"  # 31.12.1980, a date in the workbook
    assert matti.cells == ["Matti", "Öhman", "", "", "Kauppatie 1", "100", "Helsinki", "", "1990-05-01"]
    assert liisa.cells == ["Liisa", "Laaksonen", "liisa.l@example.fi", "", "", "", "", "", ""]
    assert all(isinstance(cell, str) for row in table.rows for cell in row.cells)


@pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"])
def test_any_line_ends(line_end):
    text = line_end.join(["etunimi,sukunimi", "Aino,Mäkinen", "Eino,Leino", ""])
    table = read_table(text.encode(), "a.csv")
    assert [(row.number, row.cells) for row in table.rows] == [
        (2, ["Aino", "Mäkinen"]),
        (3, ["Eino", "Leino"]),
    ]


def test_blank_rows_are_left_out_and_the_others_keep_their_spreadsheet_numbers():
    content = b";;\r\nfirst_name;last_name;city\r\n;;\r\nAino;M\xe4kinen\r\n\r\nEino;Leino;Oulu;;\r\n"
    table = read_table(content, "a.csv")
    assert table.headers == ["first_name", "last_name", "city"]
    assert [(row.number, row.cells) for row in table.rows] == [
        (4, ["Aino", "Mäkinen", ""]),  # a short row is padded with empty cells
        (6, ["Eino", "Leino", "Oulu"]),  # the empty cells past the header are dropped
    ]


def test_a_quoted_cell_keeps_its_delimiters_and_line_ends():
    content = 'Name;Address\r\n"Mäkinen; Aino";"Kauppatie 1\r\nA 5"\r\nEino;Tie 2\r\n'.encode("cp1252")
    table = read_table(content, "a.csv")
    assert [(row.number, row.cells) for row in table.rows] == [
        (2, ["Mäkinen; Aino", "Kauppatie 1\r\nA 5"]),
        (3, ["Eino", "Tie 2"]),
    ]


def test_cells_past_the_header_are_kept_for_the_caller_to_see():
    table = read_table(b"a,b\n1,2,3\n", "a.csv")
    assert table.rows[0].cells == ["1", "2", "3"]


def test_header_only_gives_no_rows():
    table = read_table(b"\xef\xbb\xbfEtunimi;Sukunimi\r\n", "a.csv")
    assert table.headers == ["Etunimi", "Sukunimi"] and table.rows == []


def ods(rows_xml: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
            f'<table:table table:name="A">{rows_xml}</table:table>'
            '<table:table table:name="B"><table:table-row><table:table-cell><text:p>other</text:p>'
            "</table:table-cell></table:table-row></table:table>"
            "</office:spreadsheet></office:body></office:document-content>",
        )
    return buffer.getvalue()


def cell(text="", repeat=1, **attributes):
    extra = "".join(f' office:{k.replace("_", "-")}="{v}"' for k, v in attributes.items())
    body = f"<text:p>{text}</text:p>" if text else ""
    return f'<table:table-cell table:number-columns-repeated="{repeat}"{extra}>{body}</table:table-cell>'


def test_ods_repeated_rows_and_cells_and_typed_values():
    spaced = cell('Aino<text:s text:c="2"/>M')
    rows = (
        f"<table:table-row>{cell('Nimi')}{cell('Postinumero')}{cell('Päivä')}{cell('X')}</table:table-row>"
        f'<table:table-row table:number-rows-repeated="2">{cell(repeat=1024)}</table:table-row>'
        "<table:table-row>"
        f"{spaced}"
        f"{cell('100', value_type='float', value='100')}"
        f"{cell('31.12.1980', value_type='date', date_value='1980-12-31')}"
        f"{cell('k', repeat=2)}{cell(repeat=16000)}"
        "</table:table-row>"
        f'<table:table-row table:number-rows-repeated="1048570">{cell(repeat=1024)}</table:table-row>'
    )
    table = read_table(ods(rows), "a.ods")
    assert table.headers == ["Nimi", "Postinumero", "Päivä", "X"]
    assert [(row.number, row.cells) for row in table.rows] == [
        (4, ["Aino  M", "100", "1980-12-31", "k", "k"])
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"first_name,last_name\nAino\x00,M\n", "NUL"),
        (bytes(range(1, 256)) * 40, "could not be read"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old Excel file"),
        (b"<html><body><table><tr><td>x</td></tr></table></body></html>", "could not be read"),
        (b"PK\x03\x04broken", "could not be read"),
        (b"\n\n;;\n", "no header row"),
    ],
    ids=["empty", "nul", "random", "xls", "html", "broken-zip", "no-header"],
)
def test_unreadable_files_raise_a_clear_message(content, message):
    with pytest.raises(TableError) as error:
        read_table(content, "customers.csv")
    assert message in str(error.value.message)


def test_a_zip_that_is_no_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(TableError, match="not an XLSX or ODS"):
        read_table(buffer.getvalue(), "letter.docx")


def test_limits_apply_to_every_format(settings):
    settings.IMPORT_MAX_ROWS = 2
    for content, name in [
        ((FIXTURES / "finnish_excel.csv").read_bytes(), "a.csv"),
        ((FIXTURES / "finnish_workbook.xlsx").read_bytes(), "a.xlsx"),
        ((FIXTURES / "finnish_workbook.ods").read_bytes(), "a.ods"),
    ]:
        with pytest.raises(TableError, match="more than 2 rows"):
            read_table(content, name)


def test_an_ods_cell_too_long_is_refused(settings):
    settings.IMPORT_MAX_CELL_CHARS = 10
    content = ods(f"<table:table-row>{cell('x' * 11)}</table:table-row>")
    with pytest.raises(TableError, match="more than 10 characters"):
        read_table(content, "a.ods")
