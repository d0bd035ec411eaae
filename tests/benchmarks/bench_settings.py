"""Settings for the gunicorn benchmarks (make bench only, never production): the
register's own settings plus the bare views of tests/benchmarks/bare_views.py, the peers
the public pages are measured against."""

from kehobalanssi.settings import *  # noqa: F403
from kehobalanssi.settings import STORAGES

ROOT_URLCONF = "tests.benchmarks.bench_urls"
# The benchmark serves pages without collectstatic (no manifest to look names up in).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
