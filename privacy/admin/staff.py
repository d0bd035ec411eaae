"""Staff accounts in the admin (privacy notice S13): personal accounts, each with the
date its holder signed the confidentiality commitment."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device

from ..audit import record
from ..enrolment import issue_enrolment_code
from ..groups import STAFF_GROUPS
from ..models import AuditAction, ConfidentialityCommitment
from ..permission_labels import PermissionLabelsMixin
from ..staff import is_owner
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


class StaffUserChangeForm(UserChangeForm):
    """A member of a staff group (Omistaja, Henkilökunta) is staff: without staff status
    the admin would not let them in, whatever their group allows (issue 12, item 7).
    Put in a group, they are made staff; staff status taken away while they stay in the
    group is refused with what to do instead."""

    made_staff = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "groups" in self.fields:
            self.fields["groups"].help_text = _(
                "A member of the Omistaja or Henkilökunta group gets staff status: it lets them "
                "log in to the register. Omistaja may do everything, Henkilökunta the customer "
                "and request work."
            )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        groups = cleaned.get("groups")
        in_staff_group = groups is not None and any(g.name in STAFF_GROUPS for g in groups)
        if in_staff_group and not cleaned.get("is_staff"):
            if "is_staff" in self.changed_data:
                self.add_error(
                    "is_staff",
                    forms.ValidationError(
                        _(
                            "A member of the Omistaja or Henkilökunta group must have staff status. "
                            "To stop this person logging in, untick Active, or take them out of "
                            "the group."
                        ),
                        code="staff_group_needs_staff",
                    ),
                )
            else:
                cleaned["is_staff"] = True
                self.made_staff = True
                self.changed_data.append("is_staff")  # the audit event names it (a cached list)
        return cleaned


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(PermissionLabelsMixin, RegisterModelAdmin, UserAdmin):
    """Personal staff accounts; only the owner (auth permissions) manages them. Audited
    like the register; open before a commitment, as the owner records the commitments."""

    requires_commitment = False
    form = StaffUserChangeForm
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
    change_form_template = "admin/privacy/staff_user_change_form.html"

    @admin.display(description=_("commitment signed"))
    def commitment_signed_on(self, obj):
        commitment = getattr(obj, "confidentiality_commitment", None)
        return commitment.signed_on if commitment else "–"

    def get_deleted_objects(self, objs, request):
        from .second_factor import finnish_deleted_objects

        return finnish_deleted_objects(super().get_deleted_objects(objs, request))

    def get_urls(self):
        view = self.admin_site.admin_view(self.enrolment_code_view)
        return [path("<int:pk>/enrolment-code/", view, name="auth_user_enrolment_code"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_issue_enrolment_code": is_owner(request.user)}
        return super().change_view(request, object_id, form_url, extra_context)

    def enrolment_code_view(self, request, pk):
        """The owner issues a one-time enrolment code (S13): asked on a GET, issued on the
        POST and shown on that page only (never stored, never in a message or a log)."""
        user = get_object_or_404(User, pk=pk)
        if not (is_owner(request.user) and self.has_change_permission(request, user)):
            raise PermissionDenied
        issued = issue_enrolment_code(user=user, issued_by=request.user) if request.method == "POST" else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Enrolment code for a second factor"),
            "opts": self.opts,
            "original": user,
            "issued": issued,
            "has_device": user_has_device(user, confirmed=True),
        }
        return TemplateResponse(request, "admin/privacy/enrolment_code.html", context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if getattr(form, "made_staff", False):
            self.message_user(
                request,
                gettext(
                    "%(user)s is in a staff group, so they were given staff status: "
                    "they can now log in to the register."
                )
                % {"user": obj.get_username()},
                messages.INFO,
            )

    def user_change_password(self, request, id, form_url=""):
        """Setting a staff member's password is audited (the account, never the password)."""
        before = User.objects.filter(pk=id).values_list("password", flat=True).first()
        response = super().user_change_password(request, id, form_url)
        after = User.objects.filter(pk=id).values_list("password", flat=True).first()
        if before is not None and after != before:
            record(action=AuditAction.PASSWORD_SET, actor=request.user, object_type="auth.user", object_id=id)
        return response

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


@admin.register(Group)
class StaffGroupAdmin(PermissionLabelsMixin, RegisterModelAdmin, GroupAdmin):
    """The Omistaja and Henkilökunta groups decide who sees what (S13): every change of a
    group's permissions is audited (field names), like a change of a user's groups. Their
    names are kept (the code finds them by name: privacy.groups), and they are not deleted."""

    requires_commitment = False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.name in STAFF_GROUPS:
            return ["name"]
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.name in STAFF_GROUPS:
            return False
        return super().has_delete_permission(request, obj)
