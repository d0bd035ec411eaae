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

import phonenumbers
from django.db.models import Q
from import_export import fields, resources, widgets

from .changes import record_change
from .models import Channel, Customer, EmailMarketingConsent, Source

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
    birth_date = fields.Field(
        attribute="birth_date", column_name="birth_date", widget=widgets.DateWidget(coerce_to_string=False)
    )

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
        # The preview lists new, updated, unchanged and invalid rows with reasons; a
        # field-by-field diff of every row would cost more than the import itself.
        skip_html_diff = True

    def __init__(self, *, source: str = Source.IMPORT, actor=None, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.actor = actor
        self.matches: dict[tuple, Customer] = {}
        self.shop = "own"

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
        self._preload_matches(dataset)

    def _preload_matches(self, dataset) -> None:
        """Find the existing customers this file may touch, in a few queries."""
        emails = {(e or "").strip().lower() for e in dataset["email"]} - {""}
        phones = {normalise_phone(p or "") for p in dataset["phone"]} - {""}
        postals = {(p or "").strip() for p in dataset["postal_code"]} - {""}
        query = Q(email__in=emails) | Q(phone__in=phones) | Q(postal_code__in=postals)
        for customer in Customer.objects.filter(query).iterator(chunk_size=5000):
            for key in self._keys(
                customer.email,
                str(customer.phone or ""),
                customer.first_name,
                customer.last_name,
                customer.postal_code,
            ):
                self.matches.setdefault(key, customer)

    @staticmethod
    def _keys(email, phone, first, last, postal) -> list[tuple]:
        keys = []
        if email:
            keys.append(("email", email.strip().lower()))
        if phone:
            keys.append(("phone", normalise_phone(phone)))
        if first and last and postal:
            keys.append(("name", first.strip().casefold(), last.strip().casefold(), postal.strip()))
        return keys

    def get_instance(self, instance_loader, row):
        """Match by e-mail, then phone, then first and last name with postal code."""
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

    # -- saving -------------------------------------------------------------
    def init_instance(self, row=None):
        instance = super().init_instance(row)
        instance.source = self.source  # S8: a new customer records where it came from
        return instance

    def after_save_instance(self, instance, row, **kwargs):
        if kwargs.get("dry_run"):
            return
        accepts = str(row.get("accepts_email_marketing") or "").strip().lower()
        if accepts in {"yes", "true", "1", "kyllä"} and not instance.email_consents.in_force().exists():
            EmailMarketingConsent.objects.create(customer=instance, channel=Channel.WEB_FORM)

    def import_instance(self, instance, row, **kwargs):
        names = [f.attribute for f in self.get_import_fields()]
        before = {name: str(getattr(instance, name) or "") for name in names}
        super().import_instance(instance, row, **kwargs)
        instance._import_changed = [
            n for n in names if instance.pk is not None and before[n] != str(getattr(instance, n) or "")
        ]

    def save_instance(self, instance, is_create, row, **kwargs):
        super().save_instance(instance, is_create, row, **kwargs)
        if not is_create and not kwargs.get("dry_run") and getattr(instance, "_import_changed", []):
            record_change(
                customer=instance, fields=instance._import_changed, source=self.source, actor=self.actor
            )

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        # An empty cell in an update does not wipe what the register already holds.
        if instance.pk is not None and not str(row.get(field.column_name) or "").strip():
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)
