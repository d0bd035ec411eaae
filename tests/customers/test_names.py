"""Names hold no control or bidi characters (issue 17, item 11): a name shows what was typed,
in the admin, on labels and in e-mails, never text that reads the other way round."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer
from privacy.models import DataRequest
from tests.factories import CustomerFactory, customer_admin_form, request_form_data
from tests.mailbox import deliver_mail

pytestmark = pytest.mark.django_db

REFUSED = [
    "Aino\u202eniakkäM",  # RIGHT-TO-LEFT OVERRIDE
    "Aino\u2066x\u2069",  # LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE
    "Ai\u200fno",  # RIGHT-TO-LEFT MARK
    "Ai\u200bno",  # ZERO WIDTH SPACE
    "Aino\nMäkinen",  # a line break
    "Ai\u2028no",  # LINE SEPARATOR (at the end it would be stripped as white space)
]
# NUL is refused by Django's own form fields already ("Null characters are not allowed").
ACCEPTED = ["Aino", "Åsa-Märta", "D'Arcy", "Zoë Ōtsuka", "Ольга", "نگار", "Xiao\u200dming"]


@pytest.mark.parametrize("name", REFUSED)
def test_admin_refuses_a_name_with_control_or_bidi_characters(owner_client, name):
    """S7: the customer form says what is wrong and stores nothing."""
    response = owner_client.post(
        reverse("admin:customers_customer_add"), customer_admin_form(first_name=name)
    )
    assert response.status_code == 200
    assert "cannot contain control characters" in response.text or "ohjausmerkkejä" in response.text
    assert not Customer.objects.exists()


@pytest.mark.parametrize("name", REFUSED)
def test_changing_a_name_to_one_with_a_bidi_control_is_refused(owner_client, name):
    customer = CustomerFactory(first_name="Aino")
    response = owner_client.post(
        reverse("admin:customers_customer_change", args=[customer.pk]),
        customer_admin_form(last_name=name, change_source="customer_notice"),
    )
    assert response.status_code == 200 and "U+" in response.text
    customer.refresh_from_db()
    assert customer.last_name == customer.last_name.strip() and "\u202e" not in customer.last_name


@pytest.mark.parametrize("name", ACCEPTED)
def test_names_in_any_script_are_accepted(owner_client, name):
    response = owner_client.post(
        reverse("admin:customers_customer_add"), customer_admin_form(first_name=name)
    )
    assert response.status_code == 302
    assert Customer.objects.get().first_name == name


@pytest.mark.parametrize("field", ["first_name", "last_name", "signature_name"])
def test_public_form_refuses_a_bidi_override_in_a_name(client, field):
    """S16: the request form says which field is wrong (a 200 with the message), no request
    is stored and no e-mail goes."""
    from django.core import mail

    response = client.post("/en/privacy/request/", request_form_data(**{field: "Aino\u202eniakkäM"}))
    assert response.status_code == 200
    assert "cannot contain control characters" in response.text and "U+202E" in response.text
    assert not DataRequest.objects.exists()
    deliver_mail()
    assert mail.outbox == []


def test_public_form_accepts_an_ordinary_name(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/fi/privacy/request/", request_form_data(first_name="Åsa-Märta"))
    assert response.status_code == 302
    assert DataRequest.objects.get().first_name == "Åsa-Märta"


@pytest.mark.parametrize("name", REFUSED)
def test_an_import_row_with_a_control_or_bidi_character_in_a_name_imports_nothing(owner_client, name):
    """S7/S8: a shop export whose name carries a bidi override (the trick that makes a mail
    read backwards) is refused at the preview, naming the row (as the spreadsheet numbers
    it) and the field; nothing is stored, the valid row included, unless staff choose to
    skip the row."""
    content = (
        "first_name,last_name,email,postal_code,city\n"
        "Hyvä,Rivi,hyva@example.fi,00100,Helsinki\n"
        f'"{name}",Rivi,huono@example.fi,00100,Helsinki\n'  # quoted as a shop quotes a line break
    ).encode()
    response = owner_client.post(
        reverse("admin:customers_customer_import"),
        {"import_file": SimpleUploadedFile("customers.csv", content), "source": "web_shop"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert [(row.number, list(row.errors)) for row in outcome.invalid_rows] == [(3, ["first_name"])]
    assert "cannot contain control characters" in response.text
    assert response.context["confirm_form"].initial["skip_invalid"]
    assert not Customer.objects.exists()
