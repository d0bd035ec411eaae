import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


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
            self.stdout.write("An owner account exists already.")
            return
        password = secrets.token_urlsafe(15)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the owner account.\n  user name: {username}\n  password:  {password}\n"
                "The password is shown only now and stored only as a hash: write it down."
            )
        )
