"""The "Mailing labels" admin page and its downloads (S6, S17)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from django import forms
from django.conf import settings
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from privacy.audit import record
from privacy.models import AuditAction

from .labels import (
    LabelFilters,
    csv_chunks,
    cut_labels,
    excel_csv_chunks,
    label_selection,
    write_pdf,
    write_xlsx,
)
from .models import Organisation

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "excel_csv": "text/csv; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}
FILENAMES = {"xlsx": "labels.xlsx", "excel_csv": "labels-excel.csv", "csv": "labels.csv", "pdf": "labels.pdf"}
CUT_SHOWN = 50  # names of cut labels on the page (the PDF's last page lists all, with places)


class LabelForm(forms.Form):
    postal_code_from = forms.RegexField(
        label=_("Postal codes from"), regex=r"^\d{5}$", required=False, max_length=5
    )
    postal_code_to = forms.RegexField(label=_("to"), regex=r"^\d{5}$", required=False, max_length=5)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    last_purchase_since = forms.DateField(
        label=_("Last purchase since"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), required=False, queryset=Organisation.objects.order_by("name")
    )

    def filters(self) -> LabelFilters:
        data = self.cleaned_data
        return LabelFilters(
            postal_code_from=data["postal_code_from"] or "",
            postal_code_to=data["postal_code_to"] or "",
            city=data["city"].strip(),
            last_purchase_since=data["last_purchase_since"],
            organisation_id=data["organisation"].pk if data["organisation"] else None,
        )


def labels_view(model_admin, request: HttpRequest):
    form = LabelForm(request.GET or None)
    context = {
        **model_admin.admin_site.each_context(request),
        "form": form,
        "title": _("Mailing labels"),
        "opts": model_admin.model._meta,
    }
    if form.is_valid():
        selection = label_selection(form.filters())
        included = selection.customers.count()
        fmt = request.GET.get("export")
        if fmt in FORMATS:
            # The file first (an XLSX or PDF of 90,000 labels takes seconds), outside any
            # transaction; then the event, in record()'s own short transaction, which
            # holds the audit log's lock for milliseconds; then the file is sent. A
            # build that fails leaves no event; an event that cannot be written sends
            # no file. The CSV streams as it is sent, after its event.
            response = label_download(selection.customers, fmt)
            record(
                action=AuditAction.EXPORT,
                actor=request.user,
                object_type="customers.customer",
                fields=[f"labels_{fmt}"],
                counts=selection.counts(included),
            )
            return response
        cut = cut_labels(selection.customers)
        context.update(
            {
                "selection": selection,
                "included": included,
                "query": request.GET.urlencode(),
                "cut": cut[:CUT_SHOWN],
                "cut_count": len(cut),
                "cut_more": max(0, len(cut) - CUT_SHOWN),
                "min_font_size": settings.LABEL_SHEET["min_font_size"],
            }
        )
    return TemplateResponse(request, "admin/customers/labels.html", context)


def _in_language(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A streamed file is written while it is sent, after the view has returned: in the
    language of the request that asked for it (its column headers)."""
    language = translation.get_language()

    def written() -> Iterator[bytes]:
        with translation.override(language):
            yield from chunks

    return written()


def label_download(queryset, fmt: str):
    filename = FILENAMES[fmt]
    if fmt in ("csv", "excel_csv"):
        chunks = (csv_chunks if fmt == "csv" else excel_csv_chunks)(queryset)
        response = StreamingHttpResponse(_in_language(chunks), content_type=FORMATS[fmt])
    else:
        spool = tempfile.TemporaryFile()
        try:
            (write_xlsx if fmt == "xlsx" else write_pdf)(queryset, spool)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        response = FileResponse(spool, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
