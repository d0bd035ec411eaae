"""Staff accounts in the admin (privacy notice S13): personal accounts, each with the
date its holder signed the confidentiality commitment."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _

from ..audit import record
from ..models import AuditAction, ConfidentialityCommitment
from .base import RegisterModelAdmin


class CommitmentInline(admin.StackedInline):
    model = ConfidentialityCommitment
    fk_name = "user"
    fields = ["signed_on", "recorded_by", "recorded_at"]
    readonly_fields = ["recorded_by", "recorded_at"]
    can_delete = False
    extra = 0
    max_num = 1
    verbose_name_plural = _("confidentiality commitment (S13)")


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(RegisterModelAdmin, UserAdmin):
    """Personal staff accounts; only the owner (auth permissions) manages them. Audited
    like the register; open before a commitment, as the owner records the commitments."""

    requires_commitment = False
    inlines = [CommitmentInline]
    list_display = [
        "username",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "commitment_signed_on",
        "last_login",
    ]
    list_select_related = ["confidentiality_commitment"]

    @admin.display(description=_("commitment signed"))
    def commitment_signed_on(self, obj):
        commitment = getattr(obj, "confidentiality_commitment", None)
        return commitment.signed_on if commitment else "–"

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in [*formset.new_objects, *(o for o, _fields in formset.changed_objects)]:
            if isinstance(obj, ConfidentialityCommitment):
                record(
                    action=AuditAction.COMMITMENT_RECORDED,
                    actor=request.user,
                    object_type="auth.user",
                    object_id=obj.user_id,
                    fields=["signed_on"],
                )


admin.site.register(Group, GroupAdmin)
