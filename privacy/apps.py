from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def create_cache_table(sender, using: str, **kwargs) -> None:
    """The database cache's table (the default cache, privacy/shared_cache.py) is made by
    `migrate`, so a new installation, `make run` and CI need no extra command. Does nothing
    when the table exists or the cache is not the database."""
    call_command("createcachetable", database=using, verbosity=0)


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from . import auth_events  # noqa: F401 - connects the authentication receivers
        from .hostile_input import register_lookups

        register_lookups()
        # The login libraries' apps, as the admin's breadcrumbs name them (their own names
        # are "Axes", "Otp_Totp", "Otp_Static"); an app's name is not in any migration.
        from django.apps import apps

        for label in ("axes", "otp_totp", "otp_static"):
            if label in apps.app_configs:
                apps.get_app_config(label).verbose_name = _("Login protection")
        post_migrate.connect(create_cache_table, sender=self)
