"""Fictional, Finnish-looking demo data, deterministic for a given seed."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from .models import (
    Channel,
    Customer,
    EmailMarketingConsent,
    InvoiceStatus,
    Language,
    MarketingObjection,
    ObjectionPurpose,
    Order,
    OrderChannel,
    Organisation,
    Source,
)
from .validators import BUSINESS_ID_WEIGHTS

BATCH = 5000
CUSTOMER_SOURCES = list(Source.values[:7])
PRODUCTS = [
    "Hierontalahjakortti",
    "Kehonhuoltokurssi",
    "Jooga-alusta",
    "Venyttelykuminauha",
    "Hierontaöljy",
    "Lämpötyyny",
    "Kurssipaketti 10 kertaa",
    "Ryhmäliikuntakortti",
]


@dataclass(frozen=True)
class SeedResult:
    customers: int
    orders: int
    organisations: int
    objections: int
    consents: int


def business_id_with_checksum(rng: random.Random, used: set[str]) -> str:
    while True:
        digits = f"{rng.randrange(1_000_000, 9_999_999)}"
        remainder = sum(int(d) * w for d, w in zip(digits, BUSINESS_ID_WEIGHTS, strict=True)) % 11
        business_id = f"{digits}-{0 if remainder == 0 else 11 - remainder}"
        if remainder != 1 and business_id not in used:
            used.add(business_id)
            return business_id


@transaction.atomic
def seed_demo(*, customers: int, orders_per_customer: int = 5, seed: int = 1) -> SeedResult:
    """Insert `customers` fictional customers with their orders, in bulk.

    Faker is slow per call, so it fills pools of names and places once and
    the rows are combined from the pools with a seeded random generator.
    """
    rng = random.Random(seed)
    fake = Faker("fi_FI")
    fake.seed_instance(seed)
    first_names = [fake.first_name() for _ in range(400)]
    last_names = [fake.last_name() for _ in range(800)]
    streets = [fake.street_name() for _ in range(600)]
    places = [(f"{rng.randrange(100, 99_999):05d}", fake.city()) for _ in range(300)]
    now = timezone.now()
    today = timezone.localdate()

    used_ids = set(Organisation.objects.values_list("business_id", flat=True))
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=fake.company(),
            business_id=business_id_with_checksum(rng, used_ids),
            street_address=f"{rng.choice(streets)} {rng.randrange(1, 80)}",
            postal_code=(place := rng.choice(places))[0],
            city=place[1],
            source=Source.REGISTRATION,
        )
        for _ in range(max(1, customers // 200))
    )
    taken = set(Customer.objects.values_list("email", flat=True))
    start_order_no = Order.objects.count()
    made = orders = objections = consents = 0
    for start in range(0, customers, BATCH):
        batch = []
        for _ in range(start, min(start + BATCH, customers)):
            batch.append(
                _demo_customer(
                    rng, first_names, last_names, streets, places, organisations, now, today, taken
                )
            )
        batch = Customer.objects.bulk_create(batch, batch_size=BATCH)
        order_rows, objection_rows, consent_rows = [], [], []
        for customer in batch:
            for _ in range(orders_per_customer):
                start_order_no += 1
                order_rows.append(_demo_order(rng, customer, start_order_no, today))
            if rng.random() < 0.08:
                objection_rows.append(
                    MarketingObjection(
                        customer=customer,
                        purpose=rng.choice(ObjectionPurpose.values),
                        received_at=now - datetime.timedelta(days=rng.randrange(1, 900)),
                        channel=rng.choice([Channel.CUSTOMER_SERVICE, Channel.EMAIL, Channel.CONTACT_PERSON]),
                    )
                )
            if rng.random() < 0.3:
                consent_rows.append(
                    EmailMarketingConsent(
                        customer=customer,
                        channel=Channel.WEB_FORM,
                        given_at=now - datetime.timedelta(days=rng.randrange(1, 900)),
                    )
                )
        _insert_orders(order_rows)
        MarketingObjection.objects.bulk_create(objection_rows, batch_size=BATCH)
        EmailMarketingConsent.objects.bulk_create(consent_rows, batch_size=BATCH)
        made += len(batch)
        orders += len(order_rows)
        objections += len(objection_rows)
        consents += len(consent_rows)
    return SeedResult(made, orders, len(organisations), objections, consents)


def _demo_customer(
    rng, first_names, last_names, streets, places, organisations, now, today, taken
) -> Customer:
    first, last = rng.choice(first_names), rng.choice(last_names)
    email = f"{first}.{last}{rng.randrange(1, 10_000)}@example.fi".lower()
    email = email.translate(str.maketrans("äöå", "aoa"))
    if email in taken:
        email = ""
    else:
        taken.add(email)
    postal_code, city = rng.choice(places)
    given_birth_date = rng.random() < 0.6
    birth_date = (
        today - datetime.timedelta(days=rng.randrange(18 * 365, 85 * 365)) if given_birth_date else None
    )
    age = None if given_birth_date or rng.random() < 0.5 else rng.randrange(18, 85)
    customer = Customer(
        first_name=first,
        last_name=last,
        email=email,
        phone=f"+35840{rng.randrange(1_000_000, 9_999_999)}",
        street_address=f"{rng.choice(streets)} {rng.randrange(1, 120)}"
        + (f" {rng.choice('ABC')} {rng.randrange(1, 30)}" if rng.random() < 0.4 else ""),
        postal_code=postal_code,
        city=city,
        country="FI",
        organisation=rng.choice(organisations) if rng.random() < 0.1 else None,
        birth_date=birth_date,
        age=age,
        age_recorded_on=today if age is not None else None,
        preferred_language=Language.FINNISH if rng.random() < 0.9 else Language.ENGLISH,
        source=rng.choice(CUSTOMER_SOURCES),
        created_at=now - datetime.timedelta(days=rng.randrange(1, 3000)),
        last_activity_at=now - datetime.timedelta(days=rng.randrange(0, 2000)),
    )
    # bulk_create skips save(), so derive the birth year here.
    customer.birth_year = customer.derive_birth_year()
    return customer


INVOICE_STATUSES = list(InvoiceStatus.values)
ORDER_CHANNELS = list(OrderChannel.values)
ORDER_COLUMNS = [
    "customer_id",
    "order_number",
    "ordered_on",
    "channel",
    "description",
    "total",
    "invoice_status",
    "created_at",
]


def _demo_order(rng, customer, number, today) -> tuple:
    status = rng.choices(INVOICE_STATUSES, weights=[90, 6, 1, 3])[0]
    return (
        customer.pk,
        f"DEMO-{number:07d}",
        today - datetime.timedelta(days=rng.randrange(0, 3650)),
        rng.choice(ORDER_CHANNELS),
        rng.choice(PRODUCTS),
        Decimal(rng.randrange(500, 50_000)) / 100,
        status,
    )


def _insert_orders(rows: list[tuple]) -> None:
    """Half a million orders through the ORM's bulk_create spend most of their
    time compiling SQL; one parametrised executemany does the same insert."""
    ops = connection.ops
    created = ops.adapt_datetimefield_value(timezone.now())
    table = ops.quote_name(Order._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in ORDER_COLUMNS)
    placeholders = ", ".join(["%s"] * len(ORDER_COLUMNS))
    params = [
        (c, n, ops.adapt_datefield_value(d), ch, desc, ops.adapt_decimalfield_value(t, 12, 2), s, created)
        for c, n, d, ch, desc, t, s in rows
    ]
    with connection.cursor() as cursor:
        # Table and column names come from the model and are quoted; values are parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        cursor.executemany(sql, params)
