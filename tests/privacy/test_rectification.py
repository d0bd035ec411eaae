import datetime
import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from customers.models import Customer, ObjectionPurpose
from privacy.models import Notification
from privacy.notifications import make_letter
from privacy.objection import record_objections
from privacy.rectification import (
    apply_rectification,
    refusal_certificate_pdf,
)
from tests.factories import CustomerFactory, DataRequestFactory, DisclosureFactory, MarketingObjectionFactory

pytestmark = pytest.mark.django_db
CONTROLLER = {
    "name": "Kehobalanssi",
    "address": "Ellintie 4",
    "email": "x@example.fi",
    "contact_person": "Sanna-Kaisa Lehto",
}


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_rectification_applies_and_lists_source_and_recipients(owner):
    """S18: the correction is made, recorded with its source, and the source and
    every recipient in the disclosure log are listed to be told (art. 19)."""
    customer = CustomerFactory(last_name="Vääränen", source="reseller")
    DisclosureFactory(customer=customer, recipient="Perintä Oy", category="debt_collection")
    DisclosureFactory(customer=customer, recipient="Perintä Oy", category="debt_collection")
    DisclosureFactory(customer=customer, recipient="Laskutus Oy", category="invoicing")

    with translation.override("en"):
        outcome = apply_rectification(customer=customer, changes={"last_name": "Oikeanen"}, actor=owner)

    assert outcome.applied and outcome.changed_fields == ["last_name"]
    assert Customer.objects.get(pk=customer.pk).last_name == "Oikeanen"
    change = customer.changes.get()
    assert change.source == "data_subject_request" and change.fields == ["last_name"]
    assert [(r.kind, r.name) for r in outcome.notify] == [
        ("source", "Reseller"),
        ("disclosure", "Perintä Oy"),
        ("disclosure", "Laskutus Oy"),
    ]


def test_invalid_rectification_changes_nothing(owner):
    customer = CustomerFactory(postal_code="00100")
    outcome = apply_rectification(customer=customer, changes={"postal_code": "1"}, actor=owner)
    assert not outcome.applied and "postal_code" in outcome.errors
    assert Customer.objects.get(pk=customer.pk).postal_code == "00100"


def test_notification_letter_carries_the_corrected_value(owner):
    """S18: the letter to a recipient shows the value in the register when it is printed,
    and says which fields were corrected and which deleted."""
    customer = CustomerFactory(last_name="Oikeanen", phone="")
    notification = Notification.objects.create(
        request=DataRequestFactory(kind="rectification"),
        customer=customer,
        recipient_kind="disclosure",
        recipient_name="Perintä Oy",
        category="debt_collection",
        changes={"last_name": "corrected", "phone": "deleted"},
    )
    text = pdf_text(make_letter(notification=notification, actor=owner, controller=CONTROLLER, language="en"))
    assert "Oikeanen" in text and "article 19" in text and "Perintä Oy" in text
    assert "corrected" in text and "deleted from our register" in text


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fi", ["Todistus", "tietosuojavaltuutetun"]),
        ("en", ["Certificate of refused rectification", "Data Protection Ombudsman"]),
    ],
)
def test_refusal_certificate_states_reasons_and_the_ombudsman(language, words):
    """S18: a refusal gets a written certificate with the reasons and the route to the
    Data Protection Ombudsman, in the requester's language."""
    text = pdf_text(
        refusal_certificate_pdf(
            reference="KB-2026-0042",
            requester_name="Aino Mäkinen",
            requested="Syntymäaika",
            reasons="Väestötietojärjestelmän mukaan tieto on oikein.",
            received_on=datetime.date(2026, 11, 2),
            controller=CONTROLLER,
            language=language,
        )
    )
    assert "KB-2026-0042" in text and "Väestötietojärjestelmän" in text
    for word in words:
        assert word.lower() in text.lower()


def test_objection_request_records_every_purpose_at_once(owner):
    """S17: completing an objection records the objections per purpose; one already in
    force is not duplicated."""
    customer = CustomerFactory()
    MarketingObjectionFactory(customer=customer, purpose=ObjectionPurpose.LISTING)
    outcome = record_objections(
        customer=customer,
        channel="web_form",
        actor=owner,
        purposes=[
            ObjectionPurpose.LISTING,
            ObjectionPurpose.DIRECT_MARKETING,
            ObjectionPurpose.MARKET_RESEARCH,
        ],
    )
    assert outcome.recorded == ["direct_marketing", "market_research"]
    assert outcome.already_in_force == ["listing"]
    assert set(customer.objections.in_force().values_list("purpose", flat=True)) == {
        "listing",
        "direct_marketing",
        "market_research",
    }
    assert not Customer.objects.contactable(ObjectionPurpose.DIRECT_MARKETING).exists()
