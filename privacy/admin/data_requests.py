"""The data-request inbox and its workflow in the admin (S16–S19; GDPR art. 12).

Every button on a request's page posts a form to one step view. The form validates what
staff typed and shows its own errors on the page; the step then calls one operation
(privacy.data_requests or a fulfilment module), which holds the logic.
"""

from __future__ import annotations

import base64
import copy
import datetime
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, ObjectionPurpose

from .. import data_requests, fulfilment, notifications
from ..access_report import report_json, report_pdf
from ..audit import record
from ..forms import (
    CompleteForm,
    EraseForm,
    ExtendForm,
    IdentityForm,
    LinkCustomersForm,
    NotificationSentForm,
    ReasonForm,
    RectifyForm,
    RegisteredRequestForm,
    StepForm,
)
from ..letter_scans import read_scan
from ..models import AuditAction, ControllerDetails, DataRequest, DataRequestQuerySet
from ..refusal import certificate_pdf
from ..today import days_text
from .base import RegisterModelAdmin
from .request_steps import done_message, why_not, work_steps


def _site_url(request: HttpRequest) -> str:
    """Where the links in the requester's e-mails point (SITE_URL, else this address)."""
    return data_requests.public_site_url(request.build_absolute_uri("/"))


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("week", _("Due within a week")), ("open", _("Open"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        requests = cast(DataRequestQuerySet, queryset)  # the DataRequest admin's own rows
        today = timezone.localdate()
        if self.value() == "overdue":
            return requests.overdue(today)
        if self.value() == "week":
            return requests.pending().filter(due_date__lte=today + datetime.timedelta(days=7))
        if self.value() == "open":
            return requests.open()
        return queryset


@admin.register(DataRequest)
class DataRequestAdmin(RegisterModelAdmin):
    audit_views = True
    list_display = [
        "reference", "requester_column", "kind_column", "status", "submitted_column", "due_column",
        "days_left_column",
    ]  # fmt: skip
    list_filter = [OverdueFilter, "status", "kind", "channel"]
    search_fields = ["=reference"]
    search_help_text = _("Search by reference, e.g. KB-2026-0042.")
    list_per_page = 50
    show_full_result_count = False
    change_form_template = "admin/privacy/datarequest/change_form.html"
    add_form_template = "admin/privacy/datarequest/register_form.html"

    # The steps staff take on a request's page. Each has a `<name>_form` (the form it
    # posts), a `<name>_step` (what it does) and a `<name>_done` (what staff are told).
    steps = [
        "verify", "link", "start", "extend", "refuse", "complete",
        "release", "objection", "anonymise", "erase", "rectify", "notified",
    ]  # fmt: skip

    @admin.display(description=_("requester"), ordering="last_name")
    def requester_column(self, obj: DataRequest) -> str:
        return obj.full_name or gettext("(name erased)")

    # The kind with the channel under it, and dates as 3.12.2026: the inbox fits 1366 px.
    @admin.display(description=_("kind"), ordering="kind")
    def kind_column(self, obj: DataRequest):
        return format_html(
            '{}<br><span class="quiet">{}</span>', obj.get_kind_display(), obj.get_channel_display()
        )

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted_column(self, obj: DataRequest) -> str:
        return date_format(timezone.localtime(obj.submitted_at), "j.n.Y")

    @admin.display(description=_("due date"), ordering="due_date")
    def due_column(self, obj: DataRequest) -> str:
        return date_format(obj.due_date, "j.n.Y")

    @admin.display(description=_("days left"), ordering="due_date")
    def days_left_column(self, obj: DataRequest):
        days = obj.days_left
        if days is None:
            return "–"
        css = "overdue" if days < 0 else "due-soon" if days <= 7 else ""
        # The column is "days left": a number, or the days late in words ("4 päivää myöhässä").
        return format_html('<span class="{}">{}</span>', css, days_text(days) if days < 0 else days)

    def has_delete_permission(self, request, obj=None):
        return False  # the retention run deletes expired ones

    def get_fields(self, request, obj=None):
        return ["reference"]

    def get_readonly_fields(self, request, obj=None):
        return ["reference"]

    def get_urls(self):
        def step(name: str):
            def view(request: HttpRequest, pk: int) -> HttpResponse:
                return self.step_view(request, pk, name)

            return self.admin_site.admin_view(view)

        documents = {
            "preview": self.preview_view,
            "letter": self.letter_view,
            "certificate": self.certificate_view,
            "scan": self.scan_view,
        }
        return [
            *(
                path(f"<int:pk>/{name}/", step(name), name=f"privacy_datarequest_{name}")
                for name in self.steps
            ),
            *(
                path(
                    f"<int:pk>/{name}/", self.admin_site.admin_view(view), name=f"privacy_datarequest_{name}"
                )
                for name, view in documents.items()
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        context = {}
        if obj is not None and self.has_view_permission(request, obj):
            suggestions = self._suggestions(obj)
            context = {
                "data_request": obj,
                "timeline": obj.events.select_related("actor"),
                "mails": obj.mails.all(),
                "linked": obj.customers.all(),
                "other_email_ids": {c.pk for c in obj.customers_with_other_email()},
                "verification_problem": obj.verification_problem() if obj.is_open else None,
                "suggestions": suggestions,
                "signature_png": base64.b64encode(obj.drawn_signature).decode()
                if obj.drawn_signature
                else "",
                "can_work": self.has_change_permission(request, obj),
                "erasure_plan": fulfilment.plan_erasure(obj) if obj.kind == "erasure" and obj.is_open else [],
                "notifications": obj.notifications.select_related("sent_by", "customer"),
                "objection_labels": [str(ObjectionPurpose(p).label) for p in obj.objection_purposes],
                **{f"{name}_form": self._form(name, obj) for name in self.steps if name != "link"},
                "link_form": LinkCustomersForm(suggestions=suggestions),
                "work_steps": work_steps(obj),
            }
        # A step whose form had errors passes its bound form, to be shown with them.
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    @staticmethod
    def _suggestions(data_request: DataRequest) -> list[data_requests.SuggestedMatch]:
        linked = set(data_request.customers.values_list("pk", flat=True))
        return [m for m in data_requests.suggested_matches(data_request) if m.customer.pk not in linked]

    # -- the steps ---------------------------------------------------------------
    def step_view(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        data_request = get_object_or_404(DataRequest, pk=pk)
        if not self.has_change_permission(request, data_request):
            raise PermissionDenied
        page = HttpResponseRedirect(reverse("admin:privacy_datarequest_change", args=[pk]))
        form = self._form(name, data_request, request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    getattr(self, f"{name}_step")(request, data_request, form)
            except data_requests.IdentityNotVerified as refusal:  # the message says what to do
                form.add_error(None, refusal.message)
            except data_requests.RequestStateError:
                data_request.refresh_from_db()
                messages.error(request, why_not(data_request, name))
                return page
        if form.errors:  # the form's own, or what the step found wrong (it then changed nothing)
            return self._page_with_errors(request, data_request, name, form)
        data_request.refresh_from_db()
        messages.success(request, done_message(data_request, name, form))
        return page

    def _page_with_errors(self, request, data_request: DataRequest, name: str, form) -> HttpResponse:
        """The request's page again, the step's form showing what to correct (and the
        message at the top, should the form not be on the page in this state)."""
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        page_request = copy.copy(request)
        page_request.method = "GET"
        response = self.change_view(page_request, str(data_request.pk), extra_context={f"{name}_form": form})
        response.status_code = 400
        return response

    def _form(self, name: str, data_request: DataRequest, data=None) -> forms.Form:
        build = getattr(self, f"{name}_form", None)
        return build(data_request, data) if build else StepForm(data)

    def verify_form(self, data_request, data):
        return IdentityForm(data, data_request=data_request)

    def verify_step(self, request, data_request, form):
        data_requests.verify_identity(
            data_request=data_request,
            method=form.cleaned_data["method"],
            note=form.cleaned_data["note"],
            actor=request.user,
        )

    def link_form(self, data_request, data):
        return LinkCustomersForm(data, suggestions=self._suggestions(data_request))

    def link_step(self, request, data_request, form):
        customers = list(Customer.objects.filter(pk__in=form.cleaned_data["customer_ids"]))
        data_requests.link_customers(data_request=data_request, customers=customers, actor=request.user)

    def start_step(self, request, data_request, form):
        data_requests.start_work(data_request=data_request, actor=request.user)

    def extend_form(self, data_request, data):
        return ExtendForm(data)

    def extend_step(self, request, data_request, form):
        data_requests.extend_deadline(
            data_request=data_request,
            months=form.cleaned_data["months"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
            site_url=request.build_absolute_uri("/"),
        )

    def refuse_form(self, data_request, data):
        return ReasonForm(data)

    def refuse_step(self, request, data_request, form):
        data_requests.refuse_request(
            data_request=data_request,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            site_url=_site_url(request),
        )

    def complete_form(self, data_request, data):
        return CompleteForm(data)

    def complete_step(self, request, data_request, form):
        data_requests.complete_request(
            data_request=data_request,
            outcome=form.cleaned_data["reason"],
            actor=request.user,
            site_url=_site_url(request),
        )

    def release_step(self, request, data_request, form):
        fulfilment.release_access_report(
            data_request=data_request, actor=request.user, site_url=_site_url(request)
        )

    def objection_step(self, request, data_request, form):
        fulfilment.fulfil_objection(
            data_request=data_request, actor=request.user, site_url=_site_url(request)
        )

    def anonymise_step(self, request, data_request, form):
        fulfilment.fulfil_anonymisation(
            data_request=data_request, actor=request.user, site_url=_site_url(request)
        )

    def erase_form(self, data_request, data):
        return EraseForm(data, reference=data_request.reference)

    def erase_step(self, request, data_request, form):
        outcomes = fulfilment.fulfil_erasure(
            data_request=data_request, actor=request.user, site_url=_site_url(request)
        )
        holds = [hold for outcome in outcomes for hold in outcome.blocked_by]
        if holds:  # nothing was erased; the erasure waits for the hold to end
            form.add_error(
                None,
                gettext("Erasure is blocked: %(holds)s.") % {"holds": "; ".join(holds)}
                + " "
                + gettext(
                    "The erasure waits: the daily retention run completes it once the invoice is "
                    "paid or the collection has ended (Legal holds)."
                )
                + " "
                + gettext("The requester has been told why, and will be told when it is done."),
            )

    def rectify_form(self, data_request, data):
        return RectifyForm(data, customers=data_request.customers.all())

    def rectify_step(self, request, data_request, form):
        outcome = fulfilment.fulfil_rectification(
            data_request=data_request,
            customer=form.cleaned_data["customer"],
            changes=form.changes(),
            reasons=form.reasons(),
            actor=request.user,
        )
        if not outcome.applied:  # nothing was changed
            for field_name, errors in outcome.errors.items():
                form.add_error(field_name if field_name in form.fields else None, errors)

    def notified_form(self, data_request, data):
        return NotificationSentForm(data, data_request=data_request)

    def notified_step(self, request, data_request, form):
        try:
            notifications.mark_sent(notification=form.cleaned_data["notification"], actor=request.user)
        except notifications.AlreadySent:  # told by someone else a moment ago
            form.add_error("notification", gettext("This recipient is marked told already."))

    # -- documents (S16, S18) -------------------------------------------------------
    def preview_view(self, request, pk):
        data_request = get_object_or_404(DataRequest, pk=pk)
        if not self.has_view_permission(request, data_request):
            raise PermissionDenied
        report = fulfilment.report_for_request(data_request)
        record(action=AuditAction.VIEW, actor=request.user, obj=data_request, fields=["access_report"])
        if request.GET.get("format") == "json":
            return HttpResponse(report_json(report), content_type="application/json")
        return _pdf_response(report_pdf(report), f"{data_request.reference}.pdf")

    def letter_view(self, request, pk):
        """The art. 19 letter to one recipient on the request (?n=<its id>), made now from
        the record and the customer's data; any staff member, at any time."""
        data_request = get_object_or_404(DataRequest, pk=pk)
        if not self.has_change_permission(request, data_request):
            raise PermissionDenied
        number = request.GET.get("n", "")
        if not (number.isascii() and number.isdigit() and len(number) < 19):
            raise Http404
        notification = get_object_or_404(
            data_request.notifications.select_related("customer"), pk=int(number)
        )
        try:
            pdf = notifications.make_letter(
                notification=notification,
                actor=request.user,
                controller=ControllerDetails.load().as_letterhead(),
                language=get_language(),
            )
        except notifications.LetterUnavailable:
            raise Http404 from None
        return _pdf_response(pdf, f"{data_request.reference}-notice-{notification.pk}.pdf")

    def certificate_view(self, request, pk):
        data_request = get_object_or_404(DataRequest, pk=pk, status="refused")
        if not self.has_view_permission(request, data_request):
            raise PermissionDenied
        record(action=AuditAction.VIEW, actor=request.user, obj=data_request, fields=["refusal_certificate"])
        return _pdf_response(certificate_pdf(data_request), f"{data_request.reference}-certificate.pdf")

    def scan_view(self, request, pk):
        """The scanned letter of a registered request: only here, audited, under the
        request's reference (the file's own name was never kept)."""
        data_request = get_object_or_404(DataRequest, pk=pk)
        if not self.has_view_permission(request, data_request):
            raise PermissionDenied
        scan = read_scan(data_request.scanned_letter) if data_request.scanned_letter else None
        if scan is None:
            raise Http404
        record(action=AuditAction.VIEW, actor=request.user, obj=data_request, fields=["scanned_letter"])
        content, content_type = scan
        response = HttpResponse(content, content_type=content_type)
        suffix = data_request.scanned_letter.rsplit(".", 1)[1]
        response["Content-Disposition"] = f'inline; filename="{data_request.reference}-letter.{suffix}"'
        return response

    # -- registering a request received by post, e-mail, phone or at the counter (S14) --
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = RegisteredRequestForm(request.POST, request.FILES)
            if form.is_valid():
                submitted = data_requests.register_request(
                    fields=form.request_fields(),
                    channel=form.cleaned_data["channel"],
                    received_on=form.cleaned_data["received_on"],
                    scanned_letter=form.cleaned_data["scanned_letter"],
                    actor=request.user,
                    site_url=_site_url(request),
                )
                messages.success(
                    request,
                    gettext(
                        "The request %(ref)s is registered and received. Verify the requester's "
                        "identity before fulfilling it."
                    )
                    % {"ref": submitted.data_request.reference},
                )
                change = reverse("admin:privacy_datarequest_change", args=[submitted.data_request.pk])
                return HttpResponseRedirect(change)
            messages.error(
                request, gettext("The request was not registered: correct the fields marked below.")
            )
        else:
            form = RegisteredRequestForm(
                initial={"channel": "post", "received_on": timezone.localdate(), "reply_language": "fi"}
            )
        fieldsets = [(title, {"fields": names}) for title, names in RegisteredRequestForm.FIELDSETS]
        # A plain form, not a ModelForm: the admin's wrappers only read its fields and errors.
        adminform = helpers.AdminForm(form, fieldsets, {}, model_admin=self)  # type: ignore[arg-type]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Register a request"),
            "subtitle": None,
            "adminform": adminform,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + adminform.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),  # type: ignore[arg-type]
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        response = self.render_change_form(request, context, add=True, form_url=form_url)
        if form.errors:
            response.status_code = 400
        return response
