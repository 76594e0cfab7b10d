"""The hand-over to a higher tier — one path for an agent's manual
escalation and the SLA sweep — with its summary note in plain words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.db import transaction
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from escalation.models import Escalation
from tickets import services
from tickets.errors import DomainError
from tickets.models import (
    AgentTier,
    Message,
    Ticket,
    User,
)
from tickets.reference import workspace_reference
from tickets.services.base import require_staff

if TYPE_CHECKING:
    pass


def _summary(ticket: Ticket, heading: str, messages: Sequence[Message], count: int) -> str:
    """The internal note that goes with a ticket to the next tier, in plain
    words: who asked, where the ticket stands, and the conversation so far."""
    customer = ticket.requester
    account = (
        f"{ticket.organization.name}, {ticket.organization.get_support_tier_display()}"
        if ticket.organization is not None
        else "no organisation"
    )
    categories = dict(workspace_reference().categories)
    opened = timezone.localtime(ticket.created_at).strftime("%a %d %b %H:%M")
    lines = [
        heading,
        f"Subject: {ticket.subject}",
        f"Customer: {customer.full_name} ({account}); opened {opened} "
        f"via {ticket.get_channel_display().lower()}.",
        f"Now: {ticket.get_status_display()}, priority {ticket.get_priority_display()}, "
        f"category {categories.get(ticket.category_id or 0, 'none')}, "
        f"assigned to {ticket.assignee.full_name if ticket.assignee is not None else 'nobody'}.",
        f"Conversation so far ({count} message{'' if count == 1 else 's'}, latest first):",
    ]
    for m in messages:
        who = m.author_name + (" (internal note)" if m.is_internal else "")
        text = " ".join(m.body.split())
        text = text if len(text) <= 160 else text[:159] + "\u2026"
        when = timezone.localtime(m.created_at).strftime("%d %b %H:%M")
        lines.append(f"- {who}, {when}: {text}")
    return "\n".join(lines)


_Row = TypeVar("_Row", bound=Message)


def _recent_by_ticket(qs: QuerySet[_Row], per_ticket: int) -> dict[int, list[_Row]]:
    ranked = qs.annotate(
        rank=Window(
            RowNumber(),
            partition_by=F("ticket_id"),
            order_by=[F("created_at").desc(), F("id").desc()],
        )
    ).filter(rank__lte=per_ticket)
    grouped: dict[int, list[_Row]] = {}
    for row in ranked.order_by("ticket_id", "-created_at", "-id"):
        grouped.setdefault(row.ticket_id, []).append(row)
    return grouped


@dataclass(frozen=True)
class Move:
    """A ticket to hand to `tier`: the note's heading, the history's reason,
    who escalates (None: the SLA rules), a team for a ticket without one."""

    ticket: Ticket
    tier: int
    heading: str
    reason: str
    actor: User | None = None
    team_id: int | None = None


def hand_over(moves: Sequence[Move], *, route: bool = False) -> list[int]:
    """The one hand-over path (an agent's manual escalation, a sweep batch):
    each ticket gets a summary note of the conversation so far — read for all
    tickets with two queries — and moves up through
    tickets.services.tickets_hand_over in one go (with `route`, to an agent
    at once). Returns the ids of the tickets left without an assignee."""
    if not moves:
        return []
    ids = [move.ticket.pk for move in moves]
    recent = _recent_by_ticket(
        Message.objects.filter(ticket_id__in=ids).select_related("author"), 6
    )
    counts = dict(
        Message.objects.filter(ticket_id__in=ids)
        .values_list("ticket_id")
        .annotate(n=Count("id"))
        .values_list("ticket_id", "n")
    )
    handovers = []
    for move in moves:
        ticket, actor = move.ticket, move.actor
        note = _summary(ticket, move.heading, recent.get(ticket.pk, []), counts.get(ticket.pk, 0))
        handovers.append(
            services.HandOver(
                ticket_id=ticket.pk,
                tier=move.tier,
                reason=move.reason,
                note=note,
                # The agent who escalates signs the note; the SLA rules' notes
                # are the helpdesk's own, not put in the assignee's mouth.
                author_id=actor.pk if actor else None,
                actor_id=actor.pk if actor else None,
                team_id=move.team_id,
            )
        )
    return services.tickets_hand_over(handovers, route=route)


def hand_over_sla_batch(handovers: Sequence[tuple[Escalation, Ticket, str]]) -> list[int]:
    """The tier hand-overs of an SLA sweep batch. Returns the tickets to route."""
    moves = []
    for escalation, ticket, reason in handovers:
        if ticket.tier >= AgentTier.TIER_3:
            continue
        escalation.to_tier = ticket.tier + 1
        heading = f"Escalated to Tier {escalation.to_tier} by the SLA rules."
        moves.append(Move(ticket, escalation.to_tier, heading, reason))
    return hand_over(moves)


@transaction.atomic
def escalation_manual(*, ticket: Ticket, actor: User, to_tier: int, reason: str) -> Escalation:
    """An agent hands the ticket to a higher tier: their reason and a summary
    go with it as an internal note, then it is routed to an agent of that
    tier (or waits in the team queue for one)."""
    require_staff(actor, "escalate tickets")
    locked = (
        Ticket.objects.select_for_update(of=("self",), no_key=True)
        .select_related("team")
        .get(pk=ticket.pk)
    )
    if not locked.is_open:
        raise DomainError("Solved and closed tickets cannot be escalated.")
    if locked.tier >= to_tier:
        raise DomainError("Someone moved this ticket to that tier already.", field="to_tier")
    reason = reason.strip()
    escalation = Escalation.objects.create(
        ticket=locked,
        kind=Escalation.Kind.MANUAL,
        to_tier=to_tier,
        actor=actor,
        reason=reason[:500],
        created_at=timezone.now(),
    )
    heading = f"Escalated to Tier {to_tier} by {actor.full_name}: {reason}"
    # A ticket without a team would wait for nobody: its category's team
    # takes it, else the escalating agent's own.
    team_id = None
    if locked.team_id is None:
        category = locked.category
        team_id = (category.default_team_id if category is not None else None) or (
            actor.teams.order_by("name").values_list("id", flat=True).first()
        )
    waiting = hand_over(
        [
            Move(locked, to_tier, heading, f"Escalated by {actor.full_name}: {reason}", actor,
                 team_id=team_id)
        ],
        route=True,
    )  # fmt: skip
    routed = Ticket.objects.select_related("assignee").get(pk=locked.pk)
    done = [f"tier \u2192 {to_tier}"]
    if team_id is not None and routed.team is not None:
        done.append(f"team \u2192 {routed.team.name}")
    if waiting:
        done.append(f"waiting for a Tier {to_tier} agent")
    elif routed.assignee is not None and routed.assignee_id != locked.assignee_id:
        done.append(f"routed to {routed.assignee.full_name}")
    escalation.actions = done
    escalation.save(update_fields=["actions"])
    return escalation
