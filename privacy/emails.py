"""E-mails to requesters, in their language, as subject / text / HTML triples.

The one way the app sends mail. Nothing here talks to a mail server: each mail is
rendered now and written to the outbox (privacy/outbox.py) in the caller's transaction,
so it exists exactly when what it announces was saved, and the worker
(`manage.py run_worker`) sends it."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from .models import ControllerDetails, DataRequest, OutgoingMail
from .outbox import queue


def send_to_requester(data_request: DataRequest, template: str, **context) -> OutgoingMail:
    """templates/emails/<template>_subject.txt, _body.txt and _body.html, queued for the
    requester. Whether it went is the returned record's state, set by the worker; one that
    fails for good is put on the request's timeline (EMAIL_FAILED)."""
    return _queue(data_request, data_request.email, data_request.reply_language, template, context, True)


def send_to_address_on_record(
    data_request: DataRequest, address: str, language: str, template: str
) -> OutgoingMail:
    """A mail about the request to a customer's e-mail address on record (not the
    requester's), in the customer's language; as send_to_requester otherwise."""
    return _queue(data_request, address, language, template, {}, False)


def _queue(
    data_request: DataRequest, to: str, language: str, template: str, context: dict, to_requester: bool
) -> OutgoingMail:
    controller = ControllerDetails.load()
    with translation.override(language):
        context = {"request": data_request, "controller": controller, **context}
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    reply_to = controller.contact_email or controller.email
    return queue(
        data_request,
        template=template,
        to=to,
        subject=" ".join(subject.split()),
        text=text,
        html=html,
        reply_to=reply_to or "",
        to_requester=to_requester,
    )
