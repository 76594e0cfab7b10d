"""SLA clocks for the seeded tickets, as the SLA hook and sweep would have left
them: every ticket gets its TicketSLA at intake (the policy of its customer's
tier and its priority), so the dashboard's SLA compliance covers the whole
history, not only the open tickets.

Open tickets get theirs from the product's own backfill (escalation.backfill:
due times running, thresholds passed recorded). A solved or closed ticket's
clock has stopped: no due times, the moments its first response and its
resolution were met, and a breach recorded where one came after its due time
(from the creation, in the policy's business hours; the pauses of a ticket
waiting on its customer are left out, as the backfill leaves them out: the
dashboard recomputes compliance from the full history anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction

from escalation.backfill import backfill_open_tickets
from escalation.business_hours import add_business_time
from escalation.calendars import hours_for
from escalation.models import SLAPolicy, TicketSLA
from tickets.models import OPEN_STATUSES, SupportTier, Ticket

BATCH = 2000


def start_clocks(*, first_ticket_id: int, progress: Callable[[int], None] | None = None) -> int:
    """Clocks for the tickets from `first_ticket_id` on that have none;
    returns how many breached a target."""
    breached = _stopped_clocks(first_ticket_id, progress)
    backfill_open_tickets(progress=progress)
    return breached


def _stopped_clocks(first_ticket_id: int, progress: Callable[[int], None] | None) -> int:
    policies = {
        (p.support_tier, p.priority): p for p in SLAPolicy.objects.select_related("calendar")
    }
    breached = 0
    last_id = first_ticket_id - 1
    while True:
        rows = list(
            Ticket.objects.filter(id__gt=last_id, sla__isnull=True)
            .exclude(status__in=OPEN_STATUSES)
            .order_by("id")
            .values_list(
                "id", "created_at", "priority", "organization__support_tier",
                "first_response_at", "solved_at",
            )[:BATCH]
        )  # fmt: skip
        if not rows:
            return breached
        clocks = []
        for pk, created, priority, tier, first_response, solved in rows:
            policy = policies.get((tier or SupportTier.BASIC, priority))
            sla = TicketSLA(
                ticket_id=pk,
                policy=policy,
                started_at=created,
                first_response_met_at=first_response,
                resolution_met_at=solved,
            )
            if policy is not None:
                hours = hours_for(policy.calendar_id)
                for target, met in (("first_response", first_response), ("resolution", solved)):
                    minutes = getattr(policy, f"{target}_minutes")
                    due = add_business_time(hours, created, timedelta(minutes=minutes))
                    if met is None or met > due:
                        # The sweep recorded the breach when the due time passed.
                        setattr(sla, f"{target}_breached_at", due)
                if sla.first_response_breached_at or sla.resolution_breached_at:
                    breached += 1
            clocks.append(sla)
        with transaction.atomic():
            TicketSLA.objects.bulk_create(clocks, batch_size=BATCH)
        last_id = rows[-1][0]
        if progress is not None:
            progress(len(rows))
