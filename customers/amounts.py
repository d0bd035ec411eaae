"""Sums in euros as people type them (issue 12, item 3): the Finnish way (`65,50`,
`1 234,50`, the space also a non-breaking one, `1.234,50`) or the English way (`65.50`,
`1,234.50`), read as euros and cents whatever the admin's language. A separator is read
as grouping only where it groups thousands, so a typed sum is never multiplied: `65,50`
is never 6550, and anything else ambiguous is refused with a message."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

# Every space a keyboard, a spreadsheet or a copied number may carry between thousands.
SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
CURRENCY = re.compile(r"(€|eur(?:oa?)?)$|^(€|eur)", re.IGNORECASE)
DIGITS = r"\d+"


def _grouped(separator: str) -> re.Pattern:
    return re.compile(rf"\d{{1,3}}(?:{re.escape(separator)}\d{{3}})+")


def parse_euros(text: str) -> Decimal | None:
    """The sum `text` says, or None when it cannot be read without guessing."""
    value = CURRENCY.sub("", text.strip()).strip()
    sign = ""
    if value[:1] in "-−":
        sign, value = "-", value[1:].strip()
    spaced = bool(SPACES.search(value))
    if spaced:
        value = SPACES.sub(" ", value)
    commas, dots = value.count(","), value.count(".")
    if commas and dots:  # both: the last one is the decimal separator
        decimal_sep = "," if value.rfind(",") > value.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
    elif commas == 1 or dots == 1:
        decimal_sep, group_sep = ("," if commas else "."), ""
    elif commas or dots:  # 1,234,567 or 1.234.567: grouping only
        decimal_sep, group_sep = "", ("," if commas else ".")
    else:
        decimal_sep = group_sep = ""
    if spaced:
        if group_sep:
            return None  # two kinds of grouping in one number
        group_sep = " "
    whole, _sep, cents = value.partition(decimal_sep) if decimal_sep else (value, "", "")
    if decimal_sep and (decimal_sep in cents or not re.fullmatch(DIGITS, cents)):
        return None
    if not (re.fullmatch(DIGITS, whole) or (group_sep and _grouped(group_sep).fullmatch(whole))):
        return None
    number = whole.replace(group_sep, "") if group_sep else whole
    try:
        return Decimal(f"{sign}{number}.{cents}" if cents else f"{sign}{number}")
    except InvalidOperation:  # pragma: no cover - the patterns above admit digits only
        return None


class EuroAmountField(forms.DecimalField):
    """A sum in euros and cents in a text input (not type=number, which leaves a comma to
    the browser): shown the way the admin's language writes it (65,50 in Finnish)."""

    default_error_messages = {
        "invalid": _("Enter the sum in euros and cents, for example 65,50 or 1 234,50."),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("step", None)
        attrs.update({"inputmode": "decimal", "autocomplete": "off", "class": "vTextField euro-amount"})
        return attrs

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        parsed = parse_euros(str(value))
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed
