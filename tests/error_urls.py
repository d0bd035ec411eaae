"""The site's URLs plus a page with a bug, for the tests of the 500 page."""

from django.urls import path

from kehobalanssi.urls import urlpatterns as site_urlpatterns


def page_with_a_bug(request):
    raise RuntimeError("a bug that quotes aino@example.fi")


urlpatterns = [
    path("fi/bug/", page_with_a_bug),
    path("en/bug/", page_with_a_bug),
    *site_urlpatterns,
]
handler500 = "privacy.outage.server_error"
