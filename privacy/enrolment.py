"""Enrolment codes for a staff member's first second factor (privacy notice S13).

The password alone does not enrol a device: the setup wizard asks for a one-time code
the owner issued (in the admin or with `issue_enrolment_code`) before it shows the QR
code. A code is stored as a password hash, lasts 72 hours and works once.
"""

from __future__ import annotations

import datetime
import re
import secrets
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from .audit import record
from .models import AuditAction, EnrolmentCode

LIFETIME = datetime.timedelta(hours=72)
# No 0/O, 1/I: the code is read out or copied from paper. 12 characters, 60 bits.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 12


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime.datetime


def normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


@transaction.atomic
def issue_enrolment_code(*, user, issued_by=None) -> IssuedCode:
    """Issue a new code for `user`'s first second factor.

    1. The account's earlier unused codes stop working (deleted).
    2. The new code is stored as a hash, expiring in 72 hours.
    3. An audit event names the account and who issued it, never the code.
    """
    EnrolmentCode.objects.filter(user=user, used_at__isnull=True).delete()
    code = _new_code()
    row = EnrolmentCode.objects.create(
        user=user,
        code_hash=make_password(normalise(code)),
        issued_by=issued_by,
        expires_at=timezone.now() + LIFETIME,
    )
    record(
        action=AuditAction.ENROLMENT_CODE_ISSUED, actor=issued_by, object_type="auth.user", object_id=user.pk
    )
    return IssuedCode(code=code, expires_at=row.expires_at)


def code_is_valid(*, user, code: str) -> bool:
    typed = normalise(code)
    return any(row.matches(typed) for row in EnrolmentCode.objects.usable().filter(user=user))


@transaction.atomic
def redeem_enrolment_code(*, user, code: str) -> bool:
    """Use up `user`'s code if `code` is it and still usable; False otherwise (typed
    wrong, used or expired meanwhile). Locks the rows: a code enrols one device."""
    typed = normalise(code)
    for row in EnrolmentCode.objects.usable().filter(user=user).select_for_update():
        if row.matches(typed):
            row.used_at = timezone.now()
            row.save(update_fields=["used_at"])
            return True
    return False
