"""A limit on request bodies (issue 17, finding 12): an anonymous 500 MB post to the
request form was read and spooled to disk; now a body declared over the limit gets a
413 page before a byte of it is read. Staff in the admin may send an import file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer
from privacy.models import DataRequest
from tests.factories import request_form_data

pytestmark = pytest.mark.django_db
FORM = "/fi/privacy/request/"
KB = 1024


def declared_post(client, url: str, length: int):
    """A post that declares `length` bytes and sends one: reading more of it than that
    byte fails the test (Django's test payload refuses), so a 413 here means the body
    was never read."""
    return client.generic(
        "POST",
        url,
        b"x",
        content_type="multipart/form-data; boundary=raja",
        CONTENT_LENGTH=str(length),
    )


def test_an_anonymous_500_mb_post_to_the_request_form_is_refused_unread(client):
    response = declared_post(client, FORM, 500 * KB * KB)
    assert response.status_code == 413
    assert "Liikaa lähetettyä tietoa" in response.text and "512 kt" in response.text
    assert not DataRequest.objects.exists()


def test_the_page_speaks_english_on_the_english_form(client):
    response = declared_post(client, "/en/privacy/request/", 600 * KB)
    assert response.status_code == 413 and "Too much data sent" in response.text
    assert "more than 512 kB" in response.text


def test_a_real_post_just_over_the_limit_is_refused(client):
    response = client.post(FORM, request_form_data(city="x" * 520 * KB))
    assert response.status_code == 413 and not DataRequest.objects.exists()


def test_the_largest_request_the_form_takes_is_let_through(client, settings):
    """A drawn signature as long as the form's field allows stays under the limit: the
    form reads it and answers (here: not a PNG)."""
    longest = settings.SIGNATURE_MAX_BYTES * 4 // 3 + 100
    signature = "data:image/png;base64," + "A+/=" * ((longest - 22) // 4)
    response = client.post("/en/privacy/request/", request_form_data(drawn_signature=signature))
    assert response.status_code == 200 and "could not be read" in response.text


def import_post(client, size: int):
    row = b"Iso,Tiedosto," + b"Helsinki" * 12 + b"\r\n"
    content = b"first_name,last_name,street_address\r\n" + row * (size // len(row))
    upload = SimpleUploadedFile("iso.csv", content)
    return client.post(
        reverse("admin:customers_customer_import"),
        {"import_file": upload, "source": "import"},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_staff_may_send_an_import_file_over_the_public_limit(owner_client, settings):
    settings.IMPORT_BACKGROUND_ROWS = 100_000  # previewed at once, in this request
    response = import_post(owner_client, KB * KB)
    assert response.status_code == 200 and response.context["outcome"].new == KB * KB // 111


def test_an_import_over_its_own_limit_is_refused_for_staff_too(owner_client, settings):
    settings.IMPORT_MAX_BYTES = 100 * KB  # staff may then send 100 kB and 1 MB of form around it
    assert import_post(owner_client, 2 * KB * KB).status_code == 413
    response = import_post(owner_client, 200 * KB)
    assert response.status_code == 400 and "larger than" in response.text


def test_the_admin_takes_no_big_body_from_anyone_not_signed_in(client):
    login = reverse("staff-login")
    assert declared_post(client, login, 2 * KB * KB).status_code == 413


def test_staff_get_the_public_limit_on_the_public_form(owner_client):
    assert declared_post(owner_client, FORM, 600 * KB).status_code == 413


def test_form_fields_over_djangos_memory_limit_get_a_400_not_a_500(owner_client):
    """DATA_UPLOAD_MAX_MEMORY_SIZE: what Django reads into memory (the fields, not the
    files) is capped at the public limit, in the admin too."""
    response = owner_client.post(reverse("admin:customers_customer_add"), {"first_name": "x" * 600 * KB})
    assert response.status_code == 400 and not Customer.objects.exists()


def test_the_reference_proxy_configuration_limits_bodies_as_the_app_does(settings):
    """README, Production: the reference nginx configuration (deploy/nginx/) cuts a body
    off at the app's own limits."""
    import re
    from pathlib import Path

    site = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "kehobalanssi.conf"
    sizes = re.findall(r"client_max_body_size (\d+)([km]);", site.read_text(encoding="utf-8"))
    in_bytes = [int(number) * {"k": KB, "m": KB * KB}[unit] for number, unit in sizes]
    assert in_bytes == [settings.REQUEST_BODY_MAX_BYTES, settings.IMPORT_MAX_BYTES + KB * KB]
