from django.conf import settings
from django.urls import translate_url
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from .models import ControllerDetails


def public_site(request):
    """Controller details (S1) and the analytics setting (S15) for the public pages; no
    analytics on the pages behind a requester's secret link (privacy.views.private_page)."""
    other = "en" if get_language() == "fi" else "fi"
    return {
        "controller": SimpleLazyObject(ControllerDetails.load),
        "other_language": other,
        "other_language_url": translate_url(request.path, other),
        "analytics_id": "" if getattr(request, "is_private_page", False) else settings.ANALYTICS_ID,
    }
