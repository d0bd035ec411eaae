"""Mailing labels for addressed direct mail (privacy notice S6, S17).

Who is on a label sheet is decided in one place, `label_selection`: never
anyone who objected to publication in lists or to direct advertising, never
an anonymised customer, never an incomplete address. CSV and XLSX go through
django-import-export's Resource with every cell escaped against formula
injection; the PDF label sheet is drawn with reportlab. All formats stream:
memory does not grow with the number of customers.

Column headers are in the user's language. Besides the plain CSV (`,`) there is a CSV
for Excel in Finnish (`;`, Excel's list separator there; postal codes written as
`="00100"`, which Excel keeps as the text 00100). A foreign address ends with the
country's name in English capitals, as Posti asks; on the PDF every line is fitted to
its label (wrapped, then set smaller down to LABEL_MIN_FONT_SIZE, and only then cut,
the cut labels listed on a last page), inside the printer margin.
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
from django.utils.translation import gettext, pgettext, pgettext_lazy
from import_export import fields, resources

from .country_names import COUNTRY_NAMES
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
# The CSV for Excel in Finnish: its list separator is ";" and it opens a UTF-8 file with
# a BOM as UTF-8. A postal code is written as the formula ="00100", whose value is the
# text 00100 (typed as it is, Excel would make it the number 100); only codes of
# letters, digits, spaces and hyphens are, so no quote can end the formula's string.
EXCEL_CSV_DELIMITER = ";"
EXCEL_TEXT = re.compile(r"[0-9A-Za-z -]+")


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


def label_headers() -> list[str]:
    """The column headers, in the active language (Finnish in the Finnish admin)."""
    return [str(header) for header in LABEL_HEADERS]


LABEL_HEADERS = (
    pgettext_lazy("label column", "Name"),
    pgettext_lazy("label column", "Organisation"),
    pgettext_lazy("label column", "Street address"),
    pgettext_lazy("label column", "Postal code"),
    pgettext_lazy("label column", "City"),
    pgettext_lazy("label column", "Country"),
)


def country_name(code: str) -> str:
    """The last line of a foreign address: the country's short English name in capitals
    (SWEDEN, ESTONIA), as Posti asks (customers/country_names.py); nothing for Finland;
    a code not in the table is printed as it is."""
    if code in ("", "FI"):
        return ""
    return COUNTRY_NAMES.get(code, code)


def label_cells(record: tuple) -> list[str]:
    """A label's columns from a record of LABEL_FIELDS, in the Finnish address order the
    sheet prints: name, organisation, street, postal code, CITY, COUNTRY (abroad only)."""
    first, last, street, postal, city, country, organisation = record
    return [
        f"{first} {last}".strip(),
        organisation or "",
        street,
        postal,
        city.upper(),
        country_name(country),
    ]


class LabelResource(resources.Resource):
    """The columns of a label export; every value escaped against formula injection.

    It exports the plain rows of `label_records` (tuples of LABEL_FIELDS), not model
    instances: building a Customer parses its phone number, which made an export of
    100,000 labels ten times slower for a value no label shows. A row is made in one
    step (`export_resource`), not a call per field: a call per cell was half the time
    of the export on PostgreSQL."""

    name = fields.Field(column_name=LABEL_HEADERS[0])
    organisation = fields.Field(column_name=LABEL_HEADERS[1])
    street_address = fields.Field(column_name=LABEL_HEADERS[2])
    postal_code = fields.Field(column_name=LABEL_HEADERS[3])
    city = fields.Field(column_name=LABEL_HEADERS[4])
    country = fields.Field(column_name=LABEL_HEADERS[5])

    class Meta:
        fields = ("name", "organisation", "street_address", "postal_code", "city", "country")
        export_order = fields

    def get_export_headers(self, selected_fields=None):
        return label_headers()

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


def csv_writer(target, delimiter: str = CSV_DELIMITER):
    return csv.writer(
        target,
        delimiter=delimiter,
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


def _csv_header(delimiter: str = CSV_DELIMITER) -> bytes:
    header = io.StringIO()
    csv_writer(header, delimiter).writerow(label_headers())
    return (CSV_BOM + header.getvalue()).encode()


def excel_postal_code(postal: str) -> str:
    return f'="{postal}"' if EXCEL_TEXT.fullmatch(postal) else escape_cell(postal)


_POSTAL = 3  # the postal code's place in label_cells (and in LABEL_FIELDS)


def excel_csv_chunks(queryset: QuerySet) -> Iterator[bytes]:
    """The CSV for Excel in Finnish: `;`, UTF-8 with a BOM, postal codes that stay text
    (see EXCEL_TEXT), every other cell escaped as in the plain CSV; in blocks of ~64 kB."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, EXCEL_CSV_DELIMITER)
    export = LabelResource().export_resource
    yield _csv_header(EXCEL_CSV_DELIMITER)
    for record in label_records(queryset):
        cells = export(record)
        cells[_POSTAL] = excel_postal_code(record[_POSTAL])
        writer.writerow(cells)
        if buffer.tell() > CSV_BLOCK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


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
    country = _country_sql(quoted=False)
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
        f"concat_ws({delimiter}, {raw_name}, {organisation}, {street}, {postal}, upper({city}),"
        f" {_country_sql(quoted=True)})"
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


@functools.cache
def _country_sql(*, quoted: bool) -> str:
    """country_name() in SQL: the name found in an array of the table's names by the
    code's place in an array of its codes (only for a label abroad). Not a CASE of a
    branch a country: the planner costs every branch for every row, and PostgreSQL's
    JIT then spent more than the statement timeout compiling it. `quoted` gives the
    cell as the csv module writes it."""

    def cell(name: str) -> str:
        if not quoted:
            return name
        out = io.StringIO()
        csv_writer(out).writerow([escape_cell(name)])
        return out.getvalue().removesuffix(CSV_LINE_END)

    codes = sorted(COUNTRY_NAMES)
    code_array = "ARRAY[" + ", ".join(_literal(code) for code in codes) + "]::text[]"
    name_array = "ARRAY[" + ", ".join(_literal(cell(COUNTRY_NAMES[code])) for code in codes) + "]::text[]"
    found = f"({name_array})[array_position({code_array}, label.country::text)]"
    return f"(CASE WHEN label.country IN ('FI', '') THEN '' ELSE coalesce({found}, label.country) END)"


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


# Column widths of the XLSX (in characters), so that it opens readable.
XLSX_WIDTHS = (28, 28, 36, 12, 20, 16)


def write_xlsx(queryset: QuerySet, target) -> None:
    """XLSX in openpyxl's write-only mode: rows go to disk as they come. Every cell is a
    string cell, so even an escaped formula can never be evaluated, and a postal code
    stays 00100; the postal code column is formatted as text (@) for what is typed in."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(gettext("Labels"))
    for index, width in enumerate(XLSX_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    rows = label_rows(queryset)
    header = []
    for value in next(rows):
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        cells[_POSTAL].number_format = "@"
        sheet.append(cells)
    workbook.save(target)


def address_lines(record: tuple) -> list[str]:
    """Finnish address order: name, organisation, street, postal code and CITY, COUNTRY."""
    return [text for _role, text in labelled_lines(record)]


def labelled_lines(record: tuple) -> list[tuple[str, str]]:
    """The address lines, each with its role (what a cut label keeps first)."""
    name, organisation, street, postal, city, country = label_cells(record)
    lines = [("name", name)]
    if organisation:
        lines.append(("organisation", organisation))
    lines += [("street", street), ("postal", f"{postal} {city}")]
    if country:
        lines.append(("country", country))
    return lines


# What a label cut to fit keeps first: one line each in this order while there is room,
# then the rest of the street, the name and the organisation.
KEEP_FIRST = ("postal", "country", "street", "name", "organisation")


LINE_SPACING = 1.2  # baseline to baseline, in font sizes
FONT_STEP = 0.5  # points the font is made smaller by at a time
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class FittedLabel:
    size: float
    lines: tuple[str, ...]
    cut: bool


class LabelSheet:
    """Where labels are on an A4 sheet (LABEL_SHEET) and how a label's lines fit.

    Every label's text goes in the same box: the label less its padding, less whatever
    of it lies inside the printer margin (LABEL_PRINTER_MARGIN_MM from the sheet's
    edges), the smallest such box of the sheet, so that a label is fitted alike wherever
    it falls. A label's lines are wrapped at spaces in the largest size from font_size
    down to min_font_size (LABEL_MIN_FONT_SIZE) at which all of them fit; at the
    smallest, a word wider than the box is broken, and lines that still do not fit are
    cut (the street keeps most, the postal code line and the country are never left
    out), the last one kept ending in an ellipsis."""

    def __init__(self) -> None:
        from reportlab.lib.units import mm

        layout = settings.LABEL_SHEET
        self.font = _font()
        self.page_w, self.page_h = 210 * mm, 297 * mm
        self.cols, self.rows = layout["columns"], layout["rows"]
        self.label_w, self.label_h = layout["width_mm"] * mm, layout["height_mm"] * mm
        self.margin_x = (self.page_w - self.cols * self.label_w) / 2
        self.margin_y = (self.page_h - self.rows * self.label_h) / 2
        self.printer_margin = layout["printer_margin_mm"] * mm
        self.padding = layout["padding_mm"] * mm
        self.max_size = float(layout["font_size"])
        self.min_size = min(float(layout["min_font_size"]), self.max_size)
        boxes = [self.text_box(slot) for slot in range(self.per_page)]
        self.box_w = max(0.0, min(right - left for left, _bottom, right, _top in boxes))
        self.box_h = max(0.0, min(top - bottom for _left, bottom, _right, top in boxes))
        self._advances = _Advances(self.font)
        self._capacity: dict[float, int] = {}

    @property
    def per_page(self) -> int:
        return self.cols * self.rows

    def label_rect(self, slot: int) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of a label, in points from the page's lower left."""
        col, row = slot % self.cols, slot // self.cols
        left = self.margin_x + col * self.label_w
        top = self.page_h - self.margin_y - row * self.label_h
        return left, top - self.label_h, left + self.label_w, top

    def text_box(self, slot: int) -> tuple[float, float, float, float]:
        left, bottom, right, top = self.label_rect(slot)
        edge = self.printer_margin
        return (
            max(left + self.padding, edge),
            max(bottom + self.padding, edge),
            min(right - self.padding, self.page_w - edge),
            min(top - self.padding, self.page_h - edge),
        )

    def width(self, text: str, size: float) -> float:
        """reportlab's stringWidth, from a table of each character's advance (summed in
        C by map: reportlab's own sum, in Python here, made fitting 100,000 labels
        take 12 s)."""
        return sum(map(self._advances.__getitem__, text)) * size / 1000

    def capacity(self, size: float) -> int:
        """How many lines of this size the box holds."""
        if size not in self._capacity:
            from reportlab.pdfbase.pdfmetrics import getAscentDescent

            ascent, descent = getAscentDescent(self.font, size)
            room = self.box_h - ascent + descent  # the first line's ascent, the last one's descent
            self._capacity[size] = 0 if room < 0 else int(room // (size * LINE_SPACING)) + 1
        return self._capacity[size]

    def fit(self, labelled: list[tuple[str, str]]) -> FittedLabel:
        lines = [text for _role, text in labelled]
        size = self.max_size
        # Most labels: every line fits as it is, in the largest size.
        widest = self.box_w * 1000 / size
        advance = self._advances.__getitem__
        if len(lines) <= self.capacity(size) and all(sum(map(advance, line)) <= widest for line in lines):
            return FittedLabel(size, tuple(lines), cut=False)
        while size > self.min_size:
            wrapped = [self._wrap(line, size) for line in lines]
            if all(parts is not None for parts in wrapped):
                flat = [part for parts in wrapped if parts is not None for part in parts]
                if len(flat) <= self.capacity(size):
                    return FittedLabel(size, tuple(flat), cut=False)
            size -= FONT_STEP
        return self._fit_smallest(labelled)

    def _fit_smallest(self, labelled: list[tuple[str, str]]) -> FittedLabel:
        lines = [text for _role, text in labelled]
        size = self.min_size
        wrapped = [self._wrap(line, size, break_words=True) or [""] for line in lines]
        room = self.capacity(size)
        if sum(len(parts) for parts in wrapped) <= room:
            return FittedLabel(size, tuple(part for parts in wrapped for part in parts), cut=False)
        # How many of its wrapped lines each address line keeps (KEEP_FIRST).
        roles = [role for role, _text in labelled]
        order = sorted(range(len(lines)), key=lambda index: KEEP_FIRST.index(roles[index]))
        kept = dict.fromkeys(range(len(lines)), 0)
        for index in order:
            if room:
                kept[index], room = 1, room - 1
        for index in order:
            extra = min(room, len(wrapped[index]) - kept[index])
            if kept[index] and extra > 0:
                kept[index] += extra
                room -= extra
        out: list[str] = []
        for index, parts in enumerate(wrapped):
            keep = parts[: kept[index]]
            if keep and len(keep) < len(parts):
                keep[-1] = self._with_ellipsis(keep[-1], size)
            out += keep
        return FittedLabel(size, tuple(out), cut=True)

    def _with_ellipsis(self, text: str, size: float) -> str:
        while text and self.width(text + ELLIPSIS, size) > self.box_w:
            text = text[:-1]
        return text.rstrip() + ELLIPSIS

    def _wrap(self, text: str, size: float, *, break_words: bool = False) -> list[str] | None:
        """The text in lines no wider than the box, broken at spaces; None when a word
        is wider than the box (unless break_words, when it is broken where it must)."""
        width = self.box_w
        if self.width(text, size) <= width:
            return [text]
        lines: list[str] = []
        current = ""
        for word in text.split():
            candidate = f"{current} {word}" if current else word
            if self.width(candidate, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = word
            if self.width(word, size) > width:
                if not break_words:
                    return None
                pieces = self._break(word, size)
                lines += pieces[:-1]
                current = pieces[-1]
        lines.append(current)
        return lines

    def _break(self, word: str, size: float) -> list[str]:
        pieces, current = [], ""
        for char in word:
            if current and self.width(current + char, size) > self.box_w:
                pieces.append(current)
                current = ""
            current += char
        return [*pieces, current]

    def may_be_cut(self) -> Q:
        """A condition every label that may be cut meets (a few others too).

        At the smallest size, words wider than the box are broken, so a label is cut only
        when its wrapped lines outnumber what the box holds. Two consecutive wrapped lines
        of an address line are together wider than the box less one character (the next
        word did not fit), so k wrapped lines are wider than k // 2 such widths, and a
        label of at most five address lines needs that many characters to have too many.
        The count assumes the widest character of Latin-1; a label with any other
        character, or abroad (its country's name), is always fitted."""
        from django.db.models import CharField, IntegerField, Value
        from django.db.models.functions import Coalesce, Concat, Length
        from django.db.models.lookups import GreaterThanOrEqual, Regex

        room = self.capacity(self.min_size)
        pairs = (room + 1 - 5 + 1) // 2
        widest = max(self._advances[chr(code)] for code in range(1, 256)) * self.min_size / 1000
        if pairs <= 0 or widest <= 0 or self.box_w <= widest:
            return Q()
        chars = int(pairs * (self.box_w - widest) // widest)
        # city.upper() can double a letter (ß: SS), and each line has a space or two more
        length = (
            Length("first_name")
            + Length("last_name")
            + Coalesce(Length("organisation__name"), Value(0))
            + Length("street_address")
            + Length("postal_code")
            + 2 * Length("city")
            + Value(2, output_field=IntegerField())
        )
        text = Concat(
            "first_name",
            "last_name",
            Coalesce("organisation__name", Value("")),
            "street_address",
            "postal_code",
            "city",
            output_field=CharField(),
        )
        other = Regex(text, "[^\x01-\xff]")  # one pattern over all, not one a column
        return Q(GreaterThanOrEqual(length, chars)) | ~Q(country="FI") | Q(other)

    def baselines(self, slot: int, fitted: FittedLabel) -> Iterator[tuple[float, float, str]]:
        """(x, y, text) of each line of a fitted label in its slot."""
        from reportlab.pdfbase.pdfmetrics import getAscentDescent

        left, _bottom, _right, top = self.text_box(slot)
        ascent, _descent = getAscentDescent(self.font, fitted.size)
        y = top - ascent
        for line in fitted.lines:
            yield left, y, line
            y -= fitted.size * LINE_SPACING


class _Advances(dict):
    """Each character's advance width in the font, in 1/1000 of the font size."""

    def __init__(self, font: str) -> None:
        super().__init__()
        self.font = font

    def __missing__(self, char: str) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self[char] = advance = stringWidth(char, self.font, 1000)
        return advance


@dataclass(frozen=True)
class CutLabel:
    page: int
    number: int  # on its page, from 1, row by row
    name: str


def cut_labels(queryset: QuerySet) -> list[str]:
    """The names on the labels whose lines do not all fit even in the smallest font, as
    the PDF will cut them. Only labels that may be cut are fitted (LabelSheet.may_be_cut):
    fitting every label of a large register would take seconds on each page view."""
    sheet = LabelSheet()
    names = []
    for record in label_records(queryset.filter(sheet.may_be_cut())):
        labelled = labelled_lines(record)
        if sheet.fit(labelled).cut:
            names.append(labelled[0][1])
    return names


def write_pdf(queryset: QuerySet, target) -> int:
    """A4 sheets of labels (LABEL_SHEET setting; default 3 x 8 of 70 x 37 mm), every line
    inside its label and the printer margin (see LabelSheet); when some label had to be
    cut, a last page lists them by page and place. Returns the number of labels."""
    from reportlab.pdfgen import canvas

    sheet = LabelSheet()
    pdf = canvas.Canvas(target, pagesize=(sheet.page_w, sheet.page_h), pageCompression=1)
    pdf.setTitle(gettext("Mailing labels"))
    count = 0
    cut: list[CutLabel] = []
    for record in label_records(queryset):
        slot = count % sheet.per_page
        if count and slot == 0:
            pdf.showPage()
        labelled = labelled_lines(record)
        fitted = sheet.fit(labelled)
        if fitted.cut:
            cut.append(CutLabel(count // sheet.per_page + 1, slot + 1, labelled[0][1]))
        pdf.setFont(sheet.font, fitted.size)
        for x, y, line in sheet.baselines(slot, fitted):
            pdf.drawString(x, y, line)
        count += 1
    if cut:
        pdf.showPage()
        _cut_list_page(pdf, sheet, cut)
    pdf.save()
    return count


def _cut_list_page(pdf, sheet: LabelSheet, cut: list[CutLabel]) -> None:
    """The list of cut labels, on plain paper's page(s) after the sheets."""
    from reportlab.pdfbase.pdfmetrics import getAscentDescent

    size = 10.0
    edge = max(sheet.printer_margin, 15 * 72 / 25.4)
    ascent, descent = getAscentDescent(sheet.font, size)
    lines = [
        gettext("Labels cut to fit (%(count)d): their text did not fit even in the smallest font.")
        % {"count": len(cut)},
        gettext("Print this page on plain paper; check these labels before posting."),
        "",
        *(
            pgettext("cut label", "Page %(page)d, label %(number)d: %(name)s")
            % {"page": label.page, "number": label.number, "name": label.name}
            for label in cut
        ),
    ]
    width = sheet.page_w - 2 * edge
    y = sheet.page_h - edge - ascent
    pdf.setFont(sheet.font, size)
    for line in lines:
        if y + descent < edge:
            pdf.showPage()
            pdf.setFont(sheet.font, size)
            y = sheet.page_h - edge - ascent
        while line and pdf.stringWidth(line, sheet.font, size) > width:
            line = line[:-1]
        pdf.drawString(edge, y, line)
        y -= size * LINE_SPACING


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = Path(settings.LABEL_FONT) if settings.LABEL_FONT else None
    if path is None or not path.is_file():
        return "Helvetica"  # Latin-1 only, but always there
    if "LabelFont" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("LabelFont", str(path)))
    return "LabelFont"
