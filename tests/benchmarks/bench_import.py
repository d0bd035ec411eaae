"""Customer import benchmark: `run(figure, N)` is called by run.py (make bench).

`figure(name, value, unit, target="", met=None)` prints and records one line; N is
the size of the benchmark register.
"""

from __future__ import annotations

import csv
import io
import time

from django.db import transaction


def run(figure, N: int) -> None:
    from import_export.formats.base_formats import CSV

    from customers.imports import CustomerImportResource
    from customers.models import Customer

    rows = min(N, 100_000)
    existing = list(
        Customer.objects.exclude(email="").values_list(
            "first_name", "last_name", "email", "postal_code", "city"
        )[: rows // 2]
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["first_name", "last_name", "email", "street_address", "postal_code", "city"])
    for first, last, email, postal, city in existing:  # duplicates: matched by e-mail
        writer.writerow([first, last, email, "Päivitetty katu 1", postal, city])
    for i in range(rows - len(existing)):  # new customers
        writer.writerow(
            [
                "Uusi",
                f"Tuotava{i}",
                f"uusi{i}@bench.example",
                f"Tuontitie {i % 90 + 1}",
                f"{i % 99999:05d}",
                "Espoo",
            ]
        )
    dataset = CSV(encoding="utf-8").create_dataset(buffer.getvalue())
    started = time.perf_counter()
    with transaction.atomic():
        result = CustomerImportResource(source="import").import_data(
            dataset, dry_run=False, use_transactions=False, raise_errors=True
        )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)  # leave the benchmark register as it was
    rate = rows / elapsed
    figure("import_rows", rows, "rows")
    figure("import_updated", result.totals["update"], "rows")
    figure("import_rate", rate, "rows/s", ">=5000", rate >= 5000)
