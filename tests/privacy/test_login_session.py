"""No session row for a visitor who only opens the login page (issue 17, item 10): a
crawler or a scanner cannot fill the session table, and logging in still works."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.personas import PASSWORD, totp_code

pytestmark = pytest.mark.django_db
LOGIN = reverse("staff-login")


def test_opening_the_login_page_saves_no_session(client):
    for _ in range(3):
        page = client.get(LOGIN)
        assert page.status_code == 200 and 'name="auth-password"' in page.text
    assert Session.objects.count() == 0
    assert "sessionid" not in client.cookies
    assert "csrftoken" in client.cookies  # the form's CSRF token is a cookie, not the session


def test_logging_in_from_the_page_still_works(client, owner):
    """S13: password, then the code from the authenticator app, then the admin."""
    page = client.get(LOGIN)
    assert Session.objects.count() == 0
    token_step = client.post(
        LOGIN,
        {"login_view-current_step": "auth", "auth-username": owner.username, "auth-password": PASSWORD},
    )
    assert token_step.status_code == 200 and 'name="token-otp_token"' in token_step.text
    assert Session.objects.count() == 1  # the accepted password is remembered for the next step
    done = client.post(LOGIN, {"login_view-current_step": "token", "token-otp_token": totp_code(owner)})
    assert done.status_code == 302 and done.url == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200
    assert page.status_code == 200


def test_a_staff_member_who_reopens_the_page_keeps_the_session(client, owner):
    from tests.personas import verified_client

    verified_client(client, owner)
    before = Session.objects.count()
    assert client.get(LOGIN).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert Session.objects.count() == before == 1
