"""The admin side of imports: upload, preview, confirm or cancel (customers/imports.py
does the work), and the ban-list page.

Between the preview and the confirmation the uploaded file is kept in a private
file named by a random token (customers/import_uploads.py); the token is in the
session (and, to tell a stale tab from the current preview, in the confirmation
form), never in a URL. The file is deleted when it is imported, when the preview is
cancelled or replaced by a newer upload, and when it is older than an hour.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Field
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from privacy.audit import record
from privacy.models import AuditAction

from . import import_jobs
from .banlist import BanListError, apply_ban_list
from .import_uploads import claim_upload, discard_upload, keep_upload, sweep_uploads
from .imports import FIELDS, ImportFileError, ImportOutcome, RowStatus, import_customers, preview_import
from .models import Customer, Source

SESSION_KEY = "customer_import"
# The formats the import reads (by content: a zip is XLSX, anything else CSV); a file
# named otherwise (.html, .xls, .ods, .json...) is refused with the formats it may be.
IMPORT_SUFFIXES = (".csv", ".xlsx")
BAN_LIST_SUFFIXES = (".csv", ".txt")
PREVIEW_ROWS = 500  # rows shown in the preview; every invalid row is shown as well


def _check_upload(upload, suffixes: tuple[str, ...]) -> None:
    if upload is None:
        return
    if PurePath(upload.name or "").suffix.lower() not in suffixes:
        raise forms.ValidationError(
            _("Only these kinds of file can be imported: %(kinds)s.") % {"kinds": ", ".join(suffixes)}
        )
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise forms.ValidationError(
            _("The file is larger than %(mb)s MB; split it or ask the owner to raise the limit.")
            % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        )


class CustomerImportForm(forms.Form):
    import_file = forms.FileField(
        label=_("File to import"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_SUFFIXES)}),
        help_text=_(
            "CSV (UTF-8, comma-separated) or XLSX: the register's own columns, or a customer "
            "export of Shopify or WooCommerce."
        ),
    )
    source = forms.ChoiceField(
        label=_("Where the data comes from"),
        choices=Source.choices,
        initial=Source.IMPORT,
        help_text=_("Recorded on every imported customer (S8)."),
    )

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        _check_upload(upload, IMPORT_SUFFIXES)
        return upload


class ConfirmImportForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


# -- the pages --------------------------------------------------------------------
def import_view(model_admin, request: HttpRequest):
    """Upload a file; the preview shows what each row would do, and asks to confirm."""
    sweep_uploads()  # abandoned previews of anyone, older than an hour
    form = CustomerImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["import_file"].read()
        source = form.cleaned_data["source"]
        if queued := import_jobs.queue_preview_if_large(request, content, source=source):
            return queued  # a large file: its preview runs in the background
        try:
            outcome = preview_import(content=content, source=source)
        except ImportFileError as error:
            form.add_error("import_file", error.message)
        else:
            _audit(request, outcome, "preview")
            confirm_form = None
            if not outcome.invalid:
                discard_upload(request.session.get(SESSION_KEY, {}).get("token", ""))
                token = keep_upload(content)
                request.session[SESSION_KEY] = {"token": token, "source": source}
                confirm_form = ConfirmImportForm(initial={"token": token})
            return _preview_page(model_admin, request, outcome, confirm_form=confirm_form, source=source)
    return _page(
        model_admin,
        request,
        "admin/customers/customer_import.html",
        {"form": form, "title": _("Import customers"), **import_jobs.recent_imports(request)},
        status=400 if form.errors else 200,
    )


def confirm_import_view(model_admin, request: HttpRequest):
    """Import the previewed file, deleting it first: a second confirm of the same
    preview (a double click, another tab) finds nothing and imports nothing."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:customers_customer_import"))
    form = ConfirmImportForm(request.POST)
    kept = request.session.get(SESSION_KEY) or {}
    content = None
    if form.is_valid() and form.cleaned_data["token"] == kept.get("token"):
        content = claim_upload(kept["token"])
    if content is None:
        messages.error(
            request,
            _("The preview has expired, was replaced or was already imported. Upload the file again."),
        )
        return HttpResponseRedirect(reverse("admin:customers_customer_import"))
    request.session.pop(SESSION_KEY, None)
    if queued := import_jobs.queue_import_if_large(request, content, source=kept["source"]):
        return queued  # a large file: imported in the background
    try:
        outcome = import_customers(content=content, source=kept["source"], actor=request.user)
    except ImportFileError as error:  # the limits were lowered since the preview
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("admin:customers_customer_import"))
    _warn_left_out(request, outcome)
    if not outcome.imported:  # the register changed since the preview and a row became invalid
        return _preview_page(model_admin, request, outcome, confirm_form=None, source=kept["source"])
    import_jobs.record_small_import(request, outcome, source=kept["source"])
    messages.success(
        request,
        gettext("Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged customers.")
        % {"new": outcome.new, "updated": outcome.updated, "unchanged": outcome.unchanged},
    )
    return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))


def cancel_import_view(model_admin, request: HttpRequest):
    """Cancel the preview: its file is deleted, nothing is imported."""
    if request.method == "POST":
        kept = request.session.pop(SESSION_KEY, None) or {}
        discard_upload(kept.get("token", ""))
        messages.info(request, _("The import was cancelled and the uploaded file deleted."))
    return HttpResponseRedirect(reverse("admin:customers_customer_import"))


def _preview_page(model_admin, request, outcome: ImportOutcome, *, confirm_form, source: str):
    invalid = [(row.number, _reasons(row.errors)) for row in outcome.invalid_rows]
    shown = [row for row in outcome.rows[:PREVIEW_ROWS] if row.status != RowStatus.INVALID]
    context = {
        "title": _("Import customers: preview"),
        "outcome": outcome,
        "confirm_form": confirm_form,
        "source_label": Source(source).label,
        "columns": [cast(Field, Customer._meta.get_field(name)).verbose_name for name in FIELDS],
        "invalid_rows": invalid,
        "shown_rows": [(row, [row.values.get(name, "") for name in FIELDS]) for row in shown],
        "more_rows": max(0, outcome.total_rows - PREVIEW_ROWS),
    }
    return _page(model_admin, request, "admin/customers/customer_import_preview.html", context)


def _reasons(errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Each error with the name of the field it is about, as the customer form names it."""
    names = {f.name: f.verbose_name for f in Customer._meta.concrete_fields}
    return [(str(names.get(name, "")), reason) for name, reasons in errors.items() for reason in reasons]


def _page(model_admin, request, template: str, context: dict, status: int = 200):
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, **context}
    return TemplateResponse(request, template, context, status=status)


def _audit(request, outcome: ImportOutcome, step: str) -> None:
    """The preview's audit event with the counts (the import writes its own) and a
    message when rows were left out."""
    record(
        action=AuditAction.IMPORT,
        actor=request.user,
        object_type="customers.customer",
        fields=[step],
        counts=outcome.counts(),
    )
    _warn_left_out(request, outcome)


def _warn_left_out(request, outcome: ImportOutcome) -> None:
    left_out = outcome.left_out_suppressed
    if left_out:
        messages.warning(
            request,
            ngettext(
                "%(count)s row was left out: the person was erased at their own wish never "
                "to be contacted again.",
                "%(count)s rows were left out: the people were erased at their own wish never "
                "to be contacted again.",
                left_out,
            )
            % {"count": left_out},
        )


class CustomerImportMixin(admin.ModelAdmin):
    """The import pages on the customer admin, with the link on the customer list."""

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self._import), name="customers_customer_import"),
            path(
                "process_import/",
                self.admin_site.admin_view(self._confirm_import),
                name="customers_customer_process_import",
            ),
            path(
                "import/job/<int:job_id>/",
                self.admin_site.admin_view(self._import_job),
                name="customers_customer_import_job",
            ),
            path(
                "cancel_import/",
                self.admin_site.admin_view(self._cancel_import),
                name="customers_customer_cancel_import",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def _import(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return import_view(self, request)

    def _confirm_import(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return confirm_import_view(self, request)

    def _import_job(self, request, job_id: int):
        if not self.has_import_permission(request):
            raise PermissionDenied
        pages = {"page": _page, "preview_page": _preview_page, "confirm_form_class": ConfirmImportForm}
        return import_jobs.job_view(self, request, job_id, **pages)

    def _cancel_import(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return cancel_import_view(self, request)


class BanListForm(forms.Form):
    file = forms.FileField(
        label=_("Ban list (CSV)"), help_text=_("Columns: first_name, last_name, street_address, postal_code.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        _check_upload(upload, BAN_LIST_SUFFIXES)
        return upload


def banlist_view(model_admin, request: HttpRequest):
    form = BanListForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = apply_ban_list(content=form.cleaned_data["file"].read(), actor=request.user)
        except BanListError as error:
            form.add_error("file", str(error))
        else:
            messages.success(
                request,
                gettext(
                    "%(rows)s people on the list: %(recorded)s new objections recorded, "
                    "%(already)s already in force, %(unmatched)s not in the register."
                )
                % {
                    "rows": outcome.rows,
                    "recorded": outcome.recorded,
                    "already": outcome.already_in_force,
                    "unmatched": outcome.unmatched,
                },
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_banlist"))
    context = {
        **model_admin.admin_site.each_context(request),
        "form": form,
        "title": _("Import a direct-marketing ban list"),
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(
        request, "admin/customers/banlist.html", context, status=400 if form.errors else 200
    )
