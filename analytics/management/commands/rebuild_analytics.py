"""manage.py rebuild_analytics: recompute every ticket's analytics facts and
sum the rollup blocks from them now (what the nightly job does), with a
progress bar; --rollups sums the blocks only (after an upgrade)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from analytics.rollups.facts import rebuild_facts, rebuild_rollups


class Command(BaseCommand):
    help = (
        "Recompute every ticket's analytics facts and their rollups (the nightly rebuild), "
        "with progress."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--rollups",
            action="store_true",
            help="Only sum the rollup blocks from the facts as they are.",
        )

    def handle(self, *args, **options) -> None:
        started = timezone.now()
        if options["rollups"]:
            summed = rebuild_rollups(started, progress=True)
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(
                f"{summed.rows} rollup blocks in {seconds:.1f} s; "
                f"{summed.differing} differed from the kept ones"
            )
            return
        rebuilt = rebuild_facts(started, progress=True)
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"{rebuilt.tickets} tickets in {seconds:.1f} s; "
            f"{rebuilt.differing} facts differed from the stored ones; "
            f"{rebuilt.rollup_rows} rollup blocks, {rebuilt.rollups_differing} differed"
        )
