"""Privacy app models: the audit log (and, as issues land, data requests and staff security)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    RECTIFIED = "rectified", _("Rectified")
    OBJECTION_RECORDED = "objection_recorded", _("Objection recorded")
    ANONYMISED = "anonymised", _("Anonymised")
    ERASED = "erased", _("Erased")
    RETENTION_RUN = "retention_run", _("Retention run")
    COMMITMENT_RECORDED = "commitment_recorded", _("Confidentiality commitment recorded")
    OTP_ENROLLED = "otp_enrolled", _("Second factor enrolled")


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
