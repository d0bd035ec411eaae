from django.contrib.admin.apps import AdminConfig


class RegisterAdminConfig(AdminConfig):
    """The admin site requires a second factor (privacy.staff.RegisterAdminSite)."""

    default_site = "privacy.staff.RegisterAdminSite"
