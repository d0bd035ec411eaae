"""Staff members' second factors in the admin (privacy notice S13): listed, opened and
deleted (a lost phone), never added or changed, and never with their secrets. The
libraries' own admins show a TOTP key, its QR code and the backup codes, with which
the owner could log in as anyone; they are replaced. A deletion is audited; a new
device is enrolled by its holder with an enrolment code (privacy.enrolment)."""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .base import RegisterModelAdmin

admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)

DEVICE_FIELDS = ("user", "name", "confirmed", "created_at", "last_used_at")


class DeviceAdmin(RegisterModelAdmin):
    requires_commitment = False  # staff accounts are the owner's, before commitments too
    list_display = DEVICE_FIELDS
    list_select_related = ["user"]
    fields = DEVICE_FIELDS
    readonly_fields = DEVICE_FIELDS

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.register(TOTPDevice, DeviceAdmin)
admin.site.register(StaticDevice, DeviceAdmin)
