from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy.audit import append_checkpoint, checkpoint_key_is_derived, current_checkpoint


class Command(BaseCommand):
    help = (
        "Append the audit log's newest event (id, hash, event count), signed with "
        "AUDIT_CHECKPOINT_KEY, to AUDIT_CHECKPOINT_FILE, outside the database. Run it daily; "
        "`verify_audit_log --checkpoint FILE` then sees events cut from the log's end."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", default="", help="Checkpoint file (default: the AUDIT_CHECKPOINT_FILE setting)."
        )

    def handle(self, *args, file, **options):
        path = file or settings.AUDIT_CHECKPOINT_FILE
        if checkpoint_key_is_derived():
            self.stderr.write(
                "Warning: AUDIT_CHECKPOINT_KEY is not set; the checkpoint is signed with a key derived "
                "from AUDIT_LOG_KEY or SECRET_KEY, so whoever has those can sign one too."
            )
        checkpoint = current_checkpoint()
        try:
            append_checkpoint(path, checkpoint)
        except OSError as error:
            raise CommandError(f"Cannot write the checkpoint to {path}: {error.strerror}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint written to {path}: event #{checkpoint.event_id}, "
                f"{checkpoint.events} events, hash {checkpoint.hash[:16]}..."
            )
        )
