"""A customer's journeys on the public pages (S1, S15, S16): desktop and phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from privacy.models import DataRequest
from tests.mailbox import deliver_mail

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "fi": {
        "request": "Tee pyyntö",
        "notice": "Lue tietosuojaseloste",
        "send": "Lähetä pyyntö",
        "confirm": "Vahvista ja allekirjoita pyyntö",
        "received": "vastaanotettu",
        "answer_by": "Vastaamme viimeistään",
        "access": "Tietojeni tarkastaminen",
        "declaration": "Vakuutan",
        "notice_title": "Asiakasrekisterin tietosuojaseloste",
    },
    "en": {
        "request": "Make a request",
        "notice": "Read the privacy notice",
        "send": "Send the request",
        "confirm": "Confirm and sign the request",
        "received": "received",
        "answer_by": "We answer by",
        "access": "Access to my data",
        "declaration": "I declare",
        "notice_title": "Privacy notice of the customer register",
    },
}


def draw_with_mouse(page) -> None:
    page.locator("#signature-canvas").scroll_into_view_if_needed()
    box = page.locator("#signature-canvas").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 20, box["y"] + 40 + (step % 3) * 25, steps=3)
    page.mouse.up()


def draw_with_finger(page) -> None:
    """Touch events through the DevTools protocol, as a finger on a phone makes them."""
    page.locator("#signature-canvas").scroll_into_view_if_needed()
    box = page.locator("#signature-canvas").bounding_box()
    cdp = page.context.new_cdp_session(page)
    x, y = box["x"] + 20, box["y"] + 40
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 15):
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": "touchMove", "touchPoints": [{"x": x + step * 12, "y": y + (step % 4) * 15}]},
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def fill_access_request(page, language: str) -> None:
    t = TEXT[language]
    page.get_by_label(t["access"]).check()
    page.locator("#id_first_name").fill("Aino")
    page.locator("#id_last_name").fill("Mäkinen")
    page.locator("#id_email").fill("aino@example.fi")
    page.locator("#id_postal_code").fill("00100")
    page.locator("#id_signature_name").fill("Aino Mäkinen")
    page.get_by_label(re.compile(t["declaration"])).check()


def confirmation_link(live_server) -> str:
    deliver_mail()
    body = mail.outbox[-1].body
    path = re.search(r"https?://[^/\s]+(/\w\w/privacy/request/confirm/[\w-]+/)", body).group(1)
    return live_server.url + path


def customer_journey(page, live_server, shots, language: str, draw) -> None:
    t = TEXT[language]
    page.goto(f"{live_server.url}/{language}/")
    shots(page, "landing")
    page.get_by_role("link", name=t["notice"]).click()
    expect(page.locator("h1")).to_have_text(t["notice_title"])
    expect(page.locator("main")).to_contain_text("Sanna-Kaisa Lehto")
    shots(page, "notice")
    page.get_by_role("link", name=t["request"]).first.click()
    fill_access_request(page, language)
    draw(page)
    expect(page.locator("#id_drawn_signature")).to_have_value(re.compile("^data:image/png;base64,"))
    shots(page, "form-filled")
    page.get_by_role("button", name=t["send"]).click()
    shots(page, "sent")
    request = DataRequest.objects.get()
    assert request.drawn_signature.startswith(b"\x89PNG")
    expect(page.locator("h1")).to_contain_text(request.reference)

    page.goto(confirmation_link(live_server))
    shots(page, "confirm")
    page.get_by_role("button", name=t["confirm"]).click()
    expect(page.locator("main")).to_contain_text(t["received"])
    shots(page, "confirmed")
    deliver_mail()
    status_path = re.search(r"(/\w\w/privacy/status/[\w-]+/)", mail.outbox[-1].body).group(1)
    page.goto(live_server.url + status_path)
    due = request.due_date.strftime("%-d.%-m.%Y")
    expect(page.locator("main")).to_contain_text(t["answer_by"])
    expect(page.locator("main")).to_contain_text(due)
    shots(page, "status")
    assert DataRequest.objects.get().status == "received"


@pytest.mark.parametrize("language", ["fi", "en"])
def test_customer_sends_a_signed_access_request_on_a_desktop(page, live_server, shots, language):
    """S16: landing page, notice, form with a drawn signature, e-mail link, status page."""
    page.set_viewport_size({"width": 1280, "height": 900})
    customer_journey(page, live_server, shots, language, draw_with_mouse)


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    yield page
    context.close()


def test_customer_signs_with_a_finger_on_a_phone(phone_page, live_server, shots):
    """S16: the same journey on a phone-sized screen, signing with touch."""
    customer_journey(phone_page, live_server, shots, "fi", draw_with_finger)
