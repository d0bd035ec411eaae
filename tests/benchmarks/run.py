"""Benchmarks (make bench): speed and memory at the scale of a real register.

Runs against the database DATABASE_URL names (default: a SQLite file in /tmp,
never the development database), with BENCH_CUSTOMERS customers (default
100,000) with 5 orders each. On a shared machine absolute times move several
times over from run to run, so each figure with a target is a ratio to its peer
(what a user would otherwise use), measured in the same run on the same data,
in turns (peer, ours, peer, ours...) so that a load spike hits both; absolute
times are printed for the record only. Prints one line per figure,
`name value unit target met|missed|n/a`, then `bench: N of M targets met`
(targets of the other database are n/a and not counted), and writes the table
for this database to BENCHMARKS.md. Nothing here is a unit test.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.environment import setup_django  # noqa: E402

setup_django()

from django.conf import settings  # noqa: E402

# The benchmark renders admin pages in-process, without collectstatic. Set through
# override_settings so that the storages Django has already made are made again (a
# plain assignment left the manifest storage in place: every admin page failed).
from django.test.utils import override_settings  # noqa: E402

override_settings(
    STORAGES={
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
).enable()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.benchmarks import bench_audit_lock, bench_http, bench_import, bench_outbox  # noqa: E402

N = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
ROUNDS = 5  # turns of peer and ours; each figure is the median of its turns
RESULTS: list[tuple[str, float | None, str, str, str]] = []


def figure(
    name: str,
    value: float | None,
    unit: str,
    target: str = "",
    met: bool | None = None,
    *,
    applies: bool = True,
    only: str = "",
) -> None:
    """One line: `name value unit target verdict`. A target that does not apply to this
    database (`only` names the one it does) is shown as n/a and not counted."""
    verdict = "" if not target else ("n/a" if not applies else ("met" if met else "missed"))
    shown_target = f"{target} ({only} only)" if target and only else target
    RESULTS.append((name, value, unit, shown_target, verdict))
    print(f"{name} {_shown(value)} {unit} {target or '-'} {verdict or '-'}", flush=True)


def _shown(value: float | None, thousands: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:{thousands}d}"
    return f"{value:.3f}" if value < 100 else f"{value:{thousands}.0f}"


def in_turns(rounds: int, peer, ours) -> tuple[float, float]:
    """Medians of `rounds` timings of each, taken in turns."""
    peer_times, our_times = [], []
    for _ in range(rounds):
        peer_times.append(peer())
        our_times.append(ours())
    return statistics.median(peer_times), statistics.median(our_times)


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
    """The label CSV against PostgreSQL's own COPY of the same rows to CSV."""
    from customers.labels import (
        LABEL_FIELDS,
        LabelFilters,
        csv_chunks,
        cut_labels,
        excel_csv_chunks,
        label_selection,
        python_csv_chunks,
        write_pdf,
    )

    queryset = label_selection(LabelFilters(), with_counts=False).customers
    # The memory pass comes first and also warms the database's cache and the code, so
    # the CSV export and COPY below are timed alike (tracing slows the code it watches).
    tracemalloc.start()
    for _chunk in csv_chunks(queryset):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    def export_csv() -> float:
        return timed(lambda: [None for _chunk in csv_chunks(queryset)])

    figure("labels_csv_rows", queryset.count(), "rows")
    figure("labels_csv_peak_memory", peak / 2**20, "MB", "<100", peak / 2**20 < 100)
    if connection.vendor == "postgresql":
        sql, params = queryset.values_list(*LABEL_FIELDS).query.sql_with_params()

        def copy() -> float:
            def run() -> None:
                with connection.cursor() as cursor:
                    with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV", params) as stream:
                        for _block in stream:
                            pass

            return timed(run)

        copy_time, csv_time = in_turns(ROUNDS, copy, export_csv)
        figure("labels_csv_time", csv_time, "s")
        figure("postgres_copy_time", copy_time, "s")
        # For the record: the Python writer SQLite uses, on the same rows.
        figure("labels_csv_python_writer_time", timed(lambda: list(python_csv_chunks(queryset))), "s")
        ratio = csv_time / copy_time
        figure("labels_csv_vs_copy", ratio, "x", "<=1.5", ratio <= 1.5)
    else:
        figure("labels_csv_time", statistics.median(export_csv() for _ in range(ROUNDS)), "s")
        figure("labels_csv_vs_copy", None, "x", "<=1.5", applies=False, only="PostgreSQL")
    # For the record: the CSV for Excel (always the Python writer), the labels page's
    # check of which labels the PDF must cut (every label fitted, nothing drawn), a PDF.
    figure("labels_excel_csv_time", timed(lambda: [None for _chunk in excel_csv_chunks(queryset)]), "s")
    figure("labels_page_cut_check_time", timed(lambda: cut_labels(queryset)), "s")
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


def captured_queries(client: Client, url: str) -> list[tuple[str, tuple]]:
    """The SQL and parameters a page sends, as Django sends them."""
    queries = []

    def capture(execute, sql, params, many, context):
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return queries


def is_list_query(sql: str) -> bool:
    """The change list's main SELECT (a page of customers) or its COUNT."""
    table = 'FROM "customers_customer"'
    return table in sql and ("COUNT(*)" in sql or " LIMIT " in sql)


def bare_sql_ms(queries: list[tuple[str, tuple]]) -> float:
    """The database's own time for these queries: PostgreSQL's EXPLAIN ANALYZE
    execution time; on SQLite, the statements run and fetched straight through the
    cursor, timed."""
    total = 0.0
    with connection.cursor() as cursor:
        for sql, params in queries:
            if connection.vendor == "postgresql":
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                total += plan[0]["Execution Time"]
            else:
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                total += (time.perf_counter() - started) * 1000
    return total


def page_against_sql(client: Client, url: str) -> tuple[float, float, int, int]:
    """The page's time and the bare SQL of its main SELECT and COUNT, in turns (ms), with
    the page's query count and how many of them are the bare SQL."""
    queries = captured_queries(client, url)
    bare = [q for q in queries if is_list_query(q[0])]

    def page() -> float:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return elapsed

    page()  # warm
    sql_ms, page_ms = in_turns(15, lambda: bare_sql_ms(bare), page)
    return page_ms, sql_ms, len(queries), len(bare)


def bench_admin() -> None:
    from customers.models import Customer

    client = owner_client()
    page_ms, sql_ms, queries, bare = page_against_sql(client, "/admin/customers/customer/")
    figure("admin_list_first_page", page_ms, "ms")
    figure("admin_list_first_page_sql", sql_ms, "ms")
    figure("admin_list_first_page_vs_sql", page_ms / sql_ms, "x")
    figure("admin_list_first_page_queries", queries, "queries")
    surname = Customer.objects.order_by("pk").values_list("last_name", flat=True).first()
    page_ms, sql_ms, queries, bare = page_against_sql(client, f"/admin/customers/customer/?q={surname}")
    assert bare in (1, 2), bare  # the SELECT, and its COUNT when the matches fill more than a page
    figure("admin_search_surname", page_ms, "ms")
    figure("admin_search_surname_sql", sql_ms, "ms")
    ratio = page_ms / sql_ms
    figure("admin_search_surname_vs_sql", ratio, "x", "<=3", ratio <= 3)
    figure("admin_search_surname_queries", queries, "queries", "<=15", queries <= 15)
    bench_front_page(client)


def bench_front_page(client: Client) -> None:
    """The front page ("Tänään", privacy/today.py): its server time against the customer
    list's first page (the page staff open most), in turns, and its query count, which
    stays the same whatever the register's size."""

    def get(url: str):
        def page() -> float:
            started = time.perf_counter()
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return (time.perf_counter() - started) * 1000

        return page

    get("/admin/")()  # warm
    list_ms, front_ms = in_turns(15, get("/admin/customers/customer/"), get("/admin/"))
    queries = len(captured_queries(client, "/admin/"))
    figure("admin_front_page", front_ms, "ms")
    figure("admin_front_page_vs_customer_list", front_ms / list_ms, "x", "<=1.5", front_ms / list_ms <= 1.5)
    figure("admin_front_page_queries", queries, "queries", "<=30", queries <= 30)


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
        figure("access_report_json_1000_orders", ms, "ms")
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
        "Ratios are against a peer measured in the same run, in turns; absolute times are",
        "for the record (they move several times over on a shared machine).",
        "",
        "| figure | value | unit | target | |",
        "|---|---:|---|---|---|",
    ]
    for name, value, unit, target, verdict in RESULTS:
        table.append(f"| {name} | {_shown(value, ',')} | {unit} | {target} | {verdict} |")
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


def bench_http_load() -> None:
    # A few thousand requests in all, whatever the register's size.
    bench_http.run(figure, os.environ["DATABASE_URL"], vendor=connection.vendor, posts=400, rounds=3)


def bench_audit_lock_load() -> None:
    client = owner_client()  # the owner's verified session, in the database gunicorn reads
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    bench_audit_lock.run(figure, os.environ["DATABASE_URL"], vendor=connection.vendor, staff_cookie=cookie)


BENCHES = {
    "labels": bench_labels,
    "admin": bench_admin,
    "privacy": bench_privacy,
    "import": lambda: bench_import.run(figure, N),
    "http": bench_http_load,
    "audit_lock": bench_audit_lock_load,
    # Issue 13: no mail lost and no 5xx while the mail server hangs; slow clients behind
    # the reference nginx (tests/benchmarks/bench_outbox.py).
    "outbox": lambda: bench_outbox.run_outbox(figure, os.environ["DATABASE_URL"]),
    "slow_clients": lambda: bench_outbox.run_slow_clients(figure, os.environ["DATABASE_URL"]),
}


def main() -> int:
    # BENCH_ONLY=labels,admin runs only those (while working on them); the table in
    # BENCHMARKS.md is written by full runs only.
    only = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
    prepare()
    for name, bench in BENCHES.items():
        if not only or name in only:
            bench()
    counted = [r for r in RESULTS if r[4] in ("met", "missed")]
    met = sum(1 for r in counted if r[4] == "met")
    print(f"bench: {met} of {len(counted)} targets met", flush=True)
    if not only:
        write_markdown(met, len(counted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
