"""The released access report is the preview (S16): what the requester downloads from the
status page shows every date and sum staff saw, written the reply language's way."""

import datetime
import io
import json
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from customers.changes import record_change
from customers.models import Customer
from privacy.models import DataRequest, RequestStatus
from tests.factories import (
    CustomerFactory,
    DisclosureFactory,
    EmailMarketingConsentFactory,
    MarketingObjectionFactory,
    OrderFactory,
    submitted_request,
    verify_identity_on_page,
)
from tests.factories import (
    request_url as url,
)

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")
UTC = datetime.UTC


def at(year: int, month: int, day: int, hour: int = 12, tz=HELSINKI) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, 0, tzinfo=tz)


# Every date and sum the report holds, as each language writes it.
EXPECTED = {
    "fi": [
        "Laadittu 2.12.2026",  # generated, and the request's date (2.12.2026)
        "17.5.1980",  # birth date
        "3.2.2024",  # in the register since (23.30 UTC on the 2nd is the 3rd in Helsinki)
        "9.8.2025",  # last updated, and the change's date
        "10.9.2025",  # last activity
        "5.4.2025",  # an order
        "30.11.2025",  # another order
        "65,50 €",
        "1 234,50 €",
        "6.5.2025",  # the objection
        "8.7.2025",  # the consent
        "11.10.2025",  # the disclosure
    ],
    "en": [
        "Made on 2 December 2026",
        "17 May 1980",
        "3 February 2024",
        "9 August 2025",
        "10 September 2025",
        "5 April 2025",
        "30 November 2025",
        "€65.50",
        "€1,234.50",
        "6 May 2025",
        "8 July 2025",
        "11 October 2025",
    ],
}


def pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", " ", text)  # a no-break space or a line break reads as a space


@pytest.fixture
def customer():
    customer = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    OrderFactory(customer=customer, order_number="R-1", ordered_on="2025-04-05", total=Decimal("65.50"))
    OrderFactory(customer=customer, order_number="R-2", ordered_on="2025-11-30", total=Decimal("1234.50"))
    MarketingObjectionFactory(customer=customer, purpose="market_research", received_at=at(2025, 5, 6))
    EmailMarketingConsentFactory(customer=customer, given_at=at(2025, 7, 8))
    DisclosureFactory(customer=customer, disclosed_on="2025-10-11")
    change = record_change(customer=customer, fields=["email"], source="customer_notice", actor=None)
    type(change).objects.filter(pk=change.pk).update(changed_at=at(2025, 8, 9))
    Customer.objects.filter(pk=customer.pk).update(
        created_at=datetime.datetime(2024, 2, 2, 23, 30, tzinfo=UTC),
        updated_at=at(2025, 8, 9),
        last_activity_at=at(2025, 9, 10),
    )
    return customer


@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_downloaded_report_shows_every_date_and_sum_of_the_preview(
    client, owner_client, customer, language
):
    """S16: staff release the report they previewed on the request's page; the requester
    downloads it from the status page: the PDF has every date and sum of the preview, in
    the reply language's format, and the JSON is the preview's JSON."""
    with time_machine.travel(at(2026, 12, 2, 10), tick=False):
        submitted = submitted_request(reply_language=language)
        request = submitted.data_request
        owner_client.post(url("link", request), {"customers": [str(customer.pk)]})
        verify_identity_on_page(owner_client, request)
        preview = pdf_text(owner_client.get(url("preview", request)).content)
        preview_json = json.loads(owner_client.get(url("preview", request), {"format": "json"}).content)
        owner_client.post(url("release", request))
        assert DataRequest.objects.get(pk=request.pk).status == RequestStatus.COMPLETED

    status = f"/{language}/privacy/status/{submitted.status_token}/"
    released = pdf_text(client.get(f"{status}report.pdf").content)
    released_json = json.loads(client.get(f"{status}report.json").content)

    for value in EXPECTED[language]:
        assert value in preview, value
        assert value in released, value
    assert released == preview
    assert released_json == preview_json
    assert released_json["data_subjects"][0]["orders"][0]["total"] in {"65.50", "1234.50"}
