"""Staff members' second factors in the admin (privacy notice S13): listed, opened and
deleted (a lost phone), never added or changed, and never with their secrets. The
libraries' own admins show a TOTP key, its QR code and the backup codes, with which
the owner could log in as anyone; they are replaced. A deletion is audited; a new
device is enrolled by its holder with an enrolment code (privacy.enrolment)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .base import RegisterModelAdmin

admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)

# The libraries name their fields in English only: shown here under names of our own.
DEVICE_FIELDS = ("holder", "device_name", "in_use", "created", "last_used")


# The library models a deletion summary names (a device, a user's devices and groups).
LIBRARY_MODEL_NAMES = {
    StaticDevice: (_("backup codes"), _("backup codes")),
    TOTPDevice: (_("authenticator app"), _("authenticator apps")),
}


def finnish_deleted_objects(result):
    """Django's summary of what a deletion takes along ("Static devices: 1", "Static device:
    backup (omistaja)"), with the login libraries' models under our own names."""
    from django.contrib.auth.models import User
    from django.utils.text import capfirst

    deleted, counts, perms_needed, protected = result
    names = {**LIBRARY_MODEL_NAMES, User.groups.through: (_("group membership"), _("group memberships"))}
    renamed_counts = {}
    for label, count in counts.items():
        for model, (_singular, plural) in names.items():
            if str(label) == str(model._meta.verbose_name_plural):
                label = plural
        renamed_counts[label] = count

    def rename(item):
        if isinstance(item, list):
            return [rename(part) for part in item]
        text = str(item)
        for model, (singular, _plural) in names.items():
            prefix = f"{capfirst(model._meta.verbose_name)}: "
            if text.startswith(prefix):
                return format_html("{}: {}", capfirst(singular), text[len(prefix) :])
        return item

    return rename(deleted), renamed_counts, perms_needed, protected


class DeviceAdmin(RegisterModelAdmin):
    requires_commitment = False  # staff accounts are the owner's, before commitments too
    list_display = DEVICE_FIELDS
    list_select_related = ["user"]
    fields = DEVICE_FIELDS
    readonly_fields = DEVICE_FIELDS
    title_plural = _("Second factors")

    @admin.display(description=_("staff member"), ordering="user__username")
    def holder(self, obj):
        return obj.user

    @admin.display(description=_("name"))
    def device_name(self, obj):
        return obj.name

    @admin.display(description=_("in use"), boolean=True)
    def in_use(self, obj):
        return obj.confirmed

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj):
        return obj.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, obj):
        return obj.last_used_at

    change_list_template = "admin/second_factor/change_list.html"
    change_form_template = "admin/second_factor/change_form.html"
    delete_confirmation_template = "admin/second_factor/delete_confirmation.html"

    def _names(self, extra_context, **more):
        names = {"device_kind": self.title_plural, "module_name": self.title_plural, **more}
        return {**names, **(extra_context or {})}

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, self._names(extra_context, title=self.title_plural))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = self._names(extra_context, title=self.title_plural)
        return super().change_view(request, object_id, form_url, context)

    def history_view(self, request, object_id, extra_context=None):
        return super().history_view(request, object_id, self._names(extra_context))

    def delete_view(self, request, object_id, extra_context=None):
        return super().delete_view(request, object_id, self._names(extra_context))

    def get_deleted_objects(self, objs, request):
        return finnish_deleted_objects(super().get_deleted_objects(objs, request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AuthenticatorAppAdmin(DeviceAdmin):
    title_plural = _("Authenticator apps")


class BackupCodesAdmin(DeviceAdmin):
    title_plural = _("Backup codes")


admin.site.register(TOTPDevice, AuthenticatorAppAdmin)
admin.site.register(StaticDevice, BackupCodesAdmin)
