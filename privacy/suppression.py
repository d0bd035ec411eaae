"""A person erased at their own wish "never to be contacted again" (S11, S17).

Only a keyed one-way hash of their e-mail address is kept (ContactSuppression).
When someone with that address is added again by staff (say after a new
purchase; the admin calls honour_suppression), every marketing objection is
recorded for them at once, so no label, list or campaign reaches them. Imports
leave such rows out altogether (customers/imports.py): a stale shop list must
not bring back a person who was erased.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from customers.models import Channel, Customer, ObjectionPurpose

from .models import ContactSuppression


def email_hash(email: str) -> str:
    """Keyed one-way hash of a normalised e-mail address."""
    key = (getattr(settings, "AUDIT_LOG_KEY", "") or settings.SECRET_KEY).encode()
    return hmac.new(key, email.strip().casefold().encode(), hashlib.sha256).hexdigest()


def suppress(email: str) -> None:
    """Keep the person's wish never to be contacted again, as a hash of the address."""
    ContactSuppression.objects.get_or_create(email_hash=email_hash(email))


def is_suppressed(email: str) -> bool:
    return bool(suppressed_among([email]))


def suppressed_among(emails) -> set[str]:
    """Which of these addresses belong to people who asked not to be contacted again."""
    by_hash = {email_hash(e): e for e in emails if e}
    found = ContactSuppression.objects.filter(email_hash__in=list(by_hash)).values_list(
        "email_hash", flat=True
    )
    return {by_hash[h] for h in found}


def honour_suppression(customer: Customer, *, actor=None) -> bool:
    """Record every objection for a returning person who asked not to be contacted."""
    from .objection import record_objections

    if not is_suppressed(customer.email):
        return False
    record_objections(
        customer=customer, purposes=list(ObjectionPurpose.values), channel=Channel.SUPPRESSION, actor=actor
    )
    return True
