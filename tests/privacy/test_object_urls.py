"""Every admin page of an object has one address: the object's id as the database has
it. Django reads an id with int(), so `+3`, ` 3`, `3 `, `03` and `3_0` (customer 30)
opened a customer's page too; each such page is now a 404, and every view of a person's
page is in the audit log by the real id (privacy notice S13, issue 17 finding 3)."""

import re

import pytest
from django.conf import settings
from django.contrib import admin

from privacy.audit import record
from privacy.models import AuditAction, AuditEvent
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    DisclosureFactory,
    rectify_form_data,
    verify_identity_on_page,
)

pytestmark = pytest.mark.django_db

ID_PLACEHOLDER = re.compile(r"<(?:path:object_id|int:pk|id)>")
# What int() and the URL converters accept besides the canonical id.
ODD_FORMS = ["+{n}", "%20{n}", "{n}%20", "{n}_0", "0{n}", "{n}%0A", "%D9%A3", "{n}.0", "-{n}"]


def object_urls() -> list[tuple[str, str]]:
    """(model label, route with the id as `{id}`) for every admin page of one object."""
    routes = []
    for model, model_admin in admin.site._registry.items():
        base = f"/{settings.ADMIN_URL}{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in model_admin.get_urls():
            route = str(pattern.pattern)
            if ID_PLACEHOLDER.search(route):
                routes.append((model._meta.label_lower, base + ID_PLACEHOLDER.sub("{id}", route)))
    return routes


def test_the_walk_covers_every_object_page_of_the_register():
    labels = {label for label, _route in object_urls()}
    assert {"customers.customer", "customers.order", "privacy.datarequest", "auth.user"} <= labels
    routes = {route for _label, route in object_urls()}
    assert "/admin/privacy/datarequest/{id}/preview/" in routes
    assert "/admin/customers/customer/{id}/history/" in routes
    assert "/admin/auth/user/{id}/password/" in routes


def test_every_object_page_is_a_404_for_any_other_spelling_of_the_id(owner_client):
    customer_3, customer_30 = CustomerFactory(pk=3), CustomerFactory(pk=30)
    assert customer_3.pk == 3 and customer_30.pk == 30
    before = record(action=AuditAction.LOGIN).pk  # a marker: nothing may follow it
    checked = 0
    for _label, route in object_urls():
        for form in ODD_FORMS:
            url = route.format(id=form.format(n=3))
            response = owner_client.get(url)
            assert response.status_code == 404, (url, response.status_code)
            checked += 1
    assert checked > 100
    assert not AuditEvent.objects.filter(pk__gt=before).exists()


def test_a_post_to_an_odd_id_changes_nothing(owner_client):
    customer = CustomerFactory(pk=3, first_name="Aino")
    response = owner_client.post("/admin/customers/customer/+3/change/", {"first_name": "Eino"})
    assert response.status_code == 404
    customer.refresh_from_db()
    assert customer.first_name == "Aino"


# Not named `page`: that is pytest-playwright's fixture, and a test asking for it is
# grouped with the browser journeys, after whose flush the staff groups are gone.
@pytest.mark.parametrize("subpage", ["change", "history", "delete"])
def test_opening_a_customers_page_is_audited_by_the_real_id(owner_client, owner, subpage):
    customer = CustomerFactory(pk=30)
    response = owner_client.get(f"/admin/customers/customer/30/{subpage}/")
    # The delete page is refused (customers are erased, not deleted): nothing was shown.
    expected = 403 if subpage == "delete" else 200
    assert response.status_code == expected
    views = AuditEvent.objects.filter(action="view", object_type="customers.customer")
    if expected == 200:
        assert list(views.values_list("object_id", "actor_id")) == [(str(customer.pk), owner.pk)]
    else:
        assert not views.exists()


def test_opening_a_request_page_is_audited_by_the_real_id(owner_client, owner):
    data_request = DataRequestFactory()
    response = owner_client.get(f"/admin/privacy/datarequest/{data_request.pk}/change/")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        action="view", object_type="privacy.datarequest", object_id=str(data_request.pk)
    ).exists()
    assert owner_client.get(f"/admin/privacy/datarequest/0{data_request.pk}/preview/").status_code == 404


def test_the_canonical_address_of_a_missing_object_stays_djangos_answer(owner_client):
    """An id in the canonical form that matches no row: Django's admin sends the user
    back to the index with a message; nothing was shown, nothing is audited."""
    response = owner_client.get("/admin/customers/customer/999999/change/")
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="view").exists()


def test_the_documents_of_a_request_are_audited_views(owner_client, owner):
    """The letters and certificates name the person like the request's page does."""
    refused = DataRequestFactory(kind="rectification", rectification_what="Syntymäaika")
    base = f"/admin/privacy/datarequest/{refused.pk}/"
    owner_client.post(base + "refuse/", {"reason": "Tieto on oikein."})
    assert owner_client.get(base + "certificate/").status_code == 200
    assert AuditEvent.objects.filter(
        action="view", object_id=str(refused.pk), fields=["refusal_certificate"], actor_id=owner.pk
    ).exists()

    customer = CustomerFactory(first_name="Aino", last_name="Mäkinen", email="aino@example.fi")
    DisclosureFactory(customer=customer, recipient="Perintä Oy")
    rectification = DataRequestFactory(kind="rectification", rectification_what="Sukunimi")
    base = f"/admin/privacy/datarequest/{rectification.pk}/"
    owner_client.post(base + "link/", {"customers": [str(customer.pk)]})
    verify_identity_on_page(owner_client, rectification, "in_person", "Henkilökortti nähty tiskillä.")
    owner_client.post(base + "rectify/", rectify_form_data(customer, values={"last_name": "Mäkelä"}))
    notification = rectification.notifications.get()
    assert owner_client.get(base + f"letter/?n={notification.pk}").status_code == 200
    letters = AuditEvent.objects.filter(action="view", fields=["notification_letter"])
    assert list(letters.values_list("object_type", "object_id")) == [("customers.customer", str(customer.pk))]
