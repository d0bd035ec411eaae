"""Ban lists (privacy notice S17): the people who banned addressed direct mail or
telephone marketing, as a list provider hands them over, get an objection recorded
as coming from the ban register.

A list is read as the provider writes it (customers/tabular.py): Windows-1252 or
UTF-8, `;` or `,`, XLSX or ODS, Finnish upper-case headers
(SUKUNIMI;ETUNIMET;LÄHIOSOITE;POSTINUMERO;POSTITOIMIPAIKKA) or English ones. Its kind
follows from its columns:

- a **direct-mail** list (surname, given names, street address, postal code) records an
  objection to direct advertising. A customer is on it when the surname is the same,
  any of the given names ('OLAVI JUHANI') is the customer's first name, the street
  address is the same once spacing, case and dots are set aside ('C29' = 'c 29',
  'as.' = 'as') and the postal code is the same with its zeros restored (100 = 00100).
  A customer with the surname and postal code of someone on the list but another street
  or first name *nearly matches*: staff tick those who are the same person;
- a **telephone** list (phone numbers only) records an objection to distance selling
  (telephone marketing) for every customer with one of its numbers.

preview_ban_list() matches and writes nothing; apply_ban_list() matches again, records
the objections (the matches, and the near matches staff ticked) and an audit event with
counts only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.audit import record
from privacy.models import AuditAction

from .imports import chunks, normalise_phone
from .matching import fold, given_name_matches, postal_code_key, street_key
from .models import Channel, Customer, MarketingObjection, ObjectionPurpose
from .tabular import TableError, read_table

# Header names as list providers, the register's own files and spreadsheets write
# them, folded (case, accents, spaces and punctuation set aside).
HEADERS = {
    "last_name": {"sukunimi", "sukunimet", "lastname", "surname", "familyname"},
    "given_names": {"etunimet", "etunimi", "firstname", "firstnames", "givenname", "givennames", "forename"},
    "street_address": {
        "lahiosoite",
        "katuosoite",
        "osoite",
        "jakeluosoite",
        "postiosoite",
        "streetaddress",
        "address",
        "address1",
        "street",
    },
    "postal_code": {"postinumero", "postinro", "postinum", "postalcode", "postcode", "zip", "zipcode"},
    "city": {"postitoimipaikka", "toimipaikka", "postitmp", "ptp", "city", "posttown"},
    "phone": {
        "puhelin",
        "puhelinnumero",
        "puh",
        "puhnro",
        "matkapuhelin",
        "gsm",
        "liittymanumero",
        "phone",
        "phonenumber",
        "telephone",
        "mobile",
    },
}
MAIL_COLUMNS = ("last_name", "given_names", "street_address", "postal_code")
MAIL, TELEPHONE = "mail", "telephone"
PURPOSE = {MAIL: ObjectionPurpose.DIRECT_ADVERTISING, TELEPHONE: ObjectionPurpose.DISTANCE_SELLING}
# What a near match differs in.
STREET, NAME = "street", "name"


class BanListError(ValueError):
    """The file cannot be read as a ban list; `message` says why (translatable)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Entry:
    """A person on the list, as the list gives them, with its spreadsheet row number."""

    number: int
    last_name: str = ""
    given_names: str = ""
    street_address: str = ""
    postal_code: str = ""
    city: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Found:
    """A customer in the register for a person on the list."""

    entry: Entry
    customer: Customer
    in_force: bool = False  # the customer already objects to the list's purpose
    differs: tuple[str, ...] = ()  # a near match: in what (STREET, NAME)

    @property
    def value(self) -> str:
        """How staff tick a near match: the list's row and the customer."""
        return f"{self.entry.number}:{self.customer.pk}"


@dataclass
class BanListOutcome:
    kind: str
    rows: int
    matches: list[Found] = field(default_factory=list)
    near: list[Found] = field(default_factory=list)
    unmatched: int = 0
    recorded: int = 0
    applied: bool = False

    @property
    def purpose_label(self) -> str:
        return str(ObjectionPurpose(PURPOSE[self.kind]).label)

    @property
    def already_in_force(self) -> int:
        return sum(1 for found in self.matches if found.in_force)

    def counts(self, ticked: int = 0) -> dict[str, int]:
        """For the audit log: counts, never names."""
        return {
            "rows": self.rows,
            "matched": len(self.matches),
            "near": len(self.near),
            "near_ticked": ticked,
            "unmatched": self.unmatched,
            "recorded": self.recorded,
            "already_in_force": self.already_in_force,
        }


def _header_key(header: str) -> str:
    return "".join(c for c in fold(header) if c.isalnum())


def read_ban_list(content: bytes, filename: str = "") -> tuple[str, list[Entry]]:
    """The list's kind (MAIL or TELEPHONE) and its people. Raises BanListError."""
    try:
        table = read_table(content, filename)
    except TableError as error:
        raise BanListError(error.message) from error
    names = {key: name for name, keys in HEADERS.items() for key in keys}
    columns = [names.get(_header_key(header)) for header in table.headers]
    if set(MAIL_COLUMNS) <= set(columns):
        kind = MAIL
    elif "phone" in columns and not {"last_name", "street_address"} & set(columns):
        kind = TELEPHONE
    else:
        raise BanListError(
            _(
                "The file's columns (%(columns)s) are not those of a ban list. A direct-mail "
                "ban list needs SUKUNIMI, ETUNIMET, LÄHIOSOITE and POSTINUMERO (or last_name, "
                "first_name, street_address, postal_code); a telephone ban list needs one "
                "column PUHELIN (or phone)."
            )
            % {"columns": ", ".join(h for h in table.headers if h) or "–"}
        )
    read = [(index, name) for index, name in enumerate(columns) if name]
    entries = []
    for row in table.rows:
        values = {name: row.cells[index] for index, name in read if index < len(row.cells)}
        entry = Entry(number=row.number, **values)
        if (kind == MAIL and entry.last_name and entry.postal_code) or (kind == TELEPHONE and entry.phone):
            entries.append(entry)
    return kind, entries


def preview_ban_list(*, content: bytes, filename: str = "") -> BanListOutcome:
    """Who on the list is in the register, who nearly is, and how many are not: nothing written."""
    kind, entries = read_ban_list(content, filename)
    outcome = _match_mail(entries) if kind == MAIL else _match_phone(entries)
    in_force = _objecting(
        {found.customer.pk for found in outcome.matches + outcome.near}, PURPOSE[outcome.kind]
    )
    outcome.matches = [_with_in_force(found, in_force) for found in outcome.matches]
    outcome.near = [_with_in_force(found, in_force) for found in outcome.near]
    return outcome


@transaction.atomic
def apply_ban_list(
    *, content: bytes, filename: str = "", actor, same_person: Iterable[str] = ()
) -> BanListOutcome:
    """Record the list's objections.

    1. read and match the list as the preview did;
    2. take its matches and the near matches staff ticked (`same_person`: the values
       the preview offered; one no longer offered is ignored);
    3. record for each of those customers without one in force an objection to the
       list's purpose (direct advertising, or distance selling for a telephone list),
       channel: ban register, received now, recorded by `actor`;
    4. record one audit event with the counts.
    """
    outcome = preview_ban_list(content=content, filename=filename)
    ticked = set(same_person)
    chosen = outcome.matches + [found for found in outcome.near if found.value in ticked]
    customers = {found.customer.pk for found in chosen if not found.in_force}
    now = timezone.now()
    MarketingObjection.objects.bulk_create(
        MarketingObjection(
            customer_id=pk,
            purpose=PURPOSE[outcome.kind],
            channel=Channel.BAN_REGISTER,
            received_at=now,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for pk in sorted(customers)
    )
    outcome.recorded, outcome.applied = len(customers), True
    record(
        action=AuditAction.IMPORT,
        actor=actor,
        object_type="customers.marketingobjection",
        fields=["ban_list"],
        counts=outcome.counts(ticked=len(chosen) - len(outcome.matches)),
    )
    return outcome


def _match_mail(entries: list[Entry]) -> BanListOutcome:
    """Matches and near matches among the customers with a listed surname and postal code."""
    listed: dict[tuple[str, str], list[Entry]] = {}
    for entry in entries:
        listed.setdefault((fold(entry.last_name), postal_code_key(entry.postal_code)), []).append(entry)
    outcome = BanListOutcome(kind=MAIL, rows=len(entries))
    found_entries: set[int] = set()
    fields = ("pk", "first_name", "last_name", "street_address", "postal_code", "city")
    register = Customer.objects.not_anonymised().order_by("last_name", "first_name", "pk").only(*fields)
    for chunk in chunks(sorted({postal for _last, postal in listed})):
        for customer in register.filter(postal_code__in=chunk):
            same = listed.get((fold(customer.last_name), postal_code_key(customer.postal_code)), [])
            exact = [e for e in same if not _differences(e, customer)]
            if exact:
                outcome.matches.append(Found(exact[0], customer))
                found_entries.update(e.number for e in exact)
            elif same:
                near = min(same, key=lambda e: len(_differences(e, customer)))
                outcome.near.append(Found(near, customer, differs=_differences(near, customer)))
                found_entries.add(near.number)
    outcome.unmatched = sum(1 for e in entries if e.number not in found_entries)
    return outcome


def _differences(entry: Entry, customer: Customer) -> tuple[str, ...]:
    differs = []
    if street_key(entry.street_address) != street_key(customer.street_address):
        differs.append(STREET)
    if not given_name_matches(entry.given_names, customer.first_name):
        differs.append(NAME)
    return tuple(differs)


def _match_phone(entries: list[Entry]) -> BanListOutcome:
    """The customers with a listed phone number (as E.164, the way the register keeps it)."""
    numbers: dict[str, Entry] = {}
    for entry in entries:
        number = normalise_phone(entry.phone)
        if number.startswith("+"):
            numbers.setdefault(number, entry)
    outcome = BanListOutcome(kind=TELEPHONE, rows=len(entries))
    fields = ("pk", "first_name", "last_name", "street_address", "postal_code", "city", "phone")
    register = Customer.objects.not_anonymised().order_by("last_name", "first_name", "pk").only(*fields)
    found_numbers: set[str] = set()
    for chunk in chunks(sorted(numbers)):
        for customer in register.filter(phone__in=chunk):
            number = str(customer.phone)
            outcome.matches.append(Found(numbers[number], customer))
            found_numbers.add(number)
    outcome.unmatched = sum(1 for entry in entries if normalise_phone(entry.phone) not in found_numbers)
    return outcome


def _objecting(pks: set[int], purpose: str) -> set[int]:
    objecting: set[int] = set()
    for chunk in chunks(sorted(pks)):
        objecting.update(
            MarketingObjection.objects.in_force(purpose)
            .filter(customer_id__in=chunk)
            .values_list("customer_id", flat=True)
        )
    return objecting


def _with_in_force(found: Found, in_force: set[int]) -> Found:
    if found.customer.pk not in in_force:
        return found
    return Found(found.entry, found.customer, in_force=True, differs=found.differs)
