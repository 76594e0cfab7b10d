"""manage.py rebuild_analytics: recompute every ticket's analytics facts now
(what the nightly job does), with a progress bar."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from analytics.rollups.facts import rebuild_facts


class Command(BaseCommand):
    help = "Recompute every ticket's analytics facts (the nightly rebuild), with progress."

    def handle(self, *args, **options) -> None:
        started = timezone.now()
        rebuilt = rebuild_facts(started, progress=True)
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"{rebuilt.tickets} tickets in {seconds:.1f} s; "
            f"{rebuilt.differing} facts differed from the stored ones"
        )
