"""python manage.py train_classifier [--csv FILE] [--eval-csv FILE] [--no-activate]"""

from django.core.management.base import BaseCommand, CommandError

from tickets.classification.model import TrainingError
from tickets.classification.training import (
    TICKETS_SOURCE,
    classifier_train,
    load_csv,
    ticket_training_data,
)


class Command(BaseCommand):
    help = (
        "Train the ticket classifier on this helpdesk's resolved tickets (their final "
        "categories are the labels) or on a CSV of text,label; report accuracy and macro-F1 "
        "and store the result as the next version, active unless --no-activate."
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
        parser.add_argument(
            "--no-activate",
            action="store_true",
            help="Store the new version without making intake use it.",
        )

    def handle(self, *args, csv=None, eval_csv=None, no_activate=False, **options):
        try:
            if csv:
                data, source = load_csv(csv), f"CSV {csv}"
            else:
                data, source = ticket_training_data().data, TICKETS_SOURCE
            if not len(data):
                raise TrainingError("There are no resolved tickets with a category yet.")
            eval_data = load_csv(eval_csv) if eval_csv else None
            if options["verbosity"]:
                self.stdout.write(f"Training on {len(data)} examples from {source} ...")
            result = classifier_train(
                data=data, source=source, eval_data=eval_data, activate=not no_activate
            )
        except TrainingError as exc:
            raise CommandError(str(exc)) from exc

        m, row = result.metrics, result.row
        self.stdout.write(
            f"Classifier v{row.version}: {len(m.labels)} categories, "
            f"{m.train_samples} training examples, {result.seconds:.1f} s"
        )
        self.stdout.write(
            f"  accuracy {m.accuracy:.4f}  macro-F1 {m.macro_f1:.4f}  "
            f"(on {m.evaluated_on}, {m.eval_samples} examples)"
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
        else:
            self.stdout.write(f"  v{row.version} stored, not active.")
