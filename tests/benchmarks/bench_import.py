"""Benchmark: the app's customer import against django-import-export's (issue 11).

One CSV file of min(N, 100,000) rows, half of them existing customers matched by
e-mail (their street address changes), half new people, is imported three ways,
each inside a transaction that is rolled back, in the same run (BENCH_IMPORT_REPEAT
times, default 3, for the first two, in turns; the median counts):

1. the app's import (customers.imports.import_customers): matches by e-mail, phone
   and name with postal code, validates every row with Customer.full_clean, writes
   the change history and the audit event;
2. django-import-export's plain ModelResource for Customer with its defaults (the
   file's fields, import_id_fields = email so that it matches); it is slow, so it
   runs on a subsample (BENCH_IMPORT_DEFAULT_ROWS, default 10,000, same half-and-half
   mix; a rate is a rate), with the project's IMPORT_EXPORT_USE_TRANSACTIONS = True
   (a savepoint per row; a figure without transactions is printed too);
3. the same resource with the fastest options its documentation lists under
   "Performance tuning": use_bulk, skip_diff and CachedInstanceLoader (the existing
   instances in memory). force_init_instance does not apply: it stops the lookup
   of existing instances, so the half of the file that are updates would be
   inserted again as duplicates.

Neither peer validates the rows (clean_model_instances is off by default) nor
records history. Called from tests/benchmarks/run.py as run(figure, N); also
runnable on its own (`python tests/benchmarks/bench_import.py`, same environment
as run.py; BENCH_PROFILE=1 prints a cProfile of the app's import).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # the same set-up as run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.benchmarks.environment import setup_django

    setup_django()

import csv  # noqa: E402
import io  # noqa: E402
import statistics  # noqa: E402

from django.db import connection, transaction  # noqa: E402

COLUMNS = ["first_name", "last_name", "email", "street_address", "postal_code", "city"]


def bench_file(rows: int) -> tuple[list[list[str]], list[list[str]]]:
    """The updates (existing customers by e-mail, a new street address) and the new rows."""
    from customers.models import Customer

    existing = Customer.objects.exclude(email="").order_by("pk")
    updates = [
        [first, last, email, "Päivitetty katu 1", postal, city]
        for first, last, email, postal, city in existing.values_list(
            "first_name", "last_name", "email", "postal_code", "city"
        )[: rows // 2]
    ]
    new = [
        [
            "Uusi",
            f"Tuotava{i}",
            f"uusi{i}@bench.example",
            f"Tuontitie {i % 90 + 1}",
            f"{i % 99999:05d}",
            "Espoo",
        ]
        for i in range(rows - len(updates))
    ]
    return updates, new


def as_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def rolled_back(work) -> tuple[float, object]:
    """Seconds `work` takes inside a transaction that is then rolled back."""
    with transaction.atomic():
        started = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    if connection.vendor == "postgresql":  # the rolled-back rows are dead rows: clear them
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE customers_customer")
    return elapsed, result


def peer_resource(*, fastest: bool):
    from import_export import resources
    from import_export.instance_loaders import CachedInstanceLoader

    from customers.models import Customer

    class Meta:
        model = Customer
        fields = tuple(COLUMNS)
        import_id_fields = ("email",)

    if fastest:
        Meta.use_bulk = True
        Meta.skip_diff = True
        Meta.instance_loader_class = CachedInstanceLoader
    return type("BenchCustomerResource", (resources.ModelResource,), {"Meta": Meta})


def peer_import(content: bytes, *, fastest: bool, **options):
    from import_export.formats.base_formats import CSV

    def work():
        dataset = CSV(encoding="utf-8").create_dataset(content.decode("utf-8"))
        resource = peer_resource(fastest=fastest)()
        return resource.import_data(dataset, dry_run=False, raise_errors=True, **options)

    return work


def app_import(content: bytes):
    from customers.imports import import_customers

    return lambda: import_customers(content=content, source="import", actor=None)


def profile_app(content: bytes) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    with transaction.atomic():
        profiler.runcall(app_import(content))
        transaction.set_rollback(True)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def bench_update_statements(figure, emails: list[str]) -> None:
    """The import's UPDATE of the changed columns (customers.imports._update_rows)
    against Django's bulk_update() on the same customers and columns."""
    from django.utils import timezone

    from customers.imports import BATCH, _update_rows
    from customers.models import Customer

    customers: list = []
    for start in range(0, len(emails), BATCH):
        customers += Customer.objects.filter(email__in=emails[start : start + BATCH])
    now = timezone.now()
    for customer in customers:
        customer.street_address, customer.updated_at = "Päivitetty katu 2", now
    columns = ("street_address", "updated_at")
    own, _ = rolled_back(lambda: _update_rows(customers, columns))
    django_, _ = rolled_back(lambda: Customer.objects.bulk_update(customers, columns, batch_size=BATCH))
    figure("import_update_rows_time", own, "s")
    figure("import_django_bulk_update_time", django_, "s")
    figure("import_bulk_update_vs_update_rows", django_ / own, "x")


def run(figure, N: int) -> None:
    rows = min(N, 100_000)
    updates, new = bench_file(rows)
    content = as_csv(updates + new)
    sample = min(rows, int(os.environ.get("BENCH_IMPORT_DEFAULT_ROWS", "10000")))
    sample_content = as_csv(updates[: sample // 2] + new[: sample - sample // 2])

    # The app's import and the default peer (the two ends of the slower ratio) are timed
    # in turns, BENCH_IMPORT_REPEAT times each, and the medians kept, so that a passing
    # load on the machine moves neither figure alone. The fastest peer, 5-6 times
    # slower than the app, is timed once.
    app_times, default_times = [], []
    for _ in range(int(os.environ.get("BENCH_IMPORT_REPEAT", "3"))):
        elapsed, outcome = rolled_back(app_import(content))
        assert (outcome.updated, outcome.new, outcome.invalid) == (len(updates), len(new), 0)
        app_times.append(elapsed)
        elapsed, default = rolled_back(peer_import(sample_content, fastest=False))
        assert default.totals["update"] + default.totals["new"] == sample, default.totals
        default_times.append(elapsed)
    app_time, default_time = statistics.median(app_times), statistics.median(default_times)
    fast_time, fast = rolled_back(peer_import(content, fastest=True))
    assert (fast.totals["update"], fast.totals["new"]) == (len(updates), len(new)), fast.totals
    # The project sets IMPORT_EXPORT_USE_TRANSACTIONS, so the default peer runs each row
    # in a savepoint; the library's own default is without: shown for comparison.
    plain_time, _ = rolled_back(peer_import(sample_content, fastest=False, use_transactions=False))

    app_rate, fast_rate, default_rate = rows / app_time, rows / fast_time, sample / default_time
    figure("import_bench_rows", rows, "rows")
    figure("import_bench_updated", outcome.updated, "rows")
    figure("import_app_rate", app_rate, "rows/s")
    figure(f"import_iex_default_rate_{sample}_rows", default_rate, "rows/s")
    figure("import_iex_fastest_rate", fast_rate, "rows/s")
    figure(f"import_iex_default_without_transactions_rate_{sample}_rows", sample / plain_time, "rows/s")
    figure("import_app_vs_iex_default", app_rate / default_rate, "x", ">=10", app_rate / default_rate >= 10)
    figure("import_app_vs_iex_fastest", app_rate / fast_rate, "x", ">=1", app_rate / fast_rate >= 1)
    bench_update_statements(figure, [row[2] for row in updates])
    if os.environ.get("BENCH_PROFILE"):
        profile_app(content)


if __name__ == "__main__":
    from django.core.management import call_command

    from customers.demo import seed_demo
    from customers.models import Customer, Order

    N = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
    call_command("migrate", verbosity=0)
    if Customer.objects.count() != N:  # as run.py's prepare()
        print(f"seeding {N} customers with 5 orders each...", flush=True)
        Order.objects.all().delete()
        Customer.objects.all().delete()
        seed_demo(customers=N, orders_per_customer=5, seed=42)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    results = []

    def figure(name, value, unit, target="", met=None):
        results.append(met)
        shown = "n/a" if value is None else (f"{value:.3f}" if value < 100 else f"{value:.0f}")
        verdict = "" if met is None else ("met" if met else "missed")
        print(f"{name} {shown} {unit} {target or '-'} {verdict or '-'}".rstrip(), flush=True)

    run(figure, N)
    checked = [m for m in results if m is not None]
    print(f"bench_import: {sum(checked)} of {len(checked)} targets met")
