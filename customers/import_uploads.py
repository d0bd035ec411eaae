"""Where an uploaded import file waits between its preview and its confirmation.

The file holds customers' names and e-mail addresses, so it lives only as long as its
preview: it is deleted when the import is confirmed, when the preview is cancelled or
replaced by a newer upload, and by a sweep of anything older than KEPT_FOR_SECONDS
(run on every visit to the import page and by the daily retention run). Each file is
named by a random token that only the uploader's session knows; the folder is private
to the app (IMPORT_UPLOAD_DIR, or the system's temporary directory, subfolder
kb-imports). `find_personal_data` searches the files that are waiting.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from pathlib import Path

from django.conf import settings

from .import_limits import FileCheckError, xlsx_text
from .models import ImportJob

KEPT_FOR_SECONDS = 60 * 60
TOKEN = re.compile(r"^[0-9a-f]{32}$")
CLAIMED = ".claimed"  # a file being imported, renamed so a second confirm finds nothing
XLSX_MAGIC = b"PK\x03\x04"


def upload_dir() -> Path:
    directory = Path(settings.IMPORT_UPLOAD_DIR or tempfile.gettempdir()) / "kb-imports"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def keep_upload(content: bytes) -> str:
    """Keep the file until it is confirmed or cancelled; the token names it."""
    token = secrets.token_hex(16)
    descriptor = os.open(upload_dir() / token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as kept:
        kept.write(content)
    return token


def claim_upload(token: str) -> bytes | None:
    """Take the file for importing it, once: the first confirm gets its content and the
    file is gone; a second confirm of the same preview (a double click, a second tab)
    gets None."""
    if not TOKEN.match(token or ""):
        return None
    path = upload_dir() / token
    claimed = path.with_name(token + CLAIMED)
    try:
        path.rename(claimed)  # atomic: only one of two concurrent confirms succeeds
    except FileNotFoundError:
        return None
    _forget(token)
    try:
        return claimed.read_bytes()
    finally:
        claimed.unlink(missing_ok=True)


def read_upload(token: str) -> bytes | None:
    """A kept file's content, leaving it kept (the file of skipped rows, downloaded
    again); None when it is gone."""
    if not TOKEN.match(token or ""):
        return None
    try:
        return (upload_dir() / token).read_bytes()
    except FileNotFoundError:
        return None


def discard_upload(token: str) -> None:
    if TOKEN.match(token or ""):
        (upload_dir() / token).unlink(missing_ok=True)
        _forget(token)


def _forget(token: str) -> None:
    """A large file's preview keeps the rows it shows (customers/import_jobs.py): they go with the file."""
    ImportJob.objects.filter(upload_token=token, preview__isnull=False).update(preview=None)


def _waiting() -> list[Path]:
    return [path for path in upload_dir().iterdir() if path.is_file()]


def sweep_uploads(*, dry_run: bool = False, older_than: int = KEPT_FOR_SECONDS) -> int:
    """Delete the files whose preview was abandoned (older than an hour); how many."""
    cutoff = time.time() - older_than
    old = []
    for path in _waiting():
        try:
            if path.stat().st_mtime < cutoff:
                old.append(path)
        except FileNotFoundError:  # confirmed or cancelled meanwhile
            continue
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
            _forget(path.name)
    return len(old)


def uploads_mentioning(text: str) -> int:
    """How many waiting files hold `text` (case-insensitively) in a cell."""
    needle = text.casefold()
    found = 0
    for path in _waiting():
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            continue
        if needle in _text_of(content).casefold():
            found += 1
    return found


def _text_of(content: bytes) -> str:
    """A kept file's text. It passed the import's limits before it was kept."""
    if content.startswith(XLSX_MAGIC):
        try:
            return xlsx_text(content)
        except FileCheckError:  # not a workbook after all: search its bytes
            pass
    return content.decode("utf-8", errors="replace")
