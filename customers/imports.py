"""Importing customers from shop systems, web shops and resellers (privacy notice S8).

A CSV, XLSX or ODS file (customers/tabular.py) in the app's own columns (Finnish or
English) or a customer export of Shopify, WooCommerce, Mailchimp, Google Contacts or
Outlook is recognised by its headers (customers/import_formats.py). Rows are matched
to existing customers by e-mail, then phone, then first and last name with postal
code, so a customer who is already in the register is updated, not duplicated; a
person listed twice in one file becomes one customer. Two people are never merged: a
row found by e-mail or phone whose first name differs is a conflict, another person
unless staff tick it, and a file's spelling in other case or without accents never
replaces a name or address (customers/matching.py). Every row is validated by the
customer's own rules (Customer.full_clean on what the row sets); the preview lists
each invalid row with its row number in the spreadsheet and why, and staff choose to
import the valid rows and skip those, or to import nothing. Rows of
people erased at their wish never to be contacted again match nobody and are
left out (counted). Every new customer records its source; every updated one
gets a change row with the fields (never the values), the source and who.

preview_import() reads, matches and validates without writing anything;
import_customers() does the same and then writes the file in one transaction.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import cast

import phonenumbers
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connections, router, transaction
from django.db.models import CharField, Field, TextChoices
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.audit import record
from privacy.models import AuditAction

from .changes import change_entry
from .import_formats import FIELDS, country_code, recognise
from .import_limits import FileCheckError
from .matching import SPELLING_FIELDS, Conflict, PeopleByKey, file_spelling_wins, fold, same_first_name
from .models import Channel, Customer, CustomerChange, EmailMarketingConsent
from .tabular import read_table

REQUIRED = {"first_name", "last_name"}
COUNTRY_CODE = _("Write the country as its two-letter code, such as FI, SE or EE.")
NO_NAME = _("The row has no first name or no last name: the register needs both to add a person.")

CONSENT_YES = {"yes", "true", "1", "kyllä"}
UNREAD = ("created_at", "updated_at", "last_activity_at")  # what an import never reads of a customer
BATCH = 1000  # rows per bulk INSERT/UPDATE and per IN (...) list when looking up matches
# Rows per UPDATE ... FROM (VALUES ...) on PostgreSQL: up to a few hundred rows the
# planner joins them to the table by its primary key; at 1,000 it scans the whole
# table instead, and each row costs twice as much (EXPLAIN ANALYZE, 100,000 customers).
UPDATE_BATCH = 400
CUSTOMER_FIELDS = frozenset(f.name for f in Customer._meta.concrete_fields)
# Whether a row's fields are under a uniqueness rule (none today: a row never sets the
# primary key); when none is, full_clean() is spared looking for one per row.
UNIQUE_CHECKS = bool(
    any(cast(Field, Customer._meta.get_field(name)).unique for name in FIELDS)
    or Customer._meta.unique_together
    or Customer._meta.total_unique_constraints
)
# ISO dates (what the shops export) and Finnish ones (31.12.1980), whatever the language.
# 1.5.1990 and 01.05.1990 alike (strptime takes one digit or two); a workbook's dates
# come as ISO, with a time when the cell has one.
DATE = forms.DateField(required=False, input_formats=["%d.%m.%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"])


# The conflicts staff ticked in the preview as the same person: (row number, customer id).
SamePerson = frozenset[tuple[int, int]]


class ImportFileError(ValueError):
    """The file cannot be read as a customer list; the message says why (translatable)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class RowStatus(TextChoices):
    NEW = "new", _("new")
    UPDATED = "updated", _("updated")
    UNCHANGED = "unchanged", _("unchanged")
    INVALID = "invalid", _("invalid")
    LEFT_OUT = "left_out", _("left out")


@dataclass
class RowResult:
    """What one data row of the file does. `number` counts data rows from 1 (the header
    row not counted); `values` is the row as read, by our column names. A left-out row
    keeps no values: the person asked never to be contacted again."""

    number: int
    status: str
    values: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    cells: list[str] = field(default_factory=list)  # a skipped row's cells as in the file
    previous: dict[str, str] = field(default_factory=dict)  # an update's changed fields, as they were
    kept: dict[str, str] = field(default_factory=dict)  # the register's spelling the file's did not replace
    conflict: Conflict | None = None  # found by e-mail or phone, but the first name differs

    @property
    def status_label(self) -> str:
        return str(RowStatus(self.status).label)


@dataclass
class ImportOutcome:
    """What a file does (preview) or did (import), row by row."""

    shop: str
    rows: list[RowResult]
    imported: bool = False
    headers: list[str] = field(default_factory=list)  # the file's own header row
    unused_columns: list[tuple[str, int]] = field(default_factory=list)  # with values, not imported
    skipped: bool = False  # the invalid rows were skipped and the others imported

    def _count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def total_rows(self) -> int:
        return len(self.rows)

    @property
    def new(self) -> int:
        return self._count(RowStatus.NEW)

    @property
    def updated(self) -> int:
        return self._count(RowStatus.UPDATED)

    @property
    def unchanged(self) -> int:
        return self._count(RowStatus.UNCHANGED)

    @property
    def invalid(self) -> int:
        return self._count(RowStatus.INVALID)

    @property
    def left_out_suppressed(self) -> int:
        return self._count(RowStatus.LEFT_OUT)

    @property
    def valid(self) -> int:
        """Rows that would import (new, updated or unchanged)."""
        return self.new + self.updated + self.unchanged

    @property
    def invalid_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.status == RowStatus.INVALID]

    @property
    def conflict_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.conflict is not None]

    def counts(self) -> dict[str, int]:
        """The counts for the audit log (never values)."""
        return {
            "rows": len(self.rows),
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "invalid": self.invalid,
            "left_out_suppressed": self.left_out_suppressed,
            "skipped": self.invalid if self.skipped else 0,
            "conflicts": len(self.conflict_rows),
            "conflicts_same_person": sum(
                1 for row in self.conflict_rows if row.conflict and row.conflict.same_person
            ),
        }


@dataclass
class _Planned:
    """A customer the file creates or updates, with what it changes."""

    customer: Customer
    is_new: bool
    changed: set[str] = field(default_factory=set)
    consent: bool = False
    rows: int = 0  # rows of the file applied to it so far


@dataclass
class _Plan:
    outcome: ImportOutcome
    planned: list[_Planned]


# Called now and then while rows are matched: (rows done, rows in the file).
Progress = Callable[[int, int], None]
PROGRESS_EVERY = 1000


def preview_import(
    *,
    content: bytes,
    source: str,
    filename: str = "",
    same_person: SamePerson = frozenset(),
    progress: Progress | None = None,
) -> ImportOutcome:
    """Read, match and validate a file, writing nothing: what the preview shows."""
    with _automatic_gc_paused():
        return _plan(
            content=content, source=source, filename=filename, same_person=same_person, progress=progress
        ).outcome


def import_customers(
    *,
    content: bytes,
    source: str,
    actor,
    filename: str = "",
    skip_invalid: bool = False,
    same_person: SamePerson = frozenset(),
    progress: Progress | None = None,
) -> ImportOutcome:
    """Import a customer file: every row, or (skip_invalid, as staff chose in the
    preview) every valid row, the invalid ones being skipped and listed.

    1. read the file and recognise its headers (customers/import_formats.py);
    2. leave out the rows of people who asked never to be contacted again (counted);
    3. match the other rows to customers in bulk (e-mail, phone, name with postal code);
       a row found by e-mail or phone whose first name differs is a conflict: another
       person, a new customer, unless `same_person` holds its (row number, customer id)
       (customers/matching.py);
    4. validate every row; if any row is invalid and they are not to be skipped,
       stop here and write nothing;
    5. INSERT the new customers and UPDATE the changed columns of the matched ones;
    6. write a change row per updated customer (S8) and the new e-mail marketing consents;
    7. record an audit event with the counts.

    Steps 5 to 7 are one transaction; the reading and matching before it write nothing,
    so a background import's progress (customers/import_jobs.py) is seen as it goes.
    """
    with _automatic_gc_paused():
        plan = _plan(
            content=content, source=source, filename=filename, same_person=same_person, progress=progress
        )
        outcome = plan.outcome
        with transaction.atomic():
            if not outcome.invalid or skip_invalid:
                _write(plan.planned, source=source, actor=actor)
                outcome.imported = True
                outcome.skipped = bool(outcome.invalid)
            record(
                action=AuditAction.IMPORT,
                actor=actor,
                object_type="customers.customer",
                fields=["import"],
                counts=outcome.counts(),
            )
    return outcome


@contextmanager
def _automatic_gc_paused():
    """Pause Python's automatic cyclic garbage collection while a file is imported.

    An import keeps hundreds of thousands of objects alive (customers, row results),
    and every automatic full collection walks all of them. The import makes no
    reference cycles that matter, so nothing piles up meanwhile; objects are still
    freed by reference counting. Collection resumes afterwards (unless something else
    had turned it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- reading the file ---------------------------------------------------------
@dataclass
class FileRows:
    """A file's rows as our column names to text, with the row numbers the spreadsheet
    shows, the file's own cells (for the file of skipped rows) and the columns that
    hold values the import does not take."""

    shop: str
    headers: list[str]
    rows: list[dict[str, str]]
    numbers: list[int]
    cells: list[list[str]]
    unused: list[tuple[str, int]] = field(default_factory=list)  # (header, rows with a value)


def read_rows(content: bytes, filename: str = "") -> FileRows:
    """Read a CSV, XLSX or ODS file (customers/tabular.py) and recognise its format by its
    headers (customers/import_formats.py). A file whose columns are not recognised is
    refused with the columns it did not understand."""
    try:
        table = read_table(content, filename)
    except FileCheckError as error:
        raise ImportFileError(error.message) from error
    mapping = recognise(table.headers)
    if mapping.format.name == "own" and not REQUIRED <= set(mapping.fields):
        raise ImportFileError(_not_understood(table.headers, mapping))
    if not table.rows:
        raise ImportFileError(_("The file has a header row but no rows of customers under it."))
    rows, numbers, cells = [], [], []
    width = len(table.headers)
    filled = dict.fromkeys(mapping.unused, 0)
    for row in table.rows:
        values = mapping.row(row.cells)
        for index in filled:
            if row.cells[index]:
                filled[index] += 1
        if len(row.cells) > width:  # cells past the last header: a column without a name
            for index in range(width, len(row.cells)):
                if row.cells[index]:
                    filled[index] = filled.get(index, 0) + 1
        rows.append(_normalised(values))
        numbers.append(row.number)
        cells.append(row.cells)
    for index, count in mapping.dropped.items():
        filled[index] = filled.get(index, 0) + count
    headers = [*table.headers, *[""] * (max(filled, default=0) + 1 - width)]
    unused = [(headers[i] or _column_letter(i), count) for i, count in sorted(filled.items()) if count]
    return FileRows(mapping.format.name, table.headers, rows, numbers, cells, unused)


def _not_understood(headers: list[str], mapping) -> str:
    """Why a file in no format the import knows is refused: the columns it did not
    understand (or, if it understood them all, that the names are missing), and what it takes."""
    used = {i for sources in mapping.fields.values() for source in sources for i in source}
    unknown = [h or _column_letter(i) for i, h in enumerate(headers) if i not in used]
    if unknown:
        problem = str(_("The file's columns were not recognised: %(columns)s.")) % {
            "columns": ", ".join(f"“{h}”" for h in unknown)
        }
    else:
        problem = str(_("The file has no columns for the first name and the last name."))
    takes = _(
        "The import takes the register's own columns (first name and last name at least; see the "
        "template), or a customer export of Shopify, WooCommerce, Mailchimp, Google Contacts or "
        "Outlook. Check the header row."
    )
    return f"{problem} {takes}"


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return str(_("column %(letter)s") % {"letter": letters})


def _normalised(row: dict[str, str]) -> dict[str, str]:
    """The row's values as the register stores them: e-mail in lower case, the country as
    its code, a Finnish postal code with its zeros (Excel drops them: 00100 became 100),
    the phone number in international form read by the row's country."""
    email = row.get("email")
    row["email"] = email.lower() if email else ""  # cells come stripped
    country = row.get("country")
    country = row["country"] = country_code(country) if country else ""
    postal = row.get("postal_code")
    if postal and country in ("", "FI") and not (len(postal) == 5 and postal.isdigit()):
        if postal[:3].upper() == "FI-":
            postal = postal[3:].strip()
        if postal.isdigit() and len(postal) < 5:
            postal = postal.zfill(5)
        row["postal_code"] = postal
    if phone := row.get("phone"):
        row["phone"] = normalise_phone(phone, country if len(country) == 2 else "FI")
    birth = row.get("birth_date")
    if birth and (birth in NO_DATE or birth.startswith("--")):
        row["birth_date"] = ""
    return row


# What Outlook and Google write for no birthday (or one without a year).
NO_DATE = frozenset({"0.0.00", "0.0.0000", "00.00.0000", "1.1.1601", "1601-01-01"})


@lru_cache(maxsize=4096)  # a row's number is parsed to match it and again to remember it
def normalise_phone(value: str, region: str = "FI") -> str:
    """A phone number in E.164 form, read as the row's country writes it (a Pakistani
    03004424406 is +923004424406, not Finnish); as it was when it is no number."""
    try:
        number = phonenumbers.parse(value, region.upper() or "FI")
    except phonenumbers.NumberParseException:
        return value.strip()
    if not phonenumbers.is_possible_number(number):
        return value.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _keys(email, phone, first, last, postal, *, stored: bool = False) -> list[tuple]:
    """The keys a person is matched by, in order: e-mail, phone, name with postal code."""
    keys: list[tuple] = []
    if email:
        keys.append(("email", email.strip().lower()))
    if phone:
        # A stored number is already in E.164 form unless it was invalid when saved.
        keys.append(("phone", phone if stored and phone.startswith("+") else normalise_phone(phone)))
    if first and last and postal:
        keys.append(("name", fold(first), fold(last), postal.strip()))
    return keys


def _row_keys(row: dict[str, str]) -> list[tuple]:
    return _keys(
        row.get("email"),
        row.get("phone"),
        row.get("first_name"),
        row.get("last_name"),
        row.get("postal_code"),
    )


def chunks(values: Iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


# -- matching and validating --------------------------------------------------
def _plan(
    *,
    content: bytes,
    source: str,
    filename: str = "",
    same_person: SamePerson = frozenset(),
    progress: Progress | None = None,
) -> _Plan:
    read = read_rows(content, filename)
    rows = read.rows
    if progress:
        progress(0, len(rows))
    suppressed = _suppressed_addresses(rows)
    matches, consented = _existing_matches([row for row in rows if row["email"] not in suppressed])
    results, touched = [], []
    for done, (number, row, cells) in enumerate(zip(read.numbers, rows, read.cells, strict=True), start=1):
        if progress and not done % PROGRESS_EVERY:
            progress(done, len(rows))
        if row["email"] in suppressed:  # matches nobody, so none of it reaches a customer
            results.append(RowResult(number=number, status=RowStatus.LEFT_OUT))
            continue
        found = matches.find(_row_keys(row), row.get("first_name", ""), row.get("email", ""))
        match, conflict = found.person, None
        if match is None and found.conflict is not None:
            conflict = _conflict(
                found.conflict.customer, found.shared, number=number, same_person=same_person
            )
            match = found.conflict if conflict.same_person else None
        if match is None:
            match = _Planned(customer=Customer(source=source), is_new=True)  # S8: its source
        result = _apply(row, match, number=number)
        result.conflict = conflict
        if result.status == RowStatus.INVALID:
            # Skipped: it changes nobody, and a later row of the same person does not
            # match what it would have created.
            result.cells = cells
            results.append(result)
            continue
        if not match.rows:
            touched.append(match)
        match.changed.update(result.changed)
        if _brings_consent(row, match, consented):
            match.consent = True
            result.status = RowStatus.NEW if result.status == RowStatus.NEW else RowStatus.UPDATED
        match.rows += 1
        results.append(result)
        customer = match.customer
        matches.add(  # a later row of the same person matches it
            _keys(
                customer.email,
                row.get("phone"),
                customer.first_name,
                customer.last_name,
                customer.postal_code,
            ),
            match,
        )
    planned = [p for p in touched if p.is_new or p.changed or p.consent]
    if progress:
        progress(len(rows), len(rows))
    outcome = ImportOutcome(shop=read.shop, rows=results, headers=read.headers, unused_columns=read.unused)
    return _Plan(outcome=outcome, planned=planned)


def _conflict(customer: Customer, shared: str, *, number: int, same_person: SamePerson) -> Conflict:
    """The customer a row would have updated but for a different first name, as it is now."""
    return Conflict(
        customer_id=customer.pk,
        shared=shared,
        register={name: _text(getattr(customer, name)) for name in FIELDS},
        same_person=(number, customer.pk) in same_person,
    )


def _apply(row: dict[str, str], match: _Planned, *, number: int) -> RowResult:
    """Set what the row holds on the customer and validate it by the customer's rules.

    The row that creates a customer sets every field; a later row of the same person
    and a row of an existing customer are updates, where an empty cell wipes nothing
    and only the fields whose value changes are validated (and the customer's clean()).
    An update never replaces a name or address with the same one in worse case or
    without its accents (customers/matching.py)."""
    customer, creating = match.customer, match.is_new and not match.rows
    errors: dict = {}
    values: dict[str, object] = {}
    kept: dict[str, str] = {}
    for name in FIELDS:
        text = row.get(name, "")
        if not text and not creating:
            continue
        if not creating and name in SPELLING_FIELDS:
            register = getattr(customer, name)
            if not file_spelling_wins(register, text):
                kept[name] = register
                continue
        value: object = text
        if name == "birth_date":
            try:
                value = DATE.clean(text)
            except ValidationError as error:
                errors[name] = error.messages
                continue
        elif name == "country" and not text:
            value = "FI"
        elif name == "country" and not (len(text) == 2 and text.isalpha()):
            errors[name] = [COUNTRY_CODE]
            continue
        values[name] = value
    if creating and not (row.get("first_name") and row.get("last_name")):
        errors[NON_FIELD_ERRORS] = [NO_NAME]
        values.pop("first_name", None)
        values.pop("last_name", None)
    before_values = {name: getattr(customer, name) for name in values}
    changed: list[str] = []
    previous: dict[str, str] = {}
    for name, value in values.items():
        if creating:
            setattr(customer, name, value)
            changed.append(name)
        else:
            before = _text(getattr(customer, name))
            setattr(customer, name, value)
            if _text(getattr(customer, name)) != before:
                changed.append(name)
                previous[name] = before
    exclude = CUSTOMER_FIELDS.difference(changed)
    if NON_FIELD_ERRORS in errors:
        exclude = exclude | {"first_name", "last_name"}
    try:
        customer.full_clean(exclude=exclude, validate_unique=UNIQUE_CHECKS)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        for name, value in before_values.items():  # the row is skipped: it changes nothing
            setattr(customer, name, value)
        reasons = {
            name: [str(m) for m in ValidationError(problems).messages] for name, problems in errors.items()
        }
        return RowResult(number=number, status=RowStatus.INVALID, values=row, errors=reasons)
    if creating:
        status = RowStatus.NEW
    else:
        status = RowStatus.UPDATED if changed else RowStatus.UNCHANGED
    return RowResult(number=number, status=status, values=row, changed=changed, previous=previous, kept=kept)


def _brings_consent(row: dict[str, str], match: _Planned, consented: set[int]) -> bool:
    """The row gives e-mail marketing consent the customer does not have yet."""
    return (
        row.get("accepts_email_marketing", "").lower() in CONSENT_YES
        and not match.consent
        and match.customer.pk not in consented
    )


def _existing_matches(rows: list[dict[str, str]]) -> tuple[PeopleByKey[_Planned], set[int]]:
    """The existing customers the file may touch, by key, in a few queries; and which of
    them have an e-mail marketing consent in force.

    The candidates' keys are read as plain values; only the customers the file actually
    matches are then loaded as model instances. The customers sharing a key are listed
    oldest (lowest id) first. A row whose e-mail address is in the register with the
    row's first name is matched by it, so only the other rows' phones and names are
    looked up."""
    keyed: dict[tuple, set[int]] = {}
    first_names: dict[int, str] = {}
    emails = {row["email"] for row in rows} - {""}
    _pks_by_key(
        keyed,
        "email__in",
        emails,
        ["email"],
        lambda email: _keys(email, "", "", "", ""),
        first_names=first_names,
    )
    wanted: set[tuple] = set()
    for row in rows:
        key = ("email", row["email"])
        first = row.get("first_name", "")
        if any(same_first_name(first_names[pk], first) for pk in keyed.get(key, ())):
            wanted.add(key)
        else:
            wanted.update(_row_keys(row))
    _pks_by_key(
        keyed,
        "phone__in",
        {k[1] for k in wanted if k[0] == "phone"},
        ["raw_phone"],
        lambda phone: _keys("", phone, "", "", "", stored=True),
        wanted=wanted,
    )
    postals = {k[3] for k in wanted if k[0] == "name"}
    if postals:
        # A register holds a few thousand postal codes at most, a file may hold one per
        # row: looking up only the codes the register has takes one or two queries
        # where one per 1,000 codes of the file would each scan the table.
        postals &= set(Customer.objects.order_by().values_list("postal_code", flat=True).distinct())
    _pks_by_key(
        keyed,
        "postal_code__in",
        postals,
        ["first_name", "last_name", "postal_code"],
        lambda first, last, postal: _keys("", "", first, last, postal),
        wanted=wanted,
    )
    planned: dict[int, _Planned] = {}
    # The timestamps are left unread (the import sets updated_at itself): reading them
    # is a third of the time it takes to load a customer. So is the phone number when
    # no row gives one: reading it parses it, which costs more than the rest of the row.
    unread = UNREAD if any(row.get("phone") for row in rows) else (*UNREAD, "phone")
    # Unordered: sorting by the model's default ordering (by name) made SQLite walk the
    # whole name index for every 1,000 customers, instead of looking them up by id.
    loaded = Customer.objects.order_by().defer(*unread)
    for chunk in chunks(sorted(set().union(*keyed.values()))):
        planned.update((pk, _Planned(customer=c, is_new=False)) for pk, c in loaded.in_bulk(chunk).items())
    consented: set[int] = set()
    if any(row.get("accepts_email_marketing", "").lower() in CONSENT_YES for row in rows):
        for chunk in chunks(sorted(planned)):
            consented.update(
                EmailMarketingConsent.objects.in_force()
                .order_by()
                .filter(customer_id__in=chunk)
                .values_list("customer_id", flat=True)
            )
    people: PeopleByKey[_Planned] = PeopleByKey(
        first_name=lambda p: p.customer.first_name,
        in_register=lambda p: not p.is_new,
        email=lambda p: p.customer.email,
    )
    people.people = {key: [planned[pk] for pk in sorted(pks) if pk in planned] for key, pks in keyed.items()}
    return people, consented


def _pks_by_key(
    keyed: dict, lookup: str, values: set, columns: list, keys_of, *, wanted=None, first_names=None
) -> None:
    """Add to `keyed` the keys (those `wanted`, or all) of the customers `lookup` finds
    among `values`, each key to the set of pks that have it (and their first names to
    `first_names`, when given). Each query reads one kind of key, from the columns it
    needs: e-mail, phone, or name with postal code."""
    candidates = Customer.objects.order_by().annotate(raw_phone=Cast("phone", CharField()))
    extra = ["first_name"] if first_names is not None else []
    for chunk in chunks(sorted(values)):
        for pk, *found in candidates.filter(**{lookup: chunk}).values_list("pk", *columns, *extra):
            if first_names is not None:
                first_names[pk] = found.pop()
            for key in keys_of(*found):
                if wanted is None or key in wanted:
                    keyed.setdefault(key, set()).add(pk)


def _suppressed_addresses(rows: list[dict[str, str]]) -> set[str]:
    """The file's addresses of people erased at their wish never to be contacted again
    (only a hash of their address is known): their rows are left out, so a stale shop
    list cannot bring them back."""
    from privacy.models import ContactSuppression
    from privacy.suppression import suppressed_among

    if not ContactSuppression.objects.exists():  # nobody to leave out: no address to hash
        return set()
    emails = sorted({row["email"] for row in rows} - {""})
    return set().union(*(suppressed_among(chunk) for chunk in chunks(emails)))


# -- writing --------------------------------------------------------------------
def _write(planned: list[_Planned], *, source: str, actor) -> None:
    """INSERT the new customers, UPDATE the changed columns of the others (grouped by
    the set of columns), then the change history and the consents, each in bulk.
    save() is not called, so what it does (the birth year, the updated time) is done here."""
    now = timezone.now()
    new: list[Customer] = []
    groups: dict[tuple[str, ...], list[Customer]] = {}
    for item in planned:
        customer = item.customer
        customer.birth_year = customer.derive_birth_year()
        if item.is_new:
            new.append(customer)
        elif item.changed:
            columns = set(item.changed) | {"updated_at"}
            if "birth_date" in columns:
                columns.add("birth_year")
            customer.updated_at = now
            groups.setdefault(tuple(sorted(columns)), []).append(customer)
    Customer.objects.bulk_create(new, batch_size=BATCH)
    for names, customers in groups.items():
        _update_rows(customers, names)
    CustomerChange.objects.bulk_create(
        [
            change_entry(customer=item.customer, fields=sorted(item.changed), source=source, actor=actor)
            for item in planned
            if not item.is_new and item.changed
        ],
        batch_size=BATCH,
    )
    EmailMarketingConsent.objects.bulk_create(
        [
            EmailMarketingConsent(customer=item.customer, channel=Channel.WEB_FORM)
            for item in planned
            if item.consent
        ],
        batch_size=BATCH,
    )


def _update_rows(customers: list[Customer], names: tuple[str, ...]) -> None:
    """UPDATE the `names` columns of `customers`, each row by its primary key.

    PostgreSQL gets one UPDATE ... FROM (VALUES ...) per 400 rows; SQLite, in-process,
    runs one prepared UPDATE per row. Django's bulk_update() builds a CASE expression
    per row and column instead (see tests/benchmarks/bench_import.py for the figures)."""
    connection = connections[router.db_for_write(Customer)]
    meta = Customer._meta
    model_fields = [cast(Field, meta.get_field(name)) for name in names]
    key = meta.pk
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(str(key.column))
    params = [
        [customer.pk] + [f.get_db_prep_save(getattr(customer, f.attname), connection) for f in model_fields]
        for customer in customers
    ]
    # Names come from the model and are quoted; every value is a parameter.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names_sql = [quote(str(f.column)) for f in model_fields]
            columns = ", ".join([pk, *names_sql])
            assignments = ", ".join(f"{name} = v.{name}" for name in names_sql)
            row = "({})".format(", ".join(f"%s::{f.db_type(connection)}" for f in [key, *model_fields]))
            for chunk in chunks(params, UPDATE_BATCH):
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))})"  # noqa: S608
                    f" AS v ({columns}) WHERE {table}.{pk} = v.{pk}",
                    [value for values in chunk for value in values],
                )
        else:
            assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in model_fields)
            sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
            for chunk in chunks(params):
                cursor.executemany(sql, [values[1:] + values[:1] for values in chunk])


def _text(value) -> str:
    return "" if value is None else str(value)
