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
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from import_export import fields, resources

from .models import DIRECT_MARKETING_PURPOSES, Customer, Order

# Addressed direct mail is direct marketing: whoever objected to any of its forms is
# left out.
LABEL_PURPOSES = DIRECT_MARKETING_PURPOSES
# OWASP CSV injection: a cell starting with one of these is read as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
CHUNK = 2000


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


def _filtered(filters: LabelFilters) -> QuerySet:
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


def csv_chunks(queryset: QuerySet) -> Iterator[str]:
    """CSV, written row by row (UTF-8 with a BOM so spreadsheets read ä and ö)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for row in label_rows(queryset):
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


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
