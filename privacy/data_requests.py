"""Data requests from submission to closing (GDPR art. 12; privacy notice S16–S19).

Each function is one step a person or a staff member takes. It records an
event on the request's timeline and in the audit log (ids and field names
only), and its e-mails are written to the outbox in the same transaction
(privacy/outbox.py): a worker sends them, so a slow or broken mail server
loses nothing and never holds up a request.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from phonenumbers import NumberParseException, PhoneNumberFormat, format_number, parse

from customers.models import Customer

from .audit import record
from .emails import send_to_address_on_record, send_to_requester
from .letter_scans import delete_scan, save_scan, scan_kind
from .models import (
    ActorType,
    AuditAction,
    DataRequest,
    DataRequestEvent,
    RequestChannel,
    RequestSequence,
    RequestStatus,
    same_email,
)

CONFIRMATION_DAYS = 7
MAX_CONFIRMATION_RESENDS = 3


class RequestStateError(Exception):
    """The step does not fit the request's status (a message for the person)."""


class IdentityNotVerified(RequestStateError):
    """A fulfilment step before the requester is verified as the linked customers; the
    message says what staff should do (shown on the request's page)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def require_verified(data_request: DataRequest) -> None:
    """The one guard of every fulfilment step (release, objection, anonymisation, erasure,
    rectification): a report or an erasure must reach the person it is about."""
    problem = data_request.verification_problem()
    if problem:
        raise IdentityNotVerified(problem)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def due_date_for(submitted_on: datetime.date, *, months: int = 1) -> datetime.date:
    """One calendar month after submission (art. 12(3)); 31 January is due on the last
    day of February."""
    return submitted_on + relativedelta(months=months)


def find_by_status_token(token: str) -> DataRequest | None:
    """The request whose status link this is: the first one, or the one sent with the answer."""
    hashed = token_hash(token)
    return DataRequest.objects.filter(
        Q(status_token_hash=hashed) | Q(answer_token_hash=hashed) | Q(waiting_token_hash=hashed)
    ).first()


def find_by_confirm_token(token: str) -> DataRequest | None:
    return DataRequest.objects.filter(confirm_token_hash=token_hash(token)).first()


def _next_reference(year: int) -> str:
    sequence, _ = RequestSequence.objects.select_for_update().get_or_create(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"KB-{year}-{sequence.last:04d}"


class SystemActor:
    """The daily retention run doing a step on a request (completing an erasure whose
    hold has ended): neither a staff member nor the requester, and said so."""

    is_authenticated = False
    pk = None


SYSTEM = SystemActor()


def _event(data_request: DataRequest, action: str, *, actor=None, fields=(), counts=None) -> None:
    DataRequestEvent.objects.create(
        request=data_request,
        action=action,
        status=data_request.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        by_system=actor is SYSTEM,
    )
    actor_type: str | None
    if actor is SYSTEM:
        actor_type = ActorType.SYSTEM
    else:
        actor_type = None if actor is not None else ActorType.DATA_SUBJECT
    record(
        action=action,
        actor=actor,
        actor_type=actor_type,
        obj=data_request,
        fields=fields,
        counts=counts,
    )


def note_system_event(data_request: DataRequest, action: str) -> None:
    """Put what the retention run did on the request's timeline. Not audited one by one:
    the run writes one audit event with the counts of everything it did."""
    DataRequestEvent.objects.create(
        request=data_request, action=action, status=data_request.status, by_system=True
    )


@transaction.atomic
def answer_erasure_waiting(
    *, data_request: DataRequest, outcome: str, actor, holds: int, site_url: str = ""
) -> DataRequest:
    """The erasure was asked while a hold blocks it. Art. 12(3)-(4): the requester is
    answered now (what was erased, what is kept and why, that it completes by itself, the
    right to complain) by e-mail with the status link; the request waits, answered, with
    no deadline running, until the retention run completes it. The timeline says it waits.
    A request already waiting (a new hold on it) is not answered twice."""
    if data_request.status != RequestStatus.WAITING:
        data_request = _set_status(data_request, RequestStatus.WAITING, actor=actor, outcome=outcome)
        link = _answer_link(data_request, site_url, field="waiting_token_hash")
        _mail_after_commit(data_request, "request_waiting", status_url=link)
    _event(data_request, AuditAction.ERASURE_WAITING, actor=actor, counts={"holds": holds})
    return data_request


def _mail_after_commit(data_request: DataRequest, template: str, **context) -> None:
    """Queue the mail in the outbox, in this transaction: it exists once the request is
    saved, and the worker sends it (privacy/outbox.py); one that fails for good is put
    on the request's timeline (staff see it, the requester can ask for the link again)."""
    if not data_request.email:
        return  # registered by staff without an e-mail address: they answer by post
    send_to_requester(data_request, template, **context)


def tell_addresses_on_record(data_request: DataRequest, *, actor) -> int:
    """A report released to an address that is not a linked customer's own: the customer's
    address on record is told (queued in this transaction), in their language, with no
    content and no link, so a person someone impersonated learns of it. Returns how many
    are told."""
    addresses = {c.email.strip().lower(): c for c in data_request.customers_with_other_email() if c.email}
    if not addresses:
        return 0
    _event(data_request, AuditAction.RELEASE_NOTICE, actor=actor, counts={"addresses": len(addresses)})
    for customer in addresses.values():
        language = customer.preferred_language
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        send_to_address_on_record(data_request, customer.email, language, "report_released_notice")
    return len(addresses)


def _link(site_url: str, name: str, token: str, language: str) -> str:
    with translation.override(language):
        return site_url.rstrip("/") + reverse(name, args=[token])


def public_site_url(site_url: str = "") -> str:
    """Where the requester's links point: SITE_URL when set, else the address staff used."""
    return settings.SITE_URL or site_url


def _answer_link(data_request: DataRequest, site_url: str, *, field: str = "answer_token_hash") -> str:
    """A status link for the answer e-mail (art. 12(3)-(4)). Only the first link's hash is
    stored, so a second token is made and only its hash kept; the first link still works.
    Empty when there is nothing to send it to or no address to build it from. `field`: the
    hash's own field (a waiting erasure's answer keeps its link after the final one)."""
    site_url = public_site_url(site_url)
    if not data_request.email or not site_url:
        return ""
    token = secrets.token_urlsafe(32)
    setattr(data_request, field, token_hash(token))
    data_request.save(update_fields=[field])
    return _link(site_url, "privacy:status", token, data_request.reply_language)


@dataclass(frozen=True)
class Submitted:
    data_request: DataRequest
    status_token: str


IDEMPOTENCY_WINDOW = datetime.timedelta(hours=24)


class FormSentBefore(RequestStateError):
    """The form's one-time key belongs to another address's request, or to one sent more
    than a day ago: the person is asked to check the form and send it again."""


def new_idempotency_key() -> str:
    """The one-time key a rendering of the public form carries (issue 13, item 5)."""
    return secrets.token_urlsafe(32)


def idempotency_hash(key: str) -> str:
    return hashlib.sha256(f"idempotency:{key}".encode()).hexdigest()


def _status_token_for(idempotency_key: str) -> str:
    """A request sent with a key gets a status token derived from it (keyed with
    SECRET_KEY): only the token's hash is stored, so this is how a repeated form is sent
    to the same status page. Whoever holds the key sent the form and got that page."""
    digest = salted_hmac("privacy.status-token", idempotency_key, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def earlier_submission(*, idempotency_key: str, email: str) -> Submitted | None:
    """The request this very form was stored as, when it is sent again (a retry after a
    timeout or an error page), or None for a key never used. FormSentBefore when the key
    was used for another address or more than IDEMPOTENCY_WINDOW ago."""
    if not idempotency_key:
        return None
    found = DataRequest.objects.filter(idempotency_key_hash=idempotency_hash(idempotency_key)).first()
    if found is None:
        return None
    if found.submitted_at < timezone.now() - IDEMPOTENCY_WINDOW or not same_email(found.email, email):
        raise FormSentBefore("key used before")
    return Submitted(found, _status_token_for(idempotency_key))


def submit_request_once(
    *, fields: dict, drawn_signature: bytes | None, site_url: str, idempotency_key: str
) -> Submitted:
    """submit_request, or the request the same form was stored as: when two posts of one
    form race past earlier_submission, the unique key makes the second insert fail and
    the first one's request is returned."""
    earlier = earlier_submission(idempotency_key=idempotency_key, email=fields["email"])
    if earlier is not None:
        return earlier
    try:
        return submit_request(
            fields=fields, drawn_signature=drawn_signature, site_url=site_url, idempotency_key=idempotency_key
        )
    except IntegrityError:
        earlier = earlier_submission(idempotency_key=idempotency_key, email=fields["email"])
        if earlier is None:
            raise
        return earlier


@transaction.atomic
def submit_request(
    *, fields: dict, drawn_signature: bytes | None, site_url: str, idempotency_key: str = ""
) -> Submitted:
    """Store a signed request, then (after commit) e-mail the confirmation link."""
    now = timezone.now()
    status_token = _status_token_for(idempotency_key) if idempotency_key else secrets.token_urlsafe(32)
    confirm_token = secrets.token_urlsafe(32)
    submitted_on = timezone.localdate(now)
    data_request = DataRequest.objects.create(
        **fields,
        drawn_signature=drawn_signature,
        reference=_next_reference(submitted_on.year),
        submitted_at=now,
        confirm_expires_at=now + datetime.timedelta(days=CONFIRMATION_DAYS),
        due_date=due_date_for(submitted_on),
        original_due_date=due_date_for(submitted_on),
        status_token_hash=token_hash(status_token),
        confirm_token_hash=token_hash(confirm_token),
        idempotency_key_hash=idempotency_hash(idempotency_key) if idempotency_key else "",
    )
    _event(data_request, AuditAction.REQUEST_SUBMITTED, actor=None)
    language = data_request.reply_language
    links = {
        "confirm_url": _link(site_url, "privacy:confirm", confirm_token, language),
        "status_url": _link(site_url, "privacy:status", status_token, language),
    }
    _mail_after_commit(data_request, "request_confirm", **links)
    return Submitted(data_request, status_token)


@transaction.atomic
def register_request(
    *,
    fields: dict,
    channel: str,
    received_on: datetime.date,
    scanned_letter: UploadedFile | None,
    actor,
    site_url: str,
) -> Submitted:
    """A request received by post, e-mail, phone or at the counter, entered by staff
    (privacy notice S14). It is received at once (no e-mail confirmation: the staff member
    who registers it is on its timeline and in the audit log) and due one month from the
    day it reached us. Identity is verified on the request's page like any other's before
    anything is fulfilled.

    Steps:
    1. store the scanned letter, if any, under a random name in the private folder;
    2. create the request, received, with its deadlines and tokens;
    3. one event (field names and counts only);
    4. after commit, when an e-mail address was given, a receipt with the status link.
    """
    if channel == RequestChannel.WEB or channel not in RequestChannel.values:
        raise RequestStateError("channel")
    now = timezone.now()
    status_token = secrets.token_urlsafe(32)
    received_at = timezone.make_aware(datetime.datetime.combine(received_on, datetime.time.min))
    scan = save_scan(scanned_letter, scan_kind(scanned_letter)) if scanned_letter else ""
    try:
        data_request = DataRequest.objects.create(
            **fields,
            channel=channel,
            status=RequestStatus.RECEIVED,
            reference=_next_reference(timezone.localdate(now).year),
            submitted_at=received_at,
            confirmed_at=now,
            confirm_expires_at=now,
            due_date=due_date_for(received_on),
            original_due_date=due_date_for(received_on),
            status_token_hash=token_hash(status_token),
            # Nobody confirms it: the token behind this hash is never given out.
            confirm_token_hash=token_hash(secrets.token_urlsafe(32)),
            scanned_letter=scan,
        )
    except BaseException:
        if scan:
            delete_scan(scan)
        raise
    _event(
        data_request,
        AuditAction.REQUEST_REGISTERED,
        actor=actor,
        fields=sorted(name for name, value in fields.items() if value),
        counts={"scanned_letter": int(bool(scan))},
    )
    site_url = public_site_url(site_url)
    if site_url:
        status_url = _link(site_url, "privacy:status", status_token, data_request.reply_language)
        _mail_after_commit(data_request, "request_registered", status_url=status_url)
    return Submitted(data_request, status_token)


@transaction.atomic
def resend_confirmation(*, data_request: DataRequest, site_url: str) -> DataRequest:
    """A new confirmation link (the old one stops working) when the first mail did not
    arrive; the link's expiry stays 7 days from submission."""
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if data_request.status != RequestStatus.AWAITING_CONFIRMATION or data_request.confirmation_expired:
        raise RequestStateError("not awaiting confirmation")
    if data_request.events.filter(action=AuditAction.CONFIRMATION_RESENT).count() >= MAX_CONFIRMATION_RESENDS:
        raise RequestStateError("resent too often")
    confirm_token = secrets.token_urlsafe(32)
    data_request.confirm_token_hash = token_hash(confirm_token)
    data_request.save(update_fields=["confirm_token_hash"])
    _event(data_request, AuditAction.CONFIRMATION_RESENT, actor=None)
    # The status link is not in the e-mail again: its token is not stored, only its hash.
    _mail_after_commit(
        data_request,
        "request_confirm",
        confirm_url=_link(site_url, "privacy:confirm", confirm_token, data_request.reply_language),
        status_url="",
    )
    return data_request


def last_confirmation_mail(data_request: DataRequest) -> str | None:
    """What became of the newest confirmation e-mail: REQUEST_SUBMITTED (the first one
    went, or is on its way), CONFIRMATION_RESENT (a new link is) or EMAIL_FAILED (the
    worker could not send it, after its retries)."""
    return (
        data_request.events.filter(
            action__in=[
                AuditAction.REQUEST_SUBMITTED,
                AuditAction.CONFIRMATION_RESENT,
                AuditAction.EMAIL_FAILED,
            ]
        )
        .order_by("-at", "-pk")
        .values_list("action", flat=True)
        .first()
    )


@transaction.atomic
def confirm_request(*, data_request: DataRequest) -> DataRequest:
    """The e-mail link completes the electronic signature: the request is received."""
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if data_request.status != RequestStatus.AWAITING_CONFIRMATION:
        return data_request  # confirming twice changes nothing
    if data_request.confirm_expires_at < timezone.now():
        raise RequestStateError("expired")
    data_request.status, data_request.confirmed_at = RequestStatus.RECEIVED, timezone.now()
    data_request.save(update_fields=["status", "confirmed_at"])
    _event(data_request, AuditAction.REQUEST_CONFIRMED, actor=None)
    return data_request


def _set_status(data_request: DataRequest, status: str, *, actor, **changes) -> DataRequest:
    data_request.status = status
    for name, value in changes.items():
        setattr(data_request, name, value)
    if status in (RequestStatus.COMPLETED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN):
        data_request.closed_at = timezone.now()
    data_request.save()
    _event(data_request, AuditAction.REQUEST_STATUS, actor=actor, fields=["status", *changes])
    return data_request


@transaction.atomic
def withdraw_request(*, data_request: DataRequest) -> DataRequest:
    if data_request.is_closed:
        raise RequestStateError("closed")
    return _set_status(data_request, RequestStatus.WITHDRAWN, actor=None)


def _require_open(data_request: DataRequest) -> None:
    if not data_request.is_open:
        raise RequestStateError("not open")


@transaction.atomic
def verify_identity(*, data_request: DataRequest, method: str, note: str, actor) -> DataRequest:
    """Record how, by whom and when the requester was verified. The e-mail link does not
    verify a requester whose e-mail differs from a linked customer's on record."""
    _require_open(data_request)
    problem = data_request.identity_method_problem(method, note)
    if problem:
        raise IdentityNotVerified(problem)
    data_request.status = (
        RequestStatus.IDENTITY_VERIFIED
        if data_request.status == RequestStatus.RECEIVED
        else data_request.status
    )
    data_request.identity_method, data_request.identity_note = method, note.strip()
    data_request.identity_verified_at, data_request.identity_verified_by = timezone.now(), actor
    data_request.save()
    _event(
        data_request,
        AuditAction.IDENTITY_VERIFIED,
        actor=actor,
        fields=["status", "identity_method", "identity_note", "identity_verified_at", "identity_verified_by"],
    )
    return data_request


@transaction.atomic
def start_work(*, data_request: DataRequest, actor) -> DataRequest:
    _require_open(data_request)
    if data_request.status == RequestStatus.WAITING:
        raise RequestStateError("answered, waiting for a hold to end")
    return _set_status(data_request, RequestStatus.IN_PROGRESS, actor=actor)


@transaction.atomic
def link_customers(*, data_request: DataRequest, customers: list[Customer], actor) -> int:
    data_request.customers.add(*customers)
    _event(data_request, AuditAction.REQUEST_LINKED, actor=actor, counts={"customers": len(customers)})
    return len(customers)


@transaction.atomic
def extend_deadline(
    *, data_request: DataRequest, months: int, reason: str, actor, site_url: str
) -> DataRequest:
    """Art. 12(3): up to two further months, with reasons told to the requester."""
    _require_open(data_request)
    if months not in (1, 2) or not reason.strip():
        raise RequestStateError("months or reason")
    if not data_request.can_extend:
        # Art. 12(3): once, and the requester is told within the first month.
        raise RequestStateError("extended already or first month over")
    data_request.due_date = due_date_for(data_request.original_due_date, months=months)
    data_request.extension_reason = reason.strip()
    data_request.save(update_fields=["due_date", "extension_reason"])
    _event(data_request, AuditAction.REQUEST_EXTENDED, actor=actor, fields=["due_date"])
    _mail_after_commit(data_request, "request_extended")
    return data_request


@transaction.atomic
def refuse_request(*, data_request: DataRequest, reason: str, actor, site_url: str = "") -> DataRequest:
    """A refusal states the reasons and the right to complain (art. 12(4)); the e-mail
    carries them and the status link, where the certificate downloads. An objection
    to direct marketing cannot be refused (art. 21(3))."""
    _require_open(data_request)
    if not data_request.refusable:
        raise RequestStateError("objection to direct marketing")
    if not reason.strip():
        raise RequestStateError("reason")
    data_request = _set_status(
        data_request, RequestStatus.REFUSED, actor=actor, refusal_reason=reason.strip()
    )
    _mail_after_commit(data_request, "request_answered", status_url=_answer_link(data_request, site_url))
    return data_request


@transaction.atomic
def complete_request(*, data_request: DataRequest, outcome: str, actor, site_url: str = "") -> DataRequest:
    """The answer: the outcome, told on the status page and in the e-mail with its link."""
    _require_open(data_request)
    data_request = _set_status(data_request, RequestStatus.COMPLETED, actor=actor, outcome=outcome)
    _mail_after_commit(data_request, "request_answered", status_url=_answer_link(data_request, site_url))
    return data_request


@dataclass(frozen=True)
class SuggestedMatch:
    """A customer who may be the requester, and what matched. Only the same e-mail is a
    strong match (the requester confirmed the request from it); a phone number or a name
    and postal code are anyone's to type."""

    customer: Customer
    same_email: bool
    same_phone: bool
    same_name: bool

    @property
    def strong(self) -> bool:
        return self.same_email


def _e164(phone: str) -> str:
    try:
        return format_number(parse(phone, "FI"), PhoneNumberFormat.E164)
    except NumberParseException:
        return ""


def suggested_matches(data_request: DataRequest) -> list[SuggestedMatch]:
    """Customers who may be the requester: same e-mail, same phone, or same name and
    postal code; the strong ones first."""
    match = Q(email__iexact=data_request.email) if data_request.email else Q(pk__in=[])
    phone = _e164(data_request.phone)
    if phone:
        match |= Q(phone=phone)
    if data_request.postal_code:
        match |= Q(
            first_name__iexact=data_request.first_name,
            last_name__iexact=data_request.last_name,
            postal_code=data_request.postal_code,
        )
    customers = Customer.objects.not_anonymised().filter(match).select_related("organisation")[:20]
    name = (data_request.first_name.casefold(), data_request.last_name.casefold(), data_request.postal_code)
    matches = [
        SuggestedMatch(
            customer=c,
            same_email=same_email(data_request.email, c.email or ""),
            same_phone=bool(phone and c.phone and c.phone.as_e164 == phone),
            same_name=bool(data_request.postal_code)
            and (c.first_name.casefold(), c.last_name.casefold(), c.postal_code) == name,
        )
        for c in customers
    ]
    return sorted(matches, key=lambda m: not m.strong)
