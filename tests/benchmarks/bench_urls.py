"""The register's URLs plus the benchmark's bare views (bench_settings only)."""

from django.urls import path

from kehobalanssi.urls import urlpatterns as register_urlpatterns
from tests.benchmarks import bare_views

urlpatterns = [
    path("bench/bare/insert/", bare_views.insert, name="bench-bare-insert"),
    path("bench/bare/read/", bare_views.read, name="bench-bare-read"),
    *register_urlpatterns,
]
