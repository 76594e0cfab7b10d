"""Start SLA clocks for open tickets that have none (tickets opened before
SLAs existed, or loaded in bulk such as the demo data), in batches.

Thresholds that already passed are recorded as reached at their own time but
not escalated: a first backfill must not page every manager for last month's
backlog. The sweep acts on what comes due from then on.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from escalation import clock
from escalation.models import SLAPolicy, Threshold, TicketSLA
from tickets.models import OPEN_STATUSES, SupportTier, Ticket

BATCH = 2000


def backfill_open_tickets(*, progress: Callable[[int], None] | None = None) -> int:
    policies = {
        (p.support_tier, p.priority): p for p in SLAPolicy.objects.select_related("calendar")
    }
    now = timezone.now()
    done, last_id = 0, 0
    while True:
        rows = list(
            Ticket.objects.filter(id__gt=last_id, status__in=OPEN_STATUSES, sla__isnull=True)
            .order_by("id")
            .values_list(
                "id", "created_at", "updated_at", "status", "priority",
                "organization__support_tier", "first_response_at",
            )[:BATCH]
        )  # fmt: skip
        if not rows:
            return done
        clocks, dues = [], []
        for pk, created, updated, status, priority, tier, first_response in rows:
            ticket = SimpleNamespace(status=status)
            sla = TicketSLA(
                ticket_id=pk,
                policy=policies.get((tier or SupportTier.BASIC, priority)),
                started_at=created,
                first_response_met_at=first_response,
                paused_since=updated if status in clock.PAUSED_STATUSES else None,
            )
            clock.recompute(sla, ticket)
            for pending in clock.pending_thresholds(sla):
                if pending.at <= now:
                    kind = "warned" if pending.threshold == Threshold.WARNING else "breached"
                    setattr(sla, f"{pending.target}_{kind}_at", pending.at)
            clock.recompute(sla, ticket)
            clocks.append(sla)
            dues.append(Ticket(pk=pk, sla_due_at=clock.nearest_due(sla)))
        with transaction.atomic():
            TicketSLA.objects.bulk_create(clocks, ignore_conflicts=True)
            Ticket.objects.bulk_update(dues, ["sla_due_at"])
        done += len(rows)
        last_id = rows[-1][0]
        if progress is not None:
            progress(len(rows))
