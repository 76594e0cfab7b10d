"""SLA clocks and breaches for the seeded tickets, as the SLA hook and the
sweep would have left them.

Every ticket gets its TicketSLA at intake (the policy of its customer's tier
and its priority). Open tickets get theirs from the product's own backfill
(escalation.backfill: due times running); a solved or closed ticket's clock
has stopped: no due times, the moments its first response and resolution
were met.

Then the breaches: the sweep records each breached target once, when its due
time passes, as an Escalation (kind "sla", threshold "breach"), a "sla.breach"
event on the ticket (what the queue's breached-SLA filter, the dashboard's
drill-down, looks for) and the clock's `*_breached_at`. The due times are the
SLA clock's (business time of the policy's calendar, pauses while waiting
on the customer left out), read through the dashboard's own timelines
(analytics.metrics.timeline), so the drill-down lists the tickets the
dashboard counts. First-response and resolution targets only: the
next-response rounds and the warnings are not seeded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from analytics.metrics.timeline import TARGETS, Timeline, load_timelines
from escalation.backfill import backfill_open_tickets
from escalation.calendars import hours_for
from escalation.models import Escalation, SLAPolicy, Threshold, TicketSLA
from escalation.services import TARGET_WORDS
from tickets.models import Ticket, TicketEvent

BATCH = 2000


def start_clocks(
    *, first_ticket_id: int, now: datetime, progress: Callable[[int], None] | None = None
) -> int:
    """Clocks for the tickets from `first_ticket_id` on that have none, and
    their breaches up to `now`; returns how many targets were breached."""
    backfill_open_tickets()
    policies = {
        (p.support_tier, p.priority): p for p in SLAPolicy.objects.select_related("calendar")
    }
    breaches = 0
    last_id = first_ticket_id - 1
    while True:
        ids = list(
            Ticket.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            return breaches
        breaches += _batch(ids, policies, now)
        last_id = ids[-1]
        if progress is not None:
            progress(len(ids))


def _batch(ids: list[int], policies: dict[tuple[str, str], SLAPolicy], now: datetime) -> int:
    """One batch: the stopped clocks (created here, breaches included, in one
    insert) and the breaches of the running ones the backfill created."""
    running = {sla.ticket_id: sla for sla in TicketSLA.objects.filter(ticket_id__in=ids)}
    stopped: list[TicketSLA] = []
    escalations: list[Escalation] = []
    events: list[TicketEvent] = []
    breached_running: list[TicketSLA] = []
    for timeline in load_timelines(Ticket.objects.filter(id__in=ids)):
        sla = running.get(timeline.id)
        if sla is None:
            # No clock yet, so the timeline has no targets: the policy intake
            # would have chosen gives them.
            policy = policies.get((timeline.customer_tier, timeline.priority))
            sla = TicketSLA(
                ticket_id=timeline.id,
                policy=policy,
                started_at=timeline.created_at,
                first_response_met_at=timeline.first_response_at,
                resolution_met_at=timeline.solved_at,
            )
            stopped.append(sla)
            if policy is None:
                continue
            timeline.hours = hours_for(policy.calendar_id)
            timeline.targets = {target: getattr(policy, f"{target}_minutes") for target in TARGETS}
        breached = False
        for target, met in (
            ("first_response", timeline.first_response_at),
            ("resolution", timeline.solved_at),
        ):
            due = _breach_due(timeline, target, met, now)
            if due is None:
                continue
            breached = True
            setattr(sla, f"{target}_breached_at", due)
            escalation, event = _breach_rows(timeline.id, target, due)
            escalations.append(escalation)
            events.append(event)
        if breached and timeline.id in running:
            breached_running.append(sla)
    with transaction.atomic():
        TicketSLA.objects.bulk_create(stopped, batch_size=BATCH)
        Escalation.objects.bulk_create(escalations, batch_size=BATCH)
        TicketEvent.objects.bulk_create(events, batch_size=BATCH)
        TicketSLA.objects.bulk_update(
            breached_running,
            ["first_response_breached_at", "resolution_breached_at"],
            batch_size=BATCH,
        )
    return len(escalations)


def _breach_due(
    timeline: Timeline, target: str, met: datetime | None, now: datetime
) -> datetime | None:
    """The due time of a target that was breached by `now`, else None. A
    target not met is judged at the solve (the clock stops) or at `now`."""
    stop = met or timeline.solved_at or now
    due = timeline.due(target, timeline.created_at, stop)
    if due is None or due >= stop or due > now:
        return None
    return due


def _breach_rows(ticket_id: int, target: str, due: datetime) -> tuple[Escalation, TicketEvent]:
    """What the sweep writes when it records a breach (escalation.sweep),
    at the due time (it runs every minute)."""
    local_due = f"{timezone.localtime(due):%Y-%m-%d %H:%M %Z}"
    reason = f"{TARGET_WORDS[target]} breached, due {local_due}"
    escalation = Escalation(
        ticket_id=ticket_id,
        kind=Escalation.Kind.SLA,
        target=target,
        threshold=Threshold.BREACH,
        due_at=due,
        reason=reason,
        created_at=due,
    )
    event = TicketEvent(
        ticket_id=ticket_id,
        action=f"sla.{Threshold.BREACH}",
        field=target,
        new_value=local_due,
        note=f"SLA {reason}",
        created_at=due,
    )
    return escalation, event
