"""Routing rules: which tier and team a ticket belongs to, and which agent
should get it (decisions and the agent's lock; tickets.routing and the
services apply them).

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
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from tickets.models import OPEN_STATUSES, SupportTier, Team, Ticket, User


@dataclass(frozen=True)
class Candidate:
    agent: User
    load: int

    @property
    def spare(self) -> float:
        """Share of capacity still free (1.0 = idle, 0 = full)."""
        return 1 - self.load / self.agent.capacity


def _is_vip(ticket: Ticket) -> bool:
    organization = ticket.organization
    return organization is not None and organization.support_tier == SupportTier.VIP


def _candidates(ticket: Ticket, pending: Counter[int]) -> list[Candidate]:
    """Agents who could take the ticket, best first."""
    if ticket.team_id is None:
        return []
    agents = User.objects.assignable().filter(
        teams=ticket.team_id, is_available=True, capacity__gt=0, tier__gte=ticket.tier
    )
    category = ticket.category
    if category is not None and category.skill_id:
        agents = agents.filter(skills=category.skill_id)
    agents = agents.annotate(
        load=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES))
    ).filter(load__lt=F("capacity"))
    found = [Candidate(agent=a, load=a.load + pending[a.pk]) for a in agents]
    found = [c for c in found if c.load < c.agent.capacity]
    vip = _is_vip(ticket)
    epoch = timezone.now().replace(year=1970, month=1, day=1)

    def order(c: Candidate) -> tuple:
        tier_preference = -(c.agent.tier or 0) if vip else 0
        return (tier_preference, -c.spare, c.agent.last_routed_at or epoch, c.agent.pk)

    return sorted(found, key=order)


def _open_load(agent_id: int) -> int:
    return Ticket.objects.filter(assignee_id=agent_id, status__in=OPEN_STATUSES).count()


class _Full(Exception):
    """The locked agent has no room: roll back to the savepoint to let go of it."""


def _claim(candidates: list[Candidate], pending: Counter[int]) -> Candidate | None:
    """Lock the first candidate that still has room. Must run in a transaction.

    Each attempt runs in a savepoint; a full agent's row lock is released by
    rolling back to it (PostgreSQL releases locks taken after a savepoint),
    so a transaction never holds one agent while waiting for another — no
    deadlocks between simultaneous intakes."""
    for skip_locked in (True, False):
        for candidate in candidates:
            try:
                with transaction.atomic():
                    capacity = (
                        User.objects.select_for_update(skip_locked=skip_locked, no_key=True)
                        .filter(pk=candidate.agent.pk)
                        .values_list("capacity", flat=True)
                        .first()
                    )
                    if capacity is None:
                        continue  # someone else holds this agent right now
                    # Re-read under the lock, plus what this batch gave them.
                    load = _open_load(candidate.agent.pk) + pending[candidate.agent.pk]
                    if load >= capacity:
                        raise _Full
                    return Candidate(agent=candidate.agent, load=load)
            except _Full:
                continue
    return None


def choose_agent(ticket: Ticket, *, pending: Counter[int] | None = None) -> Candidate | None:
    """The agent with room who should get the ticket, locked for this
    transaction; None when nobody fits now."""
    if ticket.assignee_id or ticket.needs_triage or ticket.status not in OPEN_STATUSES:
        return None
    pending = pending if pending is not None else Counter()
    return _claim(_candidates(ticket, pending), pending)


def routing_reason(ticket: Ticket, claimed: Candidate) -> str:
    agent = claimed.agent
    vip = ", VIP prefers higher tier" if _is_vip(ticket) else ""
    return (
        f"Routed to {agent.full_name} (tier {agent.tier}, "
        f"{claimed.load}/{agent.capacity} open tickets{vip})"
    )


def placement(ticket: Ticket, *, explicit_team: Team | None = None) -> tuple[dict, str]:
    """The tier and team the category calls for (an explicit team wins), and why."""
    changes: dict[str, object] = {}
    reason = ""
    category = ticket.category
    if category is not None:
        changes["tier"] = max(ticket.tier, category.required_tier)
        if explicit_team is None and category.default_team_id:
            changes["team"] = category.default_team
        default_team = category.default_team
        reason = f"Category {category.name} needs tier {category.required_tier}" + (
            f" and team {default_team.name}" if default_team is not None else ""
        )
    if explicit_team is not None:
        changes["team"] = explicit_team
        reason = reason or f"Team {explicit_team.name} chosen at intake"
    return changes, reason
