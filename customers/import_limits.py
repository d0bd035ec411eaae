"""What an import file may cost: rows, columns, cell length and unpacked size.

A spreadsheet is a zip of XML, and a small file can unpack to gigabytes: one cell of a
billion characters compresses into a megabyte, and a sheet can claim a million rows in
a few hundred kilobytes. So before openpyxl (or the import) sees an XLSX file, every XML
part is read here as a stream, a chunk at a time, and counted: the file is refused
with a clear message as soon as it passes a limit, having cost at most the limit.

- IMPORT_MAX_ROWS: data rows (the header row not counted), in a CSV file or a sheet;
- IMPORT_MAX_COLUMNS: columns holding a value;
- IMPORT_MAX_CELL_CHARS: characters in one cell (or any other run of text in the file);
- IMPORT_MAX_UNPACKED_BYTES: what an XLSX file's parts add up to when unpacked.
  Python's zipfile (openpyxl uses it) never unpacks more of a part than its declared
  size, so the declared sizes are checked without unpacking anything.

CSV files are read by the csv module, a row at a time, with the same limits; a NUL
character (which no database text column takes) refuses the file.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from xml.parsers import expat

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

CHUNK = 64 * 1024
# Excel's own sheet size; a reference beyond it is no spreadsheet Excel wrote.
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
# The most bytes expat may hold back without reporting anything: only a tag or an
# attribute value longer than this (no spreadsheet has one) can make it wait so long.
MAX_PENDING = 1024 * 1024
REFERENCE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
# The namespaces of a sheet's and the shared strings' elements (transitional, strict):
# openpyxl reads rows, cells and strings in these only.
SHEET_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
# Excel deflates every part; another method could unpack without a bound per read.
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class FileCheckError(ValueError):
    """The file is refused before it is read; the message says why (translatable)."""

    def __init__(self, message=""):
        super().__init__(message)
        self.message = message


class LimitExceeded(FileCheckError):
    """The file is over one of the limits."""


class Unreadable(FileCheckError):
    """The file is not the CSV or XLSX file it claims to be."""


def too_many_rows() -> LimitExceeded:
    return LimitExceeded(
        _("The file has more than %(rows)s rows; split it into smaller files.")
        % {"rows": number_format(settings.IMPORT_MAX_ROWS, force_grouping=True)}
    )


def too_many_columns() -> LimitExceeded:
    return LimitExceeded(
        _("The file has more than %(columns)s columns; keep only the columns to import.")
        % {"columns": settings.IMPORT_MAX_COLUMNS}
    )


def cell_too_long() -> LimitExceeded:
    return LimitExceeded(
        _("A cell of the file holds more than %(chars)s characters; no customer detail is that long.")
        % {"chars": number_format(settings.IMPORT_MAX_CELL_CHARS, force_grouping=True)}
    )


def nul_characters() -> LimitExceeded:
    return LimitExceeded(
        _(
            "The file contains NUL characters (zero bytes), which are not text. "
            "Save it again as 'CSV UTF-8' or XLSX and try again."
        )
    )


# -- CSV ---------------------------------------------------------------------------
def csv_rows(text: str, dialect: type[csv.Dialect] | csv.Dialect = csv.excel) -> Iterator[list[str]]:
    """The records of a CSV text, the header first, checked against the limits as they
    are read. Raises LimitExceeded, or Unreadable for what the csv module cannot read."""
    if "\x00" in text:
        raise nul_characters()
    max_rows = settings.IMPORT_MAX_ROWS + 1  # with the header
    max_columns, max_chars = settings.IMPORT_MAX_COLUMNS, settings.IMPORT_MAX_CELL_CHARS
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    count = 0
    try:
        for row in reader:
            count += 1
            if count > max_rows:
                raise too_many_rows()
            if len(row) > max_columns and any(row[max_columns:]):
                raise too_many_columns()
            if any(len(cell) > max_chars for cell in row):
                raise cell_too_long()
            yield row
    except csv.Error as error:
        # The csv module's own cap (131,072 characters) is above ours: a cell that
        # long is too long, whatever else is wrong with the file.
        if "field larger than field limit" in str(error):
            raise cell_too_long() from error
        raise Unreadable() from error


# -- XLSX --------------------------------------------------------------------------
def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


class _SheetCounter:
    """Counts one XML part while expat reads it: rows, cells and text runs.

    Rows and cells are numbered as openpyxl numbers them (their `r` attribute, else one
    after the previous). Only rows and columns holding a value count towards the limits;
    an empty cell (Excel writes one for a formatted cell) still counts towards the
    cells a sheet may have at most (rows x columns)."""

    def __init__(self, parser) -> None:
        self.parser = parser
        self.max_rows = settings.IMPORT_MAX_ROWS + 1  # with the header
        self.max_columns = settings.IMPORT_MAX_COLUMNS
        self.max_chars = settings.IMPORT_MAX_CELL_CHARS
        self.max_cells = self.max_rows * self.max_columns
        self.cells = 0
        self.row = 0
        self.column = 0
        self.text = 0  # characters in the current cell or shared string
        self.in_value = False  # inside a cell or a shared string
        self.last_row = 0  # the last row holding a value
        self.last_column = 0  # the last column holding a value
        self.strings = 0
        self.seen = 0  # the byte index of the last event expat reported
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.StartDoctypeDeclHandler = self.doctype

    def doctype(self, *args) -> None:
        raise Unreadable()  # Excel never writes one; entity declarations live there

    def start(self, name: str, attributes: dict) -> None:
        self.seen = self.parser.CurrentByteIndex
        namespace, _sep, local = name.rpartition("}")
        if namespace not in SHEET_NAMESPACES:
            local = ""
        if local == "row":
            self.row = self._index(attributes.get("r"), self.row + 1, EXCEL_ROWS)
            self.column = 0
        elif local == "c":
            self.cells += 1
            if self.cells > self.max_cells:
                raise too_many_rows() if self.row > self.max_rows else too_many_columns()
            reference = attributes.get("r")
            if reference:
                match = REFERENCE.match(reference)
                if not match:
                    raise Unreadable()
                self.column = _column_number(match[1])
                if self.column > EXCEL_COLUMNS:
                    raise Unreadable()
            else:
                self.column += 1
            self.in_value, self.text = True, 0
        elif local == "si":
            self.strings += 1
            if self.strings > self.max_cells:
                raise too_many_rows()
            self.in_value, self.text = True, 0
        elif not self.in_value:
            self.text = 0

    def end(self, name: str) -> None:
        self.seen = self.parser.CurrentByteIndex
        namespace, _sep, local = name.rpartition("}")
        if namespace in SHEET_NAMESPACES and local in ("c", "si"):
            if local == "c" and self.text:
                self._has_value()
            self.in_value, self.text = False, 0

    def characters(self, data: str) -> None:
        self.seen = self.parser.CurrentByteIndex
        self.text += len(data)
        if self.text > self.max_chars:
            if not self.in_value and not data.strip():
                # Whitespace between elements: a few bytes, unless the part is padded to
                # make it cost; it is no cell, so it is not counted in one.
                if self.text > MAX_PENDING:
                    raise Unreadable()
                return
            raise cell_too_long()

    def _has_value(self) -> None:
        if self.row > self.max_rows:
            raise too_many_rows()
        if self.column > self.max_columns:
            raise too_many_columns()
        self.last_row = max(self.last_row, self.row)
        self.last_column = max(self.last_column, self.column)

    @staticmethod
    def _index(value: str | None, default: int, highest: int) -> int:
        if value is None:
            return default
        if not value.isascii() or not value.isdigit() or not 0 < int(value) <= highest:
            raise Unreadable()
        return int(value)


def check_xlsx(content: bytes) -> tuple[int, int]:
    """Check an XLSX file against the limits, reading each XML part as a stream.

    Returns the last row and the last column that hold a value in any sheet (what
    openpyxl is then told to read, whatever the sheet's own <dimension> claims).
    Raises LimitExceeded or Unreadable."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise Unreadable() from error
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    if any(member.compress_type not in COMPRESSIONS for member in members):
        raise Unreadable()
    if len(members) > 10_000 or sum(member.file_size for member in members) > limit:
        raise LimitExceeded(
            _("The file unpacks to more than %(mb)s MB; split it into smaller files.")
            % {"mb": limit // (1024 * 1024)}
        )
    last_row = last_column = 0
    with archive:
        for member in members:
            if member.is_dir():
                continue
            row, column = _check_part(archive, member)
            last_row, last_column = max(last_row, row), max(last_column, column)
    return last_row, last_column


def _check_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[int, int]:
    """Stream one part through expat with the counter; parts that are not XML (images,
    embedded binaries) are left alone: openpyxl does not parse them."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.buffer_size = CHUNK
    counter = _SheetCounter(parser)
    fed = 0
    try:
        with archive.open(member) as part:
            first = part.read(CHUNK)
            if not _looks_like_xml(first):
                return 0, 0
            chunk = first
            while chunk:
                parser.Parse(chunk, False)
                fed += len(chunk)
                if fed - counter.seen > MAX_PENDING:
                    raise Unreadable()
                chunk = part.read(CHUNK)
            parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise Unreadable() from error
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, RuntimeError) as error:
        raise Unreadable() from error  # a broken, encrypted or unknown-compression part
    return counter.last_row, counter.last_column


def _looks_like_xml(start: bytes) -> bool:
    return start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def xlsx_text(content: bytes) -> str:
    """Every run of text in an XLSX file's XML parts (each sheet's cells, the shared
    strings, comments), tab-separated, once the file has passed check_xlsx: what a
    search for a person's data looks through."""
    check_xlsx(content)
    texts: list[str] = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for member in archive.infolist():
            with archive.open(member) as part:
                chunk = part.read(CHUNK)
                if member.is_dir() or not _looks_like_xml(chunk):
                    continue
                parser = expat.ParserCreate()
                parser.buffer_text = True
                parser.CharacterDataHandler = texts.append
                parser.EndElementHandler = lambda name: texts.append("\t")
                try:
                    while chunk:
                        parser.Parse(chunk, False)
                        chunk = part.read(CHUNK)
                    parser.Parse(b"", True)
                except expat.ExpatError as error:
                    raise Unreadable() from error
    return "".join(texts)


def xlsx_rows(content: bytes) -> list[tuple]:
    """The first sheet's rows (the header first) as values, once the file has passed
    check_xlsx: openpyxl reads at most the rows and columns that hold a value.
    Raises LimitExceeded or Unreadable."""
    last_row, last_column = check_xlsx(content)
    if not last_row:
        return []
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # its <dimension> may claim a million rows
            return list(sheet.iter_rows(max_row=last_row, max_col=last_column, values_only=True))
        finally:
            book.close()
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise Unreadable() from error
