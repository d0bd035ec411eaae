import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy.enrolment import issue_enrolment_code
from privacy.groups import OWNER_GROUP
from privacy.models import ConfidentialityCommitment


def boxed(lines: list[str]) -> str:
    """Lines in a frame, so that they stand out among a terminal's other lines."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 4) + "+"
    return "\n".join([rule, *(f"|  {line.ljust(width)}  |" for line in lines), rule])


class Command(BaseCommand):
    help = (
        "Create the owner's account on first run and print its random password once, in a "
        "box (`make run` prints it last, right before the server starts). When a superuser "
        "exists, print how to log in and how to set a new password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="owner")
        parser.add_argument(
            "--login-url", default="", help="Where to log in, e.g. http://127.0.0.1:8000/admin/"
        )

    def handle(self, *args, username, login_url, **options):
        User = get_user_model()
        log_in = [f"Log in at {login_url}"] if login_url else []
        existing = User.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            name = existing.get_username()
            self.stdout.write(
                boxed(
                    [
                        f"The owner account exists already: user name {name}.",
                        *log_in,
                        "Forgotten the password? Set a new one:",
                        f"  .venv/bin/python manage.py changepassword {name}",
                        "Not enrolled yet and the enrolment code lost or expired?",
                        f"  .venv/bin/python manage.py issue_enrolment_code {name}",
                    ]
                )
            )
            return
        password = secrets.token_urlsafe(15)
        owner = User.objects.create_superuser(username=username, email="", password=password)
        owner.groups.add(Group.objects.get(name=OWNER_GROUP))
        # The owner is the controller; the commitment date is theirs to correct in the admin.
        ConfidentialityCommitment.objects.create(
            user=owner, signed_on=timezone.localdate(), recorded_by=owner
        )
        # Nobody enrols a second factor with the password alone, the owner included.
        issued = issue_enrolment_code(user=owner)
        self.stdout.write(
            self.style.SUCCESS(
                boxed(
                    [
                        "Created the owner account. Write these down: they are shown only now",
                        "and stored only as hashes.",
                        "",
                        f"  user name:       {username}",
                        f"  password:        {password}",
                        f"  enrolment code:  {issued.code}",
                        "",
                        *log_in,
                        "On first login you enrol a second factor (an authenticator app): the",
                        "wizard asks for the enrolment code (it lasts 72 hours), then shows a QR code.",
                        f"A new password later: .venv/bin/python manage.py changepassword {username}",
                    ]
                )
            )
        )
