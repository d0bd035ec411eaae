"""Public pages: the notice, the request form, confirmation and status (S1, S15–S19)."""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from .access_report import report_pdf
from .data_requests import (
    RequestStateError,
    confirm_request,
    find_by_confirm_token,
    find_by_status_token,
    last_confirmation_mail,
    resend_confirmation,
    submit_request,
    withdraw_request,
)
from .forms import DataRequestForm
from .fulfilment import record_download, released_report
from .models import RequestStatus
from .refusal import certificate_pdf, has_certificate, record_certificate_download

TOKEN_MAX_LENGTH = 64


def private_page(view):
    """Pages behind a requester's secret link: never cached (a shared computer's browser
    or a proxy), never indexed by a search engine, and never analysed."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        # No analytics here, consent or not: the page's address carries the token, which
        # the analytics script would send on as the page location (privacy.context_processors).
        request.is_private_page = True
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return never_cache(wrapper)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/home.html")


def notice(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "privacy/notice.html",
        {
            "retention_years": settings.RETENTION_YEARS,
            "bookkeeping_years": settings.BOOKKEEPING_RETENTION_YEARS,
            "order_history_years": settings.ORDER_HISTORY_YEARS,
        },
    )


def rate_limited(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "privacy/rate_limited.html", status=429)


def _over_the_limit(request: HttpRequest) -> bool:
    """Requests and resent links share one allowance per client address."""
    return is_ratelimited(
        request,
        group="privacy-request",
        key="ip",
        rate=settings.REQUEST_RATE_LIMIT,
        method="POST",
        increment=True,
    )


def _site_url(request: HttpRequest) -> str:
    return settings.SITE_URL or request.build_absolute_uri("/")


@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if _over_the_limit(request):
            return rate_limited(request)
        form = DataRequestForm(request.POST)
        if form.is_valid():
            submitted = submit_request(
                fields=form.request_fields(),
                drawn_signature=form.cleaned_data["drawn_signature"],
                site_url=_site_url(request),
            )
            return redirect("privacy:status", submitted.status_token)
    else:
        form = DataRequestForm(initial={"reply_language": get_language()})
    return render(request, "privacy/request_form.html", {"form": form})


def _by_token(finder, token: str):
    if len(token) > TOKEN_MAX_LENGTH:
        raise Http404
    found = finder(token)
    if found is None:
        raise Http404
    return found


@private_page
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; only the POST confirms, so a mail scanner opening the link
    signs nothing."""
    data_request = _by_token(find_by_confirm_token, token)
    error = None
    if request.method == "POST":
        try:
            data_request = confirm_request(data_request=data_request)
        except RequestStateError:
            error = "expired"
    return render(
        request,
        "privacy/request_confirm.html",
        {"data_request": data_request, "error": error, "expired": data_request.confirmation_expired},
    )


@private_page
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest, token: str) -> HttpResponse:
    data_request = _by_token(find_by_status_token, token)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "withdraw":
        if not request.POST.get("confirm_withdraw"):
            messages.warning(request, _("Tick the box to confirm that you want to withdraw the request."))
            return redirect("privacy:status", token)
        try:
            withdraw_request(data_request=data_request)
        except RequestStateError:
            pass
        return redirect("privacy:status", token)
    if action == "resend":
        if _over_the_limit(request):
            return rate_limited(request)
        try:
            resend_confirmation(data_request=data_request, site_url=_site_url(request))
        except RequestStateError:
            messages.warning(
                request,
                _(
                    "The link cannot be sent again for this request. "
                    "If it has expired, please send a new request."
                ),
            )
        # Whether the mail went is shown by the page itself: it goes once the resend's
        # transaction commits, before the redirect below.
        return redirect("privacy:status", token)
    return render(
        request,
        "privacy/request_status.html",
        {
            "data_request": data_request,
            "token": token,
            "awaiting": data_request.status == RequestStatus.AWAITING_CONFIRMATION,
            "last_mail": last_confirmation_mail(data_request)
            if data_request.status == RequestStatus.AWAITING_CONFIRMATION
            else None,
            "report_available": released_report(data_request) is not None,
            "certificate_available": has_certificate(data_request),
        },
    )


@private_page
def report_download(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """The released access report, from the status page; every download is audited."""
    data_request = _by_token(find_by_status_token, token)
    report = released_report(data_request)
    if report is None:
        raise Http404
    # The file is made first, outside any transaction; the download's event is then
    # recorded in its own short transaction (the audit log's lock held for
    # milliseconds, not for the PDF's rendering), and only then is the file sent.
    if fmt == "json":
        body = json.dumps(report, ensure_ascii=False, indent=2).encode()
        content_type = "application/json; charset=utf-8"
    else:
        body, content_type = report_pdf(report), "application/pdf"
    record_download(data_request, fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{data_request.reference}-access-report.{fmt}"'
    return response


@private_page
def certificate_download(request: HttpRequest, token: str) -> HttpResponse:
    """The certificate of a refused request (art. 12(4)), from the status page only;
    every download is audited like the access report's."""
    data_request = _by_token(find_by_status_token, token)
    if not has_certificate(data_request):
        raise Http404
    record_certificate_download(data_request)
    response = HttpResponse(certificate_pdf(data_request), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{data_request.reference}-certificate.pdf"'
    return response
