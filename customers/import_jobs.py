"""Previews and imports of large files, run by the background worker (issue 19, item 8).

A file of more than IMPORT_BACKGROUND_ROWS rows (counted cheaply, without reading it) is
not previewed or imported inside the web request, where a 100,000-row file would meet
the server's timeout: the upload page keeps the file as it keeps any file between
preview and confirmation (customers/import_uploads.py), records an ImportJob and shows
its progress page. The worker (`run_worker`, which calls `run_pending` among its
WORKER_TASKS) takes one queued job at a time, runs the same preview_import() or
import_customers() as a small file gets, and writes the rows read as it goes; the page
refreshes itself (a meta refresh: the CSP allows no inline script) with a progress bar,
the rows read and an estimate of the time left. Staff may leave and come back: the
import page lists the recent imports with their state and counts.

A job that makes no progress for IMPORT_JOB_STALE_SECONDS (its worker died) and a job
no worker took before its file was swept are shown as failed, with what to do; an
import is all or nothing, so a failed one saved nothing.

The job keeps counts only, except `preview`: what the preview page shows of the rows.
The first rows with their values only while the file waits (customers/import_uploads.py
clears them when it deletes the file); the invalid rows' numbers and reasons without
their values; nothing of it more than an hour after the job finished. The audit log gets
the same events as a small file's import.
"""

from __future__ import annotations

import datetime
import io
import logging
import zipfile
import zlib
from dataclasses import asdict
from typing import cast

from django.conf import settings
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from privacy.audit import record
from privacy.models import AuditAction

from .import_uploads import (
    KEPT_FOR_SECONDS,
    TOKEN,
    claim_upload,
    discard_upload,
    keep_upload,
    read_upload,
    upload_dir,
)
from .imports import ImportFileError, ImportOutcome, RowResult, RowStatus, import_customers, preview_import
from .matching import Conflict
from .models import ImportJob

logger = logging.getLogger(__name__)

SESSION_KEY = "customer_import"  # the same as the import pages' (customers/import_admin.py)
PREVIEW_ROWS = 500  # as many rows as the preview page shows
RECENT = 10  # imports listed on the import page
REFRESH_SECONDS = 2
XLSX_MAGIC = b"PK\x03\x04"
# What marks a row in a spreadsheet's XML: XLSX's sheet, ODS's content.
ROW_TAGS = {"xlsx": b"<row", "ods": b"<table:table-row"}
CHUNK = 256 * 1024

State, Kind = ImportJob.State, ImportJob.Kind


# -- how large is a file ------------------------------------------------------
def count_rows(content: bytes) -> int:
    """About how many data rows a file has, without reading its cells: the line ends of
    a text file, the row elements of a spreadsheet's first sheet (XLSX) or of its
    content (ODS, all sheets). The count stops past IMPORT_MAX_ROWS. A file that is not
    what it seems counts 0 and is left to the import's own checks, which refuse it with
    their message."""
    if not content.startswith(XLSX_MAGIC):
        lines = content.count(b"\n")
        if content and not content.endswith((b"\n", b"\n\x00")):
            lines += 1
        return max(0, lines - 1)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            sheets = sorted(
                name for name in names if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
            if sheets:
                return max(0, _count_in_part(archive, sheets[0], ROW_TAGS["xlsx"]) - 1)
            if "content.xml" in names:
                return max(0, _count_in_part(archive, "content.xml", ROW_TAGS["ods"]) - 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, zlib.error):
        pass
    return 0


def _count_in_part(archive: zipfile.ZipFile, name: str, tag: bytes) -> int:
    """Occurrences of `tag` in one part, read a chunk at a time, at most as many bytes
    as an import may unpack (a zip bomb costs no more here than in the import)."""
    count, read, tail = 0, 0, b""
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    with archive.open(name) as part:
        while chunk := part.read(CHUNK):
            read += len(chunk)
            text = tail + chunk
            count += text.count(tag)
            tail = text[-(len(tag) - 1) :]  # shorter than a tag: a tag cut in two is counted next
            if read > limit or count > settings.IMPORT_MAX_ROWS + 1:
                break
    return count


def _for_the_worker(rows: int) -> bool:
    """More rows than a web request should read, and not so many that the import's
    limits refuse the file (at once, with their message, as they stop at the limit)."""
    return settings.IMPORT_BACKGROUND_ROWS < rows <= settings.IMPORT_MAX_ROWS


# -- the call sites of the import pages --------------------------------------
def queue_preview_if_large(
    request: HttpRequest, content: bytes, *, source: str, suffix: str = ""
) -> HttpResponseRedirect | None:
    """Upload page: a large file is kept and its preview queued; the answer is its
    progress page. A small file: None, and it is previewed at once as before."""
    rows = count_rows(content)
    if not _for_the_worker(rows):
        return None
    discard_upload(request.session.get(SESSION_KEY, {}).get("token", ""))  # a newer upload replaces it
    token = keep_upload(content)
    request.session[SESSION_KEY] = {"token": token, "source": source, "suffix": suffix}
    job = _queue(request, Kind.PREVIEW, token=token, source=source, rows=rows, options={"suffix": suffix})
    return HttpResponseRedirect(job_url(job))


def queue_import_if_large(
    request: HttpRequest,
    content: bytes,
    *,
    source: str,
    suffix: str = "",
    skip_invalid: bool = False,
    same_person: frozenset[tuple[int, int]] = frozenset(),
) -> HttpResponseRedirect | None:
    """Confirmation: the claimed file of a large preview is kept again for the worker,
    and its import queued; the answer is its progress page. A small file: None."""
    rows = count_rows(content)
    if not _for_the_worker(rows):
        return None
    # What staff chose in the preview: skip the invalid rows, the conflicts ticked as the same
    # person (row numbers and customer ids, no values).
    options = {"suffix": suffix, "skip_invalid": skip_invalid, "same_person": sorted(same_person)}
    job = _queue(request, Kind.IMPORT, token=keep_upload(content), source=source, rows=rows, options=options)
    return HttpResponseRedirect(job_url(job))


def record_small_import(request: HttpRequest, outcome: ImportOutcome, *, source: str) -> None:
    """A small file imported at once is listed with the others (counts only)."""
    now = timezone.now()
    job = ImportJob(
        started_by=_staff(request),
        kind=Kind.IMPORT,
        state=State.DONE,
        source=source,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        rows_total=outcome.total_rows,
        rows_read=outcome.total_rows,
        started_at=now,
        progress_at=now,
        finished_at=now,
    )
    _set_counts(job, outcome)
    job.save()


def recent_imports(request: HttpRequest) -> dict:
    """The import page's list of recent imports, everyone's (counts only); each links
    to its page for the staff member who started it."""
    expire_stale()
    jobs = list(ImportJob.objects.select_related("started_by")[:RECENT])
    for job in jobs:
        job.is_own = job.started_by_id == request.user.pk  # type: ignore[attr-defined]
    return {"recent_jobs": jobs}


def _queue(
    request: HttpRequest, kind: str, *, token: str, source: str, rows: int, options: dict
) -> ImportJob:
    return ImportJob.objects.create(
        options=options,
        started_by=_staff(request),
        kind=kind,
        source=source,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        upload_token=token,
        rows_total=rows,
    )


def _staff(request: HttpRequest):
    user = request.user
    return user if user.is_authenticated else None  # the admin's pages are for staff only


def job_url(job: ImportJob) -> str:
    return reverse("admin:customers_customer_import_job", args=[job.pk])


# -- the job's page ---------------------------------------------------------------
def job_view(model_admin, request: HttpRequest, job_id: int, *, page, preview_page, confirm_form_class):
    """The job's progress while it runs; then its preview (with the confirmation, while
    the file waits) or its result; or why it failed. The import pages' own `page`,
    `preview_page` and confirmation form draw it as they draw a small file's."""
    expire_stale()
    job = get_object_or_404(ImportJob, pk=job_id)
    if job.started_by_id != request.user.pk:
        raise Http404
    context = {"job": job, "title": _("Import customers"), **progress_of(job)}
    if job.state == State.DONE and job.preview is not None and (job.kind == Kind.PREVIEW or not job.imported):
        kept = request.session.get(SESSION_KEY) or {}
        confirm_form = None
        valid = job.new + job.updated + job.unchanged
        if job.kind == Kind.PREVIEW and valid and kept.get("token") == job.upload_token:
            initial = {"token": job.upload_token, "skip_invalid": bool(job.invalid)}
            confirm_form = confirm_form_class(initial=initial)
        response = preview_page(
            model_admin, request, stored_outcome(job), confirm_form=confirm_form, source=job.source
        )
        cast(dict, response.context_data).update(context)
        return response
    return page(model_admin, request, "admin/customers/import_job.html", context)


def progress_of(job: ImportJob) -> dict:
    """What the progress bar shows: the share done, and the time left when it can be told."""
    total = max(job.rows_total, job.rows_read)
    finished = job.state == State.DONE
    percent = 100 if finished else (min(99, job.rows_read * 100 // total) if total else 0)
    left = None
    if job.state == State.RUNNING and job.started_at and 0 < job.rows_read < total:
        spent = (timezone.now() - job.started_at).total_seconds()
        left = datetime.timedelta(seconds=round(spent * (total - job.rows_read) / job.rows_read))
    return {
        "percent": percent,
        "rows_read": total if finished else job.rows_read,
        "rows_total": total,
        "seconds_left": None if left is None else int(left.total_seconds()),
        "finishes_at": None if left is None else timezone.now() + left,
        "refresh_seconds": REFRESH_SECONDS if job.state in (State.QUEUED, State.RUNNING) else None,
        "waiting_long": job.state == State.QUEUED and (timezone.now() - job.created_at).total_seconds() > 60,
    }


def stored_outcome(job: ImportJob) -> StoredOutcome:
    rows = []
    for stored in (job.preview or {}).get("rows", []):
        row = RowResult(**stored)
        if isinstance(row.conflict, dict):
            row.conflict = Conflict(**row.conflict)
        rows.append(row)
    return StoredOutcome(shop=job.shop, rows=rows, imported=job.imported, job=job)


class StoredOutcome(ImportOutcome):
    """A finished job's outcome as the preview page reads it: its counts, and the rows
    that page shows (the first ones and every invalid one)."""

    def __init__(self, *, shop: str, rows: list[RowResult], imported: bool, job: ImportJob) -> None:
        super().__init__(shop=shop, rows=rows, imported=imported)
        self.job = job

    def _count(self, status: str) -> int:
        job = self.job
        return {
            RowStatus.NEW: job.new,
            RowStatus.UPDATED: job.updated,
            RowStatus.UNCHANGED: job.unchanged,
            RowStatus.INVALID: job.invalid,
            RowStatus.LEFT_OUT: job.left_out,
        }[RowStatus(status)]

    @property
    def total_rows(self) -> int:
        return self.job.rows_total


# -- the worker's side ----------------------------------------------------------
def run_pending() -> int:
    """Run one queued job, if there is one: what the worker calls (WORKER_TASKS).
    Returns how many jobs it ran (0 or 1). Jobs whose worker died are marked failed."""
    expire_stale()
    job = _take()
    if job is None:
        return 0
    with translation.override(job.language):
        _run(job)
    return 1


def _take() -> ImportJob | None:
    """The oldest queued job, marked running. PostgreSQL: two workers skip each other's
    locked row; SQLite (one writer at a time): the UPDATE that marks it running only
    succeeds for one of them."""
    with transaction.atomic():
        queued = ImportJob.objects.filter(state=State.QUEUED).order_by("created_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            queued = queued.select_for_update(skip_locked=True)
        job = queued.first()
        if job is None:
            return None
        now = timezone.now()
        taken = ImportJob.objects.filter(pk=job.pk, state=State.QUEUED).update(
            state=State.RUNNING, started_at=now, progress_at=now
        )
    if not taken:
        return None
    job.refresh_from_db()
    return job


def _run(job: ImportJob) -> None:
    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            rows_read=done, rows_total=total, progress_at=timezone.now()
        )

    content = read_upload(job.upload_token) if job.kind == Kind.PREVIEW else claim_upload(job.upload_token)
    if content is None:
        _fail(
            job,
            gettext(
                "The uploaded file is no longer on the server (it waits an hour at most). Upload it again."
            ),
        )
        return
    actor = job.started_by
    options = job.options or {}
    suffix = str(options.get("suffix", ""))
    try:
        if job.kind == Kind.PREVIEW:
            outcome = preview_import(
                content=content, source=job.source, filename=f"file{suffix}", progress=progress
            )
            record(
                action=AuditAction.IMPORT,
                actor=actor,
                object_type="customers.customer",
                fields=["preview"],
                counts=outcome.counts(),
            )
        else:
            outcome = import_customers(
                content=content,
                source=job.source,
                actor=actor,
                filename=f"file{suffix}",
                skip_invalid=bool(options.get("skip_invalid")),
                same_person=frozenset(tuple(pair) for pair in options.get("same_person", [])),
                progress=progress,
            )
    except ImportFileError as error:
        if job.kind == Kind.PREVIEW:
            discard_upload(job.upload_token)
        _fail(job, str(error.message))
        return
    except Exception as error:  # noqa: BLE001 - the job fails with a message, the worker goes on
        # The exception's type only: a database error's text may quote a row's values.
        logger.error("Import job %s failed: %s", job.pk, type(error).__name__)  # noqa: TRY400
        if job.kind == Kind.PREVIEW:
            discard_upload(job.upload_token)
        _fail(
            job, gettext("The file could not be processed. Nothing was imported. Try again or ask for help.")
        )
        return
    job.refresh_from_db()
    if job.kind == Kind.PREVIEW and not outcome.valid:
        discard_upload(job.upload_token)  # no row can be imported: fixed and uploaded again
        job.refresh_from_db()
    _set_counts(job, outcome)
    job.rows_read = job.rows_total = outcome.total_rows
    job.shop = outcome.shop
    job.imported = outcome.imported
    # Which rows cannot be imported and why, without their values (the preview and the
    # result list them by number); while the file waits, the first rows with their values
    # as well (import_uploads clears them when it deletes the file).
    invalid = [_stored(row, values=False) for row in outcome.invalid_rows]
    if job.kind == Kind.PREVIEW and _kept(job.upload_token):
        shown = [_stored(row) for row in outcome.rows[:PREVIEW_ROWS] if row.status != RowStatus.INVALID]
        job.preview = {"rows": shown + invalid}
    elif outcome.invalid:
        job.preview = {"rows": invalid}
    job.state, job.finished_at = State.DONE, timezone.now()
    job.progress_at = job.finished_at
    job.message = ""
    job.save()


def _stored(row: RowResult, *, values: bool = True) -> dict:
    stored = asdict(row)
    if not values:  # the row's number, status and reasons only
        stored.update(values={}, cells=[], previous={}, kept={}, conflict=None)
    return stored


def _set_counts(job: ImportJob, outcome: ImportOutcome) -> None:
    job.new, job.updated, job.unchanged = outcome.new, outcome.updated, outcome.unchanged
    job.invalid, job.left_out = outcome.invalid, outcome.left_out_suppressed
    job.imported = outcome.imported


def _fail(job: ImportJob, message: str) -> None:
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        state=State.FAILED, message=message, finished_at=now, progress_at=now, preview=None
    )


def _kept(token: str) -> bool:
    return bool(TOKEN.match(token or "")) and (upload_dir() / token).is_file()


# -- never stuck, nothing kept -------------------------------------------------
def expire_stale() -> None:
    """Mark failed the jobs whose worker died (running without progress for too long)
    and those no worker took before their file was swept; forget the rows of previews
    finished more than an hour ago."""
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.IMPORT_JOB_STALE_SECONDS)
    kept_until = now - datetime.timedelta(seconds=KEPT_FOR_SECONDS)
    died = list(ImportJob.objects.filter(state=State.RUNNING, progress_at__lt=stale))
    for job in died:
        with translation.override(job.language):
            message = gettext(
                "The background worker stopped while working on this file: no progress for %(minutes)s "
                "minutes. An import is all or nothing, so nothing was saved. Upload the file again."
            ) % {"minutes": settings.IMPORT_JOB_STALE_SECONDS // 60}
        ImportJob.objects.filter(pk=job.pk, state=State.RUNNING, progress_at__lt=stale).update(
            state=State.FAILED, message=message, finished_at=now, preview=None
        )
        discard_upload(job.upload_token)
    for job in ImportJob.objects.filter(state=State.QUEUED, created_at__lt=kept_until):
        with translation.override(job.language):
            message = gettext(
                "No background worker took this file within an hour, and it was deleted. Upload it "
                "again; if this happens again, ask the administrator to check the background worker."
            )
        ImportJob.objects.filter(pk=job.pk, state=State.QUEUED).update(
            state=State.FAILED, message=message, finished_at=now
        )
        discard_upload(job.upload_token)
    ImportJob.objects.filter(finished_at__lt=kept_until, preview__isnull=False).update(preview=None)
