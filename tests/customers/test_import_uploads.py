"""Import uploads live only as long as their preview (issue 17, finding 6): deleted on
confirm and on cancel, swept by the daily retention run when abandoned for an hour,
and found by find_personal_data while they wait. A second confirm of one preview
imports nothing and is no error."""

import io
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from customers.models import Customer
from privacy.groups import OWNER_GROUP
from privacy.models import AuditEvent
from tests.personas import make_staff, verified_client

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:customers_customer_import")
CONFIRM = reverse("admin:customers_customer_process_import")
CANCEL = reverse("admin:customers_customer_cancel_import")
# A customer list as Finnish Excel's "CSV UTF-8" writes it when the list separator is a
# comma: a byte-order mark, CRLF line ends, quotes only where needed.
CSV = '\ufefffirst_name,last_name,email\r\nOdotus,Esikatselija,"odotus@example.fi"\r\n'.encode()


def preview(client, content: bytes = CSV, name="asiakkaat.csv"):
    upload = SimpleUploadedFile(name, content)
    return client.post(IMPORT, {"import_file": upload, "source": "import"}, HTTP_ACCEPT_LANGUAGE="en")


def token_of(response) -> str:
    return response.context["confirm_form"].initial["token"]


def waiting(upload_dir) -> list[str]:
    return sorted(path.name for path in upload_dir.iterdir()) if upload_dir.exists() else []


def age(path, seconds: int) -> None:
    """Make a waiting file (or every file of the folder) `seconds` old."""
    then = time.time() - seconds
    for each in path.iterdir() if path.is_dir() else [path]:
        os.utime(each, (then, then))


def test_cancel_deletes_the_file_and_the_preview_cannot_be_confirmed(owner_client, upload_dir):
    response = preview(owner_client)
    assert f'action="{CANCEL}"' in response.text and "Import nothing" in response.text
    assert len(waiting(upload_dir)) == 1
    cancelled = owner_client.post(CANCEL, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert cancelled.redirect_chain[-1][0] == IMPORT
    assert "Nothing was imported, and the uploaded file was deleted." in cancelled.text
    assert waiting(upload_dir) == [] and "customer_import" not in owner_client.session
    late = owner_client.post(CONFIRM, {"token": token_of(response)}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "Upload the file again" in late.text and not Customer.objects.exists()


def test_cancel_by_a_get_changes_nothing(owner_client, upload_dir):
    preview(owner_client)
    assert owner_client.get(CANCEL).status_code == 302
    assert len(waiting(upload_dir)) == 1


def test_confirming_twice_imports_once_and_says_why(owner_client, upload_dir):
    """Finding 9: a second confirm (a double click, the back button) was a 500."""
    response = preview(owner_client)
    token = token_of(response)
    first = owner_client.post(CONFIRM, {"token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert first.status_code == 302 and first.url == reverse("admin:customers_customer_changelist")
    assert waiting(upload_dir) == []
    second = owner_client.post(CONFIRM, {"token": token}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert second.status_code == 200 and second.redirect_chain[-1][0] == IMPORT
    assert "already imported" in second.text
    assert Customer.objects.get().last_name == "Esikatselija"
    assert AuditEvent.objects.filter(action="import", fields=["import"]).count() == 1


def test_a_confirm_racing_another_finds_the_file_taken(owner_client, upload_dir):
    """Two tabs of one preview posting at once: both sessions still name the file, and
    only the first confirm gets it."""
    response = preview(owner_client)
    owner_client.post(CONFIRM, {"token": token_of(response)})
    session = owner_client.session
    session["customer_import"] = {"token": token_of(response), "source": "import"}  # as the other saw it
    session.save()
    again = owner_client.post(CONFIRM, {"token": token_of(response)}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "already imported" in again.text and Customer.objects.count() == 1


def test_the_daily_run_sweeps_abandoned_previews_and_counts_them(owner_client, upload_dir, capsys):
    """S19: a preview left for more than an hour loses its file to apply_retention; a dry
    run counts it and deletes nothing; a colleague's fresh preview stays."""
    abandoned = preview(owner_client)
    colleague = verified_client(Client(), make_staff("kollega", group=OWNER_GROUP, superuser=True))
    fresh = preview(colleague, CSV.replace(b"Odotus", b"Tuore"))
    age(upload_dir / token_of(abandoned), 3601)
    call_command("apply_retention", "--dry-run")
    assert "import uploads deleted: 1" in capsys.readouterr().out
    assert len(waiting(upload_dir)) == 2
    call_command("apply_retention")
    assert "import uploads deleted: 1" in capsys.readouterr().out
    assert waiting(upload_dir) == [token_of(fresh)]
    assert AuditEvent.objects.get(action="retention_run").counts["import_uploads_deleted"] == 1
    late = owner_client.post(CONFIRM, {"token": token_of(abandoned)}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "expired" in late.text and not Customer.objects.exists()
    colleague.post(CONFIRM, {"token": token_of(fresh)})
    assert Customer.objects.get().first_name == "Tuore"


def test_a_fresh_preview_survives_the_daily_run(owner_client, upload_dir):
    response = preview(owner_client)
    call_command("apply_retention")
    assert len(waiting(upload_dir)) == 1
    owner_client.post(CONFIRM, {"token": token_of(response)})
    assert Customer.objects.get().first_name == "Odotus"


def test_visiting_the_import_page_sweeps_everyones_abandoned_files(owner_client, upload_dir):
    preview(owner_client)
    age(upload_dir, 3601)
    assert owner_client.get(IMPORT).status_code == 200
    assert waiting(upload_dir) == []


def xlsx(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def two_sheets() -> bytes:
    """The import reads the first sheet; a note about the person is on the second."""
    book = Workbook()
    book.active.append(["first_name", "last_name"])
    book.active.append(["Aino", "Ensimmäinen"])
    book.create_sheet("Muistiinpanot").append(["Soita Esikatselijalle"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("asiakkaat.csv", CSV),
        ("asiakkaat.xlsx", xlsx(["first_name", "last_name"], ["Odotus", "Esikatselija"])),
        ("asiakkaat.xlsx", two_sheets()),
    ],
    ids=["csv", "xlsx", "xlsx-second-sheet"],
)
def test_find_personal_data_looks_in_the_waiting_files(owner_client, upload_dir, capsys, name, content):
    """S16, S19: a person's data in an unconfirmed import is found like any other copy,
    and is gone once the preview is cancelled."""
    preview(owner_client, content, name=name)
    call_command("find_personal_data", "esikatselija")
    out = capsys.readouterr().out
    assert f"{upload_dir}.import file awaiting confirmation: 1 row(s)" in out
    owner_client.post(CANCEL)
    call_command("find_personal_data", "esikatselija")
    assert "Not found in any table." in capsys.readouterr().out


def test_a_preview_with_invalid_rows_keeps_no_file(owner_client, upload_dir):
    response = preview(owner_client, b"first_name,last_name,postal_code\r\nVirhe,Rivi,1X\r\n")
    assert response.context["outcome"].invalid == 1
    assert waiting(upload_dir) == []
