"""What is personal data, declared once (issue 18, item 9; DESIGN.md: "Personal data is
declared once"; privacy notice S3, S7, S16, S19).

Every concrete field of every model of the register's apps (customers, privacy), the
auto-created table behind DataRequest.customers included, is classified here, once:

- IDENTIFYING: names a person or reaches them (name, contact, address, exact birth date or
  age, a link to an organisation that may bear their name). Cleared or replaced when the
  person is anonymised or erased, or when a request's identity is erased.
- STATISTICS: describes the person without identifying them: kept after anonymisation
  (S3: the birth year, so the age band; the municipality and country; orders' dates,
  channels and totals).
- FREE_TEXT: text someone wrote (staff, the requester, a shop's order line) that may name
  the person. Cleared or replaced with the identifying fields.
- OTHER: neither: ids, codes, statuses, timestamps, links, flags, staff accounts, hashes
  kept by design.

Each field also says whether the access report shows it (`report`, art. 15) and whether a
source's file may set it (`imported`, customers/imports.py). The access report, customer
and organisation anonymisation, erasure, the request's identity erasure and the import's
columns read their lists from here; tests/privacy/test_personal_data.py fails, naming the
model and field, when a field of those apps is not declared, or is declared but gone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Case, Value, When
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

APPS = ("customers", "privacy")


class Kind(enum.StrEnum):
    IDENTIFYING = "identifying"
    STATISTICS = "statistics"
    FREE_TEXT = "free_text"
    OTHER = "other"


class _Auto:
    """The erased value a column's definition implies: NULL when it allows one, else ""."""

    def __repr__(self) -> str:
        return "AUTO"


class _Redacted:
    """Text that was written is replaced by the erased-text placeholder; empty stays empty,
    so the record still shows that a reason or a note existed (and, say, that a deadline
    was extended), without what it said."""

    def __repr__(self) -> str:
        return "REDACTED"


AUTO = _Auto()
REDACTED = _Redacted()
# Stored in the register's language (settings.LANGUAGE_CODE): "[poistettu]".
ERASED_TEXT = gettext_noop("[erased]")
# Stored in the register's language as the name of an anonymised organisation (its
# __str__ says the same).
ORGANISATION_PLACEHOLDER = gettext_noop("Anonymised organisation #%(pk)s")


@dataclass(frozen=True)
class Declared:
    """One field's class. `erased` is what an identifying or free-text field becomes:
    AUTO, REDACTED, a constant, or a function of the row (e.g. a placeholder with its id)."""

    kind: Kind
    report: bool = False
    imported: bool = False
    erased: Any = AUTO

    @property
    def removed(self) -> bool:
        return self.kind in (Kind.IDENTIFYING, Kind.FREE_TEXT)


def identifying(*, report: bool = False, imported: bool = False, erased: Any = AUTO) -> Declared:
    return Declared(Kind.IDENTIFYING, report=report, imported=imported, erased=erased)


def statistics(*, report: bool = False, imported: bool = False) -> Declared:
    return Declared(Kind.STATISTICS, report=report, imported=imported)


def free_text(*, report: bool = False, erased: Any = AUTO) -> Declared:
    return Declared(Kind.FREE_TEXT, report=report, erased=erased)


def other(*, report: bool = False) -> Declared:
    return Declared(Kind.OTHER, report=report)


def _erased_email(row: models.Model) -> str:
    # An address that can never receive mail: the row still shows it had one.
    return f"erased-{row.pk}@invalid"


def _organisation_placeholder(row: models.Model) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(ORGANISATION_PLACEHOLDER) % {"pk": row.pk}


# Staff accounts, hashes and the controller's own published details are not data about
# the register's data subjects; they are OTHER here (S13 covers staff accounts).
DECLARATION: dict[str, dict[str, Declared]] = {
    "customers.Organisation": {
        "id": other(),
        # A sole trader's trade name is often the person's own (issue 17, item 8).
        "name": identifying(report=True, erased=_organisation_placeholder),
        "business_id": identifying(report=True),
        "street_address": identifying(),
        "postal_code": identifying(),
        "city": identifying(),
        "country": statistics(),
        "source": other(),
        "created_at": other(),
        "updated_at": other(),
        "anonymised_at": other(),
    },
    "customers.Customer": {
        "id": other(),
        "first_name": identifying(report=True, imported=True),
        "last_name": identifying(report=True, imported=True),
        # The report shows the organisation's own report fields (name, business ID).
        "organisation": identifying(report=True),
        "email": identifying(report=True, imported=True),
        "phone": identifying(report=True, imported=True),
        "street_address": identifying(report=True, imported=True),
        # The full postal code narrows a person down to a few streets: cleared (S3 keeps
        # the municipality).
        "postal_code": identifying(report=True, imported=True),
        "city": statistics(report=True, imported=True),
        "country": statistics(report=True, imported=True),
        "birth_date": identifying(report=True, imported=True),
        # An age is stated on a day the file does not know: not imported.
        "age": identifying(report=True),
        "age_recorded_on": identifying(report=True),
        # Derived from the birth date or age, which the report shows, with the age band.
        "birth_year": statistics(),
        "preferred_language": other(report=True),
        "source": other(report=True),
        "created_at": other(report=True),
        "updated_at": other(report=True),
        "last_activity_at": other(report=True),
        "anonymised_at": other(report=True),
    },
    "customers.MarketingObjection": {
        "id": other(),
        "customer": other(),
        "purpose": other(report=True),
        "received_at": other(report=True),
        "channel": other(report=True),
        "recorded_by": other(),
        "withdrawn_at": other(report=True),
        "withdrawal_channel": other(report=True),
        "withdrawn_by": other(),
    },
    "customers.EmailMarketingConsent": {
        "id": other(),
        "customer": other(),
        "given_at": other(report=True),
        "channel": other(report=True),
        "recorded_by": other(),
        "withdrawn_at": other(report=True),
    },
    "customers.Order": {
        "id": other(),
        "customer": other(),
        # The bookkeeping's voucher reference, kept with the order (Accounting Act).
        "order_number": other(report=True),
        "ordered_on": statistics(report=True),
        "channel": statistics(report=True),
        "description": free_text(report=True),
        "total": statistics(report=True),
        "invoice_status": other(report=True),
        "created_at": other(),
    },
    "customers.Disclosure": {
        "id": other(),
        "customer": other(),
        # Who received data and when stays (accountability, art. 5(2)); what was given goes.
        "category": other(report=True),
        "recipient": other(report=True),
        "disclosed_on": other(report=True),
        "data_disclosed": free_text(report=True),
        "disclosed_by": other(),
    },
    "customers.CustomerChange": {
        "id": other(),
        "customer": other(),
        "changed_at": other(report=True),
        "source": other(report=True),
        "fields": other(report=True),  # field names only, never values
        "kind": other(report=True),  # corrected, deleted or completed (art. 16, 17)
        "reason": other(report=True),  # a choice, not free text
        "changed_by": other(),
    },
    "customers.ImportJob": {  # a large file's preview or import (customers/import_jobs.py)
        "id": other(),
        "started_by": other(),
        "kind": other(),
        "state": other(),
        "source": other(),
        "language": other(),
        "upload_token": other(),
        "shop": other(),
        "rows_read": other(),
        "rows_total": other(),
        "new": other(),
        "updated": other(),
        "unchanged": other(),
        "invalid": other(),
        "left_out": other(),
        "imported": other(),
        # Why the job failed, in the starter's language: a limit, a missing column, never a value.
        "message": other(),
        # The rows the preview page shows, with their values: deleted with the upload
        # and at most an hour after the job finished.
        "preview": identifying(),
        "options": other(),  # the file's suffix, the skip choice, ticked conflicts (numbers only)
        "created_at": other(),
        "started_at": other(),
        "progress_at": other(),
        "finished_at": other(),
    },
    "privacy.AuditEvent": {  # holds no personal data by design (S14)
        "id": other(),
        "occurred_at": other(),
        "actor_type": other(),
        "actor_id": other(),
        "action": other(),
        "object_type": other(),
        "object_id": other(),
        "fields": other(),
        "counts": other(),
        "prev_hash": other(),
        "hash": other(),
    },
    "privacy.ContactSuppression": {
        "id": other(),
        # A keyed one-way hash of an erased person's address, kept at their own wish
        # never to be contacted again (S11): it recognises the address, it cannot be read.
        "email_hash": identifying(),
        "created_at": other(),
    },
    "privacy.ConfidentialityCommitment": {
        "id": other(),
        "user": other(),
        "signed_on": other(),
        "recorded_by": other(),
        "recorded_at": other(),
    },
    "privacy.EnrolmentCode": {
        "id": other(),
        "user": other(),
        "code_hash": other(),
        "issued_by": other(),
        "issued_at": other(),
        "expires_at": other(),
        "used_at": other(),
    },
    "privacy.ControllerDetails": {  # published in the privacy notice (S1)
        "id": other(),
        "name": other(),
        "business_id": other(),
        "street_address": other(),
        "postal_code": other(),
        "city": other(),
        "phone": other(),
        "email": other(),
        "contact_person": other(),
        "contact_phone": other(),
        "contact_email": other(),
        "updated_at": other(),
    },
    "privacy.DataRequest": {
        "id": other(),
        "reference": other(),
        "kind": other(),
        "status": other(),
        "reply_language": other(),
        "channel": other(),
        # Who asked: erased with the request's identity (DataRequest.erase_identity).
        "first_name": identifying(),
        "last_name": identifying(),
        "email": identifying(erased=_erased_email),
        "phone": identifying(),
        "street_address": identifying(),
        "postal_code": identifying(),
        "city": identifying(),
        # What the requester wrote.
        "rectification_what": free_text(erased=REDACTED),
        "rectification_correct": free_text(erased=REDACTED),
        "rectification_grounds": free_text(erased=REDACTED),
        "objection_purposes": other(),
        "no_contact_again": other(),
        "signature_name": identifying(),
        "declaration": other(),
        "drawn_signature": identifying(),
        "submitted_at": other(),
        "confirmed_at": other(),
        "confirm_expires_at": other(),
        "due_date": other(),
        "original_due_date": other(),
        # What staff wrote: it may name the person ("Aino Mäkinen owes ...").
        "extension_reason": free_text(erased=REDACTED),
        "identity_method": other(),
        "identity_note": free_text(erased=REDACTED),
        "identity_verified_at": other(),
        "identity_verified_by": other(),
        "refusal_reason": free_text(erased=REDACTED),
        "outcome": free_text(erased=REDACTED),
        "closed_at": other(),
        "identity_erased_at": other(),
        "status_token_hash": other(),
        "confirm_token_hash": other(),
        "answer_token_hash": other(),
        # The public form's one-time key, hashed: a random value, nobody's data.
        "idempotency_key_hash": other(),
        "waiting_token_hash": other(),
        # A scanned letter names the person: the file is deleted with the identity
        # (DataRequest._erase_scanned_letter), its name cleared here.
        "scanned_letter": identifying(),
        # The released access report is a full copy of the person's data.
        "report_json": identifying(),
        "report_released_at": other(),
        "report_expires_at": other(),
    },
    # DataRequest.customers: which customers a request concerns (kept: how it was handled).
    "privacy.DataRequest_customers": {
        "id": other(),
        "datarequest": other(),
        "customer": other(),
    },
    # Art. 19: whom to tell of a rectification or an erasure. The recipient is a business
    # (a source or a disclosure recipient), the changes are field names and kinds only.
    "privacy.Notification": {
        "id": other(),
        "request": other(),
        "customer": other(),
        "recipient_kind": other(),
        "recipient_name": other(),
        "category": other(),
        "changes": other(),
        "created_at": other(),
        "letter_made_at": other(),
        "sent_at": other(),
        "sent_by": other(),
    },
    # Notification.disclosures: the disclosure rows a letter is about.
    "privacy.Notification_disclosures": {
        "id": other(),
        "notification": other(),
        "disclosure": other(),
    },
    # The outbox's record of a mail about a request (privacy/outbox.py): which template,
    # its state and tries. The address and the text are in django-post-office's row,
    # deleted by the worker once the mail is sent or has failed.
    "privacy.OutgoingMail": {
        "id": other(),
        "request": other(),
        "email": other(),
        "template": other(),
        "to_requester": other(),
        "queued_at": other(),
        "state": other(),
        "tries": other(),
        "finished_at": other(),
        "error": other(),
    },
    "privacy.DataRequestEvent": {
        "id": other(),
        "request": other(),
        "at": other(),
        "action": other(),
        "status": other(),
        "actor": other(),
        "by_system": other(),
    },
    # What is kept after an erasure was asked, why and until when (S11): the customer is a
    # link (gone once erased), the orders are rows without a buyer.
    "privacy.LegalHold": {
        "id": other(),
        "what": other(),
        "reason": other(),
        "kept_until": other(),
        "count": other(),
        "data_request": other(),
        "customer": other(),
        "created_at": other(),
        "released_at": other(),
    },
    "privacy.HeldOrder": {
        "id": other(),
        "hold": other(),
        "order": other(),
    },
    "privacy.RequestSequence": {
        "year": other(),
        "last": other(),
    },
}


class UndeclaredField(LookupError):
    """A model or field the declaration does not classify."""


def register_models() -> list[type[models.Model]]:
    """Every model of the register's apps, the auto-created many-to-many tables included
    (a link table can grow columns of its own)."""
    return [model for app in APPS for model in apps.get_app_config(app).get_models(include_auto_created=True)]


def classification_problems(
    models_: Iterable[type[models.Model]] | None = None,
    declaration: dict[str, dict[str, Declared]] | None = None,
) -> list[str]:
    """'app.Model.field: why' for each concrete field without a class, and each declared
    field the model no longer has. Empty when everything is declared."""
    declaration = DECLARATION if declaration is None else declaration
    problems = []
    for model in register_models() if models_ is None else models_:
        label = model._meta.label
        declared = declaration.get(label, {})
        names = [field.name for field in model._meta.concrete_fields]
        problems += [f"{label}.{name}: not classified" for name in names if name not in declared]
        problems += [f"{label}.{name}: declared, not a field" for name in declared if name not in names]
    return problems


def declared(model: type[models.Model]) -> dict[str, Declared]:
    """The model's fields with their classes, in the model's field order."""
    label = model._meta.label
    declaration = DECLARATION.get(label, {})
    result = {}
    for field in model._meta.concrete_fields:
        if field.name not in declaration:
            raise UndeclaredField(f"{label}.{field.name} is not classified in privacy/personal_data.py")
        result[field.name] = declaration[field.name]
    return result


def fields(model: type[models.Model], *kinds: Kind) -> list[str]:
    return [name for name, d in declared(model).items() if d.kind in kinds]


def report_fields(model: type[models.Model]) -> list[str]:
    """What the access report shows of the model (art. 15)."""
    return [name for name, d in declared(model).items() if d.report]


def imported_fields(model: type[models.Model]) -> tuple[str, ...]:
    """What a source's file may set (customers/imports.py)."""
    return tuple(name for name, d in declared(model).items() if d.imported)


def removed_fields(model: type[models.Model]) -> list[str]:
    """The identifying and free-text fields: what anonymisation and erasure take away."""
    return [name for name, d in declared(model).items() if d.removed]


def erased_text() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(ERASED_TEXT)


def _auto(model: type[models.Model], name: str) -> Any:
    field = model._meta.get_field(name)
    return None if getattr(field, "null", False) else ""


def cleared_values(model: type[models.Model]) -> dict[str, Any]:
    """For QuerySet.update(): each removed field and what it becomes (an expression for a
    redacted text). Raises ValueError for a field whose erased value depends on the row."""
    values: dict[str, Any] = {}
    for name, d in declared(model).items():
        if not d.removed:
            continue
        if d.erased is AUTO:
            values[name] = _auto(model, name)
        elif d.erased is REDACTED:
            values[name] = Case(When(**{name: ""}, then=Value("")), default=Value(erased_text()))
        elif callable(d.erased):
            raise ValueError(f"{model._meta.label}.{name} is erased row by row")
        else:
            values[name] = d.erased
    return values


def erased_values(row: models.Model) -> dict[str, Any]:
    """Each removed field of `row` and what it becomes."""
    model = type(row)
    values: dict[str, Any] = {}
    for name, d in declared(model).items():
        if not d.removed:
            continue
        erased: Any | Callable = d.erased
        if erased is AUTO:
            values[name] = _auto(model, name)
        elif erased is REDACTED:
            values[name] = erased_text() if getattr(row, name) else ""
        elif callable(erased):
            values[name] = erased(row)
        else:
            values[name] = erased
    return values
