from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from customers.models import Customer

        from . import auth_events  # noqa: F401 - connects the authentication receivers
        from .suppression import on_customer_saved

        post_save.connect(on_customer_saved, sender=Customer, dispatch_uid="privacy.suppression")
