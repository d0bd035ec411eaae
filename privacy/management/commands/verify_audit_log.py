from django.core.management.base import BaseCommand, CommandError

from privacy.audit import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit non-zero naming the first broken event."

    def handle(self, *args, **options):
        result = verify_chain()
        if not result.intact:
            raise CommandError(
                f"Audit log broken at event #{result.first_broken_id}: {result.reason}. "
                f"{result.checked} events before it are intact."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {result.checked} events checked."))
