from django.conf import settings
from django.core.management.base import BaseCommand

from privacy.retention import apply_retention


class Command(BaseCommand):
    help = "Anonymise, detach and delete what has been kept long enough. Safe to run daily."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be done; change nothing."
        )

    def handle(self, *args, dry_run, **options):
        outcome = apply_retention(dry_run=dry_run)
        self.stdout.write(
            f"Retention periods: customers {settings.RETENTION_YEARS} years from the last activity, "
            f"purchase history {settings.ORDER_HISTORY_YEARS} years, "
            f"bookkeeping {settings.BOOKKEEPING_RETENTION_YEARS} years."
        )
        for name, count in outcome.as_counts().items():
            self.stdout.write(f"{name.replace('_', ' ')}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                "Retention run done (dry run, nothing would be changed)."
                if dry_run
                else "Retention run done (applied)."
            )
        )
