import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from customers.models import Customer, ObjectionPurpose
from customers.validators import validate_business_id
from tests.factories import (
    CustomerFactory,
    EmailMarketingConsentFactory,
    MarketingObjectionFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("business_id", ["1572860-0", "0737546-2", "2617416-4"])
def test_real_business_ids_pass_the_checksum(business_id):
    """S7: the organisation represented is identified by a valid Y-tunnus."""
    validate_business_id(business_id)


@pytest.mark.parametrize("business_id", ["1572860-1", "1572860", "157286-00", "abcdefg-h", ""])
def test_wrong_business_ids_are_refused(business_id):
    with pytest.raises(ValidationError):
        validate_business_id(business_id)


def test_finnish_postal_code_must_be_five_digits():
    """S7: postal addresses are validated."""
    customer = CustomerFactory.build(postal_code="0010")
    with pytest.raises(ValidationError) as excinfo:
        customer.full_clean()
    assert "postal_code" in excinfo.value.message_dict


def test_foreign_postal_codes_are_not_forced_into_the_finnish_form():
    customer = CustomerFactory.build(country="se", postal_code="114 55")
    customer.full_clean()
    assert customer.country == "SE"


def test_phone_is_normalised_to_e164():
    """S7: phone numbers are stored in E.164."""
    customer = CustomerFactory(phone="040 123 4567")
    customer.refresh_from_db()
    assert str(customer.phone) == "+358401234567"


def test_invalid_phone_is_refused():
    customer = CustomerFactory.build(phone="12")
    with pytest.raises(ValidationError) as excinfo:
        customer.full_clean()
    assert "phone" in excinfo.value.message_dict


def test_age_or_birth_date_but_not_both():
    """S7: the notice collects age *or* birth date."""
    customer = CustomerFactory.build(birth_date=datetime.date(1990, 1, 1), age=35)
    with pytest.raises(ValidationError) as excinfo:
        customer.full_clean()
    assert "age" in excinfo.value.message_dict


@time_machine.travel(datetime.date(2026, 11, 24))
def test_age_band_comes_from_birth_date_or_stated_age():
    born = CustomerFactory(birth_date=datetime.date(1990, 12, 1), age=None)
    stated = CustomerFactory(birth_date=None, age=58, age_recorded_on=datetime.date(2024, 6, 1))
    assert born.current_age == 35 and born.age_band == "35–44"
    assert stated.birth_year == 1966 and stated.age_band == "55–64"
    assert set(Customer.objects.in_age_band("55_64")) == {stated}


def test_negative_order_total_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        OrderFactory(total=-1)


def test_contactable_leaves_out_objectors_in_one_query(django_assert_num_queries):
    """S17: who may be contacted for a purpose is one query."""
    free = CustomerFactory()
    objector = CustomerFactory()
    MarketingObjectionFactory(customer=objector, purpose=ObjectionPurpose.DIRECT_ADVERTISING)
    withdrawn = CustomerFactory()
    MarketingObjectionFactory(
        customer=withdrawn,
        purpose=ObjectionPurpose.DIRECT_ADVERTISING,
        withdrawn_at=datetime.datetime.now(datetime.UTC),
    )
    with django_assert_num_queries(1):
        result = set(Customer.objects.contactable(ObjectionPurpose.DIRECT_ADVERTISING))
    assert result == {free, withdrawn}
    assert objector in Customer.objects.contactable(ObjectionPurpose.MARKET_RESEARCH)


def test_objection_history_is_kept_and_only_one_in_force_per_purpose():
    """S17: one objection per purpose, with history."""
    customer = CustomerFactory()
    first = MarketingObjectionFactory(customer=customer, purpose=ObjectionPurpose.LISTING)
    first.withdrawn_at = datetime.datetime.now(datetime.UTC)
    first.save()
    MarketingObjectionFactory(customer=customer, purpose=ObjectionPurpose.LISTING)
    assert customer.objections.count() == 2
    with pytest.raises(IntegrityError):
        MarketingObjectionFactory(customer=customer, purpose=ObjectionPurpose.LISTING)


def test_email_marketing_needs_consent_and_no_objection():
    """E-mail marketing is opt-in (Act 917/2014 s. 200)."""
    consented = CustomerFactory()
    EmailMarketingConsentFactory(customer=consented)
    CustomerFactory()  # no consent
    consented_but_objects = CustomerFactory()
    EmailMarketingConsentFactory(customer=consented_but_objects)
    MarketingObjectionFactory(customer=consented_but_objects, purpose=ObjectionPurpose.DIRECT_MARKETING)
    assert list(Customer.objects.email_marketable()) == [consented]


def test_open_invoice_and_debt_collection_count_as_unsettled():
    paid = OrderFactory(invoice_status="paid").customer
    open_ = OrderFactory(invoice_status="open").customer
    collected = OrderFactory(invoice_status="debt_collection").customer
    assert set(Customer.objects.with_open_invoices()) == {open_, collected}
    assert paid not in Customer.objects.with_open_invoices()
