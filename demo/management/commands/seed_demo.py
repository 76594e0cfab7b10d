"""python manage.py seed_demo --tickets N [--seed S] [--if-empty] [--print-logins]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from demo.catalog import DEMO_LOGINS, MANAGER
from demo.help_centre import HelpCentreResult, seed_help_centre
from demo.people import DEMO_PASSWORD
from demo.runner import seed_demo
from tickets.models import Ticket, User


class Command(BaseCommand):
    help = (
        "Fill the database with a demo helpdesk: organisations, teams, agents, customers "
        "and N tickets with conversations and history over the past 90 days, then print "
        "the demo logins. Never run it on a database real people use."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=2_000, help="How many tickets.")
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: the same seed makes the same data."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has tickets (for `make run`).",
        )
        parser.add_argument(
            "--print-logins", action="store_true", help="Only print the demo logins."
        )
        parser.add_argument(
            "--morning-queue",
            action="store_true",
            help="Also open a few fresh tickets for the demo agent through the services "
            "(`make run` uses it so the agent's queue has work in it).",
        )

    def handle(
        self,
        *args,
        tickets: int,
        seed: int,
        if_empty: bool,
        print_logins: bool,
        morning_queue: bool,
        **options,
    ) -> None:
        if print_logins:
            self._print_logins()
            return
        if tickets < 0:
            raise CommandError("--tickets must be zero or more.")
        if if_empty and Ticket.objects.exists():
            self.stdout.write("The database already has tickets; not seeding demo data.")
            if User.objects.filter(email=MANAGER.email).exists():
                # A demo database seeded before the help centre existed gets it now.
                with transaction.atomic():
                    self._report_help_centre(
                        seed_help_centre(seed=seed, tickets_seeded=Ticket.objects.count())
                    )
            self._print_logins()
            return
        result = seed_demo(
            tickets=tickets,
            seed=seed,
            progress=options["verbosity"] > 0,
            morning_queue=morning_queue,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.tickets:,} tickets, {result.messages:,} messages and "
                f"{result.events:,} events in {result.seconds:.1f} s."
            )
        )
        self.stdout.write(
            f"Surveys: {result.csat_responses:,} CSAT answers, {result.nps_responses:,} NPS "
            f"answers; {result.shifts} agent shifts."
        )
        self.stdout.write(
            f"SLA: {result.sla_breached:,} breached targets escalated; "
            f"{result.escalations:,} tier escalations."
        )
        self._report_help_centre(result.help_centre)
        self._print_logins()

    def _report_help_centre(self, kb: HelpCentreResult | None) -> None:
        if kb is None:  # the database has its help centre already
            return
        semantic = (
            f", {kb.embedded} embedded for semantic search"
            if kb.embedded is not None
            else " (semantic search off)"
        )
        self.stdout.write(
            f"Help centre: {kb.articles} articles, {kb.feedback:,} ratings, "
            f"{kb.deflections:,} deflections{semantic}."
        )

    def _print_logins(self) -> None:
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD!r}, demo only):")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.email:<36} {login.purpose}")
