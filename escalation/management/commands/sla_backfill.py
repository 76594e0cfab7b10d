from django.core.management.base import BaseCommand
from tqdm import tqdm

from escalation.backfill import backfill_open_tickets
from tickets.models import OPEN_STATUSES, Ticket


class Command(BaseCommand):
    help = (
        "Start SLA clocks for open tickets that have none (older tickets, bulk-loaded "
        "data). Thresholds already passed are recorded, not escalated."
    )

    def handle(self, *args, **options):
        missing = Ticket.objects.filter(status__in=OPEN_STATUSES, sla__isnull=True).count()
        with tqdm(total=missing, unit="tickets", disable=options["verbosity"] == 0) as bar:
            done = backfill_open_tickets(progress=bar.update)
        if options["verbosity"] > 0:
            self.stdout.write(f"SLA clocks started for {done:,} open tickets.")
