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

from analytics.metrics.timeline import Timeline, load_timelines
from escalation.backfill import backfill_open_tickets
from escalation.models import Escalation, SLAPolicy, Threshold, TicketSLA
from escalation.services import TARGET_WORDS
from tickets.models import OPEN_STATUSES, SupportTier, Ticket, TicketEvent

BATCH = 2000


def start_clocks(
    *, first_ticket_id: int, now: datetime, progress: Callable[[int], None] | None = None
) -> int:
    """Clocks for the tickets from `first_ticket_id` on that have none, and
    their breaches up to `now`; returns how many targets were breached."""
    _stopped_clocks(first_ticket_id)
    backfill_open_tickets()
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
        breaches += _record_breaches(load_timelines(Ticket.objects.filter(id__in=ids)), now)
        last_id = ids[-1]
        if progress is not None:
            progress(len(ids))


def _stopped_clocks(first_ticket_id: int) -> None:
    policies = {
        (p.support_tier, p.priority): p for p in SLAPolicy.objects.select_related("calendar")
    }
    last_id = first_ticket_id - 1
    while True:
        rows = list(
            Ticket.objects.filter(id__gt=last_id, sla__isnull=True)
            .exclude(status__in=OPEN_STATUSES)
            .order_by("id")
            .values_list(
                "id", "priority", "organization__support_tier", "created_at",
                "first_response_at", "solved_at",
            )[:BATCH]
        )  # fmt: skip
        if not rows:
            return
        TicketSLA.objects.bulk_create(
            [
                TicketSLA(
                    ticket_id=pk,
                    policy=policies.get((tier or SupportTier.BASIC, priority)),
                    started_at=created,
                    first_response_met_at=first_response,
                    resolution_met_at=solved,
                )
                for pk, priority, tier, created, first_response, solved in rows
            ],
            batch_size=BATCH,
        )
        last_id = rows[-1][0]


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


def _record_breaches(timelines: list[Timeline], now: datetime) -> int:
    escalations: list[Escalation] = []
    events: list[TicketEvent] = []
    flags: dict[int, dict[str, datetime]] = {}
    for timeline in timelines:
        for target, met in (
            ("first_response", timeline.first_response_at),
            ("resolution", timeline.solved_at),
        ):
            due = _breach_due(timeline, target, met, now)
            if due is None:
                continue
            local_due = f"{timezone.localtime(due):%Y-%m-%d %H:%M %Z}"
            reason = f"{TARGET_WORDS[target]} breached, due {local_due}"
            escalations.append(
                Escalation(
                    ticket_id=timeline.id,
                    kind=Escalation.Kind.SLA,
                    target=target,
                    threshold=Threshold.BREACH,
                    due_at=due,
                    reason=reason,
                    created_at=due,
                )
            )
            events.append(
                TicketEvent(
                    ticket_id=timeline.id,
                    action=f"sla.{Threshold.BREACH}",
                    field=target,
                    new_value=local_due,
                    note=f"SLA {reason}",
                    created_at=due,
                )
            )
            flags.setdefault(timeline.id, {})[f"{target}_breached_at"] = due
    with transaction.atomic():
        Escalation.objects.bulk_create(escalations, batch_size=BATCH)
        TicketEvent.objects.bulk_create(events, batch_size=BATCH)
        clocks = list(TicketSLA.objects.filter(ticket_id__in=flags))
        for sla in clocks:
            for flag, due in flags[sla.ticket_id].items():
                setattr(sla, flag, due)
        TicketSLA.objects.bulk_update(
            clocks, ["first_response_breached_at", "resolution_breached_at"], batch_size=BATCH
        )
    return len(escalations)
