"""Importing customers from shop systems, web shops and resellers (privacy notice S8).

The app's own CSV/XLSX format and the customer exports of Shopify and
WooCommerce are recognised by their headers. Rows are matched to existing
customers by e-mail, then phone, then first and last name with postal code, so
a customer who is already in the register is updated, not duplicated; a person
listed twice in one file becomes one customer. Every row is validated by the
customer's own rules (Customer.full_clean on what the row sets); a file with any
invalid row imports nothing, and the preview says which row and why. Rows of
people erased at their wish never to be contacted again match nobody and are
left out (counted). Every new customer records its source; every updated one
gets a change row with the fields (never the values), the source and who.

preview_import() reads, matches and validates without writing anything;
import_customers() does the same and then writes the file in one transaction.
"""

from __future__ import annotations

import datetime
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import cast

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import CharField, Field, TextChoices
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.audit import record
from privacy.models import AuditAction
from privacy.personal_data import imported_fields

from .changes import change_entry
from .import_limits import FileCheckError, Unreadable, csv_rows, xlsx_rows
from .models import Channel, Customer, CustomerChange, EmailMarketingConsent

REQUIRED = {"first_name", "last_name"}
# The customer fields a row may set, in the order the preview shows them: those declared
# `imported` in privacy/personal_data.py.
FIELDS = imported_fields(Customer)
OWN_COLUMNS = [*FIELDS, "accepts_email_marketing"]

# Shopify's customer export (old and new header names) and WooCommerce's.
SHOPIFY = {
    "First Name": "first_name",
    "Last Name": "last_name",
    "Email": "email",
    "Phone": "phone",
    "Address1": "street_address",
    "Default Address Address1": "street_address",
    "City": "city",
    "Default Address City": "city",
    "Zip": "postal_code",
    "Default Address Zip": "postal_code",
    "Country Code": "country",
    "Default Address Country Code": "country",
    "Accepts Email Marketing": "accepts_email_marketing",
    "Accepts Marketing": "accepts_email_marketing",
    "Default Address Phone": "address_phone",
}
WOOCOMMERCE = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "billing_phone": "phone",
    "billing_address_1": "street_address",
    "billing_city": "city",
    "billing_postcode": "postal_code",
    "billing_country": "country",
}
CONSENT_YES = {"yes", "true", "1", "kyllä"}
UNREAD = ("created_at", "updated_at", "last_activity_at")  # what an import never reads of a customer
BATCH = 1000  # rows per bulk INSERT/UPDATE and per IN (...) list when looking up matches
# Rows per UPDATE ... FROM (VALUES ...) on PostgreSQL: up to a few hundred rows the
# planner joins them to the table by its primary key; at 1,000 it scans the whole
# table instead, and each row costs twice as much (EXPLAIN ANALYZE, 100,000 customers).
UPDATE_BATCH = 400
XLSX_MAGIC = b"PK\x03\x04"  # an XLSX file is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls), or an XLSX with a password
CUSTOMER_FIELDS = frozenset(f.name for f in Customer._meta.concrete_fields)
# Whether a row's fields are under a uniqueness rule (none today: a row never sets the
# primary key); when none is, full_clean() is spared looking for one per row.
UNIQUE_CHECKS = bool(
    any(cast(Field, Customer._meta.get_field(name)).unique for name in FIELDS)
    or Customer._meta.unique_together
    or Customer._meta.total_unique_constraints
)
# ISO dates (what the shops export) and Finnish ones (31.12.1980), whatever the language.
DATE = forms.DateField(required=False, input_formats=["%Y-%m-%d", "%d.%m.%Y"])


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

    @property
    def status_label(self) -> str:
        return str(RowStatus(self.status).label)


@dataclass
class ImportOutcome:
    """What a file does (preview) or did (import), row by row."""

    shop: str
    rows: list[RowResult]
    imported: bool = False

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
    def invalid_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.status == RowStatus.INVALID]

    def counts(self) -> dict[str, int]:
        """The counts for the audit log (never values)."""
        return {
            "rows": len(self.rows),
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "invalid": self.invalid,
            "left_out_suppressed": self.left_out_suppressed,
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


def preview_import(*, content: bytes, source: str, progress: Progress | None = None) -> ImportOutcome:
    """Read, match and validate a file, writing nothing: what the preview shows."""
    with _automatic_gc_paused():
        return _plan(content=content, source=source, progress=progress).outcome


def import_customers(
    *, content: bytes, source: str, actor, progress: Progress | None = None
) -> ImportOutcome:
    """Import a customer file, all or nothing.

    1. read the file and recognise its headers (own format, Shopify, WooCommerce);
    2. leave out the rows of people who asked never to be contacted again (counted);
    3. match the other rows to customers in bulk (e-mail, phone, name with postal code);
    4. validate every row; if any row is invalid, stop here and write nothing;
    5. INSERT the new customers and UPDATE the changed columns of the matched ones;
    6. write a change row per updated customer (S8) and the new e-mail marketing consents;
    7. record an audit event with the counts.

    Steps 5 to 7 are one transaction; the reading and matching before it write nothing,
    so a background import's progress (customers/import_jobs.py) is seen as it goes.
    """
    with _automatic_gc_paused():
        plan = _plan(content=content, source=source, progress=progress)
        outcome = plan.outcome
        with transaction.atomic():
            if not outcome.invalid:
                _write(plan.planned, source=source, actor=actor)
                outcome.imported = True
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
def read_table(content: bytes) -> tuple[list[str], Iterator]:
    """The header row and the data rows of a CSV (UTF-8, comma) or XLSX file, checked
    against the limits on rows, columns and cells while they are read
    (customers/import_limits.py)."""
    try:
        if content.startswith(OLE_MAGIC):
            raise ImportFileError(
                _(
                    "This is an old Excel file (.xls) or one protected by a password. "
                    "Save it in Excel as an XLSX workbook without a password and try again."
                )
            )
        if content.startswith(XLSX_MAGIC):
            rows: Iterator = iter(xlsx_rows(content))
        else:
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise ImportFileError(
                    _("The file's text encoding is not UTF-8. Save it as 'CSV UTF-8' and try again.")
                ) from error
            rows = iter(list(csv_rows(text)))
        header = next(rows, None)
    except Unreadable as error:
        raise ImportFileError(_unreadable()) from error
    except FileCheckError as error:
        raise ImportFileError(error.message) from error
    if header is None:
        raise ImportFileError(_("The file has no header row."))
    return ["" if h is None else str(h) for h in header], rows


def _unreadable():
    return _("The file could not be read. Check that it is a CSV (UTF-8, comma-separated) or XLSX file.")


def recognise_headers(headers: list[str]) -> tuple[str, dict[str, str]]:
    """Which export this is, and how its columns map to ours."""
    stripped = {h.strip() for h in headers}
    if {"First Name", "Last Name"} <= stripped:
        return "shopify", SHOPIFY
    if "billing_address_1" in stripped or "billing_postcode" in stripped:
        return "woocommerce", WOOCOMMERCE
    return "own", {c: c for c in OWN_COLUMNS}


def read_rows(content: bytes) -> tuple[str, list[dict[str, str]]]:
    """The shop the file came from, and its rows as our column names to text."""
    headers, data = read_table(content)
    shop, mapping = recognise_headers(headers)
    columns = [mapping.get(h.strip()) for h in headers]
    missing = REQUIRED - set(columns)
    if missing:
        raise ImportFileError(
            _("Missing columns: %(columns)s. Check the delimiter (comma) and the header row.")
            % {"columns": ", ".join(sorted(missing))}
        )
    postal = columns.index("postal_code") if "postal_code" in columns else -1
    read = [(index, name) for index, name in enumerate(columns) if name]
    rows = []
    for cells in data:
        width = len(cells)
        row = {
            name: value.strip() if isinstance(value, str) else _cell_text(value, pad=5 * (index == postal))
            for index, name in read
            if index < width and (value := cells[index]) is not None
        }
        if any(row.values()):  # a blank line is no row
            rows.append(_normalised(row))
    return shop, rows


def _cell_text(value, *, pad: int) -> str:
    """A cell as text. A spreadsheet stores a phone number or a postal code typed as
    digits as a number, dropping leading zeros: a postal code gets its five digits back
    (00100 was stored as 100), a phone number is left to its region."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(int(value)) if isinstance(value, int) or value.is_integer() else str(value)
        return text.zfill(pad) if pad else text
    return str(value).strip()


def _normalised(row: dict[str, str]) -> dict[str, str]:
    row["email"] = row.get("email", "").lower()
    row["country"] = row.get("country", "").upper()
    if not row.get("phone") and row.get("address_phone"):  # Shopify: the address's phone
        row["phone"] = row["address_phone"]
    return row


@lru_cache(maxsize=4096)  # a row's number is parsed to match it and again to remember it
def normalise_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "FI")
    except phonenumbers.NumberParseException:
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
        keys.append(("name", first.strip().casefold(), last.strip().casefold(), postal.strip()))
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
def _plan(*, content: bytes, source: str, progress: Progress | None = None) -> _Plan:
    shop, rows = read_rows(content)
    if progress:
        progress(0, len(rows))
    suppressed = _suppressed_addresses(rows)
    matches, consented = _existing_matches([row for row in rows if row["email"] not in suppressed])
    results, touched = [], []
    for number, row in enumerate(rows, start=1):
        if progress and not number % PROGRESS_EVERY:
            progress(number, len(rows))
        if row["email"] in suppressed:  # matches nobody, so none of it reaches a customer
            results.append(RowResult(number=number, status=RowStatus.LEFT_OUT))
            continue
        match = None
        for key in _row_keys(row):
            if (match := matches.get(key)) is not None:
                break
        if match is None:
            match = _Planned(customer=Customer(source=source), is_new=True)  # S8: its source
        if not match.rows:
            touched.append(match)
        result = _apply(row, match, number=number)
        if result.status != RowStatus.INVALID:
            match.changed.update(result.changed)
            if _brings_consent(row, match, consented):
                match.consent = True
                result.status = RowStatus.NEW if result.status == RowStatus.NEW else RowStatus.UPDATED
        match.rows += 1
        results.append(result)
        customer = match.customer
        for key in _keys(
            customer.email, row.get("phone"), customer.first_name, customer.last_name, customer.postal_code
        ):
            matches.setdefault(key, match)  # a later row of the same person matches it
    planned = [p for p in touched if p.is_new or p.changed or p.consent]
    if progress:
        progress(len(rows), len(rows))
    return _Plan(outcome=ImportOutcome(shop=shop, rows=results), planned=planned)


def _apply(row: dict[str, str], match: _Planned, *, number: int) -> RowResult:
    """Set what the row holds on the customer and validate it by the customer's rules.

    The row that creates a customer sets every field; a later row of the same person
    and a row of an existing customer are updates, where an empty cell wipes nothing
    and only the fields whose value changes are validated (and the customer's clean())."""
    customer, creating = match.customer, match.is_new and not match.rows
    errors: dict = {}
    values: dict[str, object] = {}
    for name in FIELDS:
        text = row.get(name, "")
        if not text and not creating:
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
        values[name] = value
    changed: list[str] = []
    for name, value in values.items():
        if creating:
            setattr(customer, name, value)
            changed.append(name)
        else:
            before = _text(getattr(customer, name))
            setattr(customer, name, value)
            if _text(getattr(customer, name)) != before:
                changed.append(name)
    exclude = CUSTOMER_FIELDS.difference(changed)
    try:
        customer.full_clean(exclude=exclude, validate_unique=UNIQUE_CHECKS)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        reasons = {
            name: [str(m) for m in ValidationError(problems).messages] for name, problems in errors.items()
        }
        return RowResult(number=number, status=RowStatus.INVALID, values=row, errors=reasons)
    if creating:
        status = RowStatus.NEW
    else:
        status = RowStatus.UPDATED if changed else RowStatus.UNCHANGED
    return RowResult(number=number, status=status, values=row, changed=changed)


def _brings_consent(row: dict[str, str], match: _Planned, consented: set[int]) -> bool:
    """The row gives e-mail marketing consent the customer does not have yet."""
    return (
        row.get("accepts_email_marketing", "").lower() in CONSENT_YES
        and not match.consent
        and match.customer.pk not in consented
    )


def _existing_matches(rows: list[dict[str, str]]) -> tuple[dict[tuple, _Planned], set[int]]:
    """The existing customers the file may touch, by key, in a few queries; and which of
    them have an e-mail marketing consent in force.

    The candidates' keys are read as plain values; only the customers the file actually
    matches are then loaded as model instances. When two customers share a
    key, the older one (lower id) is matched. A row whose e-mail address is in the
    register is matched by it, so only the other rows' phones and names are looked up."""
    keyed: dict[tuple, int] = {}
    emails = {row["email"] for row in rows} - {""}
    _lowest_pk_by_key(keyed, "email__in", emails, ["email"], lambda email: _keys(email, "", "", "", ""))
    wanted: set[tuple] = set()
    for row in rows:
        if ("email", row["email"]) in keyed:
            wanted.add(("email", row["email"]))
        else:
            wanted.update(_row_keys(row))
    _lowest_pk_by_key(
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
    _lowest_pk_by_key(
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
    for chunk in chunks(sorted(set(keyed.values()))):
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
    return {key: planned[pk] for key, pk in keyed.items()}, consented


def _lowest_pk_by_key(keyed: dict, lookup: str, values: set, columns: list, keys_of, *, wanted=None) -> None:
    """Add to `keyed` the keys (those `wanted`, or all) of the customers `lookup` finds
    among `values`, each key to the lowest pk that has it. Each query reads one kind of
    key, from the columns it needs: e-mail, phone, or name with postal code."""
    candidates = Customer.objects.order_by().annotate(raw_phone=Cast("phone", CharField()))
    for chunk in chunks(sorted(values)):
        for pk, *found in candidates.filter(**{lookup: chunk}).values_list("pk", *columns):
            for key in keys_of(*found):
                if (wanted is None or key in wanted) and pk < keyed.get(key, pk + 1):
                    keyed[key] = pk


def _suppressed_addresses(rows: list[dict[str, str]]) -> set[str]:
    """The file's addresses of people erased at their wish never to be contacted again
    (only a hash of their address is known): their rows are left out, so a stale shop
    list cannot bring them back."""
    from privacy.suppression import suppressed_among

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
