"""Organisations are anonymised, never deleted (issue 17, item 8): the admin action shows
the plan, blanks the name, business ID and address, detaches the people (kept, with their
orders), is audited with counts only, does nothing twice, and waits while a legal hold
applies."""

import pytest
from django.urls import reverse

from customers.models import Customer, CustomerChange, Order, Organisation
from privacy.finder import find_personal_data
from privacy.models import AuditAction, AuditEvent
from tests.factories import CustomerFactory, OrderFactory, OrganisationFactory, customer_admin_form

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_organisation_changelist")


def select(*organisations) -> dict:
    return {"action": "anonymise_organisations", "_selected_action": [str(o.pk) for o in organisations]}


def confirm(*organisations, source="customer_notice") -> dict:
    return {**select(*organisations), "confirm": "yes", "source": source}


@pytest.fixture
def sole_trader():
    organisation = OrganisationFactory(name="Toiminimi Aino Mäkinen", business_id="1572860-0")
    first = CustomerFactory(organisation=organisation, last_name="Mäkinen")
    CustomerFactory(organisation=organisation, last_name="Virta")
    OrderFactory(customer=first, invoice_status="paid")
    return organisation


def test_the_plan_says_what_is_blanked_and_that_people_and_orders_stay(staff_client, sole_trader):
    """S2, S19: nothing changes until staff confirm what they were shown."""
    plan = staff_client.post(CHANGELIST, select(sole_trader), HTTP_ACCEPT_LANGUAGE="en")
    assert plan.status_code == 200
    for words in [
        "Toiminimi Aino Mäkinen",
        "business ID (Y-tunnus)",
        "street, postal code, city",
        "detached, not deleted: 2 people",
        "kept: 1 order of these people",
        "Anonymise 1 organisation",
    ]:
        assert words in plan.text, words
    assert Organisation.objects.get().anonymised_at is None
    assert Customer.objects.filter(organisation=sole_trader).count() == 2


def test_anonymising_blanks_the_organisation_and_detaches_its_people(staff_client, staff_member, sole_trader):
    done = staff_client.post(CHANGELIST, confirm(sole_trader), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 organisation anonymised; 2 people detached (kept, with their orders)." in done.text
    organisation = Organisation.objects.get()
    assert organisation.anonymised_at is not None
    assert organisation.name == f"Anonymisoitu organisaatio #{organisation.pk}"
    assert (organisation.business_id, organisation.street_address, organisation.postal_code) == ("", "", "")
    assert organisation.city == ""
    # The people stay, detached, each with the change in their history; their orders stay.
    assert Customer.objects.count() == 2 and not Customer.objects.filter(organisation__isnull=False).exists()
    changes = CustomerChange.objects.all()
    assert len(changes) == 2
    assert all(c.fields == ["organisation"] and c.source == "customer_notice" for c in changes)
    assert all(c.changed_by == staff_member for c in changes)
    assert Order.objects.filter(customer__isnull=False).count() == 1
    # Nothing of the name or the business ID is left anywhere in the database.
    assert find_personal_data("Toiminimi Aino") == []
    assert find_personal_data("1572860-0") == []
    event = AuditEvent.objects.get(action=AuditAction.ANONYMISED)
    assert event.object_type == "customers.organisation" and event.object_id == str(organisation.pk)
    assert event.counts == {"organisations": 1, "people_detached": 2, "already_anonymised": 0, "blocked": 0}
    assert "name" in event.fields and "people.organisation" in event.fields


def test_anonymising_again_does_nothing(staff_client, sole_trader):
    staff_client.post(CHANGELIST, confirm(sole_trader))
    events = AuditEvent.objects.filter(action=AuditAction.ANONYMISED).count()
    plan = staff_client.post(CHANGELIST, select(sole_trader), HTTP_ACCEPT_LANGUAGE="en")
    assert "Anonymised before: nothing to do." in plan.text and 'value="Anonymise' not in plan.text
    again = staff_client.post(CHANGELIST, confirm(sole_trader), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 organisation was anonymised before: nothing to do." in again.text
    assert AuditEvent.objects.filter(action=AuditAction.ANONYMISED).count() == events
    assert CustomerChange.objects.count() == 2


def test_an_open_invoice_or_debt_collection_of_its_people_blocks_it(staff_client):
    """S11: the business has a legal claim to establish (art. 17(3)(e)); whom the debtor
    represented may be part of it."""
    owing = OrganisationFactory(name="Velka Oy", business_id="")
    OrderFactory(customer=CustomerFactory(organisation=owing), invoice_status="debt_collection")
    free = OrganisationFactory(name="Vapaa Oy", business_id="")
    plan = staff_client.post(CHANGELIST, select(owing, free), HTTP_ACCEPT_LANGUAGE="en")
    assert "Blocked:" in plan.text and "Debt collection (legal claim" in plan.text
    assert "Anonymise 1 organisation" in plan.text
    done = staff_client.post(CHANGELIST, confirm(owing, free), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 organisation anonymised" in done.text
    assert "1 organisation not anonymised: its people have an open invoice or debt collection." in done.text
    owing.refresh_from_db()
    assert owing.anonymised_at is None and owing.name == "Velka Oy"
    assert Customer.objects.filter(organisation=owing).count() == 1
    assert AuditEvent.objects.get(action=AuditAction.ANONYMISED).counts["blocked"] == 1


def test_the_source_of_the_change_is_required(staff_client, sole_trader):
    """S8: the detached people's history records where the instruction came from."""
    page = staff_client.post(CHANGELIST, confirm(sole_trader, source=""), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "This field is required." in page.text
    assert Organisation.objects.get().anonymised_at is None


def test_an_anonymised_organisation_is_read_only_and_takes_no_one_back(owner_client, sole_trader):
    owner_client.post(CHANGELIST, confirm(sole_trader))
    page = owner_client.get(reverse("admin:customers_organisation_change", args=[sole_trader.pk]))
    assert page.status_code == 200 and 'name="business_id"' not in page.text
    edit = owner_client.post(
        reverse("admin:customers_organisation_change", args=[sole_trader.pk]),
        {"name": "Toiminimi Aino Mäkinen", "country": "FI", "source": "registration"},
    )
    assert edit.status_code == 403
    linked = owner_client.post(
        reverse("admin:customers_customer_add"), customer_admin_form(organisation=str(sole_trader.pk))
    )
    assert linked.status_code == 200 and not Customer.objects.filter(email="aino@example.fi").exists()


def test_staff_without_a_commitment_cannot_anonymise(client, staff_without_commitment, sole_trader):
    from tests.personas import verified_client

    response = verified_client(client, staff_without_commitment).post(CHANGELIST, confirm(sole_trader))
    assert response.status_code == 403
    assert Organisation.objects.get().anonymised_at is None
