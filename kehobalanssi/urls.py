from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Kehobalanssi customer register")
admin.site.site_title = _("Kehobalanssi customer register")
admin.site.index_title = _("Register administration")

urlpatterns = [
    path("admin/", admin.site.urls),
]
