"""What is kept after an erasure was asked, why and until when (privacy notice S11):
a read-only list for staff. The retention run releases each hold when its time comes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..audit import record
from ..models import AuditAction, HeldItem, HoldReason, LegalHold
from .base import RegisterModelAdmin


class InForceFilter(admin.SimpleListFilter):
    title = _("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("In force")), ("no", _("Released"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.in_force()
        if self.value() == "no":
            return queryset.filter(released_at__isnull=False)
        return queryset


COLUMNS = ("held", "legal_basis", "until", "request_link", "created", "released")


@admin.register(LegalHold)
class LegalHoldAdmin(RegisterModelAdmin):
    """Nobody adds, changes or deletes a hold by hand: erasure records it, the daily
    retention run releases it. No names: a customer is shown by number only."""

    audit_views = True
    deletable = False
    list_display = COLUMNS
    list_display_links = None  # the list says it all; a row has no page of its own to edit
    list_filter = [InForceFilter, "what", "reason"]
    list_select_related = ["data_request"]
    list_per_page = 50
    search_fields = ["=data_request__reference"]
    search_help_text = _("Search by request reference, e.g. KB-2026-0042.")
    fields = readonly_fields = COLUMNS

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if request.method == "GET" and getattr(response, "status_code", None) == 200:
            # The list links held customers' pages: who looked is in the audit log.
            record(action=AuditAction.VIEW, actor=request.user, object_type="privacy.legalhold")
        return response

    @admin.display(description=_("what is kept"))
    def held(self, hold: LegalHold) -> str:
        if hold.what == HeldItem.ORDERS:
            return gettext("%(count)s order(s), with no link to the erased person") % {"count": hold.count}
        if hold.customer_id:
            url = reverse("admin:customers_customer_change", args=[hold.customer_id])
            return format_html(
                '<a href="{}">{}</a>',
                url,
                gettext("Customer #%(pk)s, erasure waits") % {"pk": hold.customer_id},
            )
        return gettext("Erasure of a customer (done)")

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, hold: LegalHold) -> str:
        return timezone.localdate(hold.created_at).strftime("%-d.%-m.%Y")

    @admin.display(description=_("released"), ordering="released_at")
    def released(self, hold: LegalHold) -> str:
        return timezone.localdate(hold.released_at).strftime("%-d.%-m.%Y") if hold.released_at else "–"

    @admin.display(description=_("legal basis"))
    def legal_basis(self, hold: LegalHold) -> str:
        return hold.legal_basis

    @admin.display(description=_("kept until"), ordering="kept_until")
    def until(self, hold: LegalHold) -> str:
        if hold.kept_until:
            return hold.kept_until.strftime("%-d.%-m.%Y")
        if hold.reason == HoldReason.DEBT_COLLECTION:
            return gettext("until the debt collection has ended")
        return gettext("until the invoice is paid")

    @admin.display(description=_("request"), ordering="data_request__reference")
    def request_link(self, hold: LegalHold) -> str:
        if hold.data_request is None:
            return "–"
        url = reverse("admin:privacy_datarequest_change", args=[hold.data_request_id])
        return format_html('<a href="{}">{}</a>', url, hold.data_request.reference)
