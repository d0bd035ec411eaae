import io
import json

import pytest
from django.contrib import admin
from pypdf import PdfReader

from customers.changes import record_change
from customers.models import Customer, Order
from privacy.access_report import build_access_report, report_json, report_pdf
from tests.factories import (
    CustomerFactory,
    DisclosureFactory,
    EmailMarketingConsentFactory,
    MarketingObjectionFactory,
    OrderFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = CustomerFactory(
        first_name="Raili", last_name="Raportoitava", organisation=OrganisationFactory(name="Kuntosali Oy")
    )
    OrderFactory(customer=customer, order_number="R-1", description="Hieronta")
    MarketingObjectionFactory(customer=customer, purpose="market_research")
    EmailMarketingConsentFactory(customer=customer)
    DisclosureFactory(customer=customer, recipient="Luottotieto Oy", category="credit_decision")
    record_change(customer=customer, fields=["email"], source="customer_notice", actor=None)
    return customer


def admin_field_names(model_admin, request) -> dict[str, set[str]]:
    """What the admin shows for a customer: its fields and each inline's fields."""
    shown = {"customer": set(model_admin.get_fields(request))}
    for inline in model_admin.get_inline_instances(request):
        shown[inline.model._meta.model_name] = set(inline.get_fields(request))
    return shown


def test_json_holds_every_field_the_admin_shows(customer, rf, owner):
    """S16: the access report leaves out nothing the staff can see (art. 15)."""
    request = rf.get("/")
    request.user = owner
    shown = admin_field_names(admin.site._registry[Customer], request)
    data = json.loads(report_json(build_access_report([customer], language="en")))
    person = data["data_subjects"][0]
    form_only = {"change_source"}  # asks staff where a change came from; not stored on the row
    assert shown["customer"] - form_only <= set(person["customer"])
    sections = {
        "order": "orders",
        "marketingobjection": "marketing_objections",
        "emailmarketingconsent": "email_marketing_consents",
        "disclosure": "disclosures",
        "customerchange": "changes",
    }
    for model_name, key in sections.items():
        staff_only = {
            "recorded_by",
            "disclosed_by",
            "changed_by",
            "withdrawn_by",
        }  # staff identities are not the person's data
        staff_only.add("withdraw")  # the objection's withdraw link
        assert person[key], key
        assert shown[model_name] - staff_only <= set(person[key][0]), key
    assert person["customer"]["organisation"]["name"] == "Kuntosali Oy"
    assert person["disclosures"][0]["recipient"] == "Luottotieto Oy"


def test_report_explains_purposes_recipients_retention_rights_and_complaint(customer):
    """S16: art. 15(1)(a)-(h) are all answered."""
    processing = build_access_report([customer], language="en")["processing"]
    assert {
        "purposes",
        "legal_bases",
        "recipients",
        "retention",
        "sources",
        "rights",
        "complaint",
        "automated_decisions",
    } <= set(processing)
    assert "tietosuoja.fi" in processing["complaint"]
    assert any("chapter 2, section 10" in line for line in processing["retention"])


@pytest.mark.parametrize(
    ("language", "heading", "ombudsman"),
    [
        ("fi", "Tarkastusraportti", "Tietosuojavaltuutetun toimisto"),
        ("en", "Access report", "Data Protection Ombudsman"),
    ],
)
def test_pdf_renders_in_the_requesters_language(customer, language, heading, ombudsman):
    """S16: a readable report in Finnish or English."""
    pdf = report_pdf(build_access_report([customer], language=language))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert heading in text and ombudsman in text
    assert "Raportoitava" in text and "R-1" in text


@pytest.mark.parametrize("orders", [10, 1000])
def test_report_queries_do_not_grow_with_orders(orders, django_assert_max_num_queries):
    customer = CustomerFactory()
    Order.objects.bulk_create(
        Order(customer=customer, order_number=f"N-{i}", ordered_on="2025-01-01", channel="shop", total=5)
        for i in range(orders)
    )
    with django_assert_max_num_queries(6):
        report = build_access_report([customer], language="fi")
    assert len(report["data_subjects"][0]["orders"]) == orders
