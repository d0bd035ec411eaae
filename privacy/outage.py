"""Error pages that tell the truth (issue 13, item 5).

Django calls `server_error` (kehobalanssi/urls.py's handler500) for any exception that
escapes a view or a middleware. A database that cannot be reached or stops answering
(OperationalError, InterfaceError: refused, dropped, statement_timeout) gets a 503 page
with Retry-After; anything else the 500 page. Both say what became of the request and
what to do, in the language of the address (/en/ English, otherwise Finnish), and both
are rendered without a request context: no context processor, so no query (the
controller's contact comes from settings, OUTAGE_CONTACT_*), no session, no personal
data and no traceback.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.urls import reverse
from django.utils import translation

logger = logging.getLogger(__name__)

DATABASE_OUTAGE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# When even the template cannot be rendered.
BARE_PAGE = (
    "<!DOCTYPE html><title>Virhe / Error</title>"
    "<p>Palvelussa on häiriö. Yritä uudelleen muutaman minuutin kuluttua.</p>"
    '<p lang="en">The service has a fault. Please try again in a few minutes.</p>'
)


def is_database_outage(error: BaseException | None) -> bool:
    """The error, or one it was raised from (a template, a cache backend), is the database's."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, DATABASE_OUTAGE):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def page_language(request: HttpRequest) -> str:
    """The public pages' language is in their address; everything else is Finnish."""
    code = translation.get_language_from_path(request.path_info)
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _situation(request: HttpRequest, language: str) -> str:
    """What the person was doing: reading a page, sending the request form, or another post."""
    if request.method in SAFE_METHODS:
        return "read"
    with translation.override(language):
        if request.path_info == reverse("privacy:request"):
            return "request_form"
    return "post"


def outage_contact() -> dict[str, str]:
    """The controller's contact by post and phone, from settings: the database is down."""
    return {
        "name": settings.OUTAGE_CONTACT_NAME,
        "address": settings.OUTAGE_CONTACT_ADDRESS,
        "phone": settings.OUTAGE_CONTACT_PHONE,
    }


def _render(template: str, request: HttpRequest, status: int) -> HttpResponse:
    language = page_language(request)
    try:
        with translation.override(language):
            context = {
                "language": language,
                "situation": _situation(request, language),
                "contact": outage_contact(),
            }
            content = loader.get_template(template).render(context)
    except Exception:
        logger.exception("The error page %s could not be rendered", template)
        content = BARE_PAGE
    return HttpResponse(content, status=status, content_type="text/html; charset=utf-8")


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if is_database_outage(error):
        # The exception's class only: its message can quote the statement's values.
        logger.error("Database unavailable (%s): 503 for %s", type(error).__name__, request.method)
        response = _render("503.html", request, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return _render("500.html", request, status=500)
