"""The controller and contact person shown on the public notice and in every letter (S1)."""

from __future__ import annotations

from django.contrib import admin

from ..models import ControllerDetails
from .base import RegisterModelAdmin


@admin.register(ControllerDetails)
class ControllerDetailsAdmin(RegisterModelAdmin):
    """One row, edited by the owner. Requesters' mail carries its e-mail address as
    Reply-To, so only staff with a commitment may change it, and every change is audited."""

    deletable = False

    list_display = ["name", "contact_person", "email", "updated_at"]

    def has_add_permission(self, request):
        return not ControllerDetails.objects.exists() and super().has_add_permission(request)
