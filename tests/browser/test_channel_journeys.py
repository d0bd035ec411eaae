"""Issue 18, items 6 and 7 in the browser: staff register a letter from the inbox's button,
work it like any request, refuse it, and the requester downloads the certificate from
the status page the refusal mail links to."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from privacy.groups import OWNER_GROUP
from privacy.models import DataRequest
from tests.mailbox import deliver_mail
from tests.personas import PASSWORD, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_a_registered_letter_is_refused_and_the_requester_downloads_the_certificate(
    page, live_server, admin_login, shots, settings, tmp_path
):
    """Issue 18, items 6 and 7 (S16, S18): the "Kirjaa pyyntö" form refuses a scan that
    is not a PDF, JPEG or PNG, then registers the letter; the inbox shows it as a letter;
    the refusal mail's link opens the status page, whose certificate states the reasons
    and the Ombudsman."""
    settings.LETTER_SCAN_DIR = str(tmp_path / "scans")
    owner = make_staff("omistaja", group=OWNER_GROUP, superuser=True)
    admin_login(page, owner, PASSWORD)
    page.goto(f"{live_server.url}/admin/privacy/datarequest/")
    page.get_by_role("link", name="Kirjaa pyyntö").click()
    page.select_option("#id_kind", "rectification")
    page.select_option("#id_channel", "post")
    page.fill("#id_first_name", "Aino")
    page.fill("#id_last_name", "Mäkinen")
    page.fill("#id_email", "aino@example.fi")
    page.fill("#id_rectification_what", "Syntymäaika")
    page.fill("#id_rectification_correct", "1.1.1990")
    page.fill("#id_rectification_grounds", "Muistan sen")
    page.set_input_files(
        "#id_scanned_letter", {"name": "kirje.pdf", "mimeType": "application/pdf", "buffer": b"MZ"}
    )
    shots(page, "register-form")
    page.get_by_role("button", name="Kirjaa pyyntö").click()
    expect(page.locator(".errorlist")).to_contain_text("PDF-, JPEG- tai PNG-tiedosto")
    assert not DataRequest.objects.exists()
    page.set_input_files(
        "#id_scanned_letter", {"name": "kirje.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Kirjaa pyyntö").click()
    expect(page.locator(".messagelist")).to_contain_text("on kirjattu ja vastaanotettu")
    request = DataRequest.objects.get()
    assert request.channel == "post" and request.scanned_letter

    page.goto(f"{live_server.url}/admin/privacy/datarequest/")
    row = page.locator("#result_list tbody tr", has_text=request.reference)
    expect(row).to_contain_text("Kirje")
    shots(page, "inbox")
    row.get_by_role("link", name=request.reference).click()
    page.fill(
        "form[action$='/refuse/'] textarea[name=reason]",
        "Syntymäaika on tarkistettu henkilöllisyystodistuksesta.",
    )
    page.get_by_role("button", name="Epää pyyntö").click()
    expect(page.locator(".messagelist")).to_contain_text("Pyyntö on hylätty")

    deliver_mail()
    link = re.search(r"http://[^/\s]+(/fi/privacy/status/[\w-]+/)", mail.outbox[-1].body).group(1)
    page.goto(f"{live_server.url}{link}")
    shots(page, "status-with-certificate")
    with page.expect_download() as download:
        page.get_by_role("link", name="Todistus epäämisestä (PDF)").click()
    text = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "Syntymäaika on tarkistettu" in text and "Tietosuojavaltuutetun toimisto" in text
