"""The controller and contact person shown on the public notice and in every letter (S1)."""

from __future__ import annotations

from django.contrib import admin

from ..models import ControllerDetails
from ..staff import is_owner
from .base import RegisterModelAdmin


@admin.register(ControllerDetails)
class ControllerDetailsAdmin(RegisterModelAdmin):
    """One row, edited by the owner. Requesters' mail carries its e-mail address as
    Reply-To and the public notice shows it, so only the owner, with a commitment on
    record, may change it (staff see it); every change is audited."""

    deletable = False

    list_display = ["name", "contact_person", "email", "updated_at"]

    def has_add_permission(self, request):
        return (
            not ControllerDetails.objects.exists()
            and is_owner(request.user)
            and super().has_add_permission(request)
        )

    def has_change_permission(self, request, obj=None):
        return is_owner(request.user) and super().has_change_permission(request, obj)
