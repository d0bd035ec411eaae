import socket
from email import message_from_bytes
from html.parser import HTMLParser

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy.models import ControllerDetails, DataRequest
from tests.factories import request_form_data
from tests.mailbox import deliver_mail

pytestmark = pytest.mark.django_db
PUBLIC = ["/fi/", "/en/", "/fi/privacy/", "/en/privacy/", "/fi/privacy/request/", "/en/privacy/request/"]


class PageAudit(HTMLParser):
    """The accessibility basics a test can check: lang, labels, alt texts."""

    def __init__(self):
        super().__init__()
        self.lang = None
        self.inputs: list[dict] = []
        self.label_for: set[str] = set()
        self.images_without_alt = 0
        self.scripts_inline = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit", "button"):
            self.inputs.append(attrs)
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag == "img" and "alt" not in attrs:
            self.images_without_alt += 1
        if tag == "script":
            self._in_script = "src" not in attrs

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts_inline += 1

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


@pytest.mark.parametrize("url", PUBLIC)
def test_public_pages_have_lang_labels_alt_texts_and_no_inline_script(client, url):
    """S16: the pages work for everyone: every input labelled, language declared."""
    response = client.get(url)
    assert response.status_code == 200
    audit = PageAudit()
    audit.feed(response.text)
    assert audit.lang == url.split("/")[1]
    unlabelled = [
        i.get("name") for i in audit.inputs if i.get("id") not in audit.label_for and not i.get("aria-label")
    ]
    assert unlabelled == []
    assert audit.images_without_alt == 0 and audit.scripts_inline == 0


def test_form_with_errors_keeps_labels_and_shows_messages(client):
    response = client.post("/fi/privacy/request/", {"kind": "access"})
    audit = PageAudit()
    audit.feed(response.text)
    assert "Korjaa merkityt kentät." in response.text
    assert [i for i in audit.inputs if i.get("id") not in audit.label_for] == []


def test_root_sends_visitors_to_their_language(client):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en").url == "/en/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="sv").url == "/fi/"


def test_notice_shows_controller_details_from_the_database(client):
    """S1: controller and contact person are data the owner edits, not code."""
    page = client.get("/fi/privacy/")
    assert "Sanna-Kaisa Lehto" in page.text and "Ellintie 4" in page.text
    ControllerDetails.objects.update(
        name="Kehobalanssi Oy",
        contact_person="Uusi Yhteyshenkilö",
        street_address="Uusitie 1",
        contact_email="",
        email="a@b.fi",
    )
    page = client.get("/en/privacy/")
    assert "Uusi Yhteyshenkilö" in page.text and "Uusitie 1" in page.text
    assert "Sanna-Kaisa Lehto" not in page.text
    assert "1050/2018" in page.text and "tietosuoja.fi" in page.text


@pytest.mark.parametrize("url", ["/fi/", "/en/privacy/"])
def test_no_cookies_and_no_analytics_without_an_analytics_id(client, url):
    """S15: the site sets no cookie it does not need, and loads no analytics."""
    response = client.get(url)
    assert dict(response.cookies) == {}
    assert "googletagmanager" not in response.text and "consent-banner" not in response.text


def test_analytics_waits_for_consent_and_can_be_withdrawn(client, settings):
    """S15: with an analytics id, the page offers a choice and loads nothing itself."""
    settings.ANALYTICS_ID = "G-TEST123"
    home = client.get("/fi/")
    assert 'id="consent-banner"' in home.text and "G-TEST123" in home.text
    assert "googletagmanager.com/gtag" not in home.text  # only consent.js may add it
    assert dict(home.cookies) == {}
    notice = client.get("/fi/privacy/")
    assert 'id="withdraw-consent"' in notice.text


def test_no_analytics_on_the_pages_behind_a_requesters_secret_link(
    client, settings, django_capture_on_commit_callbacks
):
    """S15, S16: the status and confirmation pages carry their token in the address, which
    the analytics script would send on: with an analytics id set, they load none."""
    from django.core import mail

    from tests.mailbox import links

    settings.ANALYTICS_ID = "G-TEST123"
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/fi/privacy/request/", request_form_data(), follow=True)
    deliver_mail()
    confirm_url, status_url = links(mail.outbox[0])
    for page in [sent, client.get(status_url), client.get(confirm_url), client.post(confirm_url)]:
        assert page.status_code == 200
        assert "G-TEST123" not in page.text and "consent-banner" not in page.text
    assert "G-TEST123" in client.get("/fi/privacy/").text  # the other pages still ask


def test_security_headers_on_public_pages(client):
    response = client.get("/fi/privacy/request/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


hostile = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "\x00",
            "\u202e",
            "a" * 5000,
            "data:image/png;base64,AAAA",
            '=HYPERLINK("x")',
            "🙂" * 50,
            "../../etc/passwd",
            "%00",
            "\r\n\r\n",
        ]
    ),
)
FIELDS = [
    "kind",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street_address",
    "postal_code",
    "city",
    "rectification_what",
    "rectification_correct",
    "rectification_grounds",
    "objection_purposes",
    "reply_language",
    "signature_name",
    "declaration",
    "drawn_signature",
    "website",
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.dictionaries(st.sampled_from(FIELDS), hostile, max_size=len(FIELDS)), base=st.booleans())
def test_random_and_hostile_posts_never_fail_and_store_nothing_invalid(client, values, base):
    """Bad input gets a message, never a 500; an invalid post stores nothing."""
    from django.core.cache import cache

    cache.clear()
    data = {**(request_form_data() if base else {}), **values}
    before = DataRequest.objects.count()
    response = client.post("/en/privacy/request/", data)
    assert response.status_code in (200, 302, 429)
    if response.status_code != 302:
        assert DataRequest.objects.count() == before
    else:
        assert DataRequest.objects.count() == before + 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def test_confirmation_email_goes_through_a_real_smtp_server(
    client, settings, django_capture_on_commit_callbacks
):
    """Nothing lost: the confirmation really leaves over SMTP (aiosmtpd on loopback)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/en/privacy/request/", request_form_data(reply_language="en"))
        assert response.status_code == 302
        deliver_mail()
    finally:
        controller.stop()
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["aino@example.fi"]
    message = message_from_bytes(envelope.content)
    reference = DataRequest.objects.get().reference
    assert reference in message["Subject"]
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert "/en/privacy/request/confirm/" in text.get_payload(decode=True).decode()
