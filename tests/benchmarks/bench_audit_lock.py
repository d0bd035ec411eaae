"""Two writers (make bench, PostgreSQL only): a long label export beside public
submissions (issue 13, item 4).

One gunicorn (bench_http's: 3 sync workers, loopback) serves both. In turns, one client
posts access requests one after another, timing each, first with nothing else going on
and then while another client downloads the XLSX of every label (the longest export);
the export builds its file before it records its event, so the audit log's lock (which
every submission takes) is held for milliseconds, not for the build. The added delay is
the 95th percentile of a submission's time during the export less the same without it,
from the same run. SQLite has one writer at a time by design (every transaction takes
the write lock when it begins), so the question is PostgreSQL's; on SQLite it is n/a.
"""

from __future__ import annotations

import statistics
import threading
import time

from tests.benchmarks import bench_http

EXPORT = "/admin/customers/customer/labels/?export=xlsx"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _submissions(port: int, session: bench_http.Session, *, until, at_least: int) -> list[float]:
    """Post one access request after another until `until()` says stop (and at least
    `at_least` of them); each one's time in ms. Every one must be stored (302)."""
    times: list[float] = []
    while len(times) < at_least or not until():
        started = time.perf_counter()
        status = session.post(port, bench_http.FORM, bench_http.submission())
        times.append((time.perf_counter() - started) * 1000)
        if status != 302:
            raise RuntimeError(f"a submission got {status}")
    return times


def _export(port: int, cookie: str, result: dict) -> None:
    started = time.perf_counter()
    status, body, _ = bench_http.request(port, "GET", EXPORT, headers={"Cookie": cookie})
    result.update(status=status, seconds=time.perf_counter() - started, size=len(body))


def run(figure, database_url: str, *, vendor: str, staff_cookie: str, rounds: int = 3) -> None:
    names = [
        ("export_beside_submissions_added_delay_p95", "ms", "<=100"),
        ("export_beside_submissions_errors", "errors", "0"),
    ]
    if vendor != "postgresql":
        for name, unit, target in names:
            figure(name, None, unit, target, applies=False, only="PostgreSQL")
        return
    from privacy.models import AuditEvent

    events_before = AuditEvent.objects.filter(action="export").count()
    without: list[float] = []
    during: list[float] = []
    exports: list[dict] = []
    with bench_http.gunicorn(database_url) as port:
        session = bench_http.Session.open(port)
        _submissions(port, session, until=lambda: True, at_least=20)  # warm the workers
        for _ in range(rounds):
            # Without the export: as many seconds as the last export took (5 at first).
            seconds = exports[-1]["seconds"] if exports else 5.0
            deadline = time.perf_counter() + seconds
            without += _submissions(
                port, session, until=lambda d=deadline: time.perf_counter() > d, at_least=10
            )
            result: dict = {}
            exporter = threading.Thread(target=_export, args=(port, staff_cookie, result))
            exporter.start()
            time.sleep(0.2)  # the export is under way (its worker is reading rows)
            during += _submissions(port, session, until=lambda t=exporter: not t.is_alive(), at_least=3)
            exporter.join()
            if result.get("status") != 200:
                raise RuntimeError(f"the label export got {result.get('status')}")
            exports.append(result)
    # Every export delivered has its event (and a submission that failed has raised).
    recorded = AuditEvent.objects.filter(action="export").count() - events_before
    errors = abs(rounds - recorded)
    figure("export_xlsx_time", statistics.median(e["seconds"] for e in exports), "s")
    figure("export_xlsx_size", statistics.median(e["size"] for e in exports) / 2**20, "MB")
    figure("submissions_during_export", len(during), "requests")
    figure("submission_without_export_median", statistics.median(without), "ms")
    figure("submission_during_export_median", statistics.median(during), "ms")
    figure("submission_without_export_max", max(without), "ms")
    figure("submission_during_export_max", max(during), "ms")
    added = _percentile(during, 0.95) - _percentile(without, 0.95)
    figure(names[0][0], added, "ms", "<=100", added <= 100)
    figure(names[1][0], errors, "errors", "0", errors == 0)
