"""What an escalation rule does to a ticket: notify people (queued
Notification rows, sent by Celery after the commit), raise the priority, hand
the ticket to the next support tier. Every change goes through
tickets.services, so the ticket's history shows it."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from escalation.models import Escalation, EscalationRule, Notification
from helpdesk.enqueue import enqueue_on_commit
from tickets import services
from tickets.models import AgentTier, Message, Priority, Ticket, TicketEvent, User

PRIORITY_UP = {
    Priority.LOW: Priority.NORMAL,
    Priority.NORMAL: Priority.HIGH,
    Priority.HIGH: Priority.URGENT,
}
TARGET_WORDS = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}


class Outbox:
    """Notifications collected while escalating, written with one INSERT and
    handed to Celery as one task after the commit (a sweep of a thousand
    tickets must not queue thousands of tasks ahead of the next sweep)."""

    def __init__(self) -> None:
        self.pending: list[Notification] = []

    def mail(self, escalation, ticket, audience: str, user: User | None, subject, body) -> bool:
        if user is None or not user.email or not user.is_active:
            return False
        self.pending.append(
            Notification(
                escalation=escalation,
                ticket=ticket,
                audience=audience,
                recipient=user.email,
                subject=subject[:250],
                body=body,
                created_at=timezone.now(),
            )
        )
        return True

    def flush(self) -> list[int]:
        if not self.pending:
            return []
        ids = [n.pk for n in Notification.objects.bulk_create(self.pending)]
        self.pending = []
        from escalation.tasks import send_notifications

        enqueue_on_commit(send_notifications, ids)
        return ids


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
    assignee = ticket.assignee.full_name if ticket.assignee_id else "nobody"
    body = (
        f"{lead}\n\nSubject: {ticket.subject}\nPriority: {ticket.get_priority_display()}\n"
        f"Assignee: {assignee}\n\n{ticket.get_full_url()}\n"
    )
    return subject, body


def mail_people(
    escalation: Escalation | None,
    ticket: Ticket,
    outbox: Outbox,
    recipients: list[tuple[str, User | None]],
    subject: str,
    body: str,
) -> list[str]:
    """Queue one mail per person (audience, user), each person once; returns
    what was done, for the escalation's record."""
    done, seen = [], set()
    for audience, user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        if outbox.mail(escalation, ticket, audience, user, subject, body):
            done.append(f"notified {audience} {user.email}")
    return done


def team_lead(ticket: Ticket) -> User | None:
    return ticket.team.lead if ticket.team_id and ticket.team.lead_id else None


def notify_staff(
    escalation: Escalation,
    ticket: Ticket,
    rule: EscalationRule,
    outbox: Outbox,
    managers: list[User],
) -> list[str]:
    subject, body = _staff_message(escalation, ticket)
    recipients: list[tuple[str, User | None]] = []
    if rule.notify_assignee:
        recipients.append(("assignee", ticket.assignee if ticket.assignee_id else None))
    if rule.notify_team_lead:
        recipients.append(("team_lead", team_lead(ticket)))
    if rule.notify_managers:
        recipients += [("manager", m) for m in managers]
    return mail_people(escalation, ticket, outbox, recipients, subject, body)


def notify_customer(
    escalation: Escalation, ticket: Ticket, new_expectation: str, outbox: Outbox
) -> list[str]:
    subject = f"[{ticket.key}] Your request has been escalated"
    body = (
        f"Hello {ticket.requester.full_name or ''},\n\nwe have not answered your request "
        f"\u201c{ticket.subject}\u201d as fast as we promised, so it has been escalated "
        f"to a senior team. {new_expectation}\n\n{ticket.get_full_url()}\n"
    )
    if outbox.mail(escalation, ticket, "customer", ticket.requester, subject, body):
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


def handover_summary(ticket: Ticket, heading: str) -> str:
    """The internal note that goes with a ticket to the next tier: what the
    customer asked, what was answered, what was decided."""
    messages = list(ticket.messages.select_related("author").order_by("-created_at", "-id")[:6])
    events = list(ticket.events.order_by("-created_at", "-id")[:8])
    return _summary(ticket, heading, messages, events, ticket.messages.count())


def _summary(ticket: Ticket, heading: str, messages, events, count: int) -> str:
    lines = [heading, f"Subject: {ticket.subject}", f"Messages so far: {count}; latest first:"]
    for m in messages:
        kind = "note" if m.is_internal else "reply"
        text = " ".join(m.body.split())[:160]
        when = timezone.localtime(m.created_at).strftime("%d %b %H:%M")
        lines.append(f"- {m.author.full_name} ({kind}, {when}): {text}")
    lines.append("Recent changes:")
    for e in events:
        change = f"{e.field}: {e.old_value} \u2192 {e.new_value}" if e.field else e.action
        lines.append(f"- {e.action} {change}".rstrip())
    return "\n".join(lines)


def _reroute(ticket: Ticket, tier: int) -> list[str]:
    """Unassign an agent below the new tier; routing to one who has it runs as
    its own task after the commit (it counts agents' loads, which a sweep of a
    thousand tickets should not do inline)."""
    done = []
    if ticket.assignee_id and (User.objects.get(pk=ticket.assignee_id).tier or 0) < tier:
        ticket = services.ticket_assign(
            ticket=ticket, assignee=None, actor=None, note=f"Needs Tier {tier}"
        )
        done.append("unassigned")
    if ticket.assignee_id is None:
        from escalation.tasks import route_escalated_ticket

        enqueue_on_commit(route_escalated_ticket, ticket.pk)
        done.append(f"routing to a Tier {tier} agent")
    return done


def escalate_manually(ticket: Ticket, *, actor: User, to_tier: int, reason: str) -> Escalation:
    """An agent hands the ticket to a higher tier (must run in a transaction
    holding the ticket's lock): their reason and a summary go with it as an
    internal note, then the ticket is re-routed."""
    escalation = Escalation.objects.create(
        ticket=ticket,
        kind=Escalation.Kind.MANUAL,
        to_tier=to_tier,
        actor=actor,
        reason=reason[:500],
        created_at=timezone.now(),
    )
    heading = f"Escalated to Tier {to_tier} by {actor.full_name}: {reason}"
    services.ticket_reply(
        ticket=ticket, author=actor, body=handover_summary(ticket, heading), is_internal=True
    )
    ticket = services.ticket_update(
        ticket=ticket, actor=actor, tier=to_tier, note=f"Escalated by {actor.full_name}: {reason}"
    )
    escalation.actions = [f"tier \u2192 {to_tier}", *_reroute(ticket, to_tier)]
    escalation.save(update_fields=["actions"])
    return escalation


def proactive_update(ticket: Ticket, outbox: Outbox, now) -> bool:
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
    if not outbox.mail(None, ticket, "customer", ticket.requester, subject, body):
        return False
    services.record_event(
        ticket, actor=None, action="sla.proactive_update", note="Status update sent", at=now
    )
    return True


def hand_over_batch(handovers: list[tuple[Escalation, Ticket, str]]) -> None:
    """escalate_tier for a whole sweep batch: the summaries read with three
    queries, the tickets moved by one bulk service call, their routing queued
    as one task."""
    if not handovers:
        return
    ids = [ticket.pk for _, ticket, _ in handovers]
    recent = _recent_by_ticket(
        Message.objects.filter(ticket_id__in=ids).select_related("author"), 6
    )
    changes = _recent_by_ticket(TicketEvent.objects.filter(ticket_id__in=ids), 8)
    counts = dict(
        Message.objects.filter(ticket_id__in=ids)
        .values_list("ticket_id")
        .annotate(n=Count("id"))
        .values_list("ticket_id", "n")
    )
    moves = []
    for escalation, ticket, reason in handovers:
        if ticket.tier >= AgentTier.TIER_3:
            continue
        new_tier = ticket.tier + 1
        escalation.to_tier = new_tier
        author_id = ticket.assignee_id or (ticket.team.lead_id if ticket.team_id else None)
        heading = f"Escalated to Tier {new_tier} by the SLA rules."
        moves.append(
            services.HandOver(
                ticket_id=ticket.pk,
                tier=new_tier,
                reason=reason,
                note=_summary(
                    ticket, heading, recent.get(ticket.pk, []), changes.get(ticket.pk, []),
                    counts.get(ticket.pk, 0),
                ),
                author_id=author_id,
            )
        )  # fmt: skip
    waiting = services.tickets_hand_over(moves)
    if waiting:
        from escalation.tasks import route_escalated_tickets

        enqueue_on_commit(route_escalated_tickets, waiting)


def _recent_by_ticket(qs, per_ticket: int) -> dict[int, list]:
    ranked = qs.annotate(
        rank=Window(
            RowNumber(),
            partition_by=F("ticket_id"),
            order_by=[F("created_at").desc(), F("id").desc()],
        )
    ).filter(rank__lte=per_ticket)
    grouped: dict[int, list] = {}
    for row in ranked.order_by("ticket_id", "-created_at", "-id"):
        grouped.setdefault(row.ticket_id, []).append(row)
    return grouped
