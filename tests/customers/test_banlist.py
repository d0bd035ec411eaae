"""Ban lists as list providers hand them over (issue 19, item 5; privacy notice S17).

The fixtures are written as a ban register's extract is: ban_register_direct_mail.csv
in Windows-1252 with `;`, CRLF, upper-case Finnish headers, every given name, `C29`
for `C 29`, `AS.` for `as` and postal codes whose zeros a spreadsheet dropped;
ban_register_telephone.csv one column of phone numbers as people type them.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer, MarketingObjection
from privacy.models import AuditEvent
from tests.customers.test_imports import FIXTURES
from tests.factories import CustomerFactory, MarketingObjectionFactory

pytestmark = pytest.mark.django_db
BAN_LIST = reverse("admin:customers_customer_banlist")
LABELS = reverse("admin:customers_customer_labels")


def upload(client, content: bytes, name="kieltorekisteri.csv", **headers):
    return client.post(BAN_LIST, {"file": SimpleUploadedFile(name, content)}, **headers)


def confirm(client, preview, ticked=()):
    token = preview.context["confirm_form"].initial["token"]
    return client.post(BAN_LIST, {"token": token, "same_person": list(ticked)}, follow=True)


def labels(client) -> str:
    response = client.get(LABELS, {"export": "csv"})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def person(first, last, street, postal, city, **more):
    return CustomerFactory(
        first_name=first, last_name=last, street_address=street, postal_code=postal, city=city, **more
    )


@pytest.fixture
def register():
    return {
        "aino": person("Aino", "Mäkinen", "Mannerheimintie 5 C 29", "00100", "Helsinki"),
        "juhani": person("Juhani", "Virtanen", "Koivukuja 3 as 4", "02100", "Espoo"),
        "matti": person("Matti", "Virtanen", "Koivukuja 3 as 4", "02100", "Espoo"),
        "helena": person("Helena", "Korhonen", "Rantatie 10", "33720", "Tampere"),
        "other": person("Kalle", "Korhonen", "Hämeenkatu 1", "33100", "Tampere"),
    }


def test_a_register_style_ban_list_is_previewed_then_recorded_and_leaves_people_off_the_labels(
    owner_client, owner, register
):
    """S17: a ban register's extract (Windows-1252, `;`, capitals, all given names, C29,
    postal codes without zeros) finds who is in the register; the near match staff tick
    gets an objection too; nobody is written before the confirmation; the labels then
    leave all of them out."""
    response = upload(owner_client, (FIXTURES / "ban_register_direct_mail.csv").read_bytes())
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert {found.customer.first_name for found in outcome.matches} == {"Aino", "Juhani"}
    near = {found.customer.first_name: found for found in outcome.near}
    assert set(near) == {"Matti", "Helena"}
    assert near["Matti"].differs == ("name",) and near["Helena"].differs == ("street",)
    assert outcome.unmatched == 1  # Lahtinen
    page = response.text
    assert "Kieltolistalla olevia: 4. Rekisterissä: 2. Lähes vastaavia: 2. Ei rekisterissä: 1." in page
    assert f'value="{near["Helena"].value}"' in page
    assert not MarketingObjection.objects.exists()

    done = confirm(owner_client, response, ticked=[near["Helena"].value])
    assert "3 uutta kieltoa" in done.text
    objections = MarketingObjection.objects.all()
    assert {o.customer.first_name for o in objections} == {"Aino", "Juhani", "Helena"}
    assert {(o.purpose, o.channel, o.recorded_by_id) for o in objections} == {
        ("direct_advertising", "ban_register", owner.pk)
    }
    body = labels(owner_client)
    assert "Matti" in body and "Kalle" in body
    assert not any(name in body for name in ("Aino", "Juhani", "Helena"))
    event = AuditEvent.objects.filter(fields=["ban_list"]).get()
    assert event.counts == {
        "rows": 4,
        "matched": 2,
        "near": 2,
        "near_ticked": 1,
        "unmatched": 1,
        "recorded": 3,
        "already_in_force": 0,
    }
    assert "Mäkinen" not in str(event.counts) and event.object_id in (None, "")


def test_a_telephone_ban_list_records_objections_to_distance_selling(owner_client, register):
    """S17: a list of phone numbers only (telephone marketing bans) finds customers by
    their number, however the list writes it, and records an objection to distance
    selling from the ban register; they are left off the labels as well."""
    pirjo = CustomerFactory(first_name="Pirjo", last_name="Puhelinen", phone="+358401234567")
    landline = CustomerFactory(first_name="Lauri", last_name="Lankanen", phone="+35898765432")
    CustomerFactory(first_name="Ville", last_name="Vapaa", phone="+358409999999")
    response = upload(owner_client, (FIXTURES / "ban_register_telephone.csv").read_bytes())
    outcome = response.context["outcome"]
    assert outcome.kind == "telephone" and outcome.unmatched == 1
    assert "Puhelinmyynnin kieltolista." in response.text
    confirm(owner_client, response)
    objections = MarketingObjection.objects.all()
    assert {o.customer_id for o in objections} == {pirjo.pk, landline.pk}
    assert {(o.purpose, o.channel) for o in objections} == {("distance_selling", "ban_register")}
    body = labels(owner_client)
    assert "Ville" in body and "Pirjo" not in body and "Lauri" not in body


def test_an_objection_in_force_is_not_recorded_twice_and_a_second_confirm_records_nothing(
    owner_client, register
):
    MarketingObjectionFactory(customer=register["aino"], purpose="direct_advertising")
    response = upload(owner_client, (FIXTURES / "ban_register_direct_mail.csv").read_bytes())
    assert "jo voimassa" in response.text
    confirm(owner_client, response)
    again = confirm(owner_client, response)
    assert "Esikatselu on vanhentunut" in again.text
    assert register["aino"].objections.count() == 1
    assert MarketingObjection.objects.count() == 2  # Aino's earlier one and Juhani's


def test_the_same_list_in_utf8_with_commas_and_english_headers_matches_the_same_people(
    owner_client, register
):
    content = (
        "last_name,first_name,street_address,postal_code\n"
        "Mäkinen,Aino Marjatta,Mannerheimintie 5 c29,00100\n"
        "Virtanen,Olavi Juhani,Koivukuja 3 as. 4,02100\n"
    ).encode("utf-8-sig")
    response = upload(owner_client, content)
    assert {found.customer.first_name for found in response.context["outcome"].matches} == {"Aino", "Juhani"}


@pytest.mark.parametrize(
    "content",
    [b"name\nx\n", "SUKUNIMI;POSTINUMERO\nMÄKINEN;100\n".encode("cp1252"), b"\x00\x01\x02" * 50, b""],
    ids=["unknown-columns", "no-street", "binary", "empty"],
)
def test_a_file_that_is_no_ban_list_gets_a_message_and_records_nothing(owner_client, register, content):
    response = upload(owner_client, content, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Traceback" not in response.text and "/work/" not in response.text
    errors = " ".join(response.context["form"].errors["file"])
    assert errors
    if content.startswith((b"name", b"SUKU")):
        assert "SUKUNIMI, ETUNIMET, LÄHIOSOITE and POSTINUMERO" in errors
    assert not MarketingObjection.objects.exists() and Customer.objects.count() == 5
