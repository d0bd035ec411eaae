"""Permissions named in the user's language on the staff user and group pages.

Django stores each permission's name in English when it creates it ("Can add log entry"),
so the admin's permission lists read English whatever the language. Here each permission
is named at display time: the app and the model by their translated names, the action
by its codename's verb; a permission of the project's own (Meta.permissions) by its
translated name.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import Permission
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "add": _("may add"),
    "change": _("may change"),
    "delete": _("may delete"),
    "view": _("may view"),
}


def permission_label(permission: Permission) -> str:
    content_type = permission.content_type
    model = content_type.model_class()
    try:
        app = str(apps.get_app_config(content_type.app_label).verbose_name)
    except LookupError:
        app = content_type.app_label
    from .staff import LOGIN_PROTECTION_NAMES  # the login libraries' models, named in Finnish

    if model is None:
        things = content_type.model
    else:
        things = capfirst(str(LOGIN_PROTECTION_NAMES.get(model.__name__, model._meta.verbose_name_plural)))
    action, _sep, model_name = permission.codename.partition("_")
    if action in ACTIONS and model_name == content_type.model:
        what = str(ACTIONS[action])
    else:
        what = gettext(permission.name)
    return f"{capfirst(app)} | {things} | {what}"


class PermissionLabelsMixin:
    """For a ModelAdmin of users or groups: their permission lists read in the user's
    language."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None and db_field.name in ("permissions", "user_permissions"):
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label
        return field
