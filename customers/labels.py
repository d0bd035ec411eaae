"""Mailing labels for addressed direct mail (privacy notice S6, S17).

Who is on a label sheet is decided in one place, `label_selection`: never
anyone who objected to publication in lists or to direct advertising, never
an anonymised customer, never an incomplete address. CSV and XLSX go through
django-import-export's Resource with every cell escaped against formula
injection; the PDF label sheet is drawn with reportlab. All formats stream:
memory does not grow with the number of customers.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.models import Exists, OuterRef, Q, QuerySet
from import_export import fields, resources

from .models import DIRECT_MARKETING_PURPOSES, Customer, CustomerQuerySet, Order

# Addressed direct mail is direct marketing: whoever objected to any of its forms is
# left out.
LABEL_PURPOSES = DIRECT_MARKETING_PURPOSES
# OWASP CSV injection: a cell starting with one of these is read as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
CHUNK = 2000
# The CSV dialect of label exports, in one place: the csv module and PostgreSQL's COPY
# (copy_csv_chunks) both write it from these.
CSV_DELIMITER = ","
CSV_QUOTE = '"'
CSV_LINE_END = "\r\n"
CSV_BOM = "\ufeff"
CSV_BLOCK_BYTES = 64_000


def escape_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class LabelFilters:
    postal_code_from: str = ""
    postal_code_to: str = ""
    city: str = ""
    last_purchase_since: datetime.date | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class LabelSelection:
    customers: QuerySet
    left_out_objection: int
    left_out_anonymised: int
    left_out_incomplete: int

    def counts(self, included: int) -> dict[str, int]:
        return {
            "rows": included,
            "left_out_objection": self.left_out_objection,
            "left_out_anonymised": self.left_out_anonymised,
            "left_out_incomplete": self.left_out_incomplete,
        }


LABEL_FIELDS = (
    "first_name",
    "last_name",
    "street_address",
    "postal_code",
    "city",
    "country",
    "organisation__name",
)
INCOMPLETE = Q(street_address="") | Q(postal_code="") | Q(city="")


def _filtered(filters: LabelFilters) -> CustomerQuerySet:
    qs = Customer.objects.all()
    if filters.postal_code_from:
        qs = qs.filter(postal_code__gte=filters.postal_code_from)
    if filters.postal_code_to:
        qs = qs.filter(postal_code__lte=filters.postal_code_to)
    if filters.city:
        qs = qs.filter(city__iexact=filters.city)
    if filters.organisation_id:
        qs = qs.filter(organisation_id=filters.organisation_id)
    if filters.last_purchase_since:
        recent = Order.objects.filter(customer=OuterRef("pk"), ordered_on__gte=filters.last_purchase_since)
        qs = qs.filter(Exists(recent))
    return qs


def label_selection(filters: LabelFilters, *, with_counts: bool = True) -> LabelSelection:
    """Who gets a label, and how many were left out and why (counts only)."""
    base = _filtered(filters)
    included = (
        base.contactable(*LABEL_PURPOSES)
        .exclude(INCOMPLETE)
        .select_related("organisation")
        .order_by("postal_code", "last_name", "pk")
    )
    if not with_counts:
        return LabelSelection(included, 0, 0, 0)
    return LabelSelection(
        included,
        left_out_objection=base.not_anonymised().objecting_to(*LABEL_PURPOSES).count(),
        left_out_anonymised=base.filter(anonymised_at__isnull=False).count(),
        left_out_incomplete=base.contactable(*LABEL_PURPOSES).filter(INCOMPLETE).count(),
    )


def label_cells(record: tuple) -> list[str]:
    """A label's columns from a record of LABEL_FIELDS, in the Finnish address order the
    sheet prints: name, organisation, street, postal code, CITY, country (abroad only)."""
    first, last, street, postal, city, country, organisation = record
    return [
        f"{first} {last}".strip(),
        organisation or "",
        street,
        postal,
        city.upper(),
        "" if country == "FI" else country,
    ]


class LabelResource(resources.Resource):
    """The columns of a label export; every value escaped against formula injection.

    It exports the plain rows of `label_records` (tuples of LABEL_FIELDS), not model
    instances: building a Customer parses its phone number, which made an export of
    100,000 labels ten times slower for a value no label shows. A row is made in one
    step (`export_resource`), not a call per field: a call per cell was half the time
    of the export on PostgreSQL."""

    name = fields.Field(column_name="name")
    organisation = fields.Field(column_name="organisation")
    street_address = fields.Field(column_name="street_address")
    postal_code = fields.Field(column_name="postal_code")
    city = fields.Field(column_name="city")
    country = fields.Field(column_name="country")

    class Meta:
        fields = ("name", "organisation", "street_address", "postal_code", "city", "country")
        export_order = fields

    def export_resource(self, record, selected_fields=None, **kwargs):
        return [escape_cell(cell) for cell in label_cells(record)]


def label_records(queryset: QuerySet) -> Iterator[tuple]:
    """Only what a label shows is loaded (never the phone), in chunks."""
    return queryset.values_list(*LABEL_FIELDS).iterator(chunk_size=CHUNK)


def label_rows(queryset: QuerySet) -> Iterator[list[str]]:
    resource = LabelResource()
    yield resource.get_export_headers()
    export = resource.export_resource
    for record in label_records(queryset):
        yield export(record)


def csv_writer(target):
    return csv.writer(
        target,
        delimiter=CSV_DELIMITER,
        quotechar=CSV_QUOTE,
        lineterminator=CSV_LINE_END,
        quoting=csv.QUOTE_MINIMAL,
        doublequote=True,
    )


def csv_chunks(queryset: QuerySet) -> Iterator[bytes]:
    """The labels as CSV (UTF-8 with a BOM so spreadsheets read ä and ö), in blocks of
    about 64 kB: written by PostgreSQL itself there, by Python's csv module elsewhere."""
    if connections[queryset.db].vendor == "postgresql":
        return copy_csv_chunks(queryset)
    return python_csv_chunks(queryset)


def _csv_header() -> bytes:
    header = io.StringIO()
    csv_writer(header).writerow(LabelResource().get_export_headers())
    return (CSV_BOM + header.getvalue()).encode()


def python_csv_chunks(queryset: QuerySet) -> Iterator[bytes]:
    """CSV written row by row by Python's csv module: the reference the COPY path matches."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    export = LabelResource().export_resource
    yield _csv_header()
    for record in label_records(queryset):
        writer.writerow(export(record))
        if buffer.tell() > CSV_BLOCK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def copy_csv_chunks(queryset: QuerySet) -> Iterator[bytes]:
    """The same bytes made by PostgreSQL: each label is one line built in SQL
    (`_copy_sql`) and streamed with COPY, so Python only glues lines into blocks.

    COPY's text format escapes backslashes and control characters inside a line, so
    its row ends are the only bare newlines: they become CSV_LINE_END. A block with
    no backslash (nearly all of them) needs nothing more."""
    connection = connections[queryset.db]
    sql, params = _copy_sql(queryset, connection)
    yield _csv_header()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
            block = bytearray()
            for line in copy:
                block += line
                if len(block) > CSV_BLOCK_BYTES:
                    yield _copy_block(bytes(block))
                    block.clear()
            yield _copy_block(bytes(block))


_COPY_UNESCAPE = {b"\\": b"\\", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
_COPY_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_LINE_END = CSV_LINE_END.encode()
CR_LF = "\r\n"  # the line breaks that make the csv module quote a cell
# The mark of a line whose city Python puts in capitals (see _copy_sql). No other line
# starts with a tab: the name cell, first on the line, is stripped of white space.
_CITY_FOR_PYTHON = b"\t"
_CITY = 4  # the city's place in label_cells


def _copy_block(block: bytes) -> bytes:
    if b"\\" not in block:
        return block.replace(b"\n", _LINE_END)
    return _LINE_END.join(_copy_line(line) for line in block.split(b"\n"))


def _copy_line(line: bytes) -> bytes:
    line = _COPY_ESCAPE.sub(lambda match: _COPY_UNESCAPE[match.group(1)], line)
    if not line.startswith(_CITY_FOR_PYTHON):
        return line
    text = line[len(_CITY_FOR_PYTHON) :].decode()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=CSV_DELIMITER, quotechar=CSV_QUOTE)
    cells = next(reader)
    cells[_CITY] = escape_cell(cells[_CITY].upper())
    out = io.StringIO()
    csv_writer(out).writerow(cells)
    return out.getvalue().removesuffix(CSV_LINE_END).encode()


def _bracket(characters) -> str:
    """A bracket expression of PostgreSQL's regular expressions matching these characters;
    a backslash before a character that is not a letter or digit makes it literal."""
    return "[" + "".join(c if c.isalnum() else "\\" + c for c in characters) + "]"


def _literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings: only quotes are doubled); %
    is doubled too, for the driver's parameter binding."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


# What str.strip() strips; btrim() is given the same characters.
@functools.cache
def _white_space() -> str:
    return "".join(chr(c) for c in range(1, sys.maxunicode + 1) if chr(c).isspace())


def _escaped(expression: str) -> str:
    """escape_cell in SQL (ascii() is the code of the first character, 0 for '')."""
    starts = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
    return f"(CASE WHEN ascii({expression}) IN ({starts}) THEN '''' || {expression} ELSE {expression} END)"


def _quoted(column: str) -> str:
    """The csv module's QUOTE_MINIMAL in SQL: a cell with the delimiter, the quote or a
    line break is quoted, its quotes doubled (strpos is cheaper than a regex here)."""
    needs = " OR ".join(
        f"strpos({column}, {_literal(special)}) > 0" for special in (CSV_DELIMITER, CSV_QUOTE, *CR_LF)
    )
    quote = _literal(CSV_QUOTE)
    doubled = _literal(CSV_QUOTE * 2)
    quoted = f"{quote} || replace({column}, {quote}, {doubled}) || {quote}"
    return f"(CASE WHEN {needs} THEN {quoted} ELSE {column} END)"


# Joins a label's raw values for the one check that tells a plain label (most of them)
# from one needing escaping, quoting or stripping; neither white space nor a formula start.
_SEPARATOR = "\x01"


def _copy_sql(queryset: QuerySet, connection) -> tuple[str, tuple]:
    """One CSV line per label, as label_cells, escape_cell and the csv module make it.

    A plain label (no cell to escape, quote or strip; checked with one regular
    expression over its values) is its values joined. Any other is built cell by cell.
    Python's upper() and the server's disagree on some letters (ß, ligatures; in a C
    locale on everything past ASCII): a city with a letter not known to agree is left
    as it is, its line marked with a leading tab, and Python puts it in capitals."""
    inner, params = queryset.values_list(*LABEL_FIELDS).query.sql_with_params()
    raw_name = "label.first_name || ' ' || label.last_name"
    organisation = "coalesce(label.organisation, '')"
    country = "(CASE WHEN label.country = 'FI' THEN '' ELSE label.country END)"
    city_agrees = (
        # Plain ASCII (as many bytes as characters) needs no regular expression.
        "(octet_length(label.city) = char_length(label.city)"
        f" OR label.city ~ {_literal(_upper_agrees_pattern(connection))})"
    )
    street, postal, city = "label.street_address", "label.postal_code", "label.city"
    values = (raw_name, organisation, street, postal, city, "label.country")
    separator = _literal(_SEPARATOR)
    joined_values = f"concat({separator}, " + f", {separator}, ".join(values) + f", {separator})"
    white_space = _bracket(_white_space())
    needs_care = "|".join(
        [
            _bracket(CSV_DELIMITER + CSV_QUOTE + CR_LF),  # a cell to quote
            _bracket(_SEPARATOR) + _bracket(FORMULA_STARTS),  # a cell to escape
            _bracket(_SEPARATOR) + white_space,  # the name to strip (others are harmless)
            white_space + _bracket(_SEPARATOR),
        ]
    )
    delimiter = _literal(CSV_DELIMITER)
    plain_line = (
        f"concat_ws({delimiter}, {raw_name}, {organisation}, {street}, {postal}, upper({city}), {country})"
    )
    cells = [
        _escaped(f"btrim({raw_name}, {_literal(_white_space())})"),
        _escaped(organisation),
        _escaped("label.street_address"),
        _escaped("label.postal_code"),
        f"(CASE WHEN {city_agrees} THEN {_escaped('upper(label.city)')} ELSE label.city END)",
        _escaped(country),
    ]
    careful_line = f" || {delimiter} || ".join(_quoted(cell) for cell in cells)
    mark = _literal(_CITY_FOR_PYTHON.decode())
    # Every value in this SQL is a literal made by _literal() or a parameter of `inner`.
    sql = (
        f"SELECT CASE WHEN {joined_values} !~ {_literal(needs_care)} AND {city_agrees}"  # noqa: S608
        f" THEN {plain_line}"
        f" ELSE (CASE WHEN {city_agrees} THEN '' ELSE {mark} END) || {careful_line} END"
        f" FROM ({inner}) AS label(first_name, last_name, street_address, postal_code, city, country,"
        " organisation)"
    )
    return sql, params


def _upper_agrees_pattern(connection) -> str:
    """A regular expression matching text whose every character the server puts in
    capitals exactly as Python does (ASCII to Cyrillic are checked, once per database)."""
    key = (connection.alias, connection.settings_dict["NAME"])
    if key not in _UPPER_AGREES:
        candidates = [chr(c) for c in range(1, 0x530) if not 0xD800 <= c <= 0xDFFF]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT array_agg(upper(c) ORDER BY i) FROM unnest(%s::text[]) WITH ORDINALITY AS t(c, i)",
                [candidates],
            )
            capitals = cursor.fetchone()[0]
        agree = [c for c, capital in zip(candidates, capitals, strict=True) if c.upper() == capital]
        _UPPER_AGREES[key] = "^" + _bracket(agree) + "*$"
    return _UPPER_AGREES[key]


_UPPER_AGREES: dict[tuple, str] = {}


def write_xlsx(queryset: QuerySet, target) -> None:
    """XLSX in openpyxl's write-only mode: rows go to disk as they come. Every cell is a
    string cell, so even an escaped formula can never be evaluated."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("labels")
    for row in label_rows(queryset):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)


def address_lines(record: tuple) -> list[str]:
    """Finnish address order: name, organisation, street, postal code and CITY, country."""
    name, organisation, street, postal, city, country = label_cells(record)
    lines = [name]
    if organisation:
        lines.append(organisation)
    lines += [street, f"{postal} {city}"]
    if country:
        lines.append(country)
    return lines


def write_pdf(queryset: QuerySet, target) -> int:
    """A4 sheets of labels (LABEL_SHEET setting; default 3 x 8 of 70 x 37 mm)."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    layout = settings.LABEL_SHEET
    font = _font()
    page_w, page_h = 210 * mm, 297 * mm
    cols, rows = layout["columns"], layout["rows"]
    label_w, label_h = layout["width_mm"] * mm, layout["height_mm"] * mm
    margin_x = (page_w - cols * label_w) / 2
    margin_y = (page_h - rows * label_h) / 2
    pdf = canvas.Canvas(target, pagesize=(page_w, page_h), pageCompression=1)
    pdf.setTitle("Labels")
    count = 0
    for record in label_records(queryset):
        slot = count % (cols * rows)
        if count and slot == 0:
            pdf.showPage()
        col, row = slot % cols, slot // cols
        x = margin_x + col * label_w + layout["padding_mm"] * mm
        y = page_h - margin_y - row * label_h - layout["padding_mm"] * mm - 10
        pdf.setFont(font, layout["font_size"])
        for line in address_lines(record):
            pdf.drawString(x, y, line[:48])
            y -= layout["font_size"] + 2
        count += 1
    pdf.save()
    return count


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = Path(settings.LABEL_FONT) if settings.LABEL_FONT else None
    if path is None or not path.is_file():
        return "Helvetica"  # Latin-1 only, but always there
    if "LabelFont" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("LabelFont", str(path)))
    return "LabelFont"
