"""Every write of the escalation app: manual, customer, impact (major
incident) and SLA escalations, what the SLA rules do to a ticket, the
hand-over to a higher tier, and the notifications they send.

Ticket changes go through tickets.services (so the ticket's history shows
them and the lifecycle hooks run); e-mail goes through the outbox
(tickets.services.mail_queue), written in the same transaction as the
escalation. Intake-time escalations (customer, impact) take the ticket's
Intake and record their history there, so intake writes it in one INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from escalation import incidents
from escalation.models import Escalation, EscalationRule, Incident
from tickets import routing, services
from tickets.errors import DomainError
from tickets.history import event as history_event
from tickets.history import record_events
from tickets.models import (
    OPEN_STATUSES,
    AgentTier,
    Category,
    Channel,
    Message,
    OutboundEmail,
    Priority,
    Role,
    Ticket,
    TicketEvent,
    User,
)
from tickets.reference import workspace_reference
from tickets.services.base import require_staff

if TYPE_CHECKING:
    from tickets.intake import Intake

PRIORITY_UP: dict[str, str] = {
    Priority.LOW: Priority.NORMAL,
    Priority.NORMAL: Priority.HIGH,
    Priority.HIGH: Priority.URGENT,
}
TARGET_WORDS = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}


# --- notifications ---------------------------------------------------------------


class Notifications:
    """The e-mails of one escalation run (an intake, a sweep batch), queued
    in the outbox with one INSERT and sent after the commit."""

    def __init__(self) -> None:
        self.pending: list[OutboundEmail] = []

    def mail(
        self,
        ticket: Ticket,
        *,
        kind: str,
        audience: str,
        user: User | None,
        subject: str,
        body: str,
    ) -> bool:
        if user is None:
            return False
        row = services.ticket_mail(
            ticket,
            kind=kind,
            subject=subject,
            body=body,
            to=user,
            audience=audience,
            auto="auto-generated",
        )
        if row is None:
            return False
        self.pending.append(row)
        return True

    def flush(self) -> None:
        services.mail_queue(self.pending)
        self.pending = []


def managers() -> list[User]:
    return list(User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk"))


def team_lead(ticket: Ticket) -> User | None:
    team = ticket.team
    return team.lead if team is not None and team.lead_id else None


def mail_people(
    notifications: Notifications,
    ticket: Ticket,
    *,
    kind: str,
    recipients: Sequence[tuple[str, User | None]],
    subject: str,
    body: str,
) -> list[str]:
    """Queue one mail per person (audience, user), each person once; returns
    what was done, for the escalation's record."""
    done: list[str] = []
    seen: set[int] = set()
    for audience, user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        if notifications.mail(
            ticket, kind=kind, audience=audience, user=user, subject=subject, body=body
        ):
            done.append(f"notified {audience} {user.email}")
    return done


# --- what the SLA rules do ---------------------------------------------------------


def _sla_kind(escalation: Escalation) -> str:
    return f"sla.{escalation.threshold}"


def _staff_message(escalation: Escalation, ticket: Ticket) -> tuple[str, str]:
    what = TARGET_WORDS.get(escalation.target, escalation.target)
    due = (
        timezone.localtime(escalation.due_at).strftime("%Y-%m-%d %H:%M %Z")
        if escalation.due_at
        else "?"
    )
    if escalation.threshold == "warning":
        subject = f"[{ticket.key}] SLA warning: {what} due {due}"
        lead = f"The {what} target of {ticket.key} is close: it is due {due}."
    else:
        subject = f"[{ticket.key}] SLA breached: {what} was due {due}"
        lead = f"The {what} target of {ticket.key} was missed: it was due {due}."
    assigned = ticket.assignee
    assignee = assigned.full_name if assigned is not None else "nobody"
    body = (
        f"{lead}\n\nSubject: {ticket.subject}\nPriority: {ticket.get_priority_display()}\n"
        f"Assignee: {assignee}\n\n{ticket.get_full_url()}\n"
    )
    return subject, body


def notify_staff(
    escalation: Escalation,
    ticket: Ticket,
    rule: EscalationRule,
    notifications: Notifications,
    all_managers: Sequence[User],
) -> list[str]:
    subject, body = _staff_message(escalation, ticket)
    recipients: list[tuple[str, User | None]] = []
    if rule.notify_assignee:
        recipients.append(("assignee", ticket.assignee if ticket.assignee_id else None))
    if rule.notify_team_lead:
        recipients.append(("team_lead", team_lead(ticket)))
    if rule.notify_managers:
        recipients += [("manager", m) for m in all_managers]
    return mail_people(
        notifications,
        ticket,
        kind=_sla_kind(escalation),
        recipients=recipients,
        subject=subject,
        body=body,
    )


def notify_customer(
    escalation: Escalation, ticket: Ticket, new_expectation: str, notifications: Notifications
) -> list[str]:
    subject = f"[{ticket.key}] Your request has been escalated"
    body = (
        f"Hello {ticket.requester.full_name or ''},\n\nwe have not answered your request "
        f"\u201c{ticket.subject}\u201d as fast as we promised, so it has been escalated "
        f"to a senior team. {new_expectation}\n\n{ticket.get_full_url()}\n"
    )
    if notifications.mail(
        ticket,
        kind=_sla_kind(escalation),
        audience="customer",
        user=ticket.requester,
        subject=subject,
        body=body,
    ):
        return [f"told customer {ticket.requester.email}"]
    return []


def raise_priority(escalation: Escalation, ticket: Ticket) -> list[str]:
    higher = PRIORITY_UP.get(ticket.priority)
    if higher is None:
        return []
    services.ticket_update(
        ticket=ticket,
        actor=None,
        priority=higher,
        note=f"SLA {escalation.threshold}: {escalation.reason}",
    )
    return [f"priority {ticket.priority} \u2192 {higher}"]


def proactive_update(ticket: Ticket, notifications: Notifications, now: datetime) -> bool:
    """Tell the customer their open ticket is still being worked on (no public
    reply for a while). Recorded in the ticket's history."""
    hours = settings.HELPDESK_PROACTIVE_UPDATE_HOURS
    status = ticket.get_status_display().lower()
    subject = f"[{ticket.key}] Update on your request: {ticket.subject}"
    body = (
        f"Hello {ticket.requester.full_name or ''},\n\nyour request \u201c{ticket.subject}\u201d "
        f"is {status} and still being worked on; we have not forgotten it. You will hear "
        f"from us again within {hours} business hours at the latest.\n\n{ticket.get_full_url()}\n"
    )
    if not notifications.mail(
        ticket,
        kind="sla.proactive_update",
        audience="customer",
        user=ticket.requester,
        subject=subject,
        body=body,
    ):
        return False
    services.record_event(
        ticket, actor=None, action="sla.proactive_update", note="Status update sent", at=now
    )
    return True


# --- hand-over to a higher tier ------------------------------------------------------


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


def hand_over(moves: Sequence[tuple[Ticket, int, str, str, User | None]]) -> list[int]:
    """The one hand-over path (an agent's manual escalation, a sweep batch):
    each (ticket, new tier, heading, reason, actor) gets a summary note of the
    conversation so far — read for all tickets with two queries — and moves
    up through tickets.services.tickets_hand_over in one go. Returns the ids
    of the tickets left without an assignee, to be routed."""
    if not moves:
        return []
    ids = [ticket.pk for ticket, *_ in moves]
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
    for ticket, tier, heading, reason, actor in moves:
        note = _summary(ticket, heading, recent.get(ticket.pk, []), counts.get(ticket.pk, 0))
        handovers.append(
            services.HandOver(
                ticket_id=ticket.pk,
                tier=tier,
                reason=reason,
                note=note,
                # The agent who escalates signs the note; the SLA rules' notes
                # are the helpdesk's own, not put in the assignee's mouth.
                author_id=actor.pk if actor else None,
                actor_id=actor.pk if actor else None,
            )
        )
    return services.tickets_hand_over(handovers)


def hand_over_sla_batch(handovers: Sequence[tuple[Escalation, Ticket, str]]) -> list[int]:
    """The tier hand-overs of an SLA sweep batch. Returns the tickets to route."""
    moves = []
    for escalation, ticket, reason in handovers:
        if ticket.tier >= AgentTier.TIER_3:
            continue
        escalation.to_tier = ticket.tier + 1
        heading = f"Escalated to Tier {escalation.to_tier} by the SLA rules."
        moves.append((ticket, escalation.to_tier, heading, reason, None))
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
    waiting = hand_over(
        [(locked, to_tier, heading, f"Escalated by {actor.full_name}: {reason}", actor)]
    )
    done = [f"tier \u2192 {to_tier}"]
    if waiting:
        done.append("unassigned" if locked.assignee_id else "waiting for an agent")
        agent = routing.route_ticket(locked)
        if agent is not None:
            done.append(f"routed to {agent.full_name}")
    escalation.actions = done
    escalation.save(update_fields=["actions"])
    return escalation


# --- customer escalation (at intake) ----------------------------------------------------


def escalation_for_customer(intake: Intake, reason: str) -> Escalation:
    """A customer escalated their new ticket (a complaint, an angry VIP): the
    team lead and the managers are told at once."""
    ticket = intake.ticket
    escalation = Escalation.objects.create(
        ticket=ticket, kind=Escalation.Kind.CUSTOMER, reason=reason[:500], created_at=timezone.now()
    )
    notifications = Notifications()
    recipients = [("team_lead", team_lead(ticket))]
    recipients += [("manager", m) for m in managers()]
    escalation.actions = mail_people(
        notifications,
        ticket,
        kind="escalation.customer",
        recipients=recipients,
        subject=f"[{ticket.key}] Customer escalation: {ticket.subject}"[:250],
        body=f"{reason}.\n\n{ticket.subject}\n{ticket.get_full_url()}\n",
    )
    escalation.save(update_fields=["actions"])
    notifications.flush()
    intake.record("ticket.customer_escalation", note=f"Escalated: {reason}")
    return escalation


# --- impact escalation: major incidents ------------------------------------------------------


def incidents_for_new_tickets(intakes: Sequence[Intake]) -> None:
    """Link new tickets to their category's open major incident, or open one
    when the category's reports in the window are a spike against its normal
    rate (escalation.incidents).

    Opening is decided under a row lock on the category, taken only once the
    reports are a spike, so two intakes reaching it together open one
    incident. The lock is FOR NO KEY UPDATE: it must not block the key-share
    locks with which PostgreSQL checks tickets' foreign keys to the category
    (a FOR UPDATE lock here deadlocked with a customer's reply)."""
    now = timezone.now()
    batch_ids = [i.ticket.pk for i in intakes]
    by_category: dict[int, list[Intake]] = {}
    for intake in intakes:
        if intake.ticket.category_id is not None and intake.ticket.parent_id is None:
            by_category.setdefault(intake.ticket.category_id, []).append(intake)
    parent_events: list[TicketEvent] = []
    for category_id, reports in by_category.items():
        incident = incidents.open_incident_for(category_id)
        if incident is None:
            seen = incidents.reports_in_window(category_id, excluding=batch_ids, now=now)
            if not incidents.is_spike(category_id, seen + len(reports), now=now):
                continue  # the common case: no lock taken
            # A spike: decide under the category's lock.
            category = Category.objects.select_for_update(no_key=True).get(pk=category_id)
            incident = incidents.open_incident_for(category_id)
            if incident is None:
                _open_incident(category, reports, batch_ids, now)
                continue
        for intake in reports:
            _link(intake, incident.parent, parent_events)
    record_events(parent_events)


def _link(intake: Intake, parent: Ticket, parent_events: list[TicketEvent]) -> None:
    intake.set(parent=parent)
    intake.record("ticket.linked", field="parent", new=parent.key)
    parent_events.append(
        history_event(
            parent,
            actor=None,
            action="ticket.child_linked",
            field="children",
            new=intake.ticket.key,
        )
    )


def _open_incident(
    category: Category, reports: Sequence[Intake], batch_ids: Sequence[int], now: datetime
) -> None:
    earlier = list(
        incidents.unlinked_reports(category.pk, excluding=batch_ids, now=now).order_by("id")
    )
    people = managers()
    # The incident ticket is the helpdesk's own and lists every report, so it
    # must never belong to a customer: a manager, else the team lead, else any
    # agent "requests" it (and, being staff, gets no acknowledgement).
    requester = (
        people[0]
        if people
        else (category.default_team.lead if category.default_team is not None else None)
        or User.objects.assignable().filter(role=Role.AGENT).order_by("pk").first()
    )
    if requester is None:
        return
    minutes = settings.HELPDESK_INCIDENT_WINDOW_MINUTES
    count = len(earlier) + len(reports)
    keys = ", ".join([t.key for t in earlier] + [i.ticket.key for i in reports])
    parent = services.ticket_create(
        requester=requester,
        subject=f"Major incident: {count} {category.name} reports in {minutes} min",
        description=(
            f"Opened automatically: {count} tickets of category {category.name} "
            f"arrived within {minutes} minutes ({keys}). Further reports are linked here; "
            "answer them all from this ticket."
        ),
        channel=Channel.AGENT,
        priority=Priority.URGENT,
        category=category,
        team=category.default_team,
    )
    Incident.objects.create(parent=parent, category=category, opened_at=parent.created_at)
    for report in earlier:
        services.ticket_link(child=report, parent=parent, actor=None)
    parent_events: list[TicketEvent] = []
    for intake in reports:
        _link(intake, parent, parent_events)
    record_events(parent_events)
    escalation = Escalation.objects.create(
        ticket=parent,
        kind=Escalation.Kind.INCIDENT,
        reason=f"{count} {category.name} reports in {minutes} min: {keys}"[:500],
        created_at=parent.created_at,
    )
    notifications = Notifications()
    mail_people(
        notifications,
        parent,
        kind="incident.opened",
        recipients=[("manager", manager) for manager in people],
        subject=f"[{parent.key}] Major incident: {category.name}",
        body=(
            f"{count} {category.name} tickets arrived within {minutes} minutes "
            f"({keys}). They are linked to {parent.key}:\n\n{parent.get_full_url()}\n"
        ),
    )
    escalation.actions = [f"linked {count} tickets", f"alerted {len(people)} managers"]
    escalation.save(update_fields=["actions"])
    notifications.flush()


@transaction.atomic
def incident_reply_all(*, parent: Ticket, author: User, body: str) -> int:
    """Send the same public reply on every open ticket linked to the incident."""
    if not Incident.objects.filter(parent_id=parent.pk).exists():
        raise DomainError("This ticket is not a major incident.")
    body = (body or "").strip()
    if not body:
        raise DomainError("Write the reply first: it was empty, nothing was sent.", field="body")
    children = list(parent.children.filter(status__in=OPEN_STATUSES).order_by("id"))
    for child in children:
        services.ticket_reply(ticket=child, author=author, body=body)
    services.ticket_reply(
        ticket=parent,
        author=author,
        body=f"Replied to {len(children)} linked tickets:\n\n{body}",
        is_internal=True,
    )
    return len(children)
