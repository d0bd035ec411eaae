import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from customers.labels import (
    LabelFilters,
    csv_chunks,
    excel_csv_chunks,
    label_selection,
    write_pdf,
    write_xlsx,
)
from privacy.audit import record
from privacy.models import AuditAction


class Command(BaseCommand):
    help = (
        "Export mailing labels (XLSX, CSV for Excel in Finnish, plain CSV or PDF) for the"
        " customers who may get direct mail."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=["xlsx", "excel_csv", "csv", "pdf"],
            required=True,
            help="excel_csv: ';'-separated UTF-8 with a BOM, postal codes as text, for Excel in Finnish.",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="Language of the column headers (default: %(default)s).",
        )
        parser.add_argument("--output", required=True, help="File to write.")
        parser.add_argument("--postal-code-from", default="")
        parser.add_argument("--postal-code-to", default="")
        parser.add_argument("--city", default="")
        parser.add_argument("--last-purchase-since", type=datetime.date.fromisoformat)
        parser.add_argument("--organisation", type=int, help="Organisation id.")

    def handle(self, *args, **options):
        filters = LabelFilters(
            postal_code_from=options["postal_code_from"],
            postal_code_to=options["postal_code_to"],
            city=options["city"],
            last_purchase_since=options["last_purchase_since"],
            organisation_id=options["organisation"],
        )
        selection = label_selection(filters)
        included = selection.customers.count()
        fmt = options["format"]
        try:
            with translation.override(options["language"]), open(options["output"], "wb") as target:
                if fmt in ("csv", "excel_csv"):
                    for chunk in (csv_chunks if fmt == "csv" else excel_csv_chunks)(selection.customers):
                        target.write(chunk)
                else:
                    (write_xlsx if fmt == "xlsx" else write_pdf)(selection.customers, target)
        except OSError as error:
            raise CommandError(f"Cannot write {options['output']}: {error.strerror}") from error
        counts = selection.counts(included)
        record(
            action=AuditAction.EXPORT,
            object_type="customers.customer",
            fields=[f"labels_{fmt}"],
            counts=counts,
        )
        self.stdout.write(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()))
