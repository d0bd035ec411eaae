"""Dates and sums of the access report, in the report's language (S16).

The report is rendered from its JSON document (the one the requester downloads), where
a date is an ISO string and a sum a decimal string; these filters take those as well as
the Python values, so the staff preview and the released report print the same.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone, translation
from django.utils.dateformat import format as format_date
from django.utils.numberformat import format as format_number

register = template.Library()

# Finnish writes 31.12.2026 and 65,50 €; English 31 December 2026 (no day/month
# ambiguity between British and American readers) and €65.50.
DATE_FORMATS = {"fi": "j.n.Y", "en": "j F Y"}
DATETIME_FORMATS = {"fi": r"j.n.Y \k\l\o G.i", "en": "j F Y, H:i"}


def _language() -> str:
    language = (translation.get_language() or "fi").split("-")[0]
    return language if language in DATE_FORMATS else "fi"


def _parse(value) -> datetime.date | datetime.datetime | None:
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        if "T" in value:
            return datetime.datetime.fromisoformat(value)
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _local(value: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def report_date(value) -> str:
    """A date, or the local date of a moment, written the report language's way; "" if none."""
    parsed = _parse(value)
    if parsed is None:
        return ""
    if isinstance(parsed, datetime.datetime):
        parsed = _local(parsed).date()
    return format_date(parsed, DATE_FORMATS[_language()])


@register.filter
def report_datetime(value) -> str:
    """A moment with its local time (when the report was made)."""
    parsed = _parse(value)
    if parsed is None:
        return ""
    if not isinstance(parsed, datetime.datetime):
        return report_date(parsed)
    return format_date(_local(parsed), DATETIME_FORMATS[_language()])


@register.filter
def report_sum(value) -> str:
    """A sum in euros: "1 234,50 €" in Finnish, "€1,234.50" in English; "" if none."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return ""
    if _language() == "en":
        number = format_number(amount, ".", 2, 3, ",", force_grouping=True)
        return f"€{number}" if amount >= 0 else f"-€{number.lstrip('-')}"
    # A space groups the thousands; no-break spaces keep the sum on one line.
    number = format_number(amount, ",", 2, 3, "\u00a0", force_grouping=True)
    return f"{number}\u00a0€"
