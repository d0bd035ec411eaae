"""Staff security (privacy notice S13): personal accounts, a second factor, and a
signed confidentiality commitment before any customer data is shown."""

from __future__ import annotations

import functools
import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device
from two_factor.admin import AdminSiteOTPRequired
from two_factor.forms import MethodForm
from two_factor.views import BackupTokensView, DisableView, LoginView, SetupView

from .forms import EnrolmentCodeForm

NO_COMMITMENT_MESSAGE = _(
    "You cannot see customer, order or request data until the owner has recorded the date "
    "you signed the confidentiality commitment (privacy notice: only staff who have signed "
    "one may handle the register)."
)


# The one spelling of an object id in an admin address: the id as the database has it.
CANONICAL_ID = re.compile(r"[1-9][0-9]{0,17}")


def is_owner(user) -> bool:
    """The owner: a member of the Owner group (or the superuser `create_owner` made)."""
    from .groups import OWNER_GROUP

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=OWNER_GROUP).exists()


def has_commitment(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_has_commitment", None)
    if cached is None:
        from .models import ConfidentialityCommitment

        cached = ConfidentialityCommitment.objects.filter(user_id=user.pk).exists()
        user._has_commitment = cached
    return cached


# The order of the menu, and the library apps gathered under "Login protection".
APP_ORDER = ["customers", "privacy", "auth"]
LOGIN_PROTECTION_APPS = {"axes", "otp_static", "otp_totp"}
LOGIN_PROTECTION_NAMES = {
    "AccessAttempt": _("Failed logins and lockouts"),
    "AccessFailureLog": _("Failed login log"),
    "AccessLog": _("Login log"),
    "StaticDevice": _("Backup codes"),
    "TOTPDevice": _("Authenticator apps"),
}


class RegisterAdminSite(AdminSiteOTPRequired):
    """The admin: a verified second factor is required for every page; a staff member
    without a device is sent to enrol first."""

    site_header = _("Kehobalanssi customer register")
    site_title = _("Kehobalanssi customer register")
    index_title = _("Register administration")

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every list, ours and the libraries', answers a hostile address without a 500.
        from django.contrib.admin import ModelAdmin

        from .hostile_input import SafeListMixin

        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, SafeListMixin):
            namespace = {"__module__": admin_class.__module__}
            admin_class = type(admin_class.__name__, (SafeListMixin, admin_class), namespace)
        super().register(model_or_iterable, admin_class, **options)

    def admin_view(self, view, cacheable=False):
        """Every admin page, with an object's id in its address only in the canonical
        form: Django would also open customer 3 at `+3`, ` 3` or `03`, and customer 30
        at `3_0` (int() reads all of them), so one page would have many addresses."""

        @functools.wraps(view)
        def canonical_ids_only(request, *args, **kwargs):
            if not _canonical_object_id(request, kwargs):
                raise Http404
            return view(request, *args, **kwargs)

        return super().admin_view(canonical_ids_only, cacheable)

    def index(self, request, extra_context=None):
        """The front page: "Today" (what is due, what waits, the daily tasks) for staff who
        have signed the confidentiality commitment, then the menu."""
        extra_context = extra_context or {}
        if not has_commitment(request.user):
            messages.warning(request, NO_COMMITMENT_MESSAGE)
        else:
            from .today import front_page

            extra_context.update(front_page(request.user), today_page=True)
        return super().index(request, extra_context)

    def get_app_list(self, request, app_label=None):
        """The register first, then data protection and the staff accounts; the login
        libraries' tables (lockouts, second-factor devices) in one section of their own
        under Finnish names, for the owner only."""
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] in LOGIN_PROTECTION_APPS:
                for model in app["models"]:
                    model["name"] = LOGIN_PROTECTION_NAMES.get(model["object_name"], model["name"])
        if app_label is not None:
            return app_list
        protection = [app for app in app_list if app["app_label"] in LOGIN_PROTECTION_APPS]
        rest = [app for app in app_list if app not in protection]
        rest.sort(key=lambda app: APP_ORDER.index(app["app_label"]) if app["app_label"] in APP_ORDER else 99)
        models = [model for app in protection for model in app["models"]]
        if models and is_owner(request.user):
            rest.append(
                {
                    "name": _("Login protection"),
                    "app_label": "login_protection",
                    "app_url": models[0]["admin_url"],
                    "has_module_perms": True,
                    "models": models,
                }
            )
        return rest

    def autocomplete_view(self, request):
        return RegisterAutocompleteView.as_view(admin_site=self)(request)

    def password_change(self, request, extra_context=None):
        """A staff member's own new password is in the audit log (never the password)."""
        from .audit import record
        from .models import AuditAction

        response = super().password_change(request, extra_context)
        if request.method == "POST" and response.status_code == 302:
            record(action=AuditAction.PASSWORD_SET, actor=request.user, obj=request.user)
        return response

    def each_context(self, request):
        context = super().each_context(request)
        context["has_commitment"] = has_commitment(request.user)
        return context


class RegisterAutocompleteView(AutocompleteJsonView):
    """Django's autocomplete, each result labelled by its model admin where it says how
    (a customer's city and e-mail tell two people of one name apart)."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)  # type: ignore[misc]  # not in django-stubs
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label is not None:
            result["text"] = label(obj)
        return result


NOT_STAFF_MESSAGE = _(
    "This account cannot use the register yet: it has no staff status. Ask the owner to put "
    "it in the Henkilökunta group (Users, your user name, Groups), then log in again."
)


class StaffAuthenticationForm(AuthenticationForm):
    """The password step admits staff only, before a second factor is enrolled or asked:
    an account without staff status would otherwise enrol, type the right code and land
    back on an empty login page (the admin lets staff only in)."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise forms.ValidationError(NOT_STAFF_MESSAGE, code="not_staff")


class StaffLoginView(LoginView):
    """two_factor's login wizard, which saves no session for a visitor who only opens the
    page: its GET always starts the wizard afresh (formtools resets the state it keeps in
    the session), so there is nothing to keep until a password is accepted. Otherwise
    every anonymous visit, a crawler's included, would write a session row. The CSRF
    token is a cookie (CSRF_USE_SESSIONS is off), so the form still posts."""

    form_list = (
        (LoginView.AUTH_STEP, StaffAuthenticationForm),
        *((step, form) for step, form in LoginView.form_list if step != LoginView.AUTH_STEP),
    )

    def get_prefix(self, request, *args, **kwargs):
        return "login_view"  # two_factor's own: the form's field names stay "login_view-..."

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if not request.user.is_authenticated:
            response.render()  # the template reads the wizard's state: render it first
            request.session.pop(self.storage.prefix, None)
        return response


def _canonical_object_id(request: HttpRequest, kwargs: dict) -> bool:
    for name in ("object_id", "id"):  # a model admin's own pages: the id as typed
        if name in kwargs:
            return bool(CANONICAL_ID.fullmatch(kwargs[name]))
    if "pk" in kwargs:  # our own object pages (`<int:pk>/...`): int() has read "03" as 3
        segments = request.path_info.removeprefix(f"/{settings.ADMIN_URL}").split("/")
        return len(segments) > 2 and bool(CANONICAL_ID.fullmatch(segments[2]))
    return True


def staff_login(request: HttpRequest):
    """The admin's login: password, then the second factor; a staff member who has
    no second factor yet is sent to enrol (QR code) before anything else."""
    user = request.user
    if user.is_authenticated and user.is_active and user.is_staff:
        if user.is_verified():  # type: ignore[attr-defined]  # added by django_otp's OTPMiddleware
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = reverse("admin:index")
            return HttpResponseRedirect(target)
        if not user_has_device(user):
            return HttpResponseRedirect(reverse("two_factor:setup"))
    elif user.is_authenticated:
        # Logged in before losing staff status (or before it was required here): say why
        # the admin does not open, and start again from the password.
        logout(request)
        messages.error(request, NOT_STAFF_MESSAGE)
    return StaffLoginView.as_view()(request)


class StaffSetupView(SetupView):
    """The library's enrolment wizard with one step more before the QR code: the
    one-time enrolment code the owner issued (`privacy.enrolment`). No step after it
    is shown, nor its secret made, until the code is accepted; the code is used up
    when the device is saved, in the same transaction, and both are audited."""

    form_list = (("welcome", forms.Form), ("code", EnrolmentCodeForm), ("method", MethodForm))

    def process_step(self, form):
        if self.steps.current == "code":
            self.storage.extra_data["enrolment_code_accepted"] = True
        return super().process_step(form)

    def render(self, form=None, **kwargs):
        # Covers every way to a step (next, back, a posted wizard_goto_step).
        accepted = self.storage.extra_data.get("enrolment_code_accepted")
        if self.steps.current not in ("welcome", "code") and not accepted:
            return self.render_goto_step("code")
        return super().render(form, **kwargs)

    @transaction.atomic
    def done(self, form_list, **kwargs):
        from .audit import record
        from .enrolment import redeem_enrolment_code
        from .models import AuditAction

        user = self.request.user
        code = next(f.cleaned_data["code"] for f in form_list if isinstance(f, EnrolmentCodeForm))
        if not redeem_enrolment_code(user=user, code=code):  # used by another session meanwhile
            self.storage.reset()
            messages.error(
                self.request, _("The enrolment code was used meanwhile. Ask the owner for a new one.")
            )
            return redirect("two_factor:setup")
        response = super().done(form_list, **kwargs)
        record(
            action=AuditAction.OTP_ENROLLED,
            actor=user,
            object_type="auth.user",
            object_id=user.pk,
            fields=["enrolment_code"],
        )
        return response


class StaffDisableView(DisableView):
    """Switching one's own second factor off deletes its devices: audited, and a new
    device then needs an enrolment code from the owner like the first one."""

    @transaction.atomic
    def form_valid(self, form):
        from .audit import record
        from .models import AuditAction

        user = self.request.user
        devices = [(device._meta.label_lower, device.pk) for device in devices_for_user(user)]
        response = super().form_valid(form)
        for label, pk in devices:
            record(action=AuditAction.DELETE, actor=user, object_type=label, object_id=pk)
        return response


class StaffBackupTokensView(BackupTokensView):
    """New backup codes replace the old ones: audited (the device, never a code)."""

    @transaction.atomic
    def form_valid(self, form):
        from .audit import record
        from .models import AuditAction

        response = super().form_valid(form)
        record(action=AuditAction.CHANGE, actor=self.request.user, obj=self.get_device(), fields=["tokens"])
        return response
