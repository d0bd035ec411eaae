"""The admin side of imports: upload, preview, confirm or cancel (customers/imports.py
does the work), and the ban-list page.

Between the preview and the confirmation the uploaded file is kept in a private
file named by a random token (customers/import_uploads.py); the token is in the
session (and, to tell a stale tab from the current preview, in the confirmation
form), never in a URL. The file is deleted when it is imported, when the preview is
cancelled or replaced by a newer upload, and when it is older than an hour.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import PurePath
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Field
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from privacy.audit import record
from privacy.models import AuditAction

from . import import_jobs
from .banlist import NAME, STREET, BanListError, BanListOutcome, apply_ban_list, preview_ban_list
from .import_formats import format_label, own_headers
from .import_uploads import claim_upload, discard_upload, keep_upload, read_upload, sweep_uploads
from .imports import FIELDS, ImportFileError, ImportOutcome, RowStatus, import_customers, preview_import
from .models import Customer, Source

logger = logging.getLogger(__name__)
SESSION_KEY = "customer_import"
SKIPPED_KEY = "customer_import_skipped"  # the token of the file of the rows the last import skipped
# The formats the import reads (by content: customers/tabular.py); a file named
# otherwise (.html, .xls, .json...) is refused with the formats it may be.
IMPORT_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".ods")
BAN_LIST_SUFFIXES = (".csv", ".txt", ".xlsx", ".ods")
BAN_LIST_SESSION_KEY = "ban_list"
SAME_PERSON = re.compile(r"\d{1,9}:\d{1,18}")
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
            "XLSX (Excel), ODS (LibreOffice) or CSV: Excel's “CSV” and “CSV UTF-8” "
            "(semicolon or comma) and “Unicode text” all do."
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


class SamePersonField(forms.MultipleChoiceField):
    """The conflicts ticked as the same person, as "row:customer id" values; whichever
    no longer is a conflict when the file is imported is ignored (customers/imports.py)."""

    def valid_value(self, value) -> bool:
        return bool(SAME_PERSON.fullmatch(str(value)))

    def clean(self, value) -> frozenset[tuple[int, int]]:
        return frozenset(
            (int(row), int(pk)) for row, pk in (item.split(":") for item in super().clean(value))
        )


class ConfirmImportForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    # Set when the preview listed rows that cannot be imported: staff chose to import
    # the others and skip those.
    skip_invalid = forms.BooleanField(required=False, widget=forms.HiddenInput)
    same_person = SamePersonField(required=False, widget=forms.MultipleHiddenInput)


# -- the pages --------------------------------------------------------------------
def import_view(model_admin, request: HttpRequest):
    """Upload a file; the preview shows what each row would do, and asks to confirm."""
    sweep_uploads()  # abandoned previews of anyone, older than an hour
    form = CustomerImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["import_file"]
        content = upload.read()
        source = form.cleaned_data["source"]
        suffix = PurePath(upload.name or "").suffix.lower()
        if queued := import_jobs.queue_preview_if_large(request, content, source=source, suffix=suffix):
            return queued  # a large file: its preview runs in the background
        try:
            outcome = _guarded(preview_import, content=content, source=source, filename=f"file{suffix}")
        except ImportFileError as error:
            form.add_error("import_file", error.message)
        else:
            _audit(request, outcome, "preview")
            confirm_form = None
            if outcome.valid:
                discard_upload(request.session.get(SESSION_KEY, {}).get("token", ""))
                token = keep_upload(content)
                request.session[SESSION_KEY] = {"token": token, "source": source, "suffix": suffix}
                confirm_form = ConfirmImportForm(
                    initial={"token": token, "skip_invalid": bool(outcome.invalid)}
                )
            return _preview_page(model_admin, request, outcome, confirm_form=confirm_form, source=source)
    context = {
        "form": form,
        "title": _("Import customers"),
        "formats": FORMAT_NAMES,
        **import_jobs.recent_imports(request),
    }
    return _page(
        model_admin,
        request,
        "admin/customers/customer_import.html",
        context,
        status=400 if form.errors else 200,
    )


# The exports the import recognises, as the import page names them.
FORMAT_NAMES = ("Shopify", "WooCommerce", "Mailchimp", "Google Contacts", "Outlook")


def _guarded(function, **kwargs) -> ImportOutcome:
    """Run the preview or the import; anything the file makes go wrong that is not one
    of the import's own messages becomes a plain message (and a log line with the
    kind of error only: the file's values stay out of the log), never a traceback."""
    try:
        return function(**kwargs)
    except ImportFileError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever it is, the page says it plainly
        logger.warning("Customer import failed: %s", type(error).__name__)
        raise ImportFileError(
            _(
                "The file could not be imported. Check that it is a customer list saved as XLSX, "
                "ODS or CSV, with the column names on the first row. Nothing was saved."
            )
        ) from error


def confirm_import_view(model_admin, request: HttpRequest):
    """Import the previewed file, deleting it first: a second confirm of the same
    preview (a double click, another tab) finds nothing and imports nothing."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:customers_customer_import"))
    form = ConfirmImportForm(request.POST)
    content, kept = _claim_previewed(request, SESSION_KEY, form)
    if content is None:
        return HttpResponseRedirect(reverse("admin:customers_customer_import"))
    queued = import_jobs.queue_import_if_large(
        request,
        content,
        source=kept["source"],
        suffix=kept.get("suffix", ""),
        skip_invalid=form.cleaned_data["skip_invalid"],
        same_person=form.cleaned_data["same_person"],
    )
    if queued:
        return queued  # a large file: imported in the background
    try:
        outcome = _guarded(
            import_customers,
            content=content,
            source=kept["source"],
            actor=request.user,
            filename=f"file{kept.get('suffix', '')}",
            skip_invalid=form.cleaned_data["skip_invalid"],
            same_person=form.cleaned_data["same_person"],
        )
    except ImportFileError as error:  # the limits were lowered since the preview
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("admin:customers_customer_import"))
    _warn_left_out(request, outcome)
    if not outcome.imported:  # the register changed since the preview and a row became invalid
        return _preview_page(model_admin, request, outcome, confirm_form=None, source=kept["source"])
    import_jobs.record_small_import(request, outcome, source=kept["source"])
    messages.success(
        request,
        ngettext(
            "Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged customer.",
            "Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged customers.",
            outcome.new + outcome.updated + outcome.unchanged,
        )
        % {"new": outcome.new, "updated": outcome.updated, "unchanged": outcome.unchanged},
    )
    if not outcome.skipped:
        return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))
    discard_upload((request.session.get(SKIPPED_KEY) or {}).get("token", ""))
    request.session[SKIPPED_KEY] = {"token": keep_upload(skipped_rows_csv(outcome)), "rows": outcome.invalid}
    context = {
        "title": _("Import customers: result"),
        "outcome": outcome,
        "invalid_rows": [(row.number, _reasons(row.errors)) for row in outcome.invalid_rows],
    }
    return _page(model_admin, request, "admin/customers/customer_import_result.html", context)


def skipped_rows_csv(outcome: ImportOutcome) -> bytes:
    """The skipped rows as the file had them, with why each was skipped, for staff to
    fix and import again: for Excel in Finnish (semicolons, UTF-8 with a BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([*outcome.headers, gettext("Why the row was skipped")])
    for row in outcome.invalid_rows:
        reasons = "; ".join(f"{name}: {reason}" if name else reason for name, reason in _reasons(row.errors))
        cells = row.cells[: len(outcome.headers)] + [""] * (len(outcome.headers) - len(row.cells))
        writer.writerow(
            [*cells, gettext("Row %(number)s: %(reasons)s") % {"number": row.number, "reasons": reasons}]
        )
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def skipped_rows_view(model_admin, request: HttpRequest):
    """The file of the rows the last import skipped (kept for an hour, like an upload)."""
    kept = request.session.get(SKIPPED_KEY) or {}
    content = read_upload(kept.get("token", ""))
    if content is None:
        messages.error(
            request, _("The file of skipped rows is no longer kept. Import the file again to see them.")
        )
        return HttpResponseRedirect(reverse("admin:customers_customer_import"))
    record(
        action=AuditAction.EXPORT,
        actor=request.user,
        object_type="customers.customer",
        fields=["import_skipped_rows"],
        counts={"rows": kept.get("rows", 0)},
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    name = gettext("skipped-rows")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def template_view(model_admin, request: HttpRequest, kind: str):
    """The import template: the register's own columns in the user's language, as XLSX
    (postal code and phone columns formatted as text, so Excel keeps their zeros) or
    as CSV for Excel in Finnish."""
    headers = [label for _name, label in own_headers()]
    name = gettext("customer-import-template")
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(headers)
        response = HttpResponse(
            b"\xef\xbb\xbf" + buffer.getvalue().encode(), content_type="text/csv; charset=utf-8"
        )
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = gettext("Customers")[:31]
        sheet.append(headers)
        for index, (field_name, _label) in enumerate(own_headers(), start=1):
            letter = get_column_letter(index)
            sheet[f"{letter}1"].font = Font(bold=True)
            sheet.column_dimensions[letter].width = max(14, len(headers[index - 1]) + 2)
            if field_name in ("phone", "postal_code"):
                for row in range(2, 1001):
                    sheet[f"{letter}{row}"].number_format = "@"
        sheet.freeze_panes = "A2"
        output = io.BytesIO()
        book.save(output)
        response = HttpResponse(
            output.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        kind = "xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


def cancel_import_view(model_admin, request: HttpRequest):
    """Cancel the preview ("import nothing"): its file is deleted, nothing is imported."""
    if request.method == "POST":
        kept = request.session.pop(SESSION_KEY, None) or {}
        discard_upload(kept.get("token", ""))
        messages.info(request, _("Nothing was imported, and the uploaded file was deleted."))
    return HttpResponseRedirect(reverse("admin:customers_customer_import"))


def _preview_page(model_admin, request, outcome: ImportOutcome, *, confirm_form, source: str):
    invalid = [(row.number, _reasons(row.errors)) for row in outcome.invalid_rows]
    shown = [row for row in outcome.rows[:PREVIEW_ROWS] if row.status != RowStatus.INVALID]
    context = {
        "conflicts": [_conflict_shown(row) for row in outcome.conflict_rows],
        "title": _("Import customers: preview"),
        "outcome": outcome,
        "format_label": format_label(outcome.shop),
        "confirm_form": confirm_form,
        "source_label": Source(source).label,
        "columns": [cast(Field, Customer._meta.get_field(name)).verbose_name for name in FIELDS],
        "invalid_rows": invalid,
        "shown_rows": [(row, [_cell(row, name) for name in FIELDS]) for row in shown],
        "more_rows": max(0, outcome.total_rows - PREVIEW_ROWS),
    }
    return _page(model_admin, request, "admin/customers/customer_import_preview.html", context)


def _cell(row, name: str) -> dict[str, str]:
    """One cell of the preview: the row's value; for an update, the value it replaces
    beside it, or the register's spelling it keeps instead of the file's."""
    if name in row.kept:
        return {"value": row.kept[name], "file": row.values.get(name, "")}
    return {"value": row.values.get(name, ""), "changed": name in row.previous, "old": row.previous.get(name)}


def _conflict_shown(row) -> dict:
    """A conflict as the preview shows it: the file's person beside the register's."""
    conflict = row.conflict
    shared = {
        "email": _("the same e-mail address"),
        "phone": _("the same phone number"),
        "name": _("the same name and postal code, another e-mail address"),
    }[conflict.shared]
    return {
        "number": row.number,
        "value": f"{row.number}:{conflict.customer_id}",
        "file": _person(row.values),
        "register": _person(conflict.register),
        "customer_url": reverse("admin:customers_customer_change", args=[conflict.customer_id]),
        "shared": shared,
        "same_person": conflict.same_person,
    }


def _person(values: dict[str, str]) -> list[str]:
    """A person's name, contact details and address as lines (the empty ones left out)."""
    get = values.get
    lines = [
        f"{get('first_name', '')} {get('last_name', '')}",
        get("email", ""),
        get("phone", ""),
        get("street_address", ""),
        f"{get('postal_code', '')} {get('city', '')}",
    ]
    return [line.strip() for line in lines if line.strip()]


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
            path(
                "import/skipped-rows/",
                self.admin_site.admin_view(self._skipped_rows),
                name="customers_customer_import_skipped",
            ),
            path(
                "import/template.<str:kind>",
                self.admin_site.admin_view(self._template),
                name="customers_customer_import_template",
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

    def _skipped_rows(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return skipped_rows_view(self, request)

    def _template(self, request, kind: str):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if kind not in ("xlsx", "csv"):
            raise Http404
        return template_view(self, request, kind)


class BanListForm(forms.Form):
    file = forms.FileField(
        label=_("Ban list"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(BAN_LIST_SUFFIXES)}),
        help_text=_(
            "CSV (semicolon- or comma-separated, Windows-1252 or UTF-8), XLSX or ODS, as the "
            "list provider hands it over. A direct-mail ban list has the columns SUKUNIMI, "
            "ETUNIMET, LÄHIOSOITE, POSTINUMERO (POSTITOIMIPAIKKA may be there too); a telephone "
            "ban list has the column PUHELIN. English column names (last_name, first_name, "
            "street_address, postal_code, phone) do as well."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        _check_upload(upload, BAN_LIST_SUFFIXES)
        return upload


class ConfirmBanListForm(forms.Form):
    """The preview's token; the ticked near matches ("row:customer id" values, those the
    preview offered) are read by apply_ban_list, which ignores any it did not offer."""

    token = forms.CharField(widget=forms.HiddenInput)


def banlist_view(model_admin, request: HttpRequest):
    """Upload a ban list; the preview shows who matches, who nearly matches (to tick)
    and how many are not in the register; confirming records the objections."""
    if request.method == "POST" and "token" in request.POST:
        return _confirm_ban_list(model_admin, request)
    if request.method == "POST" and "cancel" in request.POST:
        kept = request.session.pop(BAN_LIST_SESSION_KEY, None) or {}
        discard_upload(kept.get("token", ""))
        messages.info(request, _("The ban list was not imported and the uploaded file was deleted."))
        return HttpResponseRedirect(reverse("admin:customers_customer_banlist"))
    sweep_uploads()
    form = BanListForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            outcome = preview_ban_list(content=content, filename=upload.name)
        except BanListError as error:
            form.add_error("file", error.message)
        else:
            record(
                action=AuditAction.IMPORT,
                actor=request.user,
                object_type="customers.marketingobjection",
                fields=["ban_list_preview"],
                counts=outcome.counts(),
            )
            discard_upload(request.session.get(BAN_LIST_SESSION_KEY, {}).get("token", ""))
            token = keep_upload(content)
            request.session[BAN_LIST_SESSION_KEY] = {"token": token, "filename": upload.name}
            return _ban_list_preview(model_admin, request, outcome, token)
    context = {"form": form, "title": _("Import a ban list")}
    return _page(
        model_admin, request, "admin/customers/banlist.html", context, status=400 if form.errors else 200
    )


def _ban_list_preview(model_admin, request, outcome: BanListOutcome, token: str):
    context = {
        "title": _("Import a ban list: preview"),
        "outcome": outcome,
        "confirm_form": ConfirmBanListForm(initial={"token": token}),
        "matches": outcome.matches[:PREVIEW_ROWS],
        "more_matches": max(0, len(outcome.matches) - PREVIEW_ROWS),
        "near": outcome.near,
        "street_differs": STREET,
        "name_differs": NAME,
    }
    return _page(model_admin, request, "admin/customers/banlist_preview.html", context)


def _claim_previewed(request, session_key: str, form: forms.Form) -> tuple[bytes | None, dict]:
    """The file a preview kept (its token in the form and in the session), deleted from
    where it waited, so a second confirm (a double click, another tab) finds nothing; and
    what the session kept with it. None, with a message, when it is gone or not this one."""
    kept = request.session.get(session_key) or {}
    content = None
    if form.is_valid() and form.cleaned_data["token"] == kept.get("token"):
        content = claim_upload(kept["token"])
    if content is None:
        messages.error(
            request,
            _("The preview has expired, was replaced or was already imported. Upload the file again."),
        )
    else:
        request.session.pop(session_key, None)
    return content, kept


def _confirm_ban_list(model_admin, request):
    """Record the previewed list's objections, the file deleted first (a second confirm
    finds nothing and records nothing)."""
    form = ConfirmBanListForm(request.POST)
    content, kept = _claim_previewed(request, BAN_LIST_SESSION_KEY, form)
    if content is None:
        return HttpResponseRedirect(reverse("admin:customers_customer_banlist"))
    try:
        outcome = apply_ban_list(
            content=content,
            filename=kept.get("filename", ""),
            actor=request.user,
            same_person=request.POST.getlist("same_person"),
        )
    except BanListError as error:  # the limits were lowered since the preview
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("admin:customers_customer_banlist"))
    messages.success(
        request,
        ngettext(
            "%(rows)s person on the list: %(recorded)s new objections recorded (%(purpose)s), "
            "%(already)s already in force, %(unmatched)s not in the register.",
            "%(rows)s people on the list: %(recorded)s new objections recorded (%(purpose)s), "
            "%(already)s already in force, %(unmatched)s not in the register.",
            outcome.rows,
        )
        % {
            "rows": outcome.rows,
            "recorded": outcome.recorded,
            "purpose": outcome.purpose_label.lower(),
            "already": outcome.already_in_force,
            "unmatched": outcome.unmatched,
        },
    )
    return HttpResponseRedirect(reverse("admin:customers_customer_banlist"))
