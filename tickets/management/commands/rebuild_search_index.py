"""python manage.py rebuild_search_index [--missing-only]"""

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from tickets import search
from tickets.models import Ticket


class Command(BaseCommand):
    help = "Recompute the full-text search vector of every ticket (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--missing-only", action="store_true", help="Only tickets that have no vector yet."
        )
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, missing_only: bool, batch_size: int, **options):
        if not search.is_supported():
            self.stdout.write("Search vectors exist on PostgreSQL only; nothing to do.")
            return
        with tqdm(
            total=Ticket.objects.count(),
            unit=" tickets",
            file=sys.stderr,
            disable=options["verbosity"] == 0,
        ) as bar:
            search.search_index_rebuild(
                batch_size=batch_size, only_missing=missing_only, progress=bar.update
            )
        self.stdout.write(self.style.SUCCESS("Search index rebuilt."))
