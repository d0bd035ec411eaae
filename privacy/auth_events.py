"""Audit events for staff logins, logouts, failed logins and lockouts.

These come from Django's and django-axes' authentication signals: logging in
happens inside those libraries' views, and the signals are their documented
hook. (Domain events are never written from signals: see DESIGN.md.) No user
name or IP address is written: the account is named by its id.
"""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import record
from .models import AuditAction


def _account_id(username: str | None) -> str:
    if not username:
        return ""
    pk = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    return str(pk) if pk else ""


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender, request, user, **kwargs):
    record(action=AuditAction.LOGIN, actor=user, obj=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record(action=AuditAction.LOGOUT, actor=user, obj=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    record(
        action=AuditAction.LOGIN_FAILED,
        object_type="auth.user",
        object_id=_account_id(credentials.get("username")),
    )


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def audit_locked_out(sender, request, username, ip_address, **kwargs):
    record(action=AuditAction.LOCKED_OUT, object_type="auth.user", object_id=_account_id(username))
