"""Benchmarks (make bench): speed and memory at the scale of a real register.

Runs against the database DATABASE_URL names (default: a SQLite file in /tmp,
never the development database), with BENCH_CUSTOMERS customers (default
100,000) with 5 orders each. Prints one line per figure,
`name value unit target met|missed`, then `bench: N of M targets met`, and
writes the table for this database to BENCHMARKS.md. Ratios are measured in
the same run; nothing here is a unit test.
"""

from __future__ import annotations

import datetime
import io
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehobalanssi.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/kehobalanssi-bench.sqlite3")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-use-123")
os.environ.setdefault("DJANGO_READ_DOT_ENV", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# The benchmark renders admin pages in-process, without collectstatic.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.benchmarks import bench_import  # noqa: E402

N = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
RESULTS: list[tuple[str, float | None, str, str, bool | None]] = []


def figure(name: str, value: float | None, unit: str, target: str = "", met: bool | None = None) -> None:
    RESULTS.append((name, value, unit, target, met))
    shown = "n/a" if value is None else (f"{value:.3f}" if value < 100 else f"{value:.0f}")
    verdict = "" if met is None else ("met" if met else "missed")
    print(f"{name} {shown} {unit} {target or '-'} {verdict or '-'}".rstrip(), flush=True)


def prepare() -> None:
    from customers.demo import seed_demo
    from customers.models import Customer, Order

    call_command("migrate", verbosity=0)
    if Customer.objects.count() != N:
        print(f"seeding {N} customers with 5 orders each...", flush=True)
        Order.objects.all().delete()
        Customer.objects.all().delete()
        started = time.perf_counter()
        seed_demo(customers=N, orders_per_customer=5, seed=42)
        figure("seed_demo", time.perf_counter() - started, "s")
    # A register that has been in use has planner statistics, and on PostgreSQL
    # autovacuum has cleared dead rows; a freshly seeded one not yet, and each bench's
    # own rolled-back import leaves 100,000 dead rows and their index entries behind.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def bench_labels() -> None:
    from customers.labels import LABEL_FIELDS, LabelFilters, csv_chunks, label_selection, write_pdf

    queryset = label_selection(LabelFilters(), with_counts=False).customers
    # The memory pass comes first and also warms the database's cache and the code, so
    # the CSV export and COPY below are timed alike (tracing slows the code it watches).
    tracemalloc.start()
    for _chunk in csv_chunks(queryset):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    def export_csv() -> None:
        for _chunk in csv_chunks(queryset):
            pass

    copy = None
    if connection.vendor == "postgresql":
        sql, params = queryset.values_list(*LABEL_FIELDS).query.sql_with_params()

        def copy() -> None:
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV", params) as stream:
                    for _block in stream:
                        pass

    # Median of three runs each, taken in turns, so a passing hiccup moves neither figure.
    csv_times, copy_times = [], []
    for _ in range(3):
        csv_times.append(timed(export_csv))
        if copy is not None:
            copy_times.append(timed(copy))
    elapsed = statistics.median(csv_times)
    figure("labels_csv_rows", queryset.count(), "rows")
    figure("labels_csv_time", elapsed, "s")
    figure("labels_csv_peak_memory", peak / 2**20, "MB", "<100", peak / 2**20 < 100)
    if copy is not None:
        copy_time = statistics.median(copy_times)
        figure("postgres_copy_time", copy_time, "s")
        ratio = elapsed / copy_time
        figure("labels_csv_vs_copy", ratio, "x", "<=3", ratio <= 3)
    else:
        figure("labels_csv_vs_copy", None, "x", "<=3 (PostgreSQL only)")
    started = time.perf_counter()
    write_pdf(queryset[:10_000], io.BytesIO())
    figure("labels_pdf_10k_time", time.perf_counter() - started, "s")


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def owner_client() -> Client:
    from django.contrib.auth import get_user_model
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from privacy.models import ConfidentialityCommitment

    user, _ = get_user_model().objects.get_or_create(
        username="bench-owner", defaults={"is_staff": True, "is_superuser": True}
    )
    ConfidentialityCommitment.objects.get_or_create(
        user=user, defaults={"signed_on": datetime.date(2026, 1, 1)}
    )
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def timed_page(client: Client, url: str, repeat: int = 15) -> tuple[float, int]:
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return statistics.median(times) * 1000, queries


def bench_admin() -> None:
    from customers.models import Customer

    client = owner_client()
    ms, queries = timed_page(client, "/admin/customers/customer/")
    figure("admin_list_first_page", ms, "ms", "<=150", ms <= 150)
    figure("admin_list_first_page_queries", queries, "queries")
    surname = Customer.objects.order_by("pk").values_list("last_name", flat=True).first()
    ms, queries = timed_page(client, f"/admin/customers/customer/?q={surname}")
    figure("admin_search_surname", ms, "ms", "<=150", ms <= 150)
    figure("admin_search_surname_queries", queries, "queries")


def customer_with_orders(count: int = 1000):
    from customers.models import Customer, Order

    customer = Customer.objects.create(
        first_name="Pitkä", last_name="Asiakassuhde", email="pitka@bench.example", source="shop_purchase"
    )
    today = timezone.localdate()
    Order.objects.bulk_create(
        Order(
            customer=customer,
            order_number=f"BENCH-{customer.pk}-{i}",
            ordered_on=today - datetime.timedelta(days=i * 3),
            channel="shop",
            total=10,
        )
        for i in range(count)
    )
    return customer


def bench_privacy() -> None:
    from privacy.access_report import build_access_report, report_json
    from privacy.erasure import erase_customer

    with transaction.atomic():
        customer = customer_with_orders()
        times = []
        for _ in range(7):
            started = time.perf_counter()
            report_json(build_access_report([customer], language="fi"))
            times.append(time.perf_counter() - started)
        ms = statistics.median(times) * 1000
        figure("access_report_json_1000_orders", ms, "ms", "<=300", ms <= 300)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            outcome = erase_customer(customer, actor=None)
            elapsed = time.perf_counter() - started
        assert outcome.completed
        figure("erasure_1000_orders", elapsed, "s")
        figure("erasure_1000_orders_queries", len(captured), "queries")
        transaction.set_rollback(True)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}; "
        f"{connection.vendor} {version}"
    )


def write_markdown(met: int, total: int) -> None:
    path = ROOT / "BENCHMARKS.md"
    vendor = connection.vendor
    start, end = f"<!-- {vendor} start -->", f"<!-- {vendor} end -->"
    table = [
        start,
        f"## {vendor} ({N:,} customers, 5 orders each)",
        "",
        f"Measured {timezone.now():%Y-%m-%d %H:%M} UTC on {machine()}.",
        "",
        "| figure | value | unit | target | |",
        "|---|---:|---|---|---|",
    ]
    for name, value, unit, target, ok in RESULTS:
        shown = "n/a" if value is None else (f"{value:.3f}" if value < 100 else f"{value:,.0f}")
        table.append(
            f"| {name} | {shown} | {unit} | {target} | {'' if ok is None else ('met' if ok else 'missed')} |"
        )
    table += ["", f"{met} of {total} targets met.", end]
    text = (
        path.read_text()
        if path.exists()
        else (
            "# Benchmarks\n\n`make bench` writes these tables (one per database); "
            "see tests/benchmarks/run.py.\n\n"
        )
    )
    if start in text:
        before, rest = text.split(start, 1)
        text = before + "\n".join(table) + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + "\n".join(table) + "\n"
    path.write_text(text)


def main() -> int:
    prepare()
    bench_labels()
    bench_admin()
    bench_privacy()
    bench_import.run(figure, N)
    targets = [r for r in RESULTS if r[4] is not None]
    met = sum(1 for r in targets if r[4])
    total = len(targets) + sum(1 for r in RESULTS if r[4] is None and r[3])
    print(f"bench: {met} of {total} targets met", flush=True)
    write_markdown(met, total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
