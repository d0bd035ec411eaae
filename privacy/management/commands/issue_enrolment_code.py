from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_otp import user_has_device

from privacy.enrolment import issue_enrolment_code


class Command(BaseCommand):
    help = (
        "Issue a one-time code with which a staff member enrols their first second factor "
        "(72 hours, works once; shown only now). An earlier unused code stops working."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_active or not user.is_staff:
            raise CommandError(f"No active staff account is called {username!r}.")
        issued = issue_enrolment_code(user=user)
        expires = timezone.localtime(issued.expires_at).strftime("%Y-%m-%d %H:%M")
        self.stdout.write(
            self.style.SUCCESS(
                f"Enrolment code for {username}: {issued.code}\n"
                f"It works once, until {expires}, and is shown only now. After logging in "
                "with the password, the wizard asks for it before showing the QR code."
            )
        )
        if user_has_device(user, confirmed=True):
            self.stdout.write(
                "The account has a second factor already: the code works only after the "
                "owner deletes its TOTP devices in the admin."
            )
