from django.core.management.base import BaseCommand

from privacy.retention import apply_retention


class Command(BaseCommand):
    help = "Anonymise and delete what has been kept long enough. Safe to run daily."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be done; change nothing."
        )

    def handle(self, *args, dry_run, **options):
        outcome = apply_retention(dry_run=dry_run)
        verb = "would be" if dry_run else "were"
        for name, count in outcome.as_counts().items():
            self.stdout.write(f"{name.replace('_', ' ')}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Retention run done ({'dry run, nothing ' + verb + ' changed' if dry_run else 'applied'})."
            )
        )
