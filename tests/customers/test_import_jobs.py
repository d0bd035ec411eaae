"""Large files are previewed and imported by the background worker, with a progress
page (issue 19, item 8; S8). The tests call run_pending() where the worker would."""

import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from customers import import_jobs
from customers.import_jobs import run_pending
from customers.models import Customer, ImportJob
from privacy.groups import OWNER_GROUP
from privacy.models import AuditEvent
from tests.personas import make_staff, verified_client

pytestmark = pytest.mark.django_db
LARGE = Path(__file__).parent / "fixtures" / "large_import.xlsx"  # 2,100 rows (make_large_import.py)
IMPORT = reverse("admin:customers_customer_import")
CONFIRM = reverse("admin:customers_customer_process_import")
CANCEL = reverse("admin:customers_customer_cancel_import")
PERCENT = re.compile(r'<progress id="import-progress-bar" value="(\d+)" max="100"')


def upload(client, content: bytes, name="asiakkaat.xlsx", language="en"):
    return client.post(
        IMPORT,
        {"import_file": SimpleUploadedFile(name, content), "source": "web_shop"},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def page(client, url: str, language="en"):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response


def percent(response) -> int:
    match = PERCENT.search(response.text)
    assert match, "no progress bar on the page"
    return int(match[1])


def test_a_large_file_is_previewed_and_imported_in_the_background_with_progress(
    owner_client, owner, upload_dir, monkeypatch
):
    """S8: a file above IMPORT_BACKGROUND_ROWS gets a progress page at once; the worker
    previews it (the page's bar rises to 100 %), the confirmation queues the import,
    and once the worker ran it the customers are in the register."""
    response = upload(owner_client, LARGE.read_bytes())
    assert response.status_code == 302
    job_page = response.url
    waiting = page(owner_client, job_page)
    assert percent(waiting) == 0
    assert "Rows read: 0 of 2100." in waiting.text and "Waiting for the background worker" in waiting.text
    assert '<meta http-equiv="refresh"' in waiting.text  # no inline script: the CSP forbids it
    assert "Confirm the import" not in waiting.text

    seen = []  # the page as staff see it while the worker reads the file
    real_preview = import_jobs.preview_import

    def watched(*, progress, **kwargs):
        def watching(done, total):
            progress(done, total)
            seen.append((percent(page(owner_client, job_page)), done, total))

        return real_preview(progress=watching, **kwargs)

    monkeypatch.setattr(import_jobs, "preview_import", watched)
    assert run_pending() == 1
    assert [done for _, done, _ in seen] == [0, 1000, 2000, 2100]
    assert [shown for shown, _, _ in seen] == [0, 47, 95, 99]  # 100 % once the preview is ready
    previewed = page(owner_client, job_page)
    assert percent(previewed) == 100 and "100 % done" in previewed.text
    assert '<meta http-equiv="refresh"' not in previewed.text
    assert "New: 2100. Updated: 0. Unchanged: 0. Cannot be imported: 0." in previewed.text
    assert "asiakas1@example.fi" in previewed.text and "1600 more rows are not shown" in previewed.text
    assert not Customer.objects.exists()  # a preview writes nothing

    token = previewed.context["confirm_form"].initial["token"]
    queued = owner_client.post(CONFIRM, {"token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert queued.status_code == 302 and queued.url != job_page
    importing = page(owner_client, queued.url)
    assert percent(importing) == 0 and "Import: waiting" in importing.text
    assert not Customer.objects.exists()

    assert run_pending() == 1
    assert run_pending() == 0  # nothing left to do
    done = page(owner_client, queued.url)
    assert percent(done) == 100
    assert "Imported: 2100 new, 0 updated, 0 unchanged customers." in done.text
    assert Customer.objects.count() == 2100
    second = Customer.objects.get(email="asiakas2@example.fi")  # 00100 was stored as 100
    assert (second.first_name, second.last_name, second.postal_code, second.city) == (
        "Veikko",
        "Vuoriaho",
        "00100",
        "Helsinki",
    )
    assert str(second.birth_date) == "1943-05-05" and str(second.phone) == "+358400000002"
    assert set(Customer.objects.values_list("source", flat=True)) == {"web_shop"}
    assert not list(upload_dir.iterdir())  # the file is gone once imported
    assert not ImportJob.objects.filter(preview__isnull=False).exists()  # and the rows it showed
    events = AuditEvent.objects.filter(action="import").order_by("id")
    assert [(e.fields, e.counts["new"], e.actor_id) for e in events] == [
        (["preview"], 2100, owner.pk),
        (["import"], 2100, owner.pk),
    ]


def test_a_small_file_is_still_previewed_at_once(owner_client):
    response = upload(owner_client, b"first_name,last_name\nPieni,Tiedosto\n", name="pieni.csv")
    assert response.status_code == 200 and "Confirm the import" in response.text
    assert not ImportJob.objects.exists()


def test_the_import_page_lists_recent_imports_with_their_state_and_counts(owner_client, owner):
    """Staff who left a running import find it again on the import page, with its counts."""
    small = upload(owner_client, b"first_name,last_name\nPieni,Tiedosto\n", name="pieni.csv")
    owner_client.post(CONFIRM, {"token": small.context["confirm_form"].initial["token"]})
    large = upload(owner_client, LARGE.read_bytes())
    listing = page(owner_client, IMPORT)
    table = listing.text[listing.text.index('id="recent-imports"') :]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows[1:]]
    assert [[re.sub(r"<[^>]+>", "", c).strip() for c in row][1:] for row in cells] == [
        ["omistaja", "Preview", "Waiting", "2100", ""],
        ["omistaja", "Import", "Done", "1", "1", "0", "0", "0", "0"],
    ]
    assert f'href="{large.url}"' in table  # the large one's page is a click away
    run_pending()
    listing = page(owner_client, IMPORT, language="fi")
    assert "Viimeisimmät tuonnit" in listing.text and "Valmis" in listing.text


def test_a_job_whose_worker_died_is_shown_as_failed(owner_client, upload_dir, monkeypatch):
    """A worker killed in the middle leaves its job running; after IMPORT_JOB_STALE_SECONDS
    without progress its page says it failed and what to do, and the file is deleted."""
    job_page = upload(owner_client, LARGE.read_bytes(), language="fi").url

    def killed(done, total):
        if done:
            raise SystemExit  # what the worker's process gets when it is stopped

    real_preview = import_jobs.preview_import
    monkeypatch.setattr(
        import_jobs, "preview_import", lambda *, progress, **kwargs: real_preview(progress=killed, **kwargs)
    )
    with pytest.raises(SystemExit):
        run_pending()
    running = page(owner_client, job_page, language="fi")
    assert "Esikatselu: käynnissä" in running.text and '<meta http-equiv="refresh"' in running.text
    later = timezone.now() + datetime.timedelta(minutes=16)
    with time_machine.travel(later, tick=False):
        failed = page(owner_client, job_page, language="fi")
        assert "Taustaprosessi pysähtyi kesken tämän tiedoston käsittelyn" in failed.text
        assert "Lataa tiedosto uudelleen." in failed.text and '<meta http-equiv="refresh"' not in failed.text
        assert run_pending() == 0
    assert not list(upload_dir.iterdir()) and not Customer.objects.exists()
    assert ImportJob.objects.get().state == "failed"


def test_a_large_file_the_import_refuses_fails_with_its_message(owner_client, upload_dir):
    """A file found unreadable by the worker gets the same message as a small one, never
    a traceback; its file is deleted."""
    content = (
        "sahkoposti,puhelin\n" + "".join(f"x{i}@example.fi,040{i:07d}\n" for i in range(2500))
    ).encode()
    job_page = upload(owner_client, content, name="lista.csv").url
    assert run_pending() == 1
    failed = page(owner_client, job_page)
    assert "columns were not recognised: “sahkoposti”" in failed.text
    assert "Traceback" not in failed.text and "x1@example.fi" not in failed.text
    assert not list(upload_dir.iterdir()) and not Customer.objects.exists()


def test_a_large_file_with_an_invalid_row_lists_it_keeps_no_values_and_imports_the_others(
    owner_client, upload_dir
):
    """S8: the preview says which row (as the spreadsheet numbers it) and why, keeping none
    of its values; staff import the valid rows, skipping it, in the background too."""
    rows = ["first_name,last_name,email,postal_code"]
    rows += [f"Iso,Tiedosto{i},iso{i}@example.fi,00100" for i in range(2100)]
    rows.insert(1500, "Huono,Postinumero,huono@example.fi,1234X")
    job_page = upload(owner_client, "\n".join(rows).encode(), name="iso.csv").url
    assert run_pending() == 1
    previewed = page(owner_client, job_page)
    assert percent(previewed) == 100 and "Cannot be imported: 1." in previewed.text
    assert previewed.context["invalid_rows"][0][0] == 1501  # the header is row 1
    assert "huono@example.fi" not in previewed.text
    assert "huono" not in str(ImportJob.objects.get().preview)
    form = previewed.context["confirm_form"]
    assert form.initial["skip_invalid"] and not Customer.objects.exists()

    queued = owner_client.post(CONFIRM, {"token": form.initial["token"], "skip_invalid": "on"})
    assert queued.status_code == 302
    assert run_pending() == 1
    done = page(owner_client, queued.url)
    assert percent(done) == 100
    assert Customer.objects.count() == 2100 and not Customer.objects.filter(last_name="Postinumero").exists()
    assert "huono" not in str(ImportJob.objects.values_list("preview", flat=True))
    assert not list(upload_dir.iterdir())


def test_a_job_no_worker_takes_fails_after_an_hour(owner_client, upload_dir):
    job_page = upload(owner_client, LARGE.read_bytes()).url
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61), tick=False):
        assert run_pending() == 0  # the worker, back after an hour, finds nothing to run
    failed = page(owner_client, job_page)
    assert "No background worker took this file within an hour" in failed.text
    assert not list(upload_dir.iterdir())


def test_a_cancelled_large_preview_forgets_its_rows(owner_client, upload_dir):
    """The rows a preview shows are personal data: they go with the file."""
    job_page = upload(owner_client, LARGE.read_bytes()).url
    run_pending()
    assert ImportJob.objects.get().preview is not None
    owner_client.post(CANCEL)
    assert ImportJob.objects.get().preview is None and not list(upload_dir.iterdir())
    expired = page(owner_client, job_page)
    assert "asiakas1@example.fi" not in expired.text and "The preview has expired" in expired.text


def test_only_the_staff_member_who_started_a_job_sees_its_page(owner_client, client):
    job_page = upload(owner_client, LARGE.read_bytes()).url
    other = verified_client(client.__class__(), make_staff("toinen", group=OWNER_GROUP, superuser=True))
    assert other.get(job_page).status_code == 404
