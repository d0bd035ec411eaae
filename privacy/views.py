"""Public pages: the notice, the request form, confirmation and status (S1, S15–S19)."""

from __future__ import annotations

import functools
import json
import re

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from .access_report import report_pdf
from .data_requests import (
    FormSentBefore,
    RequestStateError,
    confirm_request,
    earlier_submission,
    find_by_confirm_token,
    find_by_status_token,
    last_confirmation_mail,
    new_idempotency_key,
    resend_confirmation,
    submit_request_once,
    withdraw_request,
)
from .forms import DataRequestForm
from .fulfilment import record_download, released_report
from .models import RequestStatus
from .refusal import certificate_pdf, has_certificate, record_certificate_download

TOKEN_MAX_LENGTH = 64
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")


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


def _posted_form(request: HttpRequest) -> DataRequestForm:
    """The posted form; one posted without a well-formed key gets a new one, so every
    stored request has its key (a damaged hidden field is no reason to refuse it)."""
    data = request.POST.copy()
    if not IDEMPOTENCY_KEY.fullmatch(data.get("idempotency_key", "")):
        data["idempotency_key"] = new_idempotency_key()
    return DataRequestForm(data)


def _sent_before(request: HttpRequest) -> HttpResponse | None:
    """The same form sent again (a retry after a timeout or an error page): the page its
    request got, neither stored again nor counted again by the rate limit."""
    try:
        earlier = earlier_submission(
            idempotency_key=request.POST.get("idempotency_key", ""), email=request.POST.get("email", "")
        )
    except FormSentBefore:
        return None  # handled with the form below
    return redirect("privacy:status", earlier.status_token) if earlier else None


@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        sent_before = _sent_before(request)
        if sent_before is not None:
            return sent_before
        if _over_the_limit(request):
            return rate_limited(request)
        form = _posted_form(request)
        if form.is_valid():
            try:
                submitted = submit_request_once(
                    fields=form.request_fields(),
                    drawn_signature=form.cleaned_data["drawn_signature"],
                    site_url=_site_url(request),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except FormSentBefore:
                form = _posted_form_with_new_key(request)
            else:
                return redirect("privacy:status", submitted.status_token)
    else:
        form = DataRequestForm(
            initial={"reply_language": get_language(), "idempotency_key": new_idempotency_key()}
        )
    response = render(request, "privacy/request_form.html", {"form": form})
    # Each rendering carries its own key: never from a shared cache, only this browser's.
    patch_cache_control(response, private=True)
    return response


def _posted_form_with_new_key(request: HttpRequest) -> DataRequestForm:
    """The key was used by another request (another address, or over a day ago): the
    form comes back filled in, with a new key, to be checked and sent once more."""
    data = request.POST.copy()
    data["idempotency_key"] = new_idempotency_key()
    form = DataRequestForm(data)
    form.is_valid()
    form.add_error(
        None,
        _(
            "This form has been sent before. Check what is filled in below and send it "
            "again to make a new request."
        ),
    )
    return form


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
        # The new link is in the outbox; the worker sends it. Should it fail for good,
        # the page says so (EMAIL_FAILED on the timeline).
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
