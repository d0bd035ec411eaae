"""E-mails to requesters, in their language, as subject / text / HTML triples."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .models import ControllerDetails, DataRequest

logger = logging.getLogger(__name__)


def send_to_requester(data_request: DataRequest, template: str, **context) -> bool:
    """templates/emails/<template>_subject.txt, _body.txt and _body.html.

    Returns False when the mail server could not be reached or refused the message;
    the caller records that on the request (the request itself is already saved)."""
    return _send(data_request, data_request.email, data_request.reply_language, template, context)


def send_to_address_on_record(data_request: DataRequest, address: str, language: str, template: str) -> bool:
    """A mail about the request to a customer's e-mail address on record (not the
    requester's), in the customer's language; as send_to_requester otherwise."""
    return _send(data_request, address, language, template, {})


def _send(data_request: DataRequest, to: str, language: str, template: str, context: dict) -> bool:
    controller = ControllerDetails.load()
    with translation.override(language):
        context = {"request": data_request, "controller": controller, **context}
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[controller.contact_email or controller.email]
        if (controller.contact_email or controller.email)
        else None,
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        # The request's id and the error's type only: never the address or the text.
        logger.warning(
            "E-mail %s for data request %s failed: %s", template, data_request.pk, type(error).__name__
        )
        return False
    return True
