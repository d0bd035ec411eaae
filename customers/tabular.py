"""Reading a spreadsheet file as staff have it: one table of text.

`read_table(content, filename)` reads the first sheet of any file a Finnish office or a
web shop hands over and returns a `Table`: the header names and the data rows, every
cell a string (an empty cell is "", never None), each row with its row number as the
spreadsheet shows it (the header row is row 1, if it is the first row). It reads:

- CSV and text files in UTF-8 (with or without a BOM), Windows-1252 (Finnish Excel's
  "CSV (semicolon-separated)") and UTF-16 with a BOM (Excel's "Unicode text");
  the delimiter (`;`, `,` or tab) is the one the header row uses; any line ends
  (CRLF, LF, CR);
- XLSX workbooks (Excel, LibreOffice, Google Sheets), with openpyxl in read-only mode;
- ODS spreadsheets (LibreOffice), read here as a stream of its content.xml.

Spreadsheet values become the text the import reads: a whole number as its digits
(a postal code typed as 100 stays "100": what it means is the caller's to decide), a
date as ISO (1980-12-31), a date with a time as ISO with the time, TRUE/FALSE as
"TRUE"/"FALSE". Cells are stripped of surrounding whitespace; blank rows are left out
(the others keep their numbers); every row has at least as many cells as there are
headers (cells past the last header are kept, for the caller to notice).

Every file is checked against the import's limits on rows, columns, cell length and
unpacked size while it is read (customers/import_limits.py). Anything unreadable raises
`TableError`, whose `message` says in the user's language what to do.

The interface (read_table, Table, Row, TableError) is shared by the customer import and
the ban-list import: keep it stable.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .import_limits import (
    COMPRESSIONS,
    FileCheckError,
    LimitExceeded,
    Unreadable,
    cell_too_long,
    csv_rows,
    nul_characters,
    too_many_columns,
    too_many_rows,
    xlsx_rows,
)

ZIP_MAGIC = b"PK\x03\x04"  # XLSX and ODS are zip archives
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls), or an XLSX with a password
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
DELIMITERS = ("\t", ";", ",")  # in this order when a header row has as many of two
# Characters no text file has (other than tab, line feed and carriage return): a file
# holding them is not a CSV file, whatever its name.
CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


class TableError(FileCheckError):
    """The file cannot be read as a table; `message` says why (translatable)."""


@dataclass(slots=True)
class Row:
    """A data row: its number as the spreadsheet shows it, and its cells as text."""

    number: int
    cells: list[str]


@dataclass
class Table:
    """The header names and the data rows of a file's first sheet.

    `kind` is "csv", "xlsx" or "ods"; for CSV, `encoding` and `delimiter` say how it
    was read ("utf-8", "utf-8-sig", "cp1252", "utf-16"; ";", ",", "\\t")."""

    headers: list[str]
    rows: list[Row] = field(default_factory=list)
    kind: str = "csv"
    encoding: str = ""
    delimiter: str = ""


def read_table(content: bytes, filename: str = "") -> Table:
    """The first sheet of a CSV, XLSX or ODS file as text. Raises TableError."""
    try:
        return _read(content, PurePath(filename or "").suffix.lower())
    except TableError:
        raise
    except FileCheckError as error:  # a limit passed, or a broken workbook
        raise TableError(error.message or unreadable()) from error


def unreadable():
    return _(
        "The file could not be read as a table. Save it as CSV (semicolon- or comma-separated), "
        "XLSX or ODS and try again."
    )


def _read(content: bytes, suffix: str) -> Table:
    if not content.strip():
        raise TableError(_("The file is empty."))
    if content.startswith(OLE_MAGIC):
        raise TableError(
            _(
                "This is an old Excel file (.xls) or one protected by a password. "
                "Save it in Excel as an XLSX workbook without a password and try again."
            )
        )
    if content.startswith(ZIP_MAGIC):
        if _is_ods(content):
            return _table(_ods_rows(content), kind="ods")
        if _is_xlsx(content):
            return _table(_cell_rows(xlsx_rows(content)), kind="xlsx")
        raise TableError(
            _(
                "The file is a zip archive but not an XLSX or ODS workbook. "
                "Save it as XLSX, ODS or CSV and try again."
            )
        )
    text, encoding = _decode(content)
    delimiter = _delimiter(text)
    dialect = _dialect(delimiter)
    rows = (
        (number, [cell.strip() for cell in cells]) for number, cells in enumerate(csv_rows(text, dialect), 1)
    )
    return _table(rows, kind="csv", encoding=encoding, delimiter=delimiter)


def _table(rows: Iterable[tuple[int, list[str]]], **how) -> Table:
    """The first non-blank row is the header; the blank rows after it are left out."""
    iterator = iter(rows)
    headers: list[str] | None = None
    for _number, cells in iterator:
        if any(cells):
            headers = [cell.replace("\ufeff", "").strip() for cell in cells]
            break
    if headers is None:
        raise TableError(_("The file has no header row."))
    while headers and not headers[-1]:  # the empty columns Excel leaves after the last one
        headers.pop()
    width = len(headers)
    data = []
    for number, cells in iterator:
        if not any(cells):
            continue
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        else:
            while len(cells) > width and not cells[-1]:
                cells.pop()
        data.append(Row(number, cells))
    return Table(headers=headers, rows=data, **how)


# -- CSV -------------------------------------------------------------------------
def _decode(content: bytes) -> tuple[str, str]:
    """The file's text and its encoding: by its BOM, else UTF-8 if it is valid UTF-8,
    else Windows-1252 (what Finnish Excel's plain "CSV" is)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif content.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif _looks_like_utf16(content):
        encoding = "utf-16-le" if content[1:2] == b"\x00" else "utf-16-be"
    else:
        encoding = "utf-8"
    if encoding == "utf-8" and b"\x00" in content:
        raise TableError(nul_characters().message)
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as error:
        if encoding != "utf-8":
            raise TableError(unreadable()) from error
        try:
            text, encoding = content.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as error:  # bytes Windows-1252 leaves undefined
            raise TableError(unreadable()) from error
    if "\x00" in text:
        raise TableError(nul_characters().message)
    if not CONTROL.isdisjoint(text[:65536]) or text.lstrip()[:1] == "<":
        # Binary data, or a web page / XML file saved with a spreadsheet's name.
        raise TableError(unreadable())
    return text, encoding


def _looks_like_utf16(content: bytes) -> bool:
    """UTF-16 without a BOM: every other byte of its (mostly Latin) text is zero."""
    start = content[:2000]
    if len(start) < 4:
        return False
    evens, odds = start[0::2], start[1::2]
    return evens.count(0) > 0.9 * len(evens) or odds.count(0) > 0.9 * len(odds)


def _delimiter(text: str) -> str:
    """The delimiter the header row uses most (outside quotes); a comma if none."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in text[:65536]:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in counts:
            counts[char] += 1
        elif char in "\r\n":
            if any(counts.values()):
                break
    best = max(DELIMITERS, key=lambda d: counts[d])  # the first of DELIMITERS on a tie
    return best if counts[best] else ","


def _dialect(delimiter: str) -> type[csv.Dialect]:
    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


# -- XLSX ------------------------------------------------------------------------
def _is_xlsx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise TableError(unreadable()) from error
    return "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names)


def _cell_rows(rows: Iterable[tuple]) -> Iterator[tuple[int, list[str]]]:
    for number, values in enumerate(rows, 1):
        yield number, [cell_text(value) for value in values]


def cell_text(value) -> str:
    """A spreadsheet value as the text the import reads."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


# -- ODS -------------------------------------------------------------------------
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
CHUNK = 64 * 1024


def _is_ods(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "mimetype" not in archive.namelist():
                return False
            with archive.open("mimetype") as part:
                return part.read(200).strip() == ODS_MIMETYPE
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, RuntimeError) as error:
        raise TableError(unreadable()) from error


def _ods_rows(content: bytes) -> list[tuple[int, list[str]]]:
    """The first sheet of an ODS file, read from content.xml as a stream, within the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
        part = archive.getinfo("content.xml")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, KeyError) as error:
        raise TableError(unreadable()) from error
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    if any(member.compress_type not in COMPRESSIONS for member in members):
        raise TableError(unreadable())
    if len(members) > 10_000 or sum(member.file_size for member in members) > limit:
        raise LimitExceeded(
            _("The file unpacks to more than %(mb)s MB; split it into smaller files.")
            % {"mb": limit // (1024 * 1024)}
        )
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.buffer_size = CHUNK
    sheet = _OdsSheet(parser)
    try:
        with archive, archive.open(part) as stream:
            while not sheet.done and (chunk := stream.read(CHUNK)):
                parser.Parse(chunk, False)
            if not sheet.done:
                parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise TableError(unreadable()) from error
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, RuntimeError) as error:
        raise TableError(unreadable()) from error
    return sheet.rows


class _OdsSheet:
    """Collects the rows of the first <table:table> of content.xml.

    LibreOffice writes runs of equal rows and cells once, with a repeat count
    (a sheet ends with a million empty rows written as one): empty rows only move the
    row number on, empty cells at a row's end are dropped, anything else is repeated
    within the limits. A cell's value is its office:value (number, currency,
    percentage), office:date-value or office:boolean-value when it has one, else its
    text (paragraphs joined by line ends)."""

    def __init__(self, parser) -> None:
        self.parser = parser
        self.rows: list[tuple[int, list[str]]] = []
        self.done = False
        self.depth = 0  # nesting of <table:table> (a sub-table inside a cell)
        self.row_number = 0
        self.row: list[str] | None = None
        self.row_repeat = 1
        self.cell: list[str] | None = None  # the paragraphs of the current cell
        self.cell_value: str | None = None
        self.cell_repeat = 1
        self.paragraph: list[str] | None = None
        self.length = 0
        self.max_rows = settings.IMPORT_MAX_ROWS + 1  # with the header
        self.max_columns = settings.IMPORT_MAX_COLUMNS
        self.max_chars = settings.IMPORT_MAX_CELL_CHARS
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.StartDoctypeDeclHandler = self.doctype

    def doctype(self, *args) -> None:
        raise Unreadable()  # LibreOffice never writes one; entity declarations live there

    def start(self, name: str, attributes: dict) -> None:
        if self.done:
            return
        namespace, _sep, local = name.rpartition("}")
        if namespace == TABLE_NS and local == "table":
            self.depth += 1
            return
        if self.depth != 1:
            return
        if namespace == TABLE_NS:
            if local == "table-row":
                self.row, self.row_repeat = [], _repeat(attributes, "number-rows-repeated", self.max_rows)
            elif local in ("table-cell", "covered-table-cell") and self.row is not None:
                self.cell, self.cell_value = [], _ods_value(attributes)
                self.cell_repeat = _repeat(attributes, "number-columns-repeated", 16_384)
                self.length = 0
        elif namespace == TEXT_NS and self.cell is not None:
            if local == "p":
                self.paragraph = []
            elif self.paragraph is not None:
                if local == "s":
                    self._text(" " * _repeat(attributes, "c", self.max_chars + 1, namespace=TEXT_NS))
                elif local == "tab":
                    self._text("\t")
                elif local == "line-break":
                    self._text("\n")

    def end(self, name: str) -> None:
        if self.done:
            return
        namespace, _sep, local = name.rpartition("}")
        if namespace == TABLE_NS and local == "table":
            self.depth -= 1
            if self.depth == 0:
                self.done = True
            return
        if self.depth != 1:
            return
        if namespace == TEXT_NS and local == "p" and self.cell is not None and self.paragraph is not None:
            self.cell.append("".join(self.paragraph))
            self.paragraph = None
        elif (
            namespace == TABLE_NS and local in ("table-cell", "covered-table-cell") and self.cell is not None
        ):
            self._end_cell()
        elif namespace == TABLE_NS and local == "table-row" and self.row is not None:
            self._end_row()

    def characters(self, data: str) -> None:
        if self.paragraph is not None and not self.done:
            self._text(data)

    def _text(self, data: str) -> None:
        self.length += len(data)
        if self.length > self.max_chars:
            raise cell_too_long()
        assert self.paragraph is not None
        self.paragraph.append(data)

    def _end_cell(self) -> None:
        assert self.row is not None and self.cell is not None
        value = self.cell_value if self.cell_value is not None else "\n".join(self.cell)
        value = value.strip()
        if value:
            if len(self.row) + self.cell_repeat > self.max_columns:
                raise too_many_columns()
            self.row.extend([value] * self.cell_repeat)
        elif len(self.row) + self.cell_repeat <= self.max_columns:
            self.row.extend([""] * self.cell_repeat)
        else:  # empty cells to the sheet's edge: only a non-empty cell after them counts
            self.row.extend([""] * max(0, self.max_columns + 1 - len(self.row)))
        self.cell = None

    def _end_row(self) -> None:
        assert self.row is not None
        cells = self.row
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) > self.max_columns:
            raise too_many_columns()
        if cells:
            for _index in range(self.row_repeat):
                self.row_number += 1
                if self.row_number > self.max_rows:
                    raise too_many_rows()
                self.rows.append((self.row_number, list(cells)))
        else:
            self.row_number += self.row_repeat
        self.row = None


def _repeat(attributes: dict, name: str, highest: int, namespace: str = TABLE_NS) -> int:
    value = attributes.get(f"{namespace}}}{name}")
    if value is None:
        return 1
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= max(highest, 1_048_576):
        raise Unreadable()
    return int(value)


def _ods_value(attributes: dict) -> str | None:
    kind = attributes.get(f"{OFFICE_NS}}}value-type")
    if kind in ("float", "currency", "percentage"):
        raw = attributes.get(f"{OFFICE_NS}}}value")
        if raw is None:
            return None
        try:
            number = float(raw)
        except ValueError:
            return raw
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else raw
    if kind == "date":
        raw = attributes.get(f"{OFFICE_NS}}}date-value")
        if raw and raw.endswith("T00:00:00"):
            return raw[: -len("T00:00:00")]
        return raw.replace("T", " ") if raw else None
    if kind == "boolean":
        raw = attributes.get(f"{OFFICE_NS}}}boolean-value")
        return None if raw is None else ("TRUE" if raw == "true" else "FALSE")
    return None
