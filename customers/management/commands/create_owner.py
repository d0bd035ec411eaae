import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy.enrolment import issue_enrolment_code
from privacy.groups import OWNER_GROUP
from privacy.models import ConfidentialityCommitment


class Command(BaseCommand):
    help = (
        "Create the owner's account on first run and print its random password once. "
        "Does nothing when a superuser exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="owner")

    def handle(self, *args, username, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                "An owner account exists already. Not enrolled yet and the code is lost or "
                "expired? manage.py issue_enrolment_code <user name> gives a new one."
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
                f"Created the owner account.\n  user name: {username}\n  password:  {password}\n"
                f"  enrolment code: {issued.code}\n"
                "Both are shown only now and stored only as hashes: write them down.\n"
                "On first login you enrol a second factor (an authenticator app): the wizard "
                "asks for the enrolment code (it lasts 72 hours) before it shows the QR code."
            )
        )
