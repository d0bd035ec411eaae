"""Direct-marketing ban lists (privacy notice S17): people who have banned addressed
direct marketing (e.g. through a ban register) get a direct-advertising objection."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from privacy.audit import record
from privacy.models import AuditAction

from .models import Channel, Customer, MarketingObjection, ObjectionPurpose

HEADERS = {
    "first_name": "first_name",
    "etunimi": "first_name",
    "last_name": "last_name",
    "sukunimi": "last_name",
    "street_address": "street_address",
    "katuosoite": "street_address",
    "address": "street_address",
    "postal_code": "postal_code",
    "postinumero": "postal_code",
}


class BanListError(ValueError):
    """The file cannot be read; the message says why."""


@dataclass(frozen=True)
class BanListOutcome:
    rows: int
    matched: int
    recorded: int
    already_in_force: int

    @property
    def unmatched(self) -> int:
        return self.rows - self.matched


def _key(first: str, last: str, street: str, postal: str) -> tuple:
    return (
        first.strip().casefold(),
        last.strip().casefold(),
        " ".join(street.split()).casefold(),
        postal.strip(),
    )


def read_ban_list(content: bytes) -> list[tuple]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BanListError("The file is not UTF-8 text.") from error
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    mapping = {h: HEADERS.get((h or "").strip().lower()) for h in reader.fieldnames or []}
    if {"first_name", "last_name", "street_address", "postal_code"} - set(mapping.values()):
        raise BanListError(
            "The file needs the columns first_name, last_name, street_address "
            "and postal_code (or etunimi, sukunimi, katuosoite, postinumero)."
        )
    rows = []
    for raw in reader:
        row = {mapping[h]: (v or "") for h, v in raw.items() if h in mapping and mapping[h]}
        rows.append(_key(row["first_name"], row["last_name"], row["street_address"], row["postal_code"]))
    return rows


@transaction.atomic
def apply_ban_list(*, content: bytes, actor) -> BanListOutcome:
    """Record a direct-advertising objection (channel: ban register) for every match."""
    wanted = set(read_ban_list(content))
    rows = len(wanted)
    postals = {key[3] for key in wanted}
    matched = [
        c
        for c in Customer.objects.not_anonymised()
        .filter(postal_code__in=postals)
        .only("pk", "first_name", "last_name", "street_address", "postal_code")
        .iterator(chunk_size=5000)
        if _key(c.first_name, c.last_name, c.street_address, c.postal_code) in wanted
    ]
    already = set(
        MarketingObjection.objects.in_force(ObjectionPurpose.DIRECT_ADVERTISING)
        .filter(customer__in=[c.pk for c in matched])
        .values_list("customer_id", flat=True)
    )
    now = timezone.now()
    MarketingObjection.objects.bulk_create(
        MarketingObjection(
            customer_id=c.pk,
            purpose=ObjectionPurpose.DIRECT_ADVERTISING,
            channel=Channel.BAN_REGISTER,
            received_at=now,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for c in matched
        if c.pk not in already
    )
    outcome = BanListOutcome(rows, len(matched), len(matched) - len(already), len(already))
    record(
        action=AuditAction.IMPORT,
        actor=actor,
        object_type="customers.marketingobjection",
        fields=["ban_list"],
        counts={
            "rows": rows,
            "matched": outcome.matched,
            "recorded": outcome.recorded,
            "already_in_force": outcome.already_in_force,
        },
    )
    return outcome
