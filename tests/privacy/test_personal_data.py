"""One declaration of what is personal data (issue 18, item 9; S3, S16, S19).

privacy/personal_data.py classifies every concrete field of every model of the customers
and privacy apps; the access report, anonymisation, erasure, the request's identity
erasure and the import read their lists from it. These tests walk the declaration, never
a list of their own, so a field added to a model is either classified or fails here.
"""

import datetime
import io
import json
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.test.utils import isolate_apps
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from customers.changes import record_change
from customers.imports import FIELDS as IMPORT_FIELDS
from customers.models import (
    Customer,
    CustomerChange,
    Disclosure,
    EmailMarketingConsent,
    MarketingObjection,
    Order,
    Organisation,
)
from privacy.models import DataRequest, RequestStatus
from privacy.personal_data import (
    Kind,
    UndeclaredField,
    classification_problems,
    fields,
    register_models,
    removed_fields,
    report_fields,
)
from privacy.rectification import RECTIFIABLE_FIELDS
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    DisclosureFactory,
    EmailMarketingConsentFactory,
    MarketingObjectionFactory,
    OrderFactory,
    OrganisationFactory,
    submitted_request,
    verify_identity_on_page,
)
from tests.factories import (
    request_url as url,
)
from tests.mailbox import deliver_mail

EMPTY = ("", None)


def test_every_field_of_every_model_of_the_register_is_classified():
    """Item 9: each concrete field of each model of customers and privacy, the table
    behind DataRequest.customers included, has a class; a failure names model.field."""
    labels = {model._meta.label for model in register_models()}
    assert {"customers.Customer", "privacy.DataRequest", "privacy.DataRequest_customers"} <= labels
    assert classification_problems() == []


def fake_customer(*, add: dict | None = None, drop: tuple[str, ...] = ()) -> type[models.Model]:
    """A model labelled customers.Customer with Customer's own fields, plus `add`, less
    `drop`, in a registry of its own: the app's models stay as they are."""
    with isolate_apps("customers"):
        attrs: dict = {f.name: f.clone() for f in Customer._meta.concrete_fields if f.name not in drop}
        attrs.update(add or {}, __module__="customers.models")
        return type("Customer", (models.Model,), attrs)


def test_a_field_added_to_customer_without_a_class_fails_the_walk():
    """Done when: "the classification test fails when a field is added to Customer
    without a class", and so do the lists derived from it, naming the field."""
    fake = fake_customer(add={"nickname": models.CharField(max_length=50, blank=True)})

    assert fake._meta.label == "customers.Customer"
    assert classification_problems([fake]) == ["customers.Customer.nickname: not classified"]
    with pytest.raises(UndeclaredField, match=r"customers\.Customer\.nickname"):
        report_fields(fake)
    with pytest.raises(UndeclaredField, match=r"customers\.Customer\.nickname"):
        removed_fields(fake)
    # The real model is untouched, and still fully classified.
    assert apps.get_model("customers", "Customer") is Customer
    assert "nickname" not in [f.name for f in Customer._meta.get_fields()]
    assert classification_problems() == []


def test_a_field_removed_from_customer_but_still_declared_fails_the_walk():
    """Item 9: a declaration that outlives its field is reported too."""
    fake = fake_customer(drop=("birth_year",))
    assert classification_problems([fake]) == ["customers.Customer.birth_year: declared, not a field"]


def as_json(value):
    """A stored value as the report's JSON writes it."""
    if isinstance(value, PhoneNumber):
        value = str(value)
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def filled_customer() -> Customer:
    """A customer with every field the report shows filled, and one of each related row."""
    organisation = OrganisationFactory(name="Mäkisen Hieronta", business_id="1572860-0")
    customer = CustomerFactory(
        first_name="Aino",
        last_name="Mäkinen",
        email="aino@example.fi",
        phone="+358401234567",
        street_address="Ellintie 4",
        postal_code="00100",
        city="Helsinki",
        birth_date=datetime.date(1980, 5, 17),
        organisation=organisation,
        preferred_language="sv",
        source="web_shop",
    )
    OrderFactory(customer=customer, description="Lahjakortti Ainolle", total=Decimal("65.50"))
    MarketingObjectionFactory(
        customer=customer,
        purpose="market_research",
        withdrawn_at=timezone.now(),
        withdrawal_channel="email",
    )
    EmailMarketingConsentFactory(customer=customer, withdrawn_at=timezone.now())
    DisclosureFactory(customer=customer, data_disclosed="Aino Mäkinen, Ellintie 4, lasku 65,50 €")
    record_change(
        customer=customer,
        fields=["email"],
        source="customer_notice",
        actor=None,
        kind="corrected",
        reason="out_of_date",
    )
    # A customer gives a birth date or an age; the report shows whichever is stored, so
    # here both are (written past clean(), which asks for one).
    Customer.objects.filter(pk=customer.pk).update(age=45, age_recorded_on=datetime.date(2025, 1, 1))
    return Customer.objects.get(pk=customer.pk)


RELATED = [  # (the report's section, the model, the customer's rows)
    ("orders", Order, "orders"),
    ("marketing_objections", MarketingObjection, "objections"),
    ("email_marketing_consents", EmailMarketingConsent, "email_consents"),
    ("disclosures", Disclosure, "disclosures"),
    ("changes", CustomerChange, "changes"),
]


@pytest.mark.django_db
def test_the_released_report_holds_every_report_field_of_a_customer(client, owner_client):
    """S16, item 9: with every field the declaration puts in the report filled, the JSON
    the requester downloads from the status page holds each one's stored value: the
    customer's, the organisation's, and those of every order, objection, consent,
    disclosure and change."""
    customer = filled_customer()
    submitted = submitted_request(reply_language="fi")
    request = submitted.data_request
    owner_client.post(url("link", request), {"customers": [str(customer.pk)]})
    verify_identity_on_page(owner_client, request)
    # The last report field, set once the customer is linked (an anonymised customer is
    # not offered for linking).
    Customer.objects.filter(pk=customer.pk).update(anonymised_at=timezone.now())
    customer = Customer.objects.get(pk=customer.pk)
    for name in report_fields(Customer):
        assert getattr(customer, name) not in EMPTY, f"fill Customer.{name} in this test"
    owner_client.post(url("release", request))

    response = client.get(f"/fi/privacy/status/{submitted.status_token}/report.json")
    assert response.status_code == 200
    subject = json.loads(response.content)["data_subjects"][0]
    shown = subject["customer"]
    for name in report_fields(Customer):
        if name == "organisation":
            expected = {n: as_json(getattr(customer.organisation, n)) for n in report_fields(Organisation)}
        else:
            expected = as_json(getattr(customer, name))
        assert shown[name] == expected, f"Customer.{name}"
    for section, model, rows in RELATED:
        stored = list(getattr(customer, rows).all())
        assert len(subject[section]) == len(stored) == 1, section
        for name in report_fields(model):
            value = getattr(stored[0], name)
            assert value not in EMPTY, f"fill {model.__name__}.{name} in this test"
            assert subject[section][0][name] == as_json(value), f"{model.__name__}.{name}"


@pytest.mark.django_db
def test_anonymisation_clears_every_identifying_field_and_keeps_the_statistics(owner_client):
    """S3, S19, item 9: after the anonymisation a request asked for, every identifying and
    free-text field the declaration names, of the customer and of their orders and
    disclosures, is empty; every statistics field is as it was."""
    customer = filled_customer()
    earlier = DataRequestFactory(kind="access", identity_note="Aino Mäkinen näytti passin")
    DataRequest.objects.filter(pk=earlier.pk).update(status=RequestStatus.REFUSED, closed_at=timezone.now())
    earlier.customers.add(customer)
    rows = {
        Customer: [customer],
        Order: list(customer.orders.all()),
        Disclosure: list(customer.disclosures.all()),
    }
    kept = {}
    for model, objs in rows.items():
        for obj in objs:
            for name in removed_fields(model):
                assert getattr(obj, name) not in EMPTY, f"fill {model.__name__}.{name} in this test"
            for name in fields(model, Kind.STATISTICS):
                assert getattr(obj, name) not in EMPTY, f"fill {model.__name__}.{name} in this test"
                kept[(model, obj.pk, name)] = getattr(obj, name)

    request = DataRequestFactory(kind="anonymisation")
    owner_client.post(url("link", request), {"customers": [str(customer.pk)]})
    verify_identity_on_page(owner_client, request)
    response = owner_client.post(url("anonymise", request))
    assert response.status_code == 302

    for model, objs in rows.items():
        for obj in objs:
            obj.refresh_from_db()
            for name in removed_fields(model):
                value = getattr(obj, name)
                assert (str(value) if isinstance(value, PhoneNumber) else value) in EMPTY, (
                    f"{model.__name__}.{name} survived anonymisation"
                )
            for name in fields(model, Kind.STATISTICS):
                assert getattr(obj, name) == kept[(model, obj.pk, name)], f"{model.__name__}.{name}"
    earlier.refresh_from_db()
    assert earlier.identity_erased_at and earlier.identity_note == "[poistettu]"


@pytest.mark.django_db
def test_a_refused_request_keeps_no_trace_of_the_person_once_its_identity_is_erased(owner_client, capsys):
    """S19, item 9 (staff-written free text): staff verify a request with a note naming
    the person, extend it and refuse it with reasons naming them; once the retention run
    erases the request's identity, no column of its row holds the name, the texts read
    "[poistettu]", and what the statistics need (kind, status, dates) stays."""
    request = DataRequestFactory(kind="erasure", first_name="Aino", last_name="Mäkinen")
    verify_identity_on_page(owner_client, request, "in_person", "Aino Mäkinen kävi myymälässä")
    owner_client.post(url("extend", request), {"months": "1", "reason": "Aino Mäkisen laskut selvitetään"})
    owner_client.post(url("refuse", request), {"reason": "Aino Mäkisellä on avoin lasku"})
    request.refresh_from_db()
    assert request.status == RequestStatus.REFUSED
    assert "Mäkise" in request.refusal_reason and "Mäkise" in request.extension_reason
    before = DataRequest.objects.filter(pk=request.pk).values().get()

    with time_machine.travel(timezone.now() + datetime.timedelta(days=400)):
        call_command("apply_retention")

    row = DataRequest.objects.filter(pk=request.pk).values().get()
    for column, value in row.items():
        text = str(value).casefold()
        assert "aino" not in text and "mäki" not in text, column
    assert row["identity_erased_at"]
    for name in ["refusal_reason", "extension_reason", "identity_note"]:
        assert row[name] == "[poistettu]", name
    for name in ["kind", "status", "submitted_at", "due_date", "original_due_date", "closed_at"]:
        assert row[name] == before[name], name
    capsys.readouterr()
    deliver_mail()  # the worker sends the answer and deletes the outbox's copy
    call_command("find_personal_data", "Mäki", stdout=(out := io.StringIO()))
    assert out.getvalue().strip() == "Not found in any table."


def test_what_an_import_or_a_rectification_writes_is_personal_data_the_report_shows():
    """S8, S16: whatever a source's file or a rectification sets on a customer is declared
    personal data (identifying or statistics) and shown in the access report; the
    import's columns are the fields declared `imported`."""
    personal = set(fields(Customer, Kind.IDENTIFYING, Kind.STATISTICS)) & set(report_fields(Customer))
    assert set(IMPORT_FIELDS) <= personal
    assert set(RECTIFIABLE_FIELDS) <= personal
    assert "first_name" in IMPORT_FIELDS and "birth_year" not in IMPORT_FIELDS
