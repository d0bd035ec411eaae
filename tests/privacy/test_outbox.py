"""The outbox (issue 13, item 1): a mail server that hangs or is down never holds up a
request or loses a mail. Every mail is stored with the request and sent by the worker;
the request's page in the admin shows each mail's state."""

from __future__ import annotations

import datetime
import re
import socket
import threading
from email import message_from_bytes

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from privacy.models import AuditEvent, DataRequest, RequestStatus
from tests.factories import request_form_data
from tests.mailbox import deliver_mail

pytestmark = pytest.mark.django_db
FORM = "/en/privacy/request/"


class HangingMailServer:
    """Accepts connections on loopback and never says a word (no greeting), as a mail
    server whose disk is full or whose process is stuck does."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections.append(connection)  # held open, never answered

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        for connection in self.connections:
            connection.close()
        self.sock.close()


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def use_smtp(settings, port: int, timeout: float = 1) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, timeout
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


def later(minutes: int):
    return time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes))


def test_a_hanging_mail_server_holds_up_no_submission_and_the_mail_goes_once_it_answers(
    client, owner_client, settings
):
    """The requester gets the status page at once: the web request opens no connection to
    the mail server at all. The worker's try times out (EMAIL_TIMEOUT), the mail waits,
    and once the server answers the worker delivers it with a working link."""
    hanging = HangingMailServer()
    port = hanging.port
    use_smtp(settings, port)
    try:
        response = client.post(FORM, request_form_data(reply_language="en"), follow=True)
        assert response.status_code == 200
        assert "One more step: open the confirmation link" in response.text
        assert hanging.connections == []  # the request never talked to the mail server
        request = DataRequest.objects.get()
        assert request.status == RequestStatus.AWAITING_CONFIRMATION

        deliver_mail()  # the worker tries: the server takes the connection and hangs
        assert len(hanging.connections) == 1
    finally:
        hanging.stop()
    page = owner_client.get(reverse("admin:privacy_datarequest_change", args=[request.pk])).text
    assert "jonossa, tähän mennessä 1 epäonnistunut yritys" in page
    assert "SMTPServerDisconnected" in page  # smtplib's word for a greeting that timed out
    status_page = client.get(response.redirect_chain[-1][0]).text
    assert "could not send" not in status_page  # not given up yet: it is retried

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        with later(minutes=2):  # the retry is due a minute after the first try
            deliver_mail()
    finally:
        server.stop()
    assert [m.rcpt_tos for m in inbox.messages] == [["aino@example.fi"]]
    message = message_from_bytes(inbox.messages[0].content)
    assert request.reference in message["Subject"]
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    confirm = re.search(
        r"http://testserver(/en/privacy/request/confirm/[\w-]+/)", text.get_payload(decode=True).decode()
    )
    client.post(confirm.group(1))
    assert DataRequest.objects.get().status == RequestStatus.RECEIVED
    page = owner_client.get(reverse("admin:privacy_datarequest_change", args=[request.pk])).text
    mails = page[page.index('id="mails"') :]
    assert "Vahvistuslinkki" in mails and "lähetetty" in mails and "epäonnistui" not in mails


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_mail_that_fails_every_try_is_failed_on_the_timeline_and_the_link_can_be_sent_again(
    client, owner_client, settings
):
    """A mail server that refuses every connection: the request is saved, the worker tries
    1 + MAX_RETRIES times with growing waits, then the mail shows as failed on the request's
    page in the admin and the status page tells the requester to send the link again,
    which works once the server is back."""
    settings.POST_OFFICE = {**settings.POST_OFFICE, "MAX_RETRIES": 2}
    use_smtp(settings, closed_port())
    response = client.post(FORM, request_form_data(reply_language="en"))
    assert response.status_code == 302
    status_path = response["Location"]
    request = DataRequest.objects.get()

    deliver_mail()
    with later(minutes=1):  # the first retry is due a minute later
        deliver_mail()
    with later(minutes=2):  # the second one two minutes after that, not yet
        deliver_mail()
        assert "could not send" not in client.get(status_path).text
    with later(minutes=4):
        deliver_mail()
    page = owner_client.get(reverse("admin:privacy_datarequest_change", args=[request.pk])).text
    assert "epäonnistui 3 yrityksen jälkeen" in page and "ConnectionRefusedError" in page
    assert "Sähköpostin lähetys pyytäjälle epäonnistui" in page  # on the timeline as an event too
    failed = AuditEvent.objects.get(action="email_failed")
    assert failed.fields == ["request_confirm"] and "aino" not in str(failed.fields).lower()
    assert "could not send the confirmation e-mail" in client.get(status_path).text

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    with later(minutes=10):  # the requester comes back to the status page
        page = client.post(status_path, {"action": "resend"}, follow=True)
        assert "We sent the confirmation link again" in page.text and "could not send" not in page.text
        deliver_mail()
        assert [m.to for m in mail.outbox] == [["aino@example.fi"]]
        confirm = re.search(r"http://testserver(/en/privacy/request/confirm/[\w-]+/)", mail.outbox[0].body)
        client.post(confirm.group(1))
    assert DataRequest.objects.get().status == RequestStatus.RECEIVED


def test_a_failing_worker_task_is_logged_without_its_message_and_mail_still_goes(client, settings, caplog):
    """A task of WORKER_TASKS that raises does not stop the others: the mail is sent, and
    the log names the task and the error's kind, never its text (which may name a person)."""
    settings.WORKER_TASKS = ["tests.worker_probe.fails", "privacy.outbox.deliver_mail"]
    client.post(FORM, request_form_data(reply_language="en"))
    with caplog.at_level("INFO"):
        deliver_mail()
    assert [m.to for m in mail.outbox] == [["aino@example.fi"]]
    assert "Worker task tests.worker_probe.fails failed: RuntimeError" in caplog.text
    assert "aino" not in caplog.text
