"""Direct-marketing ban lists (privacy notice S17): people who have banned addressed
direct marketing (e.g. through a ban register) get a direct-advertising objection."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.audit import record
from privacy.models import AuditAction

from .import_limits import FileCheckError, Unreadable, csv_rows
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
    """The list's people as matching keys, checked against the import limits (rows,
    columns, cell length, no NUL characters) while the file is read."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BanListError(_("The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again.")) from error
    try:
        records = csv_rows(text, _dialect(text))
        header = next(records, None) or []
        mapping = [HEADERS.get((h or "").strip().lower()) for h in header]
        if {"first_name", "last_name", "street_address", "postal_code"} - set(mapping):
            raise BanListError(
                _(
                    "The file needs the columns first_name, last_name, street_address "
                    "and postal_code (or etunimi, sukunimi, katuosoite, postinumero)."
                )
            )
        rows = []
        for record in records:
            row = dict.fromkeys(("first_name", "last_name", "street_address", "postal_code"), "")
            row.update((name, value) for name, value in zip(mapping, record, strict=False) if name)
            rows.append(_key(row["first_name"], row["last_name"], row["street_address"], row["postal_code"]))
    except Unreadable as error:
        raise BanListError(_("The file could not be read as CSV.")) from error
    except FileCheckError as error:
        raise BanListError(error.message) from error
    return rows


def _dialect(text: str) -> type[csv.Dialect]:
    """Excel's CSV with the header line's delimiter: a semicolon where Excel's list
    separator is one (Finnish), else a tab or a comma. (csv.Sniffer guesses from the
    rows too, and gives up on a short row or a long cell.)"""
    header = text[: text.find("\n")] if "\n" in text else text
    delimiter = max(";,\t", key=header.count)

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter if header.count(delimiter) else ","
    return Dialect


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
