from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from two_factor.urls import urlpatterns as two_factor_urls

from privacy.health import healthz
from privacy.staff import StaffBackupTokensView, StaffDisableView, StaffSetupView, staff_login

urlpatterns = [
    # For the proxy's and a monitor's health check: no language prefix, no session.
    path("healthz", healthz, name="healthz"),
    # Staff log in with password and a second factor (privacy notice S13).
    path(f"{settings.ADMIN_URL}login/", staff_login, name="staff-login"),
    # The first second factor needs the owner's one-time enrolment code, not only the password.
    path(f"{settings.ADMIN_URL}account/two_factor/setup/", StaffSetupView.as_view(), name="staff-setup"),
    # Deleting one's devices and replacing one's backup codes are audited.
    path(
        f"{settings.ADMIN_URL}account/two_factor/disable/", StaffDisableView.as_view(), name="staff-disable"
    ),
    path(
        f"{settings.ADMIN_URL}account/two_factor/backup/tokens/",
        StaffBackupTokensView.as_view(),
        name="staff-backup-tokens",
    ),
    path(settings.ADMIN_URL, include(two_factor_urls)),
    path(settings.ADMIN_URL, admin.site.urls),
]

# Public pages in Finnish (default) and English: /fi/..., /en/...; "/" redirects.
urlpatterns += i18n_patterns(path("", include("privacy.urls")))

# A database outage is a 503 page that says what became of the request; anything else
# the 500 page (privacy/outage.py). Neither reads the database.
handler500 = "privacy.outage.server_error"
# A refusal says why and what to do, in the reader's language (privacy/refusals.py).
handler403 = "privacy.refusals.permission_denied"
