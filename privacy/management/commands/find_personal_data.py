from django.core.management.base import BaseCommand, CommandError

from privacy.finder import find_personal_data


class Command(BaseCommand):
    help = "List every table and column where TEXT occurs (case-insensitive)."

    def add_arguments(self, parser):
        parser.add_argument("text")

    def handle(self, *args, text, **options):
        if len(text.strip()) < 3:
            raise CommandError("Give at least three characters, or every row would match.")
        matches = find_personal_data(text.strip())
        for match in matches:
            self.stdout.write(f"{match.table}.{match.column}: {match.rows} row(s)")
        self.stdout.write(
            f"{len(matches)} column(s) hold the text." if matches else "Not found in any table."
        )
