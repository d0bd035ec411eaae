"""Scanned letters of requests staff register (privacy notice S14): PDF, JPEG or PNG,
recognised by their content (not by the name or the type the browser claims), at most
LETTER_SCAN_MAX_BYTES.

They are kept in LETTER_SCAN_DIR, outside every path the web server serves, under a
random name: the file's own name (often the person's) is never stored, and staff open
a scan only through the request's page, which audits it. A scan is deleted when the
request's identity data is erased.
"""

from __future__ import annotations

import io
import logging
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# What a scan may be: its first bytes, the stored file's suffix and its content type.
KINDS = {
    "pdf": (b"%PDF-", "application/pdf"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
}
WRONG_TYPE = _("The scanned letter must be a PDF, JPEG or PNG file.")


class ScanRefused(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def _directory() -> Path:
    return Path(settings.LETTER_SCAN_DIR)


def scan_kind(upload: UploadedFile) -> str:
    """The scan's kind ("pdf", "jpg" or "png") read from its content; ScanRefused with
    the message for staff when it is too large or none of them."""
    if upload.size is None or upload.size > settings.LETTER_SCAN_MAX_BYTES:
        raise ScanRefused(
            _("The scanned letter is too large: at most %(mb)s MB.")
            % {"mb": settings.LETTER_SCAN_MAX_BYTES // (1024 * 1024)}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind, (magic, _type) in KINDS.items():
        if head.startswith(magic):
            if kind != "pdf" and not _is_image(upload, kind):
                raise ScanRefused(WRONG_TYPE)
            return kind
    raise ScanRefused(WRONG_TYPE)


def _is_image(upload: UploadedFile, kind: str) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(upload.read())) as image:
            return image.format == {"jpg": "JPEG", "png": "PNG"}[kind]
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return False
    finally:
        upload.seek(0)


def save_scan(upload: UploadedFile, kind: str) -> str:
    """Store the upload under a new random name; returns the name (kept on the request)."""
    directory = _directory()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind}"
    with open(directory / name, "xb") as target:
        for chunk in upload.chunks():
            target.write(chunk)
    return name


def _path(name: str) -> Path | None:
    """The stored file of `name`, or None for a name this module did not make."""
    stem, _dot, suffix = name.partition(".")
    if len(stem) != 32 or not all(c in "0123456789abcdef" for c in stem) or suffix not in KINDS:
        return None
    return _directory() / name


def read_scan(name: str) -> tuple[bytes, str] | None:
    """The scan's bytes and content type, or None when it is not there."""
    path = _path(name)
    if path is None or not path.is_file():
        return None
    return path.read_bytes(), KINDS[path.suffix.lstrip(".")][1]


def delete_scan(name: str) -> None:
    path = _path(name)
    if path is not None:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:  # the name is random: it says nothing of the person
            logger.warning("Scanned letter %s could not be deleted: %s", name, type(error).__name__)
