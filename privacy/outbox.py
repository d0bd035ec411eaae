"""The durable outbox: every e-mail is a row written in the transaction of what it
announces, and a worker sends it (issue 13, item 1).

- `queue` (called by privacy/emails.py inside the caller's transaction) writes the mail
  as django-post-office's Email, "queued", and an OutgoingMail linking it to the data
  request: a request that is saved has its mail, one that is rolled back has none, and
  the web request never talks to the mail server.
- `deliver_mail` is the worker's task (settings.WORKER_TASKS, `manage.py run_worker`):
  it sends one batch of what is due through post_office's `send_queued`, each try bounded
  by EMAIL_TIMEOUT. A failed try is retried POST_OFFICE["MAX_RETRIES"] times, the waits
  doubling from RETRY_INTERVAL; then the mail is "failed" and EMAIL_FAILED goes on the
  request's timeline, where the status page tells the requester to ask for the link
  again. The request's page in the admin shows each mail's state and tries.
- Once a mail is sent or has failed for good, its post_office row (address, text, the
  links' tokens) is deleted: the OutgoingMail keeps only the template, state and tries.

Logs carry counts and ids only: never an address, a subject or a link.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from post_office import mail as post_office_mail
from post_office.models import STATUS, Email, Log
from post_office.settings import get_retry_timedelta

from .audit import record
from .models import ActorType, AuditAction, DataRequest, DataRequestEvent, MailState, OutgoingMail

logger = logging.getLogger(__name__)


def queue(
    data_request: DataRequest,
    *,
    template: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    reply_to: str,
    to_requester: bool = True,
) -> OutgoingMail:
    """Write the mail to the outbox, in the current transaction."""
    try:
        email = post_office_mail.send(
            recipients=[to],
            sender=settings.DEFAULT_FROM_EMAIL,
            subject=subject,
            message=text,
            html_message=html,
            headers={"Reply-To": reply_to} if reply_to else None,
            priority="medium",
        )
    except ValidationError:
        # An address no mail server would take (one on record from an old import, say):
        # failed at once, on the timeline, and the request is saved all the same.
        outgoing = OutgoingMail.objects.create(
            request=data_request,
            template=template,
            to_requester=to_requester,
            state=MailState.FAILED,
            finished_at=timezone.now(),
            error="InvalidAddress",
        )
        _mail_failed(outgoing)
        return outgoing
    return OutgoingMail.objects.create(
        request=data_request, email=email, template=template, to_requester=to_requester
    )


def deliver_mail() -> int:
    """One batch of due mails (POST_OFFICE["BATCH_SIZE"]): sent, retried later or failed
    for good. Returns how many were tried (0 when none was due)."""
    if not post_office_mail.get_queued().exists():
        return 0
    started = timezone.now()
    sent, failed, requeued = post_office_mail.send_queued(processes=1)
    _back_off(started)
    _record_outcomes(started)
    logger.info("Mail: %d sent, %d to retry, %d failed", sent, requeued, failed)
    return sent + failed + requeued


def _back_off(started: datetime.datetime) -> None:
    """post_office waits RETRY_INTERVAL before every retry: the n-th retry waits 2**(n-1)
    times that, so a mail server down for an hour is not tried every minute."""
    interval = get_retry_timedelta()
    now = timezone.now()
    retried = Email.objects.filter(status=STATUS.requeued, last_updated__gte=started, number_of_retries__gt=1)
    for email in retried:
        Email.objects.filter(pk=email.pk).update(
            scheduled_time=now + interval * 2 ** ((email.number_of_retries or 1) - 1)
        )


def _record_outcomes(started: datetime.datetime) -> None:
    """Every mail whose outbox row post_office has finished with (whichever batch did it),
    and the tries of those it has just requeued, onto their OutgoingMail."""
    finished = Q(email__status__in=[STATUS.sent, STATUS.failed])
    retried = Q(email__status=STATUS.requeued, email__last_updated__gte=started)
    outgoing_mails = list(
        OutgoingMail.objects.filter(finished | retried, state=MailState.QUEUED).select_related(
            "email", "request"
        )
    )
    ids = [o.email_id for o in outgoing_mails]
    errors = dict(
        Log.objects.filter(email_id__in=ids, status=STATUS.failed)
        .order_by("email_id", "date", "id")
        .values_list("email_id", "exception_type")
    )
    now = timezone.now()
    for outgoing in outgoing_mails:
        email = outgoing.email
        if email is None:
            continue
        retries = email.number_of_retries or 0
        with transaction.atomic():
            outgoing.error = (errors.get(email.pk) or "")[:60]
            if email.status == STATUS.sent:
                outgoing.state, outgoing.tries, outgoing.finished_at = MailState.SENT, retries + 1, now
            elif email.status == STATUS.failed:
                outgoing.state, outgoing.tries, outgoing.finished_at = MailState.FAILED, retries + 1, now
                _mail_failed(outgoing)
            else:
                outgoing.tries = retries
            if outgoing.state != MailState.QUEUED:
                outgoing.email = None
            outgoing.save(update_fields=["state", "tries", "finished_at", "error", "email"])
    # Done with for good: the address, the text and the links' tokens go.
    Email.objects.filter(status__in=[STATUS.sent, STATUS.failed]).delete()


def _mail_failed(outgoing: OutgoingMail) -> None:
    """On the request's timeline and in the audit log (the template's name only): the
    status page reads it to ask the requester to have the link sent again."""
    data_request = outgoing.request
    DataRequestEvent.objects.create(
        request=data_request, action=AuditAction.EMAIL_FAILED, status=data_request.status, by_system=True
    )
    record(
        action=AuditAction.EMAIL_FAILED,
        actor_type=ActorType.SYSTEM,
        obj=data_request,
        fields=[outgoing.template],
    )
