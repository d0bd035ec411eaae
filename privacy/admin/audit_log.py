"""The audit log in the admin: read-only for everyone, exported as CSV by the owner."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..audit import record
from ..audit_display import annotate, customer_events, readable_of
from ..models import ActorType, AuditAction, AuditEvent

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


class ActorFilter(admin.SimpleListFilter):
    """Who did it, by name: each staff member, the system, the data subject."""

    title = _("who")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(is_staff=True)
        users = users.order_by("first_name", "last_name", "username")
        staff = [
            (f"staff:{user.pk}", user.get_full_name() or user.get_username())
            for user in users.only("username", "first_name", "last_name")
        ]
        return [
            *staff,
            (ActorType.SYSTEM.value, _("the system")),
            (ActorType.DATA_SUBJECT.value, _("the data subject (public pages)")),
        ]

    def queryset(self, request, queryset):
        value = self.value() or ""
        if value.startswith("staff:") and value[6:].isdigit():
            return queryset.filter(actor_type=ActorType.STAFF, actor_id=int(value[6:]))
        if value in (ActorType.SYSTEM, ActorType.DATA_SUBJECT):
            return queryset.filter(actor_type=value)
        return queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    """What kind of object, by its name in the user's language."""

    title = _("object")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        # The kinds staff know from the menu (and staff accounts), not the app's inner tables.
        models = [
            m for m in model_admin.admin_site._registry
            if m._meta.app_label in ("customers", "privacy", "auth")
        ]
        return sorted(
            ((m._meta.label_lower, capfirst(m._meta.verbose_name_plural)) for m in models),
            key=lambda choice: str(choice[1]),
        )

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


class CustomerFilter(admin.SimpleListFilter):
    """A customer's events (the link on the customer's page): those on the customer and on
    their orders, objections, consents and disclosures. Shown only while it is applied."""

    title = _("customer")
    parameter_name = "customer"

    def _customer(self):
        from customers.models import Customer

        value = self.value() or ""
        return Customer.objects.filter(pk=int(value)).first() if value.isdigit() else None

    def lookups(self, request, model_admin):
        customer = self._customer()
        return [(str(customer.pk), str(customer))] if customer else []

    def queryset(self, request, queryset):
        customer = self._customer()
        if customer is None:
            return queryset
        return queryset.filter(pk__in=customer_events(customer).values("pk"))


class _Echo:
    def write(self, value: str) -> str:
        return value


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log: nobody may add, change or delete an event, not even the owner."""

    list_display = [
        "id", "occurred_at", "actor_name", "action_label", "object_link", "field_list", "count_list"
    ]
    list_filter = [ActorFilter, ActionFilter, ObjectTypeFilter, "occurred_at", CustomerFilter]
    search_fields = ["=object_id"]
    search_help_text = _("Search by object number (for example a customer's number).")
    date_hierarchy = "occurred_at"
    list_per_page = 100
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["id", "occurred_at", "actor_name", "action_label", "object_link"]}),
        (_("What it touched"), {"fields": ["field_list", "count_list"]}),
        (
            _("As stored (ids only)"),
            {
                "fields": ["actor_type", "actor_id", "object_type", "object_id", "prev_hash", "hash"],
                "classes": ["collapse"],
            },
        ),
    ]
    readonly_fields = [
        "id",
        "occurred_at",
        "actor_name",
        "action_label",
        "object_link",
        "field_list",
        "count_list",
        "actor_type",
        "actor_id",
        "object_type",
        "object_id",
        "prev_hash",
        "hash",
    ]

    def get_changelist_instance(self, request):
        # The page's events get their names with one query per kind, not one per row.
        changelist = super().get_changelist_instance(request)
        changelist.result_list = annotate(changelist.result_list)
        return changelist

    @admin.display(description=_("who"))
    def actor_name(self, obj: AuditEvent) -> str:
        return readable_of(obj).actor

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj: AuditEvent) -> str:
        return obj.action_label

    @admin.display(description=_("object"))
    def object_link(self, obj: AuditEvent):
        return readable_of(obj).object_html

    @admin.display(description=_("fields"))
    def field_list(self, obj: AuditEvent) -> str:
        return readable_of(obj).fields

    @admin.display(description=_("counts"))
    def count_list(self, obj: AuditEvent) -> str:
        return readable_of(obj).counts

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
