"""python manage.py classify "text" """

from django.core.management.base import BaseCommand

from tickets.classification.steps import decide, min_confidence


class Command(BaseCommand):
    help = (
        "Show what intake would decide for a ticket text: the active classifier's category and "
        "priority with their confidence, keyword rules, sentiment and urgency."
    )

    def add_arguments(self, parser):
        parser.add_argument("text", help="The ticket text (subject and description).")

    def handle(self, *args, text: str, **options):
        d = decide(text)
        out = self.stdout.write
        if d.prediction is None:
            out("Classifier: none active (keyword rules and triage only)")
        else:
            p = d.prediction
            out(f"Classifier v{d.version}: {p.category.label} ({p.category.confidence:.2f})")
            if p.priority is not None:
                out(f"Priority prediction: {p.priority.label} ({p.priority.confidence:.2f})")
        out(f"Sentiment: {d.sentiment:+.2f}")
        if d.category is not None:
            out(f"Category: {d.category.name} \u2014 {d.category_note}")
        else:
            out(f"Category: none \u2014 {d.triage_note} (threshold {min_confidence():.2f})")
        if d.priority is not None:
            out(f"Priority: {d.priority} \u2014 {d.priority_note}")
        else:
            out("Priority: unchanged")
