from django.core.management.base import BaseCommand, CommandError

from privacy.audit import verify_chain, verify_checkpoints


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain; exit non-zero naming the first broken event. "
        "With --checkpoint FILE, also check that the log still ends at or after every "
        "checkpoint in FILE (written by audit_checkpoint)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            metavar="FILE",
            default="",
            help="A file written by audit_checkpoint (e.g. the AUDIT_CHECKPOINT_FILE setting).",
        )

    def handle(self, *args, checkpoint, **options):
        result = verify_chain()
        if not result.intact:
            raise CommandError(
                f"Audit log broken at event #{result.first_broken_id}: {result.reason}. "
                f"{result.checked} events before it are intact."
            )
        if checkpoint:
            try:
                with open(checkpoint, encoding="utf-8") as lines:
                    check = verify_checkpoints(lines)
            except OSError as error:
                message = f"Cannot read the checkpoint file {checkpoint}: {error.strerror}"
                raise CommandError(message) from error
            except UnicodeDecodeError as error:
                message = f"The checkpoint file {checkpoint} is not text: it was altered."
                raise CommandError(message) from error
            if not check.passed:
                raise CommandError(
                    f"Audit log fails its checkpoint in {checkpoint}: {check.problem}. "
                    f"{check.checkpoints} checkpoints before it passed."
                )
            newest = check.newest
            assert newest is not None  # a check that passed saw at least one checkpoint
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit log intact: {result.checked} events checked; it still holds event "
                    f"#{newest.event_id} of the newest of {check.checkpoints} checkpoints "
                    f"({newest.written_at}) with its hash."
                )
            )
            return
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {result.checked} events checked."))
