"""Factories and form-data builders shared by the tests."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import (
    Channel,
    Customer,
    Disclosure,
    DisclosureCategory,
    EmailMarketingConsent,
    InvoiceStatus,
    MarketingObjection,
    Order,
    OrderChannel,
    Organisation,
    Source,
)
from privacy.models import DataRequest, RequestStatus


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Hyvinvointi Oy {n}")
    business_id = "1572860-0"
    street_address = "Ellintie 4"
    postal_code = "00100"
    city = "Helsinki"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    first_name = factory.Faker("first_name", locale="fi_FI")
    last_name = factory.Sequence(lambda n: f"Virtanen{n}")
    email = factory.Sequence(lambda n: f"asiakas{n}@example.fi")
    phone = factory.Sequence(lambda n: f"+35840{1000000 + n}")
    street_address = factory.Sequence(lambda n: f"Mannerheimintie {n + 1}")
    postal_code = "00100"
    city = "Helsinki"
    country = "FI"
    birth_date = datetime.date(1980, 5, 17)
    source = Source.SHOP_PURCHASE


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    order_number = factory.Sequence(lambda n: f"T-{n:06d}")
    ordered_on = factory.LazyFunction(timezone.localdate)
    channel = OrderChannel.SHOP
    description = "Hieronta 60 min"
    total = Decimal("59.00")
    invoice_status = InvoiceStatus.PAID


class MarketingObjectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketingObjection

    customer = factory.SubFactory(CustomerFactory)
    purpose = "listing"
    channel = Channel.CUSTOMER_SERVICE


class EmailMarketingConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailMarketingConsent

    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.WEB_FORM


class DisclosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disclosure

    customer = factory.SubFactory(CustomerFactory)
    category = DisclosureCategory.DEBT_COLLECTION
    recipient = "Perintä Oy"
    data_disclosed = "name, address, open invoice"


class DataRequestFactory(factory.Factory):
    """A data request as the public form makes it (submitted through submit_request, so
    it has its reference, deadlines, tokens and timeline), then put in `status`."""

    class Meta:
        model = DataRequest

    kind = "access"
    first_name = "Aino"
    last_name = "Mäkinen"
    email = "aino@example.fi"
    phone = "040 765 4321"
    street_address = "Ellintie 4"
    postal_code = "00100"
    city = "Helsinki"
    reply_language = "fi"
    signature_name = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    declaration = True

    @classmethod
    def _create(cls, model_class, *, status=RequestStatus.RECEIVED, **fields):
        from privacy.data_requests import submit_request

        submitted = submit_request(fields=fields, drawn_signature=None, site_url="http://testserver/")
        model_class.objects.filter(pk=submitted.data_request.pk).update(status=status)
        return model_class.objects.get(pk=submitted.data_request.pk)


def submitted_request(*, status=RequestStatus.RECEIVED, reply_language: str = "en", **fields):
    """Aino Mäkinen's access request as the public form submits it, put in `status`; the
    result keeps the status token a requester's link carries (`.status_token`) and the
    request (`.data_request`, read back in its new status)."""
    from privacy.data_requests import submit_request

    submitted = submit_request(
        fields={
            "kind": "access",
            "first_name": "Aino",
            "last_name": "Mäkinen",
            "email": "aino@example.fi",
            "reply_language": reply_language,
            "signature_name": "Aino Mäkinen",
            "declaration": True,
            **fields,
        },
        drawn_signature=None,
        site_url="http://testserver/",
    )
    DataRequest.objects.filter(pk=submitted.data_request.pk).update(status=status)
    submitted.data_request.refresh_from_db()
    return submitted


def request_form_data(kind: str = "access", **overrides) -> dict:
    """What a person fills in on the public request form (POST data)."""
    data = {
        "kind": kind,
        "first_name": "Aino",
        "last_name": "Mäkinen",
        "email": "aino@example.fi",
        "phone": "040 765 4321",
        "street_address": "Ellintie 4",
        "postal_code": "00100",
        "city": "Helsinki",
        "reply_language": "fi",
        "signature_name": "Aino Mäkinen",
        "declaration": "on",
        "website": "",
    }
    if kind == "rectification":
        data.update(
            {
                "rectification_what": "Sukunimi",
                "rectification_correct": "Mäkelä",
                "rectification_grounds": "Avioliitto",
            }
        )
    if kind == "objection":
        data["objection_purposes"] = ["listing", "direct_marketing"]
    data.update(overrides)
    return data


def customer_admin_form(**overrides) -> dict:
    """What staff fill in on the admin's customer page (POST data, no inline rows)."""
    data = {
        "first_name": "Aino",
        "last_name": "Mäkinen",
        "email": "aino@example.fi",
        "phone": "040 765 4321",
        "street_address": "Ellintie 4",
        "postal_code": "00100",
        "city": "Helsinki",
        "country": "FI",
        "preferred_language": "fi",
        "source": "shop_purchase",
        "last_activity_at_0": "2026-11-24",
        "last_activity_at_1": "12:00:00",
    }
    for prefix in ["orders", "objections", "email_consents", "disclosures", "changes"]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def request_url(name: str, data_request: DataRequest) -> str:
    """The address of a step or document of a request's admin page ("link", "release",
    "letter" ...)."""
    from django.urls import reverse

    return reverse(f"admin:privacy_datarequest_{name}", args=[data_request.pk])


def pdf_text(content: bytes) -> str:
    """The text of a PDF as a reader's copy-and-paste gives it (pypdf)."""
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def verify_identity_on_page(client, data_request, method: str = "email_on_file", note: str = "") -> None:
    """Staff record the identity verification on the request's page, as every fulfilment
    step needs (issue 17)."""
    response = client.post(request_url("verify", data_request), {"method": method, "note": note})
    assert response.status_code == 302, response.content.decode()[:500]


def rectify_form_data(customer, *, values: dict | None = None, clear=(), reason: str = "incorrect") -> dict:
    """The rectification form on a request's page: new values typed, fields ticked to
    clear, each with its reason (issue 18, item 5)."""
    data = {"customer": str(customer.pk)}
    for name, value in (values or {}).items():
        data.update({name: value, f"reason_{name}": reason})
    for name in clear:
        data.update({f"clear_{name}": "on", f"reason_{name}": reason})
    return data
