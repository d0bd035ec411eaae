"""Issue 13, item 4: short audit transactions. A label export (XLSX, PDF) and the public
report download build their file first, outside any transaction (so the audit log's
lock is not held while they do), and record their event only once the file exists:
a build that fails leaves no event, a successful one is always recorded."""

import datetime
import io

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

import customers.label_views
import privacy.views
from customers.models import Customer
from privacy.access_report import build_access_report, report_json
from privacy.models import AuditEvent, DataRequest, RequestStatus
from tests.factories import CustomerFactory, submitted_request

LABELS = reverse("admin:customers_customer_labels")


class BuildFailed(Exception):
    pass


@pytest.fixture
def customers_to_label(db):
    return [CustomerFactory(last_name=f"Tarra{n}", postal_code="00100") for n in range(3)]


@pytest.fixture
def staff_groups(transactional_db):
    """A transactional test's flush empties the groups a migration made; put them back."""
    from django.apps import apps

    from privacy.groups import sync_groups

    sync_groups(apps)


def exports() -> int:
    return AuditEvent.objects.filter(action="export").count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_label_file_is_built_outside_any_transaction_before_its_event(
    staff_groups, owner_client, customers_to_label, monkeypatch, fmt
):
    """Item 4: while the XLSX or PDF is built no transaction is open (no audit lock held)
    and no event is recorded yet; once built, the export's event is recorded and the
    file the user gets holds the labels."""
    writer_name = f"write_{fmt}"
    real_writer = getattr(customers.label_views, writer_name)
    seen = {}

    def watched_writer(queryset, target):
        seen["in_transaction"] = connection.in_atomic_block
        seen["events_while_building"] = exports()
        return real_writer(queryset, target)

    monkeypatch.setattr(customers.label_views, writer_name, watched_writer)
    response = owner_client.get(LABELS, {"export": fmt})
    content = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert seen == {"in_transaction": False, "events_while_building": 0}
    event = AuditEvent.objects.get(action="export")
    assert event.fields == [f"labels_{fmt}"] and event.counts["rows"] == 3
    if fmt == "xlsx":
        names = [row[0] for row in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]
    else:
        names = [PdfReader(io.BytesIO(content)).pages[0].extract_text()]
    assert "Tarra2" in " ".join(str(name) for name in names)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_a_label_file_that_fails_to_build_leaves_no_event(owner_client, customers_to_label, monkeypatch, fmt):
    """Item 4: no event without its action: a build that fails half-way (after some
    rows were written) records nothing, and the user gets an error, not a file."""

    def failing_writer(queryset, target):
        target.write(b"half a file")
        raise BuildFailed

    monkeypatch.setattr(customers.label_views, f"write_{fmt}", failing_writer)
    owner_client.raise_request_exception = False
    before = AuditEvent.objects.count()
    response = owner_client.get(LABELS, {"export": fmt})
    assert response.status_code == 500
    assert b"half a file" not in response.content
    assert exports() == 0
    assert AuditEvent.objects.count() == before


@pytest.fixture
def released(db):
    submitted = submitted_request(reply_language="en")
    CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    report = report_json(build_access_report(list(Customer.objects.all()), language="en")).decode()
    DataRequest.objects.filter(pk=submitted.data_request.pk).update(
        status=RequestStatus.COMPLETED,
        report_json=report,
        report_expires_at=timezone.now() + datetime.timedelta(days=30),
    )
    return f"/en/privacy/status/{submitted.status_token}/report.pdf"


def downloads() -> int:
    return AuditEvent.objects.filter(action="report_downloaded", actor_type="data_subject").count()


@pytest.mark.django_db(transaction=True)
def test_report_pdf_is_rendered_outside_any_transaction_before_its_event(client, released, monkeypatch):
    """Item 4: the requester's PDF is rendered with no transaction open and no event yet;
    then the download is recorded and the PDF sent."""
    real_render = privacy.views.report_pdf
    seen = {}

    def watched_render(report):
        seen["in_transaction"] = connection.in_atomic_block
        seen["events_while_rendering"] = downloads()
        return real_render(report)

    monkeypatch.setattr(privacy.views, "report_pdf", watched_render)
    response = client.get(released)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert PdfReader(io.BytesIO(response.content)).pages
    assert seen == {"in_transaction": False, "events_while_rendering": 0}
    assert downloads() == 1


@pytest.mark.django_db
def test_a_report_pdf_that_fails_to_render_leaves_no_event(client, released, monkeypatch):
    """Item 4: no event without its action: a render that fails records no download."""

    def failing_render(report):
        raise BuildFailed

    monkeypatch.setattr(privacy.views, "report_pdf", failing_render)
    client.raise_request_exception = False
    assert client.get(released).status_code == 500
    assert downloads() == 0
