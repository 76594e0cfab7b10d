"""python manage.py train_classifier [--csv FILE] [--eval-csv FILE] [--no-activate | --activate]"""

from django.core.management.base import BaseCommand, CommandError

from tickets.classification.model import TrainingError
from tickets.classification.training import (
    TICKETS_SOURCE,
    CsvData,
    classifier_train,
    classifier_train_on_tickets,
    read_csv,
    ticket_training_data,
)

# Skipped CSV rows listed one by one; the rest are counted.
SHOWN_SKIPPED = 20


class Command(BaseCommand):
    help = (
        "Train the ticket classifier on this helpdesk's resolved tickets whose category a "
        "person chose (measured on the held-out ones) or on a CSV of text,label; report "
        "accuracy and macro-F1 next to the active version's on the same examples, and store "
        "the result as the next version, activated when it is not worse."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--csv", metavar="FILE", help="Train on this CSV (columns text,label[,priority])."
        )
        parser.add_argument(
            "--eval-csv",
            metavar="FILE",
            help="Measure on this CSV (same columns) instead of a held-out 20%% split.",
        )
        choice = parser.add_mutually_exclusive_group()
        choice.add_argument(
            "--no-activate",
            action="store_true",
            help="Store the new version without making intake use it.",
        )
        choice.add_argument(
            "--activate",
            action="store_true",
            help="Make the new version active even if it measures worse than the active one.",
        )

    def handle(self, *args, csv=None, eval_csv=None, no_activate=False, activate=False, **options):
        decide = True if activate else False if no_activate else None
        verbose = options["verbosity"] > 0
        try:
            if csv:
                loaded = self._read(csv)
                eval_data = self._read(eval_csv).data if eval_csv else None
                if verbose:
                    self.stdout.write(f"Training on {len(loaded.data)} examples from {csv} ...")
                result = classifier_train(
                    data=loaded.data, source=f"CSV {csv}", eval_data=eval_data, activate=decide
                )
            else:
                if eval_csv:
                    raise TrainingError(
                        "--eval-csv goes with --csv (tickets are measured on their held-out share)."
                    )
                tickets = ticket_training_data()
                if verbose:
                    self.stdout.write(
                        f"Training on {len(tickets.data)} {TICKETS_SOURCE} categorised by a "
                        f"person ({tickets.corrections} corrections, {tickets.scanned} looked "
                        f"at), measured on {len(tickets.held_out)} held-out ones ..."
                    )
                result = classifier_train_on_tickets(tickets, activate=decide)
        except TrainingError as exc:
            raise CommandError(str(exc)) from exc

        m, row, baseline = result.metrics, result.row, result.baseline
        self.stdout.write(
            f"Classifier v{row.version}: {len(m.labels)} categories, "
            f"{m.train_samples} training examples, {result.seconds:.1f} s"
        )
        self.stdout.write(
            f"  accuracy {m.accuracy:.4f}  macro-F1 {m.macro_f1:.4f}  "
            f"(on {m.evaluated_on}, {m.eval_samples} examples)"
        )
        if baseline is not None:
            self.stdout.write(
                f"  active v{baseline.version} on the same examples: "
                f"accuracy {baseline.accuracy:.4f}  macro-F1 {baseline.macro_f1:.4f}"
            )
        if m.priority_accuracy is not None:
            self.stdout.write(
                f"  priority: accuracy {m.priority_accuracy:.4f}  "
                f"macro-F1 {m.priority_macro_f1:.4f}"
            )
        if m.dropped_labels:
            rare = ", ".join(f"{label} ({n})" for label, n in sorted(m.dropped_labels.items()))
            self.stdout.write(f"  left out (fewer than 5 examples): {rare}")
        if result.activated:
            self.stdout.write(self.style.SUCCESS(f"  v{row.version} is now active."))
        elif decide is None and baseline is not None:
            self.stdout.write(
                f"  v{row.version} stored, not active: its macro-F1 is more than the allowed "
                f"drop below v{baseline.version}'s (--activate to use it anyway)."
            )
        else:
            self.stdout.write(f"  v{row.version} stored, not active.")

    def _read(self, path: str) -> CsvData:
        """Read a CSV, listing the rows that cannot be used (on stderr)."""
        loaded = read_csv(path)
        if loaded.skipped:
            self.stderr.write(
                self.style.WARNING(f"{path}: skipped {len(loaded.skipped)} unusable rows:")
            )
            for line, reason in loaded.skipped[:SHOWN_SKIPPED]:
                self.stderr.write(f"  line {line}: {reason}")
            if len(loaded.skipped) > SHOWN_SKIPPED:
                self.stderr.write(f"  ... and {len(loaded.skipped) - SHOWN_SKIPPED} more")
        return loaded
