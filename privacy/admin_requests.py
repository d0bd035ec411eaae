"""The data-request inbox and its workflow in the admin (S16–S19; GDPR art. 12).

Every button posts a small form to a view that calls one function of
privacy.requests (or of the fulfilment modules); the views hold no logic.
"""

from __future__ import annotations

import base64

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, ObjectionPurpose

from . import fulfilment
from . import requests as ops
from .access_report import report_json, report_pdf
from .admin_audit import RegisterModelAdmin
from .audit import record
from .forms import ExtendForm, IdentityForm, ReasonForm
from .models import AuditAction, ControllerDetails, DataRequest, RequestKind, RequestStatus
from .rectification import (
    RECTIFIABLE_FIELDS,
    Recipient,
    apply_rectification,
    notification_letter_pdf,
    refusal_certificate_pdf,
)


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
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.overdue(today)
        if self.value() == "week":
            return queryset.open().filter(due_date__lte=today + timezone.timedelta(days=7))
        if self.value() == "open":
            return queryset.open()
        return queryset


@admin.register(DataRequest)
class DataRequestAdmin(RegisterModelAdmin):
    audit_views = True
    list_display = ["reference", "kind", "status", "submitted_at", "due_date", "days_left_column"]
    list_filter = [OverdueFilter, "status", "kind"]
    search_fields = ["=reference"]
    search_help_text = _("Search by reference, e.g. KB-2026-0042.")
    list_per_page = 50
    show_full_result_count = False
    change_form_template = "admin/privacy/datarequest/change_form.html"

    @admin.display(description=_("days left"), ordering="due_date")
    def days_left_column(self, obj: DataRequest):
        days = obj.days_left
        if days is None:
            return "–"
        css = "overdue" if days < 0 else "due-soon" if days <= 7 else ""
        text = gettext("%(days)s days overdue") % {"days": -days} if days < 0 else str(days)
        return format_html('<span class="{}">{}</span>', css, text)

    def has_add_permission(self, request):
        return False  # requests come from the data subjects' form

    def has_delete_permission(self, request, obj=None):
        return False  # the retention run deletes expired ones

    def get_fields(self, request, obj=None):
        return ["reference"]

    def get_readonly_fields(self, request, obj=None):
        return ["reference"]

    def get_urls(self):
        views = {
            "verify": self.verify_view,
            "link": self.link_view,
            "extend": self.extend_view,
            "refuse": self.refuse_view,
            "start": self.start_view,
            "complete": self.complete_view,
            "preview": self.preview_view,
            "release": self.release_view,
            "objection": self.objection_view,
            "anonymise": self.anonymise_view,
            "erase": self.erase_view,
            "rectify": self.rectify_view,
            "letter": self.letter_view,
            "certificate": self.certificate_view,
        }
        return [
            *(
                path(
                    f"<int:pk>/{name}/", self.admin_site.admin_view(view), name=f"privacy_datarequest_{name}"
                )
                for name, view in views.items()
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None and self.has_view_permission(request, obj):
            suggestions = list(ops.suggested_customers(obj))
            extra_context.update(
                {
                    "data_request": obj,
                    "timeline": obj.events.select_related("actor"),
                    "linked": obj.customers.all(),
                    "suggestions": [c for c in suggestions if c not in obj.customers.all()],
                    "signature_png": base64.b64encode(obj.drawn_signature).decode()
                    if obj.drawn_signature
                    else "",
                    "identity_form": IdentityForm(),
                    "extend_form": ExtendForm(),
                    "refuse_form": ReasonForm(),
                    "complete_form": ReasonForm(),
                    "can_work": self.has_change_permission(request, obj),
                    "refusable": fulfilment.refusable(obj),
                    "erasure_plan": fulfilment.plan_erasure(obj)
                    if obj.kind == "erasure" and obj.is_open
                    else [],
                    "rectifiable_fields": [
                        (n, Customer._meta.get_field(n).verbose_name) for n in RECTIFIABLE_FIELDS
                    ],
                    "notify": request.session.get(f"notify-{obj.pk}", []),
                    "objection_labels": [str(ObjectionPurpose(p).label) for p in obj.objection_purposes],
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # -- workflow steps ------------------------------------------------------
    def _step(self, request: HttpRequest, pk: int, form_class, run):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = get_object_or_404(DataRequest, pk=pk)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        form = form_class(request.POST) if form_class else None
        if form is not None and not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
        else:
            try:
                run(obj, form.cleaned_data if form else {})
                messages.success(request, gettext("Saved."))
            except ops.RequestStateError:
                messages.error(request, gettext("That step does not fit the request's status."))
        return HttpResponseRedirect(reverse("admin:privacy_datarequest_change", args=[pk]))

    def verify_view(self, request, pk):
        return self._step(
            request,
            pk,
            IdentityForm,
            lambda o, d: ops.verify_identity(
                request=o, method=d["method"], note=d["note"], actor=request.user
            ),
        )

    def link_view(self, request, pk):
        def run(obj, data):
            ids = set(request.POST.getlist("customers"))
            extra = request.POST.get("extra_customer_id", "").strip()
            if extra.isdigit():
                ids.add(extra)
            customers = list(Customer.objects.filter(pk__in=[i for i in ids if str(i).isdigit()]))
            if not customers:
                raise ops.RequestStateError("no customer")
            ops.link_customers(request=obj, customers=customers, actor=request.user)

        return self._step(request, pk, None, run)

    def extend_view(self, request, pk):
        return self._step(
            request,
            pk,
            ExtendForm,
            lambda o, d: ops.extend_deadline(
                request=o,
                months=d["months"],
                reason=d["reason"],
                actor=request.user,
                site_url=request.build_absolute_uri("/"),
            ),
        )

    def refuse_view(self, request, pk):
        return self._step(
            request,
            pk,
            ReasonForm,
            lambda o, d: ops.refuse_request(request=o, reason=d["reason"], actor=request.user),
        )

    def start_view(self, request, pk):
        return self._step(request, pk, None, lambda o, d: ops.start_work(request=o, actor=request.user))

    def complete_view(self, request, pk):
        return self._step(
            request,
            pk,
            ReasonForm,
            lambda o, d: ops.complete_request(request=o, outcome=d["reason"], actor=request.user),
        )

    # -- fulfilment (S16-S19) -------------------------------------------------
    def preview_view(self, request, pk):
        obj = get_object_or_404(DataRequest, pk=pk)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        report = fulfilment.report_for_request(obj)
        record(action=AuditAction.VIEW, actor=request.user, obj=obj, fields=["access_report"])
        if request.GET.get("format") == "json":
            return HttpResponse(report_json(report), content_type="application/json")
        return _pdf_response(report_pdf(report), f"{obj.reference}.pdf")

    def release_view(self, request, pk):
        return self._step(
            request, pk, None, lambda o, d: fulfilment.release_access_report(request=o, actor=request.user)
        )

    def objection_view(self, request, pk):
        return self._step(
            request, pk, None, lambda o, d: fulfilment.fulfil_objection(request=o, actor=request.user)
        )

    def anonymise_view(self, request, pk):
        return self._step(
            request, pk, None, lambda o, d: fulfilment.fulfil_anonymisation(request=o, actor=request.user)
        )

    def erase_view(self, request, pk):
        def run(obj, data):
            if request.POST.get("confirm_reference", "").strip() != obj.reference:
                raise ops.RequestStateError("type the reference")
            outcomes = fulfilment.fulfil_erasure(request=obj, actor=request.user)
            if any(o.blocked for o in outcomes):
                raise ops.RequestStateError("blocked")

        return self._step(request, pk, None, run)

    def rectify_view(self, request, pk):
        def run(obj, data):
            customer_id = request.POST.get("customer", "")
            customer = obj.customers.filter(pk=customer_id).first() if customer_id.isdigit() else None
            if customer is None or not obj.is_open or obj.kind != RequestKind.RECTIFICATION:
                raise ops.RequestStateError("customer")
            changes = {n: request.POST[n] for n in RECTIFIABLE_FIELDS if request.POST.get(n, "").strip()}
            outcome = apply_rectification(customer=customer, changes=changes, actor=request.user)
            if not outcome.applied:
                for errors in outcome.errors.values():
                    messages.error(request, " ".join(errors))
                raise ops.RequestStateError("invalid")
            request.session[f"notify-{obj.pk}"] = [
                {
                    "customer": customer.pk,
                    "kind": r.kind,
                    "name": r.name,
                    "category": r.category,
                    "fields": outcome.changed_fields,
                }
                for r in outcome.notify
            ]

        return self._step(request, pk, None, run)

    def letter_view(self, request, pk):
        obj = get_object_or_404(DataRequest, pk=pk)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        notify = request.session.get(f"notify-{obj.pk}", [])
        index = int(request.GET.get("n", "-1")) if request.GET.get("n", "").isdigit() else -1
        if not 0 <= index < len(notify):
            raise Http404
        item = notify[index]
        customer = get_object_or_404(Customer, pk=item["customer"])
        pdf = notification_letter_pdf(
            recipient=Recipient(item["kind"], item["name"], item["category"]),
            customer=customer,
            changed_fields=item["fields"],
            rectified_on=timezone.localdate(),
            controller=ControllerDetails.load().as_letterhead(),
            language=get_language(),
        )
        return _pdf_response(pdf, f"{obj.reference}-notice-{index + 1}.pdf")

    def certificate_view(self, request, pk):
        obj = get_object_or_404(DataRequest, pk=pk, kind="rectification", status="refused")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        requested = "\n".join([obj.rectification_what, obj.rectification_correct, obj.rectification_grounds])
        pdf = refusal_certificate_pdf(
            reference=obj.reference,
            requester_name=obj.full_name,
            requested=requested,
            reasons=obj.refusal_reason,
            received_on=timezone.localdate(obj.submitted_at),
            controller=ControllerDetails.load().as_letterhead(),
            language=obj.reply_language,
        )
        return _pdf_response(pdf, f"{obj.reference}-certificate.pdf")


@admin.register(ControllerDetails)
class ControllerDetailsAdmin(admin.ModelAdmin):
    """The controller and contact person shown on the public notice (S1)."""

    list_display = ["name", "contact_person", "email", "updated_at"]

    def has_add_permission(self, request):
        return not ControllerDetails.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


def request_counts() -> dict[str, int]:
    today = timezone.localdate()
    return {
        "open": DataRequest.objects.open().count(),
        "overdue": DataRequest.objects.overdue(today).count(),
        "awaiting": DataRequest.objects.filter(status=RequestStatus.AWAITING_CONFIRMATION).count(),
    }
