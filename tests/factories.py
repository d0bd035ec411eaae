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
