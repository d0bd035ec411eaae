"""The admin side of imports: the upload form with the source, the ban-list page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm, ImportForm

from privacy.audit import record
from privacy.models import AuditAction

from .banlist import BanListError, apply_ban_list
from .imports import CustomerImportResource
from .models import Source


def _check_size(upload) -> None:
    if upload is not None and upload.size > settings.IMPORT_MAX_BYTES:
        raise forms.ValidationError(
            _("The file is larger than %(mb)s MB; split it or ask the owner to raise the limit.")
            % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        )


class CustomerImportForm(ImportForm):
    source = forms.ChoiceField(
        label=_("Where the data comes from"),
        choices=Source.choices,
        initial=Source.IMPORT,
        help_text=_("Recorded on every imported customer (S8)."),
    )

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        _check_size(upload)
        return upload


class CustomerConfirmImportForm(ConfirmImportForm):
    source = forms.ChoiceField(choices=Source.choices, widget=forms.HiddenInput)


class CustomerImportMixin:
    """django-import-export's preview-then-confirm import, with the source of the data and an
    audit event with the counts for the preview and for the import."""

    resource_classes = [CustomerImportResource]
    import_form_class = CustomerImportForm
    confirm_form_class = CustomerConfirmImportForm
    from_encoding = "utf-8-sig"

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form:
            initial["source"] = import_form.cleaned_data["source"]
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        source = form.cleaned_data.get("source") if form and form.is_valid() else Source.IMPORT
        return {"source": source or Source.IMPORT, "actor": request.user}

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, UnicodeError):
            message = _("The file's text encoding is not UTF-8. Save it as 'CSV UTF-8' and try again.")
        else:
            message = _(
                "The file could not be read in the chosen format. Check that it is a CSV "
                "or XLSX file and that the format matches."
            )
        form.add_error("import_file", message)

    @staticmethod
    def _audit_and_report(request, result, step: str) -> None:
        """An audit event with the counts; a message when rows were left out."""
        totals = {k.lower(): int(v) for k, v in result.totals.items()}
        left_out = getattr(result, "left_out_suppressed", 0)
        record(
            action=AuditAction.IMPORT,
            actor=request.user,
            object_type="customers.customer",
            fields=[step],
            counts={"rows": result.total_rows, **totals, "left_out_suppressed": left_out},
        )
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

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        result = (getattr(response, "context_data", None) or {}).get("result")
        if result is not None:
            self._audit_and_report(request, result, "preview")
        return response

    def process_dataset(self, dataset, form, request, **kwargs):
        result = super().process_dataset(dataset, form, request, **kwargs)
        self._audit_and_report(request, result, "import")
        return result

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)


class BanListForm(forms.Form):
    file = forms.FileField(
        label=_("Ban list (CSV)"), help_text=_("Columns: first_name, last_name, street_address, postal_code.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        _check_size(upload)
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
