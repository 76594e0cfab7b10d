"""Routing: which tier and team a ticket belongs to, and which agent gets it
(the rules are in tickets.routing_rules; this module applies them: at intake,
to waiting tickets, and to a ticket routed again).

The rules are data managers edit in the admin: each Category names the tier
and skill it needs and its default team. Within the team the ticket goes to an
active, available agent who has the skill and a high enough tier, with the most
spare capacity (open tickets relative to capacity), round-robin among equals
(the one routed to longest ago first). VIP customers' tickets prefer the higher
tiers among those agents. When nobody fits, the ticket waits unassigned in the
team queue; `assign_waiting_tickets` (a Celery beat job) hands it out as soon as
capacity frees up.

Concurrency: capacity is re-checked after taking a row lock on the chosen agent
(`SELECT ... FOR UPDATE`), so two tickets arriving at once cannot push one agent
over capacity; `SKIP LOCKED` first lets simultaneous intakes spread over
different agents instead of queueing behind one. The lock is held until the
transaction that assigns the ticket commits; tickets assigned earlier in the
same intake batch count towards the agent's load (`pending`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from tickets import services
from tickets.models import OPEN_STATUSES, Ticket, User
from tickets.routing_rules import choose_agent, placement, routing_reason

if TYPE_CHECKING:
    from tickets.intake import Intake


@transaction.atomic
def route_ticket(ticket: Ticket) -> User | None:
    """Assign an existing ticket to the best agent with room, or leave it
    waiting. Returns the agent, or None when nobody fits now."""
    ticket = Ticket.objects.select_related("category", "organization").get(pk=ticket.pk)
    claimed = choose_agent(ticket)
    if claimed is None:
        return None
    services.ticket_assign(
        ticket=ticket, assignee=claimed.agent, actor=None, note=routing_reason(ticket, claimed)
    )
    User.objects.filter(pk=claimed.agent.pk).update(last_routed_at=timezone.now())
    return claimed.agent


def route_step(intakes: Sequence[Intake]) -> None:
    """Intake step: place each new ticket (tier, team), then give it to an
    agent. Agents given a ticket earlier in the batch count it in their load."""
    pending: Counter[int] = Counter()
    routed: list[int] = []
    for intake in intakes:
        ticket = intake.ticket
        changes, reason = placement(ticket, explicit_team=intake.explicit_team)
        for field_name, value in changes.items():
            intake.change(field_name, value, note=reason)
        claimed = choose_agent(ticket, pending=pending)
        if claimed is None:
            continue
        intake.change(
            "assignee",
            claimed.agent,
            note=routing_reason(ticket, claimed),
            action="ticket.assigned",
        )
        pending[claimed.agent.pk] += 1
        routed.append(claimed.agent.pk)
    if routed:
        User.objects.filter(pk__in=routed).update(last_routed_at=timezone.now())


def assign_waiting_tickets(*, limit: int = 200) -> int:
    """Give waiting tickets (unassigned, placed in a team, not in triage) to
    agents with room, oldest first. Each ticket is its own transaction."""
    waiting = list(
        Ticket.objects.filter(
            assignee__isnull=True,
            team__isnull=False,
            needs_triage=False,
            status__in=OPEN_STATUSES,
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    assigned = 0
    # Each ticket is read again below, so its team_id is typed as nullable.
    full_teams: set[int | None] = set()
    for ticket_id in waiting:
        ticket = Ticket.objects.select_related("category", "organization").get(pk=ticket_id)
        if ticket.team_id in full_teams:
            continue
        if route_ticket(ticket) is None:
            # Nobody in this team has room for this ticket's needs; later
            # tickets of the team may need other skills, so only a ticket
            # with no category marks the team as full.
            if ticket.category_id is None:
                full_teams.add(ticket.team_id)
        else:
            assigned += 1
    return assigned
