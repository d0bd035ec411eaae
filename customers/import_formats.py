"""The customer files the import takes, each recognised by its headers and mapped whole.

- the register's own columns, by their field names or their names in the admin in
  Finnish or English (Etunimi, Sukunimi, Sähköposti ...; the downloadable template);
- Shopify's customer export, old and 2024 headers;
- WooCommerce customer exports (the "Customer / Order CSV Export" and user-export
  plugins' columns: email or user_email, first_name, billing_*);
- Mailchimp's audience export;
- Google Contacts CSV (the 2023 and the older headers);
- Outlook's CSV export (Outlook on the web, new Outlook and the desktop Outlook).

Each format says, for each field of the register, where its value is found: a list of
sources in order, the first one with a value in the row winning; a source of several
columns joins their values with a space (Shopify's Address1 + Address2). An address
is taken as a whole from one group of columns (Outlook's home address, else its
business address), so that a street never goes with another address's city.

Every column a format knows but does not import (order totals, tags, notes) is listed
in `ignored`; any other column that holds a value is shown in the preview as not
imported, so nothing, least of all an e-mail, a phone or an address, is dropped
silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from django.db.models import Field
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from privacy.personal_data import imported_fields

from .models import Customer

# The customer fields a row may set, in the order the preview shows them: those declared
# `imported` in privacy/personal_data.py; and the register's own columns of a file.
FIELDS = imported_fields(Customer)
OWN_COLUMNS = [*FIELDS, "accepts_email_marketing"]
Source = tuple[str, ...]  # header names whose values are joined with a space


def own_column_label(name: str) -> str:
    """The name of one of the register's own columns, in the current language."""
    if name == "accepts_email_marketing":
        return str(_("accepts e-mail marketing"))
    return str(cast(Field, Customer._meta.get_field(name)).verbose_name)


def key(header: str) -> str:
    """A header as it is compared: case, spacing and a BOM do not matter."""
    return " ".join(header.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class Format:
    name: str
    label: Promise | str
    # field -> sources in order; the first with a value wins
    fields: dict[str, Sequence[Source]]
    # groups of address columns (field -> sources), the first group with any value wins
    addresses: Sequence[dict[str, Sequence[Source]]] = ()
    ignored: frozenset[str] = frozenset()
    # whether the format is this file's, from the set of its headers (as key() gives them)
    recognise: Callable[[set[str]], bool] = lambda headers: False
    strip_apostrophe: bool = False  # Shopify writes '00100 and '+358... to keep them text
    # a value that splits into several (Google's "a ::: b"): only the first is imported
    multi_separator: str = ""
    # the address is in one column, parts separated by two spaces (Mailchimp)
    combined_address: str = ""
    # the row gives e-mail marketing consent when this column has any value
    consent_when_filled: tuple[str, ...] = ()
    consent_never_when: tuple[str, ...] = ()  # ...unless the file has one of these columns

    def headers(self) -> set[str]:
        names: set[str] = set()
        for sources in [*self.fields.values(), *(s for group in self.addresses for s in group.values())]:
            for source in sources:
                names.update(key(h) for h in source)
        if self.combined_address:
            names.add(key(self.combined_address))
        names.update(key(h) for h in self.consent_when_filled)
        return names


def _one(*headers: str) -> list[Source]:
    """Each header on its own, in order of preference."""
    return [(header,) for header in headers]


def _address(street: Source, postal_code: str, city: str, *countries: str) -> dict[str, Sequence[Source]]:
    """One address of an export: its street lines joined, its postal code, city and
    country (the first of `countries` the file has)."""
    return {
        "street_address": [street],
        "postal_code": _one(postal_code),
        "city": _one(city),
        "country": _one(*countries),
    }


# -- the register's own columns ------------------------------------------------------
# The field names, their names in the admin in English and Finnish (the template's
# headers), and the names Finnish offices give them.
OWN_NAMES: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "first name", "given name", "etunimi", "etunimet"),
    "last_name": ("last_name", "last name", "surname", "family name", "sukunimi"),
    "email": (
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "sähköposti",
        "sähköpostiosoite",
        "sposti",
    ),
    "phone": (
        "phone",
        "phone number",
        "mobile",
        "mobile phone",
        "telephone",
        "puhelin",
        "puhelinnumero",
        "matkapuhelin",
        "gsm",
        "puh",
    ),
    "street_address": (
        "street_address",
        "street address",
        "address",
        "street",
        "katuosoite",
        "lähiosoite",
        "osoite",
    ),
    "postal_code": ("postal_code", "postal code", "postcode", "zip", "zip code", "postinumero", "postinro"),
    "city": ("city", "town", "postitoimipaikka", "kaupunki", "paikkakunta", "kunta"),
    "country": ("country", "country code", "maa", "maakoodi"),
    "birth_date": ("birth_date", "birth date", "date of birth", "birthday", "syntymäaika", "syntymäpäivä"),
    "accepts_email_marketing": (
        "accepts_email_marketing",
        "accepts email marketing",
        "e-mail marketing",
        "sähköpostimarkkinointi",
        "sähköpostimarkkinointilupa",
    ),
}


def own_headers() -> list[tuple[str, str]]:
    """(field, header) of the template: the field's name in the admin, in the current language."""
    return [(name, capfirst(own_column_label(name))) for name in OWN_COLUMNS]


def _own_format() -> Format:
    fields: dict[str, Sequence[Source]] = {}
    for name in OWN_COLUMNS:
        names = list(OWN_NAMES.get(name, (name,)))
        for language in ("fi", "en"):
            with override(language):
                names.append(str(own_column_label(name)))
        fields[name] = [(n,) for n in dict.fromkeys(key(n) for n in names)]
    return Format(name="own", label=_("the register's own columns"), fields=fields)


# -- Shopify ---------------------------------------------------------------------------
SHOPIFY = Format(
    name="shopify",
    label="Shopify",
    fields={
        "first_name": _one("First Name"),
        "last_name": _one("Last Name"),
        "email": _one("Email"),
        "phone": _one("Phone", "Default Address Phone"),
        "accepts_email_marketing": _one("Accepts Email Marketing", "Accepts Marketing"),
    },
    addresses=[
        {
            "street_address": [
                ("Default Address Address1", "Default Address Address2"),
                ("Address1", "Address2"),
            ],
            "postal_code": _one("Default Address Zip", "Zip"),
            "city": _one("Default Address City", "City"),
            "country": _one("Default Address Country Code", "Country Code", "Country"),
        }
    ],
    ignored=frozenset(
        key(h)
        for h in (
            "Customer ID",
            "Company",
            "Default Address Company",
            "Province",
            "Province Code",
            "Default Address Province Code",
            "Accepts SMS Marketing",
            "Total Spent",
            "Total Orders",
            "Note",
            "Tax Exempt",
            "Tags",
        )
    ),
    recognise=lambda h: (
        {"first name", "last name", "email"} <= h
        and bool(
            h
            & {
                "accepts marketing",
                "accepts email marketing",
                "total spent",
                "total orders",
                "tax exempt",
                "default address address1",
                "address1",
            }
        )
    ),
    strip_apostrophe=True,
)

# -- WooCommerce -----------------------------------------------------------------------
WOOCOMMERCE = Format(
    name="woocommerce",
    label="WooCommerce",
    fields={
        # The account's names, else the billing names (a guest or a blank WordPress profile).
        "first_name": _one("first_name", "billing_first_name", "shipping_first_name"),
        "last_name": _one("last_name", "billing_last_name", "shipping_last_name"),
        "email": _one("email", "user_email", "billing_email"),
        "phone": _one("billing_phone", "shipping_phone"),
    },
    addresses=[
        _address(
            ("billing_address_1", "billing_address_2"), "billing_postcode", "billing_city", "billing_country"
        ),
        _address(
            ("shipping_address_1", "shipping_address_2"),
            "shipping_postcode",
            "shipping_city",
            "shipping_country",
        ),
    ],
    ignored=frozenset(
        key(h)
        for h in (
            "customer_id",
            "ID",
            "user_login",
            "user_nicename",
            "display_name",
            "nickname",
            "user_url",
            "user_registered",
            "date_registered",
            "role",
            "roles",
            "billing_company",
            "billing_state",
            "shipping_company",
            "shipping_state",
            "total_spent",
            "order_count",
            "paying_customer",
        )
    ),
    recognise=lambda h: bool(
        h & {"billing_email", "billing_address_1", "billing_postcode", "billing_first_name", "user_email"}
    ),
)

# -- Mailchimp -------------------------------------------------------------------------
MAILCHIMP = Format(
    name="mailchimp",
    label="Mailchimp",
    fields={
        "first_name": _one("First Name", "FNAME"),
        "last_name": _one("Last Name", "LNAME"),
        "email": _one("Email Address", "Email"),
        "phone": _one("Phone Number", "PHONE"),
    },
    combined_address="Address",
    consent_when_filled=("CONFIRM_TIME", "OPTIN_TIME"),
    consent_never_when=("UNSUB_TIME", "CLEAN_TIME", "UNSUB_CAMPAIGN_TITLE"),
    ignored=frozenset(
        key(h)
        for h in (
            "Birthday",  # MM/DD without a year
            "MEMBER_RATING",
            "OPTIN_IP",
            "CONFIRM_IP",
            "LATITUDE",
            "LONGITUDE",
            "GMTOFF",
            "DSTOFF",
            "TIMEZONE",
            "CC",
            "REGION",
            "LAST_CHANGED",
            "LEID",
            "EUID",
            "NOTES",
            "TAGS",
            "UNSUB_TIME",
            "UNSUB_CAMPAIGN_TITLE",
            "UNSUB_CAMPAIGN_ID",
            "UNSUB_REASON",
            "UNSUB_REASON_OTHER",
            "CLEAN_TIME",
            "CLEAN_CAMPAIGN_TITLE",
            "CLEAN_CAMPAIGN_ID",
        )
    ),
    recognise=lambda h: (
        "email address" in h and bool(h & {"leid", "euid", "member_rating", "optin_time", "confirm_time"})
    ),
)

# -- Google Contacts -------------------------------------------------------------------
GOOGLE = Format(
    name="google",
    label="Google Contacts",
    fields={
        "first_name": _one("First Name", "Given Name"),
        "last_name": _one("Last Name", "Family Name"),
        "email": _one("E-mail 1 - Value", "E-mail 2 - Value"),
        "phone": _one("Phone 1 - Value", "Phone 2 - Value"),
        "birth_date": _one("Birthday"),
    },
    addresses=[
        _address(
            ("Address 1 - Street", "Address 1 - Extended Address"),
            "Address 1 - Postal Code",
            "Address 1 - City",
            "Address 1 - Country",
        ),
        _address(
            ("Address 2 - Street", "Address 2 - Extended Address"),
            "Address 2 - Postal Code",
            "Address 2 - City",
            "Address 2 - Country",
        ),
    ],
    ignored=frozenset(
        key(h)
        for h in (
            "Name",
            "Middle Name",
            "Additional Name",
            "Phonetic First Name",
            "Phonetic Middle Name",
            "Phonetic Last Name",
            "Yomi Name",
            "Given Name Yomi",
            "Additional Name Yomi",
            "Family Name Yomi",
            "Name Prefix",
            "Name Suffix",
            "Initials",
            "Nickname",
            "Short Name",
            "Maiden Name",
            "File As",
            "Gender",
            "Location",
            "Billing Information",
            "Directory Server",
            "Mileage",
            "Occupation",
            "Hobby",
            "Sensitivity",
            "Priority",
            "Subject",
            "Notes",
            "Language",
            "Photo",
            "Labels",
            "Group Membership",
            "Organization Name",
            "Organization Title",
            "Organization Department",
            "Organization 1 - Type",
            "Organization 1 - Name",
            "Organization 1 - Title",
            "Organization 1 - Department",
            "E-mail 1 - Label",
            "E-mail 1 - Type",
            "E-mail 2 - Label",
            "E-mail 2 - Type",
            "Phone 1 - Label",
            "Phone 1 - Type",
            "Phone 2 - Label",
            "Phone 2 - Type",
            "Address 1 - Label",
            "Address 1 - Type",
            "Address 1 - Formatted",
            "Address 1 - PO Box",
            "Address 1 - Region",
            "Address 2 - Label",
            "Address 2 - Type",
            "Address 2 - Formatted",
            "Address 2 - PO Box",
            "Address 2 - Region",
            "Website 1 - Label",
            "Website 1 - Type",
            "Website 1 - Value",
        )
    ),
    recognise=lambda h: (
        "e-mail 1 - value" in h or "phone 1 - value" in h or {"given name", "family name"} <= h
    ),
    multi_separator=" ::: ",
)

# -- Outlook ---------------------------------------------------------------------------
OUTLOOK = Format(
    name="outlook",
    label="Outlook",
    fields={
        "first_name": _one("First Name"),
        "last_name": _one("Last Name"),
        "email": _one("E-mail Address", "E-mail 2 Address", "E-mail 3 Address"),
        "phone": _one(
            "Mobile Phone",
            "Primary Phone",
            "Home Phone",
            "Home Phone 2",
            "Business Phone",
            "Business Phone 2",
            "Other Phone",
        ),
        "birth_date": _one("Birthday"),
    },
    addresses=[
        _address(
            ("Home Street", "Home Street 2", "Home Street 3"),
            "Home Postal Code",
            "Home City",
            "Home Country/Region",
            "Home Country",
        ),
        _address(
            ("Other Street", "Other Street 2", "Other Street 3"),
            "Other Postal Code",
            "Other City",
            "Other Country/Region",
            "Other Country",
        ),
        _address(
            ("Business Street", "Business Street 2", "Business Street 3"),
            "Business Postal Code",
            "Business City",
            "Business Country/Region",
            "Business Country",
        ),
    ],
    ignored=frozenset(
        key(h)
        for h in (
            "Title",
            "Middle Name",
            "Suffix",
            "Nickname",
            "Given Yomi",
            "Surname Yomi",
            "Company",
            "Company Yomi",
            "Department",
            "Job Title",
            "Office Location",
            "Home State",
            "Home PO Box",
            "Business State",
            "Business PO Box",
            "Other State",
            "Other PO Box",
            "Business Fax",
            "Home Fax",
            "Other Fax",
            "Pager",
            "Car Phone",
            "Radio Phone",
            "Telex",
            "TTY/TDD Phone",
            "Callback",
            "Company Main Phone",
            "ISDN",
            "Assistant's Name",
            "Assistant's Phone",
            "Manager's Name",
            "IMAddress",
            "E-mail Type",
            "E-mail Display Name",
            "E-mail 2 Type",
            "E-mail 2 Display Name",
            "E-mail 3 Type",
            "E-mail 3 Display Name",
            "Personal Web Page",
            "Web Page",
            "Spouse",
            "Children",
            "Schools",
            "Hobby",
            "Location",
            "Anniversary",
            "Notes",
            "Categories",
            "Account",
            "Billing Information",
            "Directory Server",
            "Gender",
            "Government ID Number",
            "Initials",
            "Internet Free Busy",
            "Keywords",
            "Language",
            "Mileage",
            "Organizational ID Number",
            "Priority",
            "Private",
            "Profession",
            "Referred By",
            "Sensitivity",
            "User 1",
            "User 2",
            "User 3",
            "User 4",
        )
    ),
    recognise=lambda h: (
        "e-mail address" in h
        and bool(h & {"home street", "business street", "mobile phone", "home phone", "business phone"})
    ),
)

# The shop and contact formats in the order they are tried; a file that is none of
# them is read by the register's own columns.
FORMATS = (GOOGLE, OUTLOOK, MAILCHIMP, WOOCOMMERCE, SHOPIFY)
# The column the skipped-rows file adds (customers/import_admin.py); every format ignores it.
REASON_HEADERS = frozenset({key("Why the row was skipped"), key("Miksi rivi ohitettiin")})


@dataclass
class Mapping:
    """How one file's columns become the fields of a row."""

    format: Format
    # field -> sources as column indexes, in order
    fields: dict[str, list[list[int]]] = field(default_factory=dict)
    addresses: list[dict[str, list[list[int]]]] = field(default_factory=list)
    combined_address: int = -1
    consent_columns: list[int] = field(default_factory=list)
    unused: list[int] = field(default_factory=list)  # columns neither mapped nor known-ignored

    # header index -> rows where the column's value was not taken (an earlier column of
    # the same field, or another address, had one; the second of Google's "a ::: b")
    dropped: dict[int, int] = field(default_factory=dict)
    simple: list[tuple[str, int]] | None = None
    combined: list[tuple[str, list[list[int]]]] = field(default_factory=list)

    def row(self, cells: list[str]) -> dict[str, str]:
        """The row's values by field (only the fields the file has a value for)."""
        fmt = self.format
        if fmt.strip_apostrophe:
            cells = [c[1:].strip() if c.startswith("'") else c for c in cells]
        values: dict[str, str] = {}
        if self.simple is None:  # worked out once: the fields read from one column each
            one = not self.format.multi_separator
            self.simple = [
                (n, s[0][0]) for n, s in self.fields.items() if one and len(s) == 1 and len(s[0]) == 1
            ]
            simple = {n for n, _i in self.simple}
            self.combined = [(n, s) for n, s in self.fields.items() if n not in simple]
        for name, index in self.simple:
            if value := cells[index]:
                values[name] = value
        for name, sources in self.combined:
            if value := self._first(cells, sources):
                values[name] = value
        taken = False
        for group in self.addresses:
            found = {name: self._first(cells, sources, dropping=not taken) for name, sources in group.items()}
            if not any(found.get(name) for name in ("street_address", "postal_code", "city")):
                continue
            if taken:  # another address of the person, not imported: say so
                for name, sources in group.items():
                    if found.get(name, "").casefold() != values.get(name, "").casefold():
                        self._drop(cells, [i for source in sources for i in source])
            else:
                values.update((name, value) for name, value in found.items() if value)
                taken = True
        if self.combined_address >= 0 and (text := cells[self.combined_address]):
            values.update(split_combined_address(text))
        if self.consent_columns and any(cells[i] for i in self.consent_columns):
            values["accepts_email_marketing"] = "yes"
        return values

    def _first(self, cells: list[str], sources: list[list[int]], *, dropping: bool = True) -> str:
        separator = self.format.multi_separator
        for position, source in enumerate(sources):
            parts = [cells[i] for i in source if cells[i]]
            if separator:
                for i in source:
                    if separator in cells[i] and dropping:
                        self.dropped[i] = self.dropped.get(i, 0) + 1
                parts = [part.split(separator)[0].strip() for part in parts]
            if text := " ".join(part for part in parts if part):
                if dropping:
                    later = [i for other in sources[position + 1 :] for i in other]
                    self._drop(cells, later, unless=text)
                return text
        return ""

    def _drop(self, cells: list[str], indexes: list[int], unless: str = "") -> None:
        separator = self.format.multi_separator
        for i in indexes:
            value = cells[i].split(separator)[0].strip() if separator else cells[i]
            if value and value.casefold() != unless.casefold():
                self.dropped[i] = self.dropped.get(i, 0) + 1


def recognise(headers: list[str]) -> Mapping:
    """The format of a file with these headers, and where each field is in a row."""
    keys = [key(h) for h in headers]
    present = set(keys)
    fmt = next((f for f in FORMATS if f.recognise(present)), None) or _own_format()
    index: dict[str, int] = {}
    for position, name in enumerate(keys):
        index.setdefault(name, position)

    def columns(sources: Sequence[Source]) -> list[list[int]]:
        found = [[index[key(h)] for h in source if key(h) in index] for source in sources]
        return [source for source in found if source]

    mapping = Mapping(format=fmt)
    for name, sources in fmt.fields.items():
        if found := columns(sources):
            mapping.fields[name] = found
    for group in fmt.addresses:
        found_group = {name: found for name, sources in group.items() if (found := columns(sources))}
        if found_group:
            mapping.addresses.append(found_group)
    if fmt.combined_address and key(fmt.combined_address) in index:
        mapping.combined_address = index[key(fmt.combined_address)]
    if not present & {key(h) for h in fmt.consent_never_when}:
        mapping.consent_columns = [index[key(h)] for h in fmt.consent_when_filled if key(h) in index]
    used = {i for sources in mapping.fields.values() for source in sources for i in source}
    used |= {
        i for group in mapping.addresses for sources in group.values() for source in sources for i in source
    }
    used |= set(mapping.consent_columns) | ({mapping.combined_address} - {-1})
    known = fmt.ignored | REASON_HEADERS | {key(h) for h in fmt.consent_never_when}
    mapping.unused = [i for i, name in enumerate(keys) if i not in used and name not in known]
    return mapping


# -- values ----------------------------------------------------------------------------
POSTAL_CODE = re.compile(r"^(FI-?)?\d{5}$", re.IGNORECASE)


def split_combined_address(text: str) -> dict[str, str]:
    """Mailchimp's address column: street, street 2, city, state, zip and country
    separated by two spaces, the empty parts left out ("Kauppakatu 3  Jyväskylä  40100  FI")."""
    parts = [part.strip() for part in re.split(r"\s{2,}", text.strip()) if part.strip()]
    values: dict[str, str] = {}
    if parts and re.fullmatch(r"[A-Za-z]{2}", parts[-1]):
        values["country"] = parts.pop().upper()
    if parts and re.fullmatch(r"[A-Za-z]{0,3}-?\d[\d -]{2,9}", parts[-1]):
        values["postal_code"] = parts.pop()
    if len(parts) >= 2:
        values["city"] = parts.pop()
    if parts:
        values["street_address"] = " ".join(parts)
    return values


# Country names as Google and Outlook write them (the language of the account), to codes.
COUNTRY_NAMES = {
    "finland": "FI",
    "suomi": "FI",
    "finland (suomi)": "FI",
    "sweden": "SE",
    "ruotsi": "SE",
    "sverige": "SE",
    "norway": "NO",
    "norja": "NO",
    "norge": "NO",
    "denmark": "DK",
    "tanska": "DK",
    "danmark": "DK",
    "estonia": "EE",
    "viro": "EE",
    "eesti": "EE",
    "germany": "DE",
    "saksa": "DE",
    "deutschland": "DE",
    "iceland": "IS",
    "islanti": "IS",
    "united kingdom": "GB",
    "iso-britannia": "GB",
    "uk": "GB",
    "united states": "US",
    "yhdysvallat": "US",
    "usa": "US",
    "france": "FR",
    "ranska": "FR",
    "spain": "ES",
    "espanja": "ES",
    "netherlands": "NL",
    "alankomaat": "NL",
    "russia": "RU",
    "venäjä": "RU",
    "latvia": "LV",
    "lithuania": "LT",
    "liettua": "LT",
    "poland": "PL",
    "puola": "PL",
    "pakistan": "PK",
}


def country_code(text: str) -> str:
    """A country as its two-letter code: FI stays FI, "Suomi" becomes FI; other text is
    returned as it is (the customer's validation then says it is not a code)."""
    value = text.strip()
    if len(value) == 2:
        return value.upper()
    return COUNTRY_NAMES.get(value.casefold(), value)


def format_label(name: str) -> str:
    """What the preview calls the format it recognised."""
    if name == "own":
        return str(_("the register's own columns"))
    labels = {f.name: f.label for f in FORMATS}
    return str(_("%(name)s export") % {"name": labels.get(name, name)})
