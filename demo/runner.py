"""seed_demo's work: the cast, then the tickets streamed in chunks into the
database, all in one transaction (a failed run leaves nothing behind)."""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from tqdm import tqdm

from analytics.rollups.facts import rebuild_facts
from demo import catalog
from demo.canned import create_canned_responses
from demo.help_centre import HelpCentreResult, seed_help_centre
from demo.history import HistoryGenerator
from demo.morning import create_morning_queue
from demo.people import build_cast
from demo.rows import FirstIds
from demo.shifts import create_shifts
from demo.sla import start_clocks
from demo.surveys import SurveyHistory, save_nps
from demo.timeline import HOUR, Stamper, epoch, history_start
from demo.writers import sink_for
from tickets import search
from tickets.models import OPEN_STATUSES, User

# Tickets per chunk: one COPY buffer per table holds a chunk's rows (a few MB).
CHUNK_SIZE = 20_000


# The share of an agent's capacity their seeded open tickets may take, so that
# routing has room for the tickets that arrive after the seed.
SEEDED_LOAD = 0.8


def fit_capacity_to_load() -> int:
    """A history seeded with more tickets than the cast's nominal staffing
    handles leaves agents with more open tickets than their capacity, and
    routing with nobody to give new tickets to (the demo seeded 62 open
    against a capacity of 15). Raise each such agent's capacity so their
    seeded tickets take at most SEEDED_LOAD of it. Returns how many changed."""
    loads = (
        User.objects.assignable()
        .filter(capacity__gt=0)
        .annotate(
            load=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES))
        )
        .values_list("pk", "capacity", "load")
    )
    changed = 0
    for pk, capacity, load in loads:
        needed = math.ceil(load / SEEDED_LOAD)
        if needed > capacity:
            User.objects.filter(pk=pk).update(capacity=needed)
            changed += 1
    return changed


@dataclass(frozen=True)
class SeedResult:
    tickets: int
    messages: int
    events: int
    seconds: float
    csat_responses: int = 0
    nps_responses: int = 0
    shifts: int = 0
    sla_breached: int = 0
    escalations: int = 0
    # None: the database had a help centre already.
    help_centre: HelpCentreResult | None = None


def seed_demo(
    *, tickets: int, seed: int, progress: bool = True, morning_queue: bool = False
) -> SeedResult:
    """Create the demo cast (or reuse it) and `tickets` tickets with their
    conversations and history over the last 90 days."""
    started = time.monotonic()
    now_seconds = epoch(timezone.now())
    messages = events = csat = escalations = 0
    with transaction.atomic():
        cast = build_cast()
        sink = sink_for(connection, tickets)
        first_ids = sink.begin()
        stamp = Stamper(history_start(now_seconds), now_seconds)
        surveys = _survey_history(seed, now_seconds, stamp, first_ids)
        generator = HistoryGenerator(
            cast, random.Random(seed), now_seconds, first_ids, stamp, surveys
        )
        with tqdm(
            total=tickets, unit=" tickets", file=sys.stderr, disable=not progress, smoothing=0.1
        ) as bar:
            for chunk in generator.chunks(tickets, CHUNK_SIZE):
                sink.write(chunk)
                messages += len(chunk.messages)
                events += len(chunk.events)
                csat += len(chunk.csat_responses)
                escalations += len(chunk.escalations)
                bar.update(len(chunk.tickets))
        sink.finish()
        nps = save_nps(surveys.nps_rows())
        shifts = create_shifts()
        create_canned_responses()
        help_centre = seed_help_centre(seed=seed, tickets_seeded=tickets)
        if morning_queue:
            create_morning_queue(seed=seed)
        fit_capacity_to_load()
        # The SLA clocks intake would have started (open tickets' included,
        # so `make run`'s sla_backfill finds nothing left to do).
        with tqdm(total=tickets, unit=" SLA clocks", file=sys.stderr, disable=not progress) as bar:
            sla_breached = start_clocks(
                first_ticket_id=first_ids.ticket,
                now=datetime.fromtimestamp(now_seconds, tz=UTC),
                progress=bar.update,
            )
        if search.is_supported():
            # Search vectors are computed by PostgreSQL from the rows just
            # loaded, in id batches (tickets.search).
            with tqdm(total=tickets, unit=" indexed", file=sys.stderr, disable=not progress) as bar:
                search.search_index_rebuild(only_missing=True, progress=bar.update)
    # The dashboard reads the ticket facts; the catch-up job only looks back
    # a day, so a seeded history is computed here (batches of its own).
    rebuild_facts(datetime.fromtimestamp(now_seconds, tz=UTC), progress=progress)
    return SeedResult(
        tickets=tickets,
        messages=messages,
        events=events,
        csat_responses=csat,
        nps_responses=nps,
        shifts=shifts,
        sla_breached=sla_breached,
        escalations=escalations,
        seconds=time.monotonic() - started,
        help_centre=help_centre,
    )


def _survey_history(seed: int, now: int, stamp: Stamper, first_ids: FirstIds) -> SurveyHistory:
    """The survey rows' planner, with a random stream of its own so the
    tickets a seed makes do not depend on the surveys."""
    manager = User.objects.filter(email=catalog.MANAGER.email).values_list("pk", flat=True).first()
    return SurveyHistory(
        random.Random(f"{seed}-surveys"),
        now=now,
        start=history_start(now),
        stamp=stamp,
        first_invite_id=first_ids.survey_invite,
        first_response_id=first_ids.csat_response,
        delay_seconds=max(0, settings.HELPDESK_CSAT_DELAY_MINUTES) * 60,
        link_seconds=max(1, settings.HELPDESK_CSAT_LINK_DAYS) * 24 * HOUR,
        follow_up_by=manager,
        nps_cadence_days=settings.HELPDESK_NPS_CADENCE_DAYS,
    )
