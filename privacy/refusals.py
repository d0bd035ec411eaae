"""Refusal pages that say why and what to do (issue 12, item 7), in the reader's
language, instead of Django's bare English "403 Forbidden". In the admin the reason is
told apart: no confidentiality commitment on record yet (the owner records it), or no
permission for the page (the owner grants it in the groups). No personal data, no path
or traceback on the page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from .staff import has_commitment, is_owner


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    user = getattr(request, "user", None)
    in_admin = request.path.startswith(f"/{settings.ADMIN_URL}")
    if not (in_admin and user is not None and user.is_authenticated and user.is_active and user.is_staff):
        response = TemplateResponse(request, "403.html", {}, status=403)
        return response.render()
    if not has_commitment(user):
        reason = "commitment"
        title = _("Your confidentiality commitment is not on record yet")
        advice = [
            _(
                "Customer, order and request data is shown only to staff who have signed the "
                "confidentiality commitment (privacy notice)."
            ),
            _(
                "Sign the commitment and give it to the owner: the owner records its date on your "
                "user account (Users, your user name, Confidentiality commitment). Then open this "
                "page again."
            ),
        ]
    else:
        reason = "permission"
        title = _("You do not have permission for this page")
        advice = [
            _("Your user account's groups do not allow this page or this step."),
            _("The owner decides who may do what: if your work needs this page, ask the owner.")
            if not is_owner(user)
            else _("Give the permission to a group under Groups, if this work needs it."),
        ]
    context = {
        **admin.site.each_context(request),
        "title": title,
        "reason": reason,
        "advice": advice,
    }
    return TemplateResponse(request, "admin/refused.html", context, status=403).render()
