"""Importing customers from shop systems, web shops and resellers (privacy notice S8).

The app's own CSV/XLSX format and the customer exports of Shopify and
WooCommerce are recognised by their headers. Rows are matched to existing
customers by e-mail, then phone, then name with postal code, so a customer
who is already in the register is updated, not duplicated. Every row records
its source. django-import-export previews the file (a dry run listing new,
updated, unchanged and invalid rows with the reason) and imports it in one
transaction: a file with any invalid row is not imported at all.
"""

from __future__ import annotations

import copy
import gc
from contextlib import contextmanager
from functools import lru_cache
from itertools import islice

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from import_export import fields, resources, widgets

from .changes import change_entry
from .models import Channel, Customer, CustomerChange, EmailMarketingConsent, Source

REQUIRED = {"first_name", "last_name"}
OWN_COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "street_address",
    "postal_code",
    "city",
    "country",
    "birth_date",
    "accepts_email_marketing",
]

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
    "billing_first_name": "billing_first_name",
    "billing_last_name": "billing_last_name",
}


def recognise_headers(headers: list[str]) -> tuple[str, dict[str, str]]:
    """Which export this is, and how its columns map to ours."""
    stripped = [h.strip() for h in headers]
    if {"First Name", "Last Name"} <= set(stripped):
        return "shopify", SHOPIFY
    if "billing_address_1" in stripped or "billing_postcode" in stripped:
        return "woocommerce", WOOCOMMERCE
    return "own", {c: c for c in OWN_COLUMNS}


CONSENT_YES = {"yes", "true", "1", "kyllä"}
UNREAD = ("created_at", "updated_at", "last_activity_at")  # what an import never reads of a customer
BATCH = 1000  # rows per bulk INSERT/UPDATE and per IN (...) list when looking up matches


def chunks(values, size: int = BATCH):
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


@lru_cache(maxsize=4096)  # a row's number is parsed to match it and again to remember it
def normalise_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "FI")
    except phonenumbers.NumberParseException:
        return value.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class CustomerImportResource(resources.ModelResource):
    first_name = fields.Field(attribute="first_name", column_name="first_name")
    last_name = fields.Field(attribute="last_name", column_name="last_name")
    email = fields.Field(attribute="email", column_name="email")
    phone = fields.Field(attribute="phone", column_name="phone")
    street_address = fields.Field(attribute="street_address", column_name="street_address")
    postal_code = fields.Field(attribute="postal_code", column_name="postal_code")
    city = fields.Field(attribute="city", column_name="city")
    country = fields.Field(attribute="country", column_name="country")
    birth_date = fields.Field(attribute="birth_date", column_name="birth_date", widget=widgets.DateWidget())

    class Meta:
        model = Customer
        fields = (
            "first_name",
            "last_name",
            "email",
            "phone",
            "street_address",
            "postal_code",
            "city",
            "country",
            "birth_date",
        )
        import_id_fields = ()
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        # Rows are saved with bulk_create/bulk_update in batches inside the import's one
        # transaction; save() and signals are not called, so what save() does (birth year,
        # updated time) and the change history and consents are done here, in bulk too.
        use_bulk = True
        batch_size = BATCH
        # The import itself skips the library's field-by-field diff (a copy of every
        # customer, costlier than the rest of the import); the preview (a dry run) shows
        # it, so staff see each row's values before they confirm (see import_data).
        # skip_row() below finds the unchanged rows without the diff.
        skip_diff = True
        skip_html_diff = True

    def __init__(self, *, source: str = Source.IMPORT, actor=None, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.actor = actor
        self.matches: dict[tuple, Customer] = {}
        self.shop = "own"
        self._import_fields = None
        self._row_new = True
        self._row_changed: list[str] = []
        self._created: set[int] = set()  # id() of customers this file creates
        self._consented: set[int] = set()  # pks of existing customers with a consent in force
        self._pending_changes: list[tuple[Customer, list[str]]] = []
        self._pending_consents: list[Customer] = []
        self._consent_queued: set[int] = set()  # id() of customers queued for a consent
        self.left_out_suppressed = 0  # rows of people who asked never to be contacted again
        self._suppressed: set[str] = set()

    def import_data(self, dataset, dry_run=False, *args, **kwargs):
        # Options of this resource only (the class's are shared): a diff for the preview.
        self._meta = copy.copy(type(self)._meta)
        self._meta.skip_diff = self._meta.skip_html_diff = not dry_run
        with _automatic_gc_paused():
            return super().import_data(dataset, dry_run, *args, **kwargs)

    # -- reading the file ---------------------------------------------------
    def before_import(self, dataset, **kwargs):
        if not dataset.headers:
            raise ValueError("The file has no header row.")
        self.shop, mapping = recognise_headers(list(dataset.headers))
        dataset.headers = [mapping.get(h.strip(), f"ignored:{h}") for h in dataset.headers]
        missing = REQUIRED - set(dataset.headers)
        if missing:
            raise ValueError(
                "Missing columns: "
                + ", ".join(sorted(missing))
                + ". Check the delimiter (comma) and the header row."
            )
        for column in ["email", "phone", "street_address", "postal_code", "city", "country", "birth_date"]:
            if column not in dataset.headers:
                dataset.append_col([""] * len(dataset), header=column)
        if "address_phone" in dataset.headers:  # Shopify: the address's phone when no other
            phones = [p or a for p, a in zip(dataset["phone"], dataset["address_phone"], strict=True)]
            del dataset["phone"]
            dataset.append_col(phones, header="phone")
        _numbers_as_text(dataset)
        self._suppressed, self.left_out_suppressed = _suppressed_addresses(dataset), 0
        self._preload_matches(dataset)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        result.left_out_suppressed = self.left_out_suppressed
        self._write_history_and_consents(result, **kwargs)

    def _preload_matches(self, dataset) -> None:
        """Find the existing customers this file may touch, in a few queries.

        The keys of every candidate are read as plain values; only the customers
        the file actually matches are then loaded as model instances. When two
        customers share a key, the older one (lower id) is matched.
        """
        rows = list(
            zip(
                dataset["email"],
                dataset["phone"],
                dataset["first_name"],
                dataset["last_name"],
                dataset["postal_code"],
                strict=True,
            )
        )
        wanted: set[tuple] = set()
        for row in rows:
            wanted.update(self._keys(*row))
        emails = {k[1] for k in wanted if k[0] == "email"}
        phones = {k[1] for k in wanted if k[0] == "phone"}
        postals = {k[3] for k in wanted if k[0] == "name"}
        columns = ("pk", "email", "raw_phone", "first_name", "last_name", "postal_code")
        candidates = (
            Customer.objects.order_by().annotate(raw_phone=Cast("phone", CharField())).values_list(*columns)
        )
        found: dict[int, tuple] = {}
        for lookup, values in (("email__in", emails), ("phone__in", phones), ("postal_code__in", postals)):
            for chunk in chunks(sorted(values)):
                found.update((row[0], row) for row in candidates.filter(**{lookup: chunk}))
        keyed: dict[tuple, int] = {}
        for pk in sorted(found):
            _, email, phone, first, last, postal = found[pk]
            for key in self._keys(email, phone, first, last, postal, stored=True):
                if key in wanted:
                    keyed.setdefault(key, pk)
        customers: dict[int, Customer] = {}
        # The timestamps are left unread (the import sets updated_at itself): reading
        # them is a third of the time it takes to load a customer.
        matched = Customer.objects.defer(*UNREAD)
        for chunk in chunks(sorted(set(keyed.values()))):
            customers.update(matched.in_bulk(chunk))
        self.matches = {key: customers[pk] for key, pk in keyed.items()}
        if any(
            str(v or "").strip().lower() in CONSENT_YES
            for v in self._column(dataset, "accepts_email_marketing")
        ):
            for chunk in chunks(sorted(customers)):
                self._consented.update(
                    EmailMarketingConsent.objects.in_force()
                    .filter(customer_id__in=chunk)
                    .values_list("customer_id", flat=True)
                )

    @staticmethod
    def _column(dataset, name: str) -> list:
        return dataset[name] if name in dataset.headers else []

    @staticmethod
    def _keys(email, phone, first, last, postal, *, stored: bool = False) -> list[tuple]:
        keys = []
        if email:
            keys.append(("email", email.strip().lower()))
        if phone:
            # A stored number is already in E.164 form unless it was invalid when saved.
            keys.append(("phone", phone if stored and phone.startswith("+") else normalise_phone(phone)))
        if first and last and postal:
            keys.append(("name", first.strip().casefold(), last.strip().casefold(), postal.strip()))
        return keys

    def get_instance(self, instance_loader, row):
        """Match by e-mail, then phone, then first and last name with postal code.

        A customer created earlier in the same file is matched too, so a file that
        lists someone twice creates one customer. A row of a person who asked never to
        be contacted again matches nobody: it is read into a throwaway customer and
        skipped (skip_row), so none of it reaches a customer the file updates."""
        if self._is_suppressed(row):
            return None
        for key in self._keys(
            row.get("email"),
            row.get("phone"),
            row.get("first_name"),
            row.get("last_name"),
            row.get("postal_code"),
        ):
            if key in self.matches:
                return self.matches[key]
        return None

    def before_import_row(self, row, **kwargs):
        for name in ("email", "country"):
            if row.get(name):
                row[name] = row[name].strip().lower() if name == "email" else row[name].strip().upper()
        if not row.get("country"):
            row["country"] = "FI"
        if not row.get("phone") and row.get("address_phone"):
            row["phone"] = row["address_phone"]

    # -- reading a row into a customer ----------------------------------------
    def init_instance(self, row=None):
        instance = super().init_instance(row)
        instance.source = self.source  # S8: a new customer records where it came from
        return instance

    def after_init_instance(self, instance, new, row, **kwargs):
        self._row_new = new

    def get_import_fields(self):
        if self._import_fields is None:
            self._import_fields = super().get_import_fields()
        return self._import_fields

    def import_instance(self, instance, row, **kwargs):
        self._row_changed = []
        try:
            super().import_instance(instance, row, **kwargs)
        finally:
            instance._import_changed = self._row_changed

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if self._row_new:
            super().import_field(field, instance, row, is_m2m, **kwargs)
            if field.column_name in row:
                self._row_changed.append(field.attribute)
            return
        # An empty cell in an update does not wipe what the register already holds.
        if not str(row.get(field.column_name) or "").strip():
            return
        before = _text(getattr(instance, field.attribute))
        super().import_field(field, instance, row, is_m2m, **kwargs)
        if _text(getattr(instance, field.attribute)) != before:
            self._row_changed.append(field.attribute)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """Skipped: a person who asked never to be contacted again (counted), and an
        existing customer whose row changes nothing (reported unchanged)."""
        if self._is_suppressed(row):
            self.left_out_suppressed += 1
            return True
        if self._row_new or import_validation_errors or instance._import_changed:
            return False
        return not self._brings_consent(instance, row)

    def _is_suppressed(self, row) -> bool:
        return str(row.get("email") or "").strip().lower() in self._suppressed

    def _brings_consent(self, instance, row) -> bool:
        """The row gives e-mail marketing consent the customer does not yet have."""
        accepts = str(row.get("accepts_email_marketing") or "").strip().lower()
        return (
            accepts in CONSENT_YES
            and instance.pk not in self._consented
            and id(instance) not in self._consent_queued
        )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Validate what the row sets (every field of a new customer, the changed fields of
        an existing one) and the customer's own rules (Finnish postal code, birth date)."""
        errors = dict(import_validation_errors or {})
        checked = set(instance._import_changed) - set(errors)
        exclude = {f.name for f in Customer._meta.concrete_fields} - checked
        try:
            instance.full_clean(exclude=exclude, validate_unique=validate_unique)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    # -- saving -------------------------------------------------------------
    def save_instance(self, instance, is_create, row, **kwargs):
        """Queue the customer for the next bulk INSERT or UPDATE, with its history and consent."""
        instance.birth_year = instance.derive_birth_year()  # what Customer.save() would do
        changed = instance._import_changed
        if is_create:
            self._created.add(id(instance))
            instance._import_dirty = set()
            self.create_instances.append(instance)
        elif instance.pk is None:
            pass  # created by an earlier row of this file and still queued for its INSERT
        elif changed:  # an unchanged customer may come here only for a new consent
            if not getattr(instance, "_import_queued", False):
                instance._import_queued = True
                instance._import_dirty = set()
                self.update_instances.append(instance)
            instance._import_dirty.update(changed)
            if id(instance) not in self._created:
                self._pending_changes.append((instance, changed))
        for key in self._keys(
            instance.email,
            str(row.get("phone") or ""),
            instance.first_name,
            instance.last_name,
            instance.postal_code,
        ):
            self.matches.setdefault(key, instance)
        if self._brings_consent(instance, row):
            self._consent_queued.add(id(instance))
            self._pending_consents.append(instance)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """UPDATE only the columns the rows changed, grouped by that set of columns
        (_update_rows). Django's bulk_update() builds a CASE expression per row and
        column, which cost more than the whole rest of the import."""
        if self.update_instances and (using_transactions or not dry_run):
            try:
                now = timezone.now()
                groups: dict[tuple[str, ...], list[Customer]] = {}
                for instance in self.update_instances:
                    columns = set(instance._import_dirty) | {"updated_at"}
                    if "birth_date" in columns:
                        columns.add("birth_year")
                    instance.updated_at = now  # auto_now: bulk_update() does not set it
                    instance._import_dirty = set()
                    instance._import_queued = False
                    groups.setdefault(tuple(sorted(columns)), []).append(instance)
                for columns, instances in groups.items():
                    _update_rows(instances, columns)
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.update_instances.clear()
        else:
            self.update_instances.clear()

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        super().bulk_create(
            using_transactions, dry_run, raise_errors, batch_size=batch_size or BATCH, result=result
        )

    def _write_history_and_consents(self, result, **kwargs):
        """Write the change history (S8) and the e-mail marketing consents, in bulk, now that
        every new customer has its id. A dry run (the preview) writes neither."""
        if kwargs.get("dry_run") or result.has_errors():
            return
        CustomerChange.objects.bulk_create(
            [
                change_entry(customer=instance, fields=changed, source=self.source, actor=self.actor)
                for instance, changed in self._pending_changes
                if changed
            ],
            batch_size=BATCH,
        )
        EmailMarketingConsent.objects.bulk_create(
            [
                EmailMarketingConsent(customer=instance, channel=Channel.WEB_FORM)
                for instance in self._pending_consents
            ],
            batch_size=BATCH,
        )


def _numbers_as_text(dataset) -> None:
    """A spreadsheet stores a phone number or a postal code typed as digits as a number,
    dropping leading zeros: the import reads them as text, a postal code padded back to
    its five digits (00100 was stored as 100) and a phone number left to its region."""
    postal = dataset.headers.index("postal_code") if "postal_code" in dataset.headers else -1
    for index, row in enumerate(dataset):
        if any(_is_number(v) for v in row):
            dataset[index] = tuple(
                _number_text(v, pad=5 if column == postal else 0) if _is_number(v) else v
                for column, v in enumerate(row)
            )


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_text(value: int | float, *, pad: int) -> str:
    text = str(int(value)) if isinstance(value, int) or value.is_integer() else str(value)
    return text.zfill(pad) if pad else text


def _suppressed_addresses(dataset) -> set[str]:
    """The file's addresses of people erased at their wish never to be contacted again
    (only a hash of their address is known): their rows are skipped, so a stale shop
    list cannot bring them back."""
    from privacy.suppression import suppressed_among

    return suppressed_among({str(e or "").strip().lower() for e in dataset["email"]} - {""})


@contextmanager
def _automatic_gc_paused():
    """Pause Python's automatic cyclic garbage collection while a file is imported.

    An import keeps hundreds of thousands of objects alive (customers, row results), and
    every automatic full collection walks all of them: a quarter of the time of a
    100,000-row import. The import makes no reference cycles, so nothing piles up
    meanwhile; objects are still freed by reference counting. Collection resumes
    afterwards (unless something else had turned it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _update_rows(instances: list[Customer], names: tuple[str, ...]) -> None:
    """UPDATE the `names` columns of `instances`, each row by its primary key.

    PostgreSQL gets one UPDATE ... FROM (VALUES ...) per 1,000 rows (a statement per row
    costs a round trip each); SQLite, in-process, runs one prepared UPDATE per row."""
    connection = connections[router.db_for_write(Customer)]
    meta = Customer._meta
    model_fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    params = [
        [instance.pk]
        + [field.get_db_prep_save(getattr(instance, field.attname), connection) for field in model_fields]
        for instance in instances
    ]
    # Names come from the model and are quoted; every value is a parameter.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = ", ".join(quote(field.column) for field in [meta.pk, *model_fields])
            assignments = ", ".join(
                f"{quote(field.column)} = v.{quote(field.column)}" for field in model_fields
            )
            row = "({})".format(
                ", ".join(f"%s::{field.db_type(connection)}" for field in [meta.pk, *model_fields])
            )
            for chunk in chunks(params):
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))})"  # noqa: S608
                    f" AS v ({columns}) WHERE {table}.{pk} = v.{pk}",
                    [value for values in chunk for value in values],
                )
        else:
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in model_fields)
            sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
            for chunk in chunks(params):
                cursor.executemany(sql, [values[1:] + values[:1] for values in chunk])


def _text(value) -> str:
    return "" if value is None else str(value)
