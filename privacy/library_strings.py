"""Strings of Django and the libraries that the admin shows, which their own Finnish
catalogues leave untranslated, fuzzy or wrong. Marked here so that `make messages` keeps
them in the project's catalogue (locale/), which is searched first: the translation given
there is the one the pages show. Nothing imports this module's values at run time."""

from django.utils.translation import gettext_noop

LIBRARY_STRINGS = [
    # Django 5.2's admin index and sidebar: the table of each app's models.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
]
