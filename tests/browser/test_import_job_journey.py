"""A large import in the browser: the progress page refreshes itself under the CSP (no
inline script) while the background worker runs (issue 19, item 8; S8)."""

import threading
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from customers import import_jobs
from customers.models import Customer
from privacy.groups import OWNER_GROUP
from tests.personas import PASSWORD, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
LARGE = Path(__file__).parents[1] / "customers" / "fixtures" / "large_import.xlsx"


def worker(monkeypatch, pause_at: int | None = None) -> tuple[threading.Thread, threading.Event]:
    """run_pending() in a thread, as the worker process runs it; it waits at `pause_at`
    rows read until the test has looked at the page."""
    seen = threading.Event()
    real_preview = import_jobs.preview_import

    def preview(*, progress, **kwargs):
        def pausing(done, total):
            progress(done, total)
            if done == pause_at:
                seen.wait(30)

        return real_preview(progress=pausing, **kwargs)

    def run():
        try:
            import_jobs.run_pending()
        finally:
            connection.close()

    monkeypatch.setattr(import_jobs, "preview_import", preview)
    thread = threading.Thread(target=run)
    thread.start()
    return thread, seen


def test_a_large_file_shows_its_progress_until_the_preview_and_the_import_are_done(
    page, live_server, admin_login, shots, axe, monkeypatch
):
    owner = make_staff("omistaja", group=OWNER_GROUP, superuser=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.set_extra_http_headers({"Accept-Language": "fi"})
    admin_login(page, owner, PASSWORD)
    page.goto(f"{live_server.url}/admin/customers/customer/import/")
    page.set_input_files("input[type=file]", str(LARGE))
    page.get_by_role("button", name="Esikatsele").click()
    expect(page.locator("#import-progress")).to_contain_text("0 % valmiina")
    expect(page.locator("#import-progress")).to_contain_text("Rivejä luettu: 0 / 2100.")
    shots(page, "progress-waiting")

    thread, seen = worker(monkeypatch, pause_at=1000)
    try:
        # The page reloads itself (a meta refresh) and shows the worker's progress.
        expect(page.locator("#import-progress")).to_contain_text("47 % valmiina", timeout=15_000)
        expect(page.locator("#import-progress")).to_contain_text("Rivejä luettu: 1000 / 2100.")
        expect(page.locator("#import-progress")).to_contain_text("jäljellä")
        shots(page, "progress-running")
    finally:
        seen.set()
        thread.join(60)
    expect(page.locator("#import-progress")).to_contain_text("100 % valmiina", timeout=15_000)
    expect(page.locator("#preview-rows")).to_contain_text("asiakas1@example.fi")
    shots(page, "progress-previewed")

    page.get_by_role("button", name="Vahvista tuonti").click()
    expect(page.locator("#import-progress")).to_contain_text("Tuonti: odottaa")
    thread, _seen = worker(monkeypatch)
    thread.join(120)
    expect(page.locator("#import-result")).to_contain_text("Tuotu: 2100 uutta", timeout=15_000)
    shots(page, "import-done")
    assert not axe(page)  # the progress bar and the result, once the page stopped refreshing
    assert Customer.objects.count() == 2100
    page.goto(f"{live_server.url}/admin/customers/customer/import/")
    expect(page.locator("#recent-imports")).to_contain_text("Valmis")
    shots(page, "recent-imports")
