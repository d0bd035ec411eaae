from django.urls import path, re_path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.home, name="home"),
    path("privacy/", views.notice, name="notice"),
    path("privacy/request/", views.request_form, name="request"),
    path("privacy/request/confirm/<str:token>/", views.confirm, name="confirm"),
    path("privacy/status/<str:token>/", views.status, name="status"),
    re_path(
        r"^privacy/status/(?P<token>[\w-]+)/report\.(?P<fmt>pdf|json)$", views.report_download, name="report"
    ),
    re_path(
        r"^privacy/status/(?P<token>[\w-]+)/certificate\.pdf$",
        views.certificate_download,
        name="certificate",
    ),
]
