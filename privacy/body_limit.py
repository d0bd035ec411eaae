"""A limit on what a request may send: a body declared larger than the limit is
refused with a 413 page before any of it is read or spooled to disk.

Anyone may post to the public pages, so they get REQUEST_BODY_MAX_BYTES (the request
form with a drawn signature needs well under it). Verified staff in the admin may send
an import file (IMPORT_MAX_BYTES, and the form around it). Django reads no more of a
body than its Content-Length says, and none without one, so the declared length is
what a request can cost. The reverse proxy sets its own limit in front (README,
Production).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

FORM_OVERHEAD = 1024 * 1024  # the multipart framing and fields around an upload


def body_limit(request: HttpRequest) -> int:
    """The most bytes this request may send."""
    user = getattr(request, "user", None)
    if (
        request.path_info.startswith(f"/{settings.ADMIN_URL}")
        and getattr(user, "is_staff", False)
        and getattr(user, "is_verified", lambda: False)()
    ):
        return max(settings.REQUEST_BODY_MAX_BYTES, settings.IMPORT_MAX_BYTES + FORM_OVERHEAD)
    return settings.REQUEST_BODY_MAX_BYTES


def declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # Django reads nothing of such a body either


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        # The user is looked up only for a body over the public limit.
        if length > settings.REQUEST_BODY_MAX_BYTES and length > (limit := body_limit(request)):
            context = {"limit_kb": limit // 1024}
            return render(request, "privacy/request_too_large.html", context, status=413)
        return self.get_response(request)
