"""The cookie notice (S15) and accessibility of the public pages, in a real browser."""

import copy
import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC = ["/fi/", "/en/", "/fi/privacy/", "/en/privacy/", "/fi/privacy/request/", "/en/privacy/request/"]


def wait_until(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def analytics_loaded(page) -> bool:
    return page.locator("script#analytics-script").count() > 0


def test_no_analytics_before_consent_then_given_and_withdrawn(page, live_server, settings, shots):
    """S15: no analytics script or cookie before consent; refusing is one click; consent
    can be withdrawn from the notice page."""
    settings.ANALYTICS_ID = "G-JOURNEY1"
    # What settings.py adds to the CSP when ANALYTICS_ID comes from the environment.
    directives = copy.deepcopy(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    for name in ("script-src", "connect-src", "img-src"):
        directives[name] += ["https://www.googletagmanager.com", "https://*.google-analytics.com"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": directives}
    # The analytics host cannot be reached from here; answer its script locally instead.
    page.route(
        re.compile(r"https://www\.googletagmanager\.com/.*"),
        lambda route: route.fulfill(
            status=200,
            content_type="application/javascript",
            body="document.cookie='_ga=GA1.1.test; path=/';",
        ),
    )
    page.goto(f"{live_server.url}/fi/")
    banner = page.locator("#consent-banner")
    expect(banner).to_be_visible()
    shots(page, "banner")
    assert not analytics_loaded(page)
    assert not [c for c in page.context.cookies() if c["name"].startswith("_ga")]

    page.get_by_role("button", name="Kiellä analytiikka").click()
    expect(banner).to_be_hidden()
    page.reload()
    expect(banner).to_be_hidden()
    assert not analytics_loaded(page)

    page.evaluate("localStorage.clear()")
    page.reload()
    page.get_by_role("button", name="Hyväksy analytiikka").click()
    expect(page.locator("script#analytics-script")).to_have_count(1)
    wait_until(lambda: "_ga=" in page.evaluate("document.cookie"))
    shots(page, "consented")

    page.goto(f"{live_server.url}/fi/privacy/")
    page.get_by_role("button", name="Peru suostumukseni analytiikkaevästeisiin").click()
    page.wait_for_load_state()
    assert not analytics_loaded(page)
    assert "_ga=" not in page.evaluate("document.cookie")
    shots(page, "withdrawn")


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_have_no_serious_accessibility_violations(page, live_server, axe, path):
    """axe-core finds no serious or critical violation on the public pages."""
    page.goto(live_server.url + path)
    assert axe(page) == []


@pytest.mark.parametrize("language", ["fi", "en"])
def test_request_form_with_errors_has_no_serious_accessibility_violations(
    page, live_server, axe, shots, language
):
    page.goto(f"{live_server.url}/{language}/privacy/request/")
    page.locator("button[type=submit]").click()
    expect(page.locator("#form-errors")).to_be_visible()
    shots(page, "form-errors")
    assert axe(page) == []
