from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from . import auth_events  # noqa: F401 - connects the authentication receivers
        from .hostile_input import register_lookups

        register_lookups()
