"""Staff security (privacy notice S13): personal accounts, a second factor, and a
signed confidentiality commitment before any customer data is shown."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from two_factor.admin import AdminSiteOTPRequired
from two_factor.views import LoginView

NO_COMMITMENT_MESSAGE = _(
    "You cannot see customer, order or request data until the owner has recorded the date "
    "you signed the confidentiality commitment (privacy notice: only staff who have signed "
    "one may handle the register)."
)


def has_commitment(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_has_commitment", None)
    if cached is None:
        from .models import ConfidentialityCommitment

        cached = ConfidentialityCommitment.objects.filter(user_id=user.pk).exists()
        user._has_commitment = cached
    return cached


class RegisterAdminSite(AdminSiteOTPRequired):
    """The admin: a verified second factor is required for every page; a staff member
    without a device is sent to enrol first."""

    site_header = _("Kehobalanssi customer register")
    site_title = _("Kehobalanssi customer register")
    index_title = _("Register administration")

    def index(self, request, extra_context=None):
        extra_context = extra_context or {}
        if not has_commitment(request.user):
            messages.warning(request, NO_COMMITMENT_MESSAGE)
        elif request.user.has_perm("privacy.view_datarequest"):
            from .models import DataRequest

            extra_context["request_counts"] = DataRequest.objects.inbox_counts()
        return super().index(request, extra_context)

    def each_context(self, request):
        context = super().each_context(request)
        context["has_commitment"] = has_commitment(request.user)
        return context


class StaffLoginView(LoginView):
    """two_factor's login wizard, which saves no session for a visitor who only opens the
    page: its GET always starts the wizard afresh (formtools resets the state it keeps in
    the session), so there is nothing to keep until a password is accepted. Otherwise
    every anonymous visit, a crawler's included, would write a session row. The CSRF
    token is a cookie (CSRF_USE_SESSIONS is off), so the form still posts."""

    def get_prefix(self, request, *args, **kwargs):
        return "login_view"  # two_factor's own: the form's field names stay "login_view-..."

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if not request.user.is_authenticated:
            response.render()  # the template reads the wizard's state: render it first
            request.session.pop(self.storage.prefix, None)
        return response


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
    return StaffLoginView.as_view()(request)
