"""Privacy app models: the audit log, data requests and their timeline, staff commitments,
controller details and contact suppressions."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import (
    DIRECT_MARKETING_PURPOSES,
    ChangeKind,
    Channel,
    Customer,
    DisclosureCategory,
    Order,
    Source,
)

from .holds import BOOKKEEPING_HOLD, DEBT_COLLECTION_HOLD, OPEN_INVOICE_HOLD


class ActorType(models.TextChoices):
    STAFF = "staff", _("Staff member")
    SYSTEM = "system", _("System")
    DATA_SUBJECT = "data_subject", _("Data subject")


class AuditAction(models.TextChoices):
    """What was done. Stored as plain text (no DB choices) so a new action needs no migration."""

    LOGIN = "login", _("Logged in")
    LOGOUT = "logout", _("Logged out")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKED_OUT = "locked_out", _("Locked out")
    VIEW = "view", _("Viewed")
    CREATE = "create", _("Created")
    CHANGE = "change", _("Changed")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")
    IMPORT = "import", _("Imported")
    REQUEST_SUBMITTED = "request_submitted", _("Request submitted")
    REQUEST_CONFIRMED = "request_confirmed", _("Request confirmed")
    REQUEST_STATUS = "request_status", _("Request status changed")
    REQUEST_EXTENDED = "request_extended", _("Request deadline extended")
    REQUEST_LINKED = "request_linked", _("Request linked to customer")
    REPORT_RELEASED = "report_released", _("Access report released")
    REPORT_DOWNLOADED = "report_downloaded", _("Access report downloaded")
    RECTIFIED = "rectified", _("Rectified: corrected")
    RECTIFIED_DELETED = "rectified_deleted", _("Rectified: deleted")
    RECTIFIED_COMPLETED = "rectified_completed", _("Rectified: completed")
    NOTIFICATIONS_RECORDED = "notifications_recorded", _("Recipients to tell recorded (art. 19)")
    NOTIFICATION_SENT = "notification_sent", _("Recipient told (art. 19)")
    OBJECTION_RECORDED = "objection_recorded", _("Objection recorded")
    ANONYMISED = "anonymised", _("Anonymised")
    ERASED = "erased", _("Erased")
    RETENTION_RUN = "retention_run", _("Retention run")
    COMMITMENT_RECORDED = "commitment_recorded", _("Confidentiality commitment recorded")
    OTP_ENROLLED = "otp_enrolled", _("Second factor enrolled")
    EMAIL_FAILED = "email_failed", _("E-mail to the requester failed")
    CONFIRMATION_RESENT = "confirmation_resent", _("Confirmation link sent again")
    IDENTITY_VERIFIED = "identity_verified", _("Identity verified")
    RELEASE_NOTICE = "release_notice", _("Release told to the e-mail address on record")
    OBJECTION_WITHDRAWN = "objection_withdrawn", _("Objection withdrawn")
    PASSWORD_SET = "password_set", _("Password set")
    ENROLMENT_CODE_ISSUED = "enrolment_code_issued", _("Second-factor enrolment code issued")
    REQUEST_REGISTERED = "request_registered", _("Request registered by staff")
    CERTIFICATE_DOWNLOADED = "certificate_downloaded", _("Refusal certificate downloaded")
    ERASURE_WAITING = "erasure_waiting", _("Erasure waits for a legal hold to end")
    HOLD_RELEASED = "hold_released", _("Legal hold ended")
    HELD_ORDERS_DELETED = "held_orders_deleted", _("Orders kept for bookkeeping deleted")


class AuditEvent(models.Model):
    """One entry of the audit log.

    Holds no personal data: who (a staff user's id, "system" or "data
    subject"), what, on which object type and id, which field names, how many
    rows. Never a value. The table is append-only: database triggers reject
    UPDATE, DELETE and TRUNCATE (migration 0001). Each row carries an HMAC of
    its content chained to the previous row's, so `verify_audit_log` detects a
    row altered, removed or forged with the triggers bypassed.
    """

    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor_type = models.CharField(_("actor"), max_length=16, choices=ActorType.choices)
    actor_id = models.BigIntegerField(
        _("staff user id"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("A number, not a link: deleting a user leaves the log intact."),
    )
    action = models.CharField(_("action"), max_length=32, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    fields = models.JSONField(_("field names"), default=list, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        default_permissions = ("view",)
        permissions = [("export_auditevent", _("Can export the audit log"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action_label}"

    @property
    def action_label(self) -> str:
        try:
            return str(AuditAction(self.action).label)
        except ValueError:
            return self.action


class ContactSuppression(models.Model):
    """Someone erased from the register asked never to be contacted again (S11, S17).

    Holds only a keyed one-way hash of the e-mail address, so the address
    cannot be read back, but an import or a new registration with the same
    address can be recognised and left uncontacted.
    """

    email_hash = models.CharField(_("e-mail hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("contact suppression")
        verbose_name_plural = _("contact suppressions")

    def __str__(self) -> str:
        return self.email_hash[:12]


class ConfidentialityCommitment(models.Model):
    """A staff member's signed confidentiality commitment (privacy notice S13: "every
    user has signed a confidentiality commitment"). Without one, a staff member can
    log in but sees no customer, order or request data."""

    user = models.OneToOneField(
        "auth.User",
        verbose_name=_("staff member"),
        related_name="confidentiality_commitment",
        on_delete=models.CASCADE,
    )
    signed_on = models.DateField(
        _("signed on"),
        help_text=_("The date on the signed paper or electronic commitment (S13)."),
    )
    recorded_by = models.ForeignKey(
        "auth.User",
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("confidentiality commitment")
        verbose_name_plural = _("confidentiality commitments")

    def __str__(self) -> str:
        return str(_("Signed on %(date)s") % {"date": self.signed_on.isoformat()})

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.signed_on and self.signed_on > timezone.localdate():
            raise ValidationError({"signed_on": _("A commitment cannot be signed in the future.")})


class EnrolmentCodeQuerySet(models.QuerySet):
    def usable(self) -> EnrolmentCodeQuerySet:
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now())


class EnrolmentCode(models.Model):
    """A one-time code the owner hands a staff member for enrolling their first second
    factor (privacy notice S13): whoever learns a new account's password cannot enrol
    a device of their own with it. Stored as a hash only; shown once, when issued."""

    user = models.ForeignKey(
        "auth.User",
        verbose_name=_("staff member"),
        related_name="enrolment_codes",
        on_delete=models.CASCADE,
    )
    code_hash = models.CharField(
        _("code hash"), max_length=128, help_text=_("A hash of the code; the code itself is not stored.")
    )
    issued_by = models.ForeignKey(
        "auth.User",
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty when issued from the command line."),
    )
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    objects = EnrolmentCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolment code")
        verbose_name_plural = _("enrolment codes")

    def __str__(self) -> str:
        issued = self.issued_at.isoformat(timespec="minutes")
        return str(_("Enrolment code issued %(time)s") % {"time": issued})

    def matches(self, typed: str) -> bool:
        """Whether `typed` (normalised: no dashes or spaces, upper case) is this code."""
        from django.contrib.auth.hashers import check_password

        return bool(typed) and check_password(typed, self.code_hash)


class ControllerDetails(models.Model):
    """The controller and the contact person named in the privacy notice (S1).

    One row, edited by the owner in the admin; the public notice, e-mails and
    letters read it from here, never from code.
    """

    name = models.CharField(
        _("controller"), max_length=200, help_text=_("The business or person responsible for the register.")
    )
    business_id = models.CharField(_("business ID"), max_length=9, blank=True)
    street_address = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"))
    contact_person = models.CharField(
        _("contact person"),
        max_length=200,
        help_text=_("Contact person for matters concerning the register."),
    )
    contact_phone = models.CharField(_("contact person's phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact person's e-mail"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("controller details")
        verbose_name_plural = _("controller details")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> ControllerDetails:
        details = cls.objects.order_by("pk").first()
        return details or cls(name="Kehobalanssi", street_address="", email="")

    @property
    def address(self) -> str:
        return ", ".join(p for p in [self.street_address, f"{self.postal_code} {self.city}".strip()] if p)

    def as_letterhead(self) -> dict:
        return {
            "name": self.name,
            "business_id": self.business_id,
            "address": self.address,
            "email": self.email,
            "phone": self.phone,
            "contact_person": self.contact_person,
        }


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access to my data")
    RECTIFICATION = "rectification", _("Rectification of my data")
    OBJECTION = "objection", _("Objection to marketing")
    ANONYMISATION = "anonymisation", _("Anonymisation of my data")
    ERASURE = "erasure", _("Erasure of my data")


class RequestChannel(models.TextChoices):
    """How a request reached the business (privacy notice S14 names post, e-mail, phone
    and the counter besides the web form)."""

    WEB = "web", _("Web form")
    POST = "post", _("Letter")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    COUNTER = "counter", _("At the counter")


class RequestStatus(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting e-mail confirmation")
    RECEIVED = "received", _("Received")
    IDENTITY_VERIFIED = "identity_verified", _("Identity verified")
    IN_PROGRESS = "in_progress", _("In progress")
    # Answered (art. 12(3)-(4)): the erasure waits for an open invoice or a debt collection
    # to end; the retention run completes it then. Open, but no deadline runs.
    WAITING = "waiting", _("Waiting for a legal hold to end")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired (not confirmed)")


# Still to be answered within the deadline.
PENDING_STATUSES = [RequestStatus.RECEIVED, RequestStatus.IDENTITY_VERIFIED, RequestStatus.IN_PROGRESS]
# Not closed: a waiting erasure is answered, yet still worked (completed, refused, withdrawn).
OPEN_STATUSES = [*PENDING_STATUSES, RequestStatus.WAITING]
CLOSED_STATUSES = [
    RequestStatus.COMPLETED,
    RequestStatus.REFUSED,
    RequestStatus.WITHDRAWN,
    RequestStatus.EXPIRED,
]


def same_email(a: str, b: str) -> bool:
    """Whether two addresses are one mailbox, as far as identity goes: ASCII case only,
    since Unicode folding would take "ß" for "ss", an address someone else may hold."""
    return bool(a.strip()) and a.strip().encode().lower() == b.strip().encode().lower()


class IdentityMethod(models.TextChoices):
    """How staff made sure the requester is the customer. The e-mail link proves only
    that the requester reads the address they wrote: it identifies them only when the
    customer on record has that same address."""

    EMAIL_ON_FILE = "email_on_file", _("E-mail address on file matched")
    SIGNATURE_COMPARED = "signature_compared", _("Signature compared with one on file")
    IN_PERSON = "in_person", _("Seen in person")
    PHONE_CALLBACK = "phone_callback", _("Called back at the phone number on record")
    OTHER = "other", _("Other (described)")


class DataRequestQuerySet(models.QuerySet):
    def open(self) -> DataRequestQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def closed(self) -> DataRequestQuerySet:
        return self.filter(status__in=CLOSED_STATUSES)

    def pending(self) -> DataRequestQuerySet:
        """Open and not yet answered: their deadline runs (a waiting erasure's does not)."""
        return self.filter(status__in=PENDING_STATUSES)

    def overdue(self, today=None) -> DataRequestQuerySet:
        return self.pending().filter(due_date__lt=today or timezone.localdate())

    def for_customers(self, customer_ids: Iterable[int]) -> DataRequestQuerySet:
        return self.filter(customers__in=list(customer_ids)).distinct()

    def expired_unconfirmed(self, now=None) -> DataRequestQuerySet:
        """Never confirmed within 7 days: deleted, signature and all, by the retention run."""
        return self.filter(
            status__in=[RequestStatus.AWAITING_CONFIRMATION, RequestStatus.EXPIRED],
            confirm_expires_at__lt=now or timezone.now(),
        )

    def erase_identities(self) -> int:
        """Forget who asked and what was written on these requests (see
        DataRequest.erase_identity); requests
        erased before are left as they are. Returns how many were erased now."""
        erased = 0
        for data_request in self.filter(identity_erased_at__isnull=True):
            data_request.erase_identity()
            erased += 1
        return erased

    def inbox_counts(self, today=None) -> dict[str, int]:
        """What the front page tells staff: open, overdue, waiting for a legal hold to end
        (answered, so never overdue), awaiting the requester."""
        today = today or timezone.localdate()
        return {
            "open": self.open().count(),
            "overdue": self.overdue(today).count(),
            "waiting": self.filter(status=RequestStatus.WAITING).count(),
            "awaiting": self.filter(status=RequestStatus.AWAITING_CONFIRMATION).count(),
        }


class DataRequest(models.Model):
    """A data subject's signed request (privacy notice S16–S19; GDPR art. 12, 15–21).

    Signed electronically: the typed full name, the declaration and the
    confirmation through the link sent to the e-mail address together make a
    simple electronic signature; a drawn signature is optional.
    """

    reference = models.CharField(_("reference"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=RequestKind.choices)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=RequestStatus.choices,
        default=RequestStatus.AWAITING_CONFIRMATION,
        db_index=True,
    )
    reply_language = models.CharField(
        _("reply language"), max_length=2, choices=[("fi", _("Finnish")), ("en", _("English"))]
    )
    channel = models.CharField(
        _("received by"),
        max_length=8,
        choices=RequestChannel.choices,
        default=RequestChannel.WEB,
        help_text=_(
            "The web form, or the way staff received a request they registered; for those the "
            "deadline counts from the day it reached us."
        ),
    )
    # Identity, used to find the customer; erased with the request's identity data.
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(
        _("e-mail"), blank=True, help_text=_("Empty only on a request registered by staff: answered by post.")
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    # What is asked.
    rectification_what = models.TextField(_("what is wrong"), max_length=2000, blank=True)
    rectification_correct = models.TextField(_("what it should be"), max_length=2000, blank=True)
    rectification_grounds = models.TextField(_("grounds"), max_length=2000, blank=True)
    objection_purposes = models.JSONField(_("objection purposes"), default=list, blank=True)
    no_contact_again = models.BooleanField(
        _("do not contact again"),
        default=False,
        help_text=_("Erasure: keep a one-way hash of the e-mail address so the person is never added back."),
    )
    # Signature.
    signature_name = models.CharField(
        _("typed signature"),
        max_length=200,
        help_text=_("The requester's full name typed as their signature."),
    )
    declaration = models.BooleanField(
        _("declaration confirmed"),
        default=False,
        help_text=_("The requester declared that the request is theirs."),
    )
    drawn_signature = models.BinaryField(
        _("drawn signature (PNG)"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Optional; shown to staff only; deleted with the identity data."),
    )
    # Deadlines (GDPR art. 12(3)).
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirm_expires_at = models.DateTimeField(_("confirmation link expires"))
    due_date = models.DateField(
        _("due date"),
        db_index=True,
        help_text=_("One month from the day the request was submitted (GDPR art. 12(3))."),
    )
    original_due_date = models.DateField(_("original due date"))
    extension_reason = models.TextField(
        _("reason for extension"),
        blank=True,
        help_text=_(
            "Art. 12(3): up to two more months for complex or numerous requests; "
            "the requester is told within the first month, with reasons."
        ),
    )
    # Identity verification (art. 12(6): extra identification only on reasonable doubt).
    identity_method = models.CharField(
        _("identity verified by"), max_length=24, blank=True, choices=IdentityMethod.choices
    )
    identity_note = models.CharField(
        _("how and why"),
        max_length=500,
        blank=True,
        help_text=_(
            "How the identity was verified, and why that way: needed for 'other' and when the "
            "request's e-mail is not the one on record. Never a personal identity number."
        ),
    )
    identity_verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True)
    identity_verified_by = models.ForeignKey(
        "auth.User",
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    customers = models.ManyToManyField(
        "customers.Customer",
        verbose_name=_("customers"),
        blank=True,
        related_name="requests",
    )
    refusal_reason = models.TextField(
        _("reason for refusal"),
        blank=True,
        help_text=_("Told to the requester with the right to complain (art. 12(4))."),
    )
    outcome = models.TextField(_("outcome shown to the requester"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    identity_erased_at = models.DateTimeField(_("identity data erased"), null=True, blank=True)
    # Tokens are stored only as hashes: a copy of the database opens no status page.
    status_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    confirm_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The answer e-mail carries a status link of its own (the first link's token is not
    # stored, so it cannot be sent again); also only a hash, and the first link still works.
    # NULL, not "", until an answer is sent: unique allows any number of NULLs.
    answer_token_hash = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, default=None, editable=False
    )
    # The link sent with the answer that an erasure waits: it keeps working after the
    # completion's answer brings a link of its own.
    waiting_token_hash = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, default=None, editable=False
    )
    # A letter staff registered, scanned: a random file name under LETTER_SCAN_DIR (never
    # served from a public path; privacy.letter_scans); deleted with the identity data.
    scanned_letter = models.CharField(_("scanned letter"), max_length=100, blank=True, editable=False)
    # The public form's one-time key (issue 13, item 5), hashed like the tokens: a form
    # sent again (a retry after a timeout or an error page) finds this request instead of
    # storing a second one. Not personal data: a random value the form carried.
    idempotency_key_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # The released access report (issue: fulfilment), a snapshot of what staff previewed.
    report_json = models.TextField(_("released access report"), blank=True, editable=False)
    report_released_at = models.DateTimeField(_("report released"), null=True, blank=True)
    report_expires_at = models.DateTimeField(_("report download expires"), null=True, blank=True)

    objects = DataRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        ordering = ["due_date", "pk"]
        constraints = [
            # One request per form sent; requests stored before the key have none.
            models.UniqueConstraint(
                fields=["idempotency_key_hash"],
                condition=~models.Q(idempotency_key_hash=""),
                name="privacy_datarequest_idempotency_key_once",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def is_waiting(self) -> bool:
        return self.status == RequestStatus.WAITING

    @property
    def days_left(self) -> int | None:
        if self.status not in PENDING_STATUSES:  # closed, or answered and waiting
            return None
        return (self.due_date - timezone.localdate()).days

    @property
    def can_extend(self) -> bool:
        """Once, and only within the first month (art. 12(3): the requester is told of
        an extension within one month of receiving the request)."""
        return (
            self.status in PENDING_STATUSES
            and not self.extension_reason
            and self.original_due_date is not None
            and timezone.localdate() <= self.original_due_date
        )

    @property
    def confirmation_expired(self) -> bool:
        return self.status == RequestStatus.AWAITING_CONFIRMATION and self.confirm_expires_at < timezone.now()

    @property
    def refusable(self) -> bool:
        """An objection to direct marketing cannot be refused (art. 21(3))."""
        return not (
            self.kind == RequestKind.OBJECTION
            and bool(set(DIRECT_MARKETING_PURPOSES) & set(self.objection_purposes))
        )

    def customers_with_other_email(self) -> list[Customer]:
        """Linked customers whose e-mail on record is not the one the request came from
        (or who have none): the e-mail link does not show the requester is them."""
        return [c for c in self.customers.all() if not same_email(self.email, c.email or "")]

    def verification_problem(self) -> str | None:
        """Why the request cannot be fulfilled yet as far as identity goes, or None.

        Nothing is released, changed or erased before a verification is recorded; one by
        the e-mail link counts only while every linked customer has the request's e-mail
        on record, and any other way needs its reason written when they differ."""
        if not (self.identity_verified_at and self.identity_method):
            return str(
                _(
                    "Verify the requester's identity first: nothing is released, changed or "
                    "erased before a verification is recorded."
                )
            )
        return self.identity_method_problem(self.identity_method, self.identity_note)

    def identity_method_problem(self, method: str, note: str) -> str | None:
        """Why `method` (with `note`) does not verify the requester as the linked customers,
        or None."""
        others = self.customers_with_other_email()
        if not others:
            return None
        if method == IdentityMethod.EMAIL_ON_FILE:
            return str(
                _(
                    "The e-mail on record of customer %(ids)s is not the request's: the e-mail "
                    "link does not show the requester is them. Verify the identity another way "
                    "and write why."
                )
                % {"ids": ", ".join(f"#{c.pk}" for c in others)}
            )
        if not note.strip():
            return str(
                _(
                    "The request's e-mail is not the one on record: write how and why the "
                    "identity was verified."
                )
            )
        return None

    def erase_identity(self, *, keep_outcome: bool = False) -> None:
        """Clear who asked, the signature, the released report and every text written on
        the request (what the requester wrote; staff's reasons, notes and the outcome, any
        of which may name the person: replaced by a placeholder); the reference, kind,
        status and dates stay, to show how the request was handled. What goes is declared
        in privacy/personal_data.py. `keep_outcome`: the app wrote the outcome just now,
        naming no one, and the requester still reads it on the status page."""
        from .personal_data import erased_values

        self._erase_scanned_letter()  # before its name is cleared below
        values = erased_values(self)
        if keep_outcome:
            del values["outcome"]
        for name, value in values.items():
            setattr(self, name, value)
        self.identity_erased_at = timezone.now()
        self.save()

    def _erase_scanned_letter(self) -> None:
        """The scanned letter goes with the identity, once the erasure is committed."""
        if self.scanned_letter:
            from django.db import transaction

            from .letter_scans import delete_scan

            transaction.on_commit(functools.partial(delete_scan, self.scanned_letter))
            self.scanned_letter = ""

    @property
    def objection_channel(self) -> str:
        """The channel an objection made by this request is recorded with (S6, S17)."""
        channels: dict[str, str] = {
            RequestChannel.WEB: Channel.WEB_FORM,
            RequestChannel.EMAIL: Channel.EMAIL,
            RequestChannel.PHONE: Channel.PHONE,
        }
        return channels.get(self.channel, Channel.CUSTOMER_SERVICE)  # a letter or a visit: customer service


class DataRequestEvent(models.Model):
    """The timeline of a request; every event is also in the audit log."""

    request = models.ForeignKey(DataRequest, related_name="events", on_delete=models.CASCADE)
    at = models.DateTimeField(_("time"), default=timezone.now)
    action = models.CharField(_("action"), max_length=32)
    status = models.CharField(_("status"), max_length=24, choices=RequestStatus.choices)
    actor = models.ForeignKey(
        "auth.User",
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    by_system = models.BooleanField(
        _("by the system"),
        default=False,
        help_text=_("Done by the daily retention run, not by a staff member or the requester."),
    )

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.action_label

    @property
    def action_label(self) -> str:
        try:
            return str(AuditAction(self.action).label)
        except ValueError:
            return self.action


class MailState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


# What each mail of templates/emails/ is, as the request's page in the admin names it.
MAIL_LABELS = {
    "request_confirm": _("Confirmation link"),
    "request_registered": _("Receipt of a registered request"),
    "request_answered": _("Answer"),
    "request_extended": _("Deadline extended"),
    "request_waiting": _("Answer: erasure waits for a legal hold"),
    "report_released_notice": _("Notice to the address on record"),
}


class OutgoingMail(models.Model):
    """One e-mail about a request, written in the outbox in the transaction of what it
    announces (privacy/outbox.py) and shown with its state on the request's timeline.

    The message itself (address, text, links) is django-post-office's row, which the
    worker deletes once it is sent or has failed for good: this record keeps only what the
    timeline shows (which mail, when, its state and how many tries)."""

    request = models.ForeignKey(DataRequest, related_name="mails", on_delete=models.CASCADE)
    email = models.OneToOneField(
        "post_office.Email", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.CharField(_("e-mail"), max_length=40)
    to_requester = models.BooleanField(default=True)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    state = models.CharField(_("state"), max_length=8, choices=MailState.choices, default=MailState.QUEUED)
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    finished_at = models.DateTimeField(_("sent or failed"), null=True, blank=True)
    # The last failure's kind (an exception's name, say "TimeoutError"): never its text,
    # which can name the recipient.
    error = models.CharField(_("last error"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["queued_at", "pk"]
        indexes = [models.Index(fields=["state"], name="outgoingmail_state")]

    def __str__(self) -> str:
        return f"{self.template} {self.state}"

    @property
    def label(self) -> str:
        return str(MAIL_LABELS.get(self.template, self.template))


class RequestSequence(models.Model):
    """Last reference number given each year, so a deleted request's number is never reused."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("request number sequence")
        verbose_name_plural = _("request number sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class RecipientKind(models.TextChoices):
    """Who is told of a rectification or an erasure (GDPR art. 19; privacy notice S18)."""

    SOURCE = "source", _("the source the data came from")
    DISCLOSURE = "disclosure", _("a recipient the data was disclosed to")


class NotificationQuerySet(models.QuerySet):
    def sent(self) -> NotificationQuerySet:
        """The recipients told: what the requester sees (art. 19, last sentence)."""
        return self.filter(sent_at__isnull=False).order_by("sent_at", "pk")


class Notification(models.Model):
    """One recipient to tell of a rectification or an erasure, recorded on the request
    (GDPR art. 19; privacy notice S9, S18). Every staff member sees the list; the letter
    is made from this record and the customer's data at the time it is printed; staff
    mark it sent. The requester sees who was told (art. 19, last sentence).

    Holds no values: the recipient is a business, and `changes` names fields only."""

    request = models.ForeignKey(
        DataRequest, verbose_name=_("request"), related_name="notifications", on_delete=models.CASCADE
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Whose data the letter is about; empty once the customer is erased."),
    )
    recipient_kind = models.CharField(_("recipient kind"), max_length=16, choices=RecipientKind.choices)
    recipient_name = models.CharField(
        _("recipient"),
        max_length=200,
        help_text=_("The business told (the source or the disclosure recipient), never the person."),
    )
    category = models.CharField(
        _("category"),
        max_length=32,
        help_text=_("The source (S8) or the disclosure category (S9), as a code."),
    )
    changes = models.JSONField(
        _("fields concerned"),
        default=dict,
        blank=True,
        help_text=_(
            "The names of the fields concerned and whether each was corrected, deleted or "
            "completed; empty for an erasure (everything). Never the values."
        ),
    )
    disclosures = models.ManyToManyField(
        "customers.Disclosure",
        verbose_name=_("disclosures"),
        blank=True,
        related_name="+",
        help_text=_("The disclosures to this recipient; they stay (without the person) after an erasure."),
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    letter_made_at = models.DateTimeField(_("letter made"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_by = models.ForeignKey(
        "auth.User",
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("art. 19 notification")
        verbose_name_plural = _("art. 19 notifications")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.recipient_label

    @property
    def recipient_label(self) -> str:
        """The recipient's name in the active language (a source is named by its label)."""
        if self.recipient_kind == RecipientKind.SOURCE and self.category in Source.values:
            return str(Source(self.category).label)
        return self.recipient_name

    @property
    def field_kinds(self) -> list[tuple[str, str]]:
        """(field label, corrected / deleted / completed) in the register's order."""
        labels = {f.name: str(f.verbose_name) for f in Customer._meta.concrete_fields}
        order, kinds = list(labels), dict(ChangeKind.choices)
        return [
            (labels[name], str(kinds.get(kind, kind)))
            for name, kind in sorted(self.changes.items(), key=lambda item: order.index(item[0]))
        ]

    @property
    def category_label(self) -> str:
        if self.recipient_kind == RecipientKind.DISCLOSURE and self.category in DisclosureCategory.values:
            return str(DisclosureCategory(self.category).label)
        return str(RecipientKind(self.recipient_kind).label)


class HeldItem(models.TextChoices):
    """What a legal hold keeps."""

    ORDERS = "orders", _("Orders of an erased person, detached from them")
    ERASURE = "erasure", _("A customer whose erasure waits")


class HoldReason(models.TextChoices):
    """Why it is kept (privacy notice S11; GDPR art. 17(3)(b) and (e))."""

    BOOKKEEPING = "bookkeeping", _("Accounting vouchers")
    OPEN_INVOICE = "open_invoice", _("Open invoice")
    DEBT_COLLECTION = "debt_collection", _("Debt collection")


class LegalHoldQuerySet(models.QuerySet):
    def in_force(self) -> LegalHoldQuerySet:
        return self.filter(released_at__isnull=True)

    def due(self, today=None) -> LegalHoldQuerySet:
        """Holds with a date that has passed: the item was kept through `kept_until`."""
        return self.in_force().filter(kept_until__lt=today or timezone.localdate())

    def keep_orders(self, *, orders_by_date: dict, data_request=None) -> list[LegalHold]:
        """Record that these (detached) orders are kept for bookkeeping: one hold per last
        day (`{kept_until: [order ids]}`), in two queries however many there are."""
        dates = sorted(orders_by_date)
        holds = self.bulk_create(
            LegalHold(
                what=HeldItem.ORDERS,
                reason=HoldReason.BOOKKEEPING,
                kept_until=until,
                count=len(orders_by_date[until]),
                data_request=data_request,
            )
            for until in dates
        )
        HeldOrder.objects.bulk_create(
            HeldOrder(hold_id=hold.pk, order_id=order_id)
            for hold, until in zip(holds, dates, strict=True)
            for order_id in orders_by_date[until]
        )
        return holds

    def wait_for_erasure(self, *, customer, reason: str, data_request) -> tuple[LegalHold, bool]:
        """Record (once per request and customer) that the customer's erasure waits while
        `reason` lasts; the reason is brought up to date. Returns the hold and whether it is new."""
        hold = (
            self.in_force()
            .filter(what=HeldItem.ERASURE, data_request=data_request, customer=customer)
            .first()
        )
        if hold is None:
            return self.create(
                what=HeldItem.ERASURE, reason=reason, customer=customer, data_request=data_request
            ), True
        if hold.reason != reason:
            hold.reason = reason
            hold.save(update_fields=["reason"])
        return hold, False


class LegalHold(models.Model):
    """Something kept after an erasure was asked, why and until when (S11): orders kept
    for bookkeeping until a date, or an erasure that waits while an open invoice or a debt
    collection lasts. The daily retention run releases it when its time has come.

    Holds no personal data: the customer is a link (gone once erased), the orders are
    links to rows that have no buyer."""

    what = models.CharField(_("what is kept"), max_length=16, choices=HeldItem.choices)
    reason = models.CharField(_("reason"), max_length=24, choices=HoldReason.choices)
    kept_until = models.DateField(
        _("kept until"),
        null=True,
        blank=True,
        help_text=_("The last day it is kept; empty: while the invoice is open or the collection lasts."),
    )
    count = models.PositiveIntegerField(_("how many"), default=1)
    data_request = models.ForeignKey(
        DataRequest,
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="legal_holds",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The customer whose erasure waits; empty once erased."),
    )
    orders: models.ManyToManyField[Order, HeldOrder] = models.ManyToManyField(
        "customers.Order",
        verbose_name=_("orders"),
        blank=True,
        related_name="legal_holds",
        through="HeldOrder",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    released_at = models.DateTimeField(_("released"), null=True, blank=True, db_index=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        # What is still held first, the nearest date first; then what was released.
        ordering = [models.F("released_at").desc(nulls_first=True), "kept_until", "pk"]

    def __str__(self) -> str:
        return f"{self.get_what_display()} ({self.get_reason_display()})"

    @property
    def legal_basis(self) -> str:
        return str(LEGAL_BASES[HoldReason(self.reason)])


class HeldOrder(models.Model):
    """One order a hold keeps. Deleting orders never looks here (DO_NOTHING, no database
    constraint), so an erasure deletes a long history in one statement; only held orders
    are deleted with their rows here, by the retention run."""

    hold = models.ForeignKey(LegalHold, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(
        "customers.Order", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        verbose_name = _("held order")
        verbose_name_plural = _("held orders")

    def __str__(self) -> str:
        return f"{self.hold_id}: {self.order_id}"


LEGAL_BASES = {
    HoldReason.BOOKKEEPING: BOOKKEEPING_HOLD,
    HoldReason.OPEN_INVOICE: OPEN_INVOICE_HOLD,
    HoldReason.DEBT_COLLECTION: DEBT_COLLECTION_HOLD,
}
