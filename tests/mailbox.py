"""Reading the mails the app sent, as the person who received them."""

import re


def links(message) -> tuple[str, str]:
    """The confirmation and status links (paths) in a request's confirmation mail."""
    confirm = re.search(r"http://testserver(/\w\w/privacy/request/confirm/[\w-]+/)", message.body)
    status = re.search(r"http://testserver(/\w\w/privacy/status/[\w-]+/)", message.body)
    return confirm.group(1), status.group(1)


def deliver_mail() -> None:
    """What the worker does in production: send every mail that is due (run_worker --once).
    The app only queues mail (privacy/outbox.py); a test reads mail.outbox after this."""
    from django.core.management import call_command

    call_command("run_worker", "--once")
