import datetime

import pytest
from django.utils import translation

from customers.changes import record_change
from customers.models import Customer, ObjectionPurpose
from privacy.models import AuditEvent, Notification
from privacy.notifications import make_letter
from privacy.objection import record_objections
from privacy.rectification import (
    apply_rectification,
    refusal_certificate_pdf,
)
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    DisclosureFactory,
    MarketingObjectionFactory,
    pdf_text,
    rectify_form_data,
)

pytestmark = pytest.mark.django_db
CONTROLLER = {
    "name": "Kehobalanssi",
    "address": "Ellintie 4",
    "email": "x@example.fi",
    "contact_person": "Sanna-Kaisa Lehto",
}


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


def test_the_business_own_channels_and_the_person_are_not_sources_to_tell(owner):
    """S18: "the one the wrong data came from" is told: a reseller, an address-update
    service or a subcontractor; not the business's own shop or the person's own notice."""
    customer = CustomerFactory(source="shop_purchase")
    record_change(customer=customer, fields=["email"], source="customer_notice", actor=None)
    record_change(customer=customer, fields=["street_address"], source="address_update", actor=None)
    with translation.override("en"):
        outcome = apply_rectification(customer=customer, changes={"city": "Espoo"}, actor=owner)
    assert [(r.kind, r.name) for r in outcome.notify] == [("source", "Address-update service")]


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


# -- rectification on the request's page corrects, deletes or completes (issue 18, item 5)


@pytest.fixture
def verified_rectification(owner_client):
    from django.urls import reverse

    from tests.factories import verify_identity_on_page

    customer = CustomerFactory(
        first_name="Aino",
        last_name="Mäkinen",
        email="aino@example.fi",
        phone="+358401234567",
        street_address="",
    )
    DisclosureFactory(customer=customer, recipient="Perintä Oy")
    request = DataRequestFactory(kind="rectification", rectification_what="Puhelinnumero")
    owner_client.post(
        reverse("admin:privacy_datarequest_link", args=[request.pk]), {"customers": [str(customer.pk)]}
    )
    verify_identity_on_page(owner_client, request)
    return request, customer, reverse("admin:privacy_datarequest_rectify", args=[request.pk])


def test_a_rectification_that_clears_a_field(owner_client, owner, verified_rectification):
    """Issue 18 item 5, S18, GDPR art. 17(1)(a): staff tick "clear" for a phone number that
    is unnecessary: it becomes empty, the change history says deleted with the reason, the
    audit event names the field and no value, and the art. 19 record carries the kind."""
    request, customer, rectify = verified_rectification
    response = owner_client.post(rectify, rectify_form_data(customer, clear=["phone"], reason="unnecessary"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert str(customer.phone) == "" and customer.last_name == "Mäkinen"
    change = customer.changes.get()
    assert (change.fields, change.kind, change.reason, change.source) == (
        ["phone"],
        "deleted",
        "unnecessary",
        "data_subject_request",
    )
    event = AuditEvent.objects.get(action="rectified_deleted")
    assert (event.object_type, event.object_id, event.fields) == (
        "customers.customer",
        str(customer.pk),
        ["phone"],
    )
    assert "358401234567" not in str(event.counts) + str(event.fields)
    assert not AuditEvent.objects.filter(action__in=["rectified", "rectified_completed"]).exists()
    assert request.notifications.get().changes == {"phone": "deleted"}
    page = owner_client.get(f"/admin/customers/customer/{customer.pk}/change/")
    assert "poistettu" in page.text and "tarpeeton" in page.text  # the history's kind and reason


def test_completing_an_empty_field_is_recorded_as_completed(owner_client, verified_rectification):
    """Issue 18 item 5, GDPR art. 16: filling an empty field is recorded as completed, next
    to a correction recorded as corrected; the audit log has one event per kind."""
    request, customer, rectify = verified_rectification
    data = rectify_form_data(customer, values={"street_address": "Ellintie 4 B 12"}, reason="incomplete")
    data.update(rectify_form_data(customer, values={"last_name": "Mäkelä"}, reason="incorrect"))
    assert owner_client.post(rectify, data).status_code == 302
    customer.refresh_from_db()
    assert (customer.street_address, customer.last_name) == ("Ellintie 4 B 12", "Mäkelä")
    kinds = {c.kind: (c.fields, c.reason) for c in customer.changes.all()}
    assert kinds == {
        "completed": (["street_address"], "incomplete"),
        "corrected": (["last_name"], "incorrect"),
    }
    events = dict(AuditEvent.objects.filter(action__startswith="rectified").values_list("action", "fields"))
    assert events == {"rectified_completed": ["street_address"], "rectified": ["last_name"]}
    assert request.notifications.get().changes == {"street_address": "completed", "last_name": "corrected"}


def test_clearing_a_required_name_is_refused_and_nothing_changes(owner_client, verified_rectification):
    """Issue 18 item 5: the names are required in the register: ticking "clear" for one is
    refused with a message (400) and nothing changes, the other fields of the post neither."""
    request, customer, rectify = verified_rectification
    data = rectify_form_data(customer, clear=["last_name", "phone"], reason="unnecessary")
    response = owner_client.post(rectify, data)
    assert response.status_code == 400
    assert "Sukunimi on rekisterissä pakollinen tieto, eikä sitä voi tyhjentää: korjaa se." in response.text
    customer.refresh_from_db()
    assert customer.last_name == "Mäkinen" and str(customer.phone) == "+358401234567"
    assert not customer.changes.exists() and not request.notifications.exists()
    refused = apply_rectification(customer=customer, changes={"first_name": ""}, actor=None)
    assert not refused.applied and "first_name" in refused.errors
    assert Customer.objects.get(pk=customer.pk).first_name == "Aino"


def test_an_input_left_empty_erases_nothing(owner_client, verified_rectification):
    """Issue 18 item 5: a reason chosen for a field whose input was left empty, without
    "clear", is a mistake shown to staff (400), never a deletion; so is a change without
    its reason."""
    request, customer, rectify = verified_rectification
    forgotten = {"customer": str(customer.pk), "reason_phone": "incorrect"}
    response = owner_client.post(rectify, forgotten)
    assert response.status_code == 400 and "Kirjoita uusi arvo tai rastita tyhjennys" in response.text
    no_reason = {"customer": str(customer.pk), "clear_phone": "on"}
    response = owner_client.post(rectify, no_reason)
    assert response.status_code == 400 and "Valitse muutoksen syy (puhelin)." in response.text
    customer.refresh_from_db()
    assert str(customer.phone) == "+358401234567" and not customer.changes.exists()
