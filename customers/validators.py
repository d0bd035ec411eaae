"""Validators for Finnish identifiers held in the register (S7)."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

FINNISH_POSTAL_CODE = re.compile(r"^\d{5}$")
BUSINESS_ID = re.compile(r"^(\d{7})-(\d)$")
BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def validate_business_id(value: str) -> None:
    """A Finnish business ID (Y-tunnus): seven digits, a hyphen and a check digit.

    The check digit is computed with weights 7, 9, 10, 5, 8, 4, 2 modulo 11
    (Finnish Tax Administration / PRH rule); remainder 1 is never issued.
    """
    match = BUSINESS_ID.match(value or "")
    if not match:
        raise ValidationError(_("Enter a business ID in the form 1234567-8."), code="business_id_format")
    digits, check = match.group(1), int(match.group(2))
    remainder = sum(int(d) * w for d, w in zip(digits, BUSINESS_ID_WEIGHTS, strict=True)) % 11
    if remainder == 1 or (0 if remainder == 0 else 11 - remainder) != check:
        raise ValidationError(_("This business ID has a wrong check digit."), code="business_id_checksum")


def validate_finnish_postal_code(value: str) -> None:
    if not FINNISH_POSTAL_CODE.match(value or ""):
        raise ValidationError(
            _("A Finnish postal code is five digits, for example 00100."),
            code="postal_code",
        )


# Characters a name never needs: controls (line breaks, tabs, NUL), format characters
# (the bidi controls U+202A-U+202E and U+2066-U+2069, marks such as U+200E, zero-width
# spaces), line and paragraph separators, private-use, surrogate and unassigned code
# points. A bidi override makes a name read differently from what was stored, in an
# e-mail, a label or the admin. The zero-width joiner and non-joiner stay: some
# scripts (Persian, Indic) spell names with them.
NAME_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
NAME_ALLOWED_FORMAT_CHARACTERS = {"\u200c", "\u200d"}


def validate_name_characters(value: str) -> None:
    """A person's name holds no control, bidi or invisible characters."""
    for character in value or "":
        if (
            unicodedata.category(character) in NAME_FORBIDDEN_CATEGORIES
            and character not in NAME_ALLOWED_FORMAT_CHARACTERS
        ):
            raise ValidationError(
                _(
                    "A name cannot contain control characters or invisible characters that "
                    "change the direction of the text (U+%(code)04X)."
                ),
                code="name_characters",
                params={"code": ord(character)},
            )
