"""The audit log in the admin: read-only for everyone, exported as CSV by the owner."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..audit import record
from ..models import AuditAction, AuditEvent

CSV_COLUMNS = [
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "fields",
    "counts",
    "prev_hash",
    "hash",
]


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return AuditAction.choices

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class _Echo:
    def write(self, value: str) -> str:
        return value


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log: nobody may add, change or delete an event, not even the owner."""

    list_display = [
        "id",
        "occurred_at",
        "actor_type",
        "actor_id",
        "action_label",
        "object_type",
        "object_id",
        "field_list",
        "counts",
    ]
    list_filter = ["actor_type", ActionFilter, "object_type", "occurred_at"]
    search_fields = ["=object_id", "=actor_id"]
    search_help_text = _("Search by object id or staff user id.")
    date_hierarchy = "occurred_at"
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = CSV_COLUMNS

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj: AuditEvent) -> str:
        return obj.action_label

    @admin.display(description=_("field names"))
    def field_list(self, obj: AuditEvent) -> str:
        return ", ".join(obj.fields)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="privacy_auditevent_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if request.user.has_perm("privacy.export_auditevent"):
            query = request.GET.urlencode()
            extra_context["export_url"] = reverse("admin:privacy_auditevent_export") + (
                f"?{query}" if query else ""
            )
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """CSV of the events the current filters show (owner only)."""
        if not request.user.has_perm("privacy.export_auditevent"):
            raise PermissionDenied
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request).order_by("id")
        except IncorrectLookupParameters:
            # A filter the log cannot apply (a hand-edited address): no export, a clear 400.
            return HttpResponseBadRequest(gettext("The filters of this export are not valid."))
        record(
            action=AuditAction.EXPORT,
            actor=request.user,
            object_type="privacy.auditevent",
            counts={"rows": queryset.count()},
        )
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for event in queryset.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        event.pk,
                        event.occurred_at.isoformat(),
                        event.actor_type,
                        event.actor_id,
                        event.action,
                        event.object_type,
                        event.object_id,
                        " ".join(event.fields),
                        " ".join(f"{k}={v}" for k, v in sorted(event.counts.items())),
                        event.prev_hash,
                        event.hash,
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
