"""What an SLA escalation rule does to a ticket: notify people, raise the
priority, tell the customer; and the proactive "still working on it" update."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from escalation.models import Escalation, EscalationRule
from tickets import services
from tickets.models import (
    Priority,
    Ticket,
    User,
)

if TYPE_CHECKING:
    pass

from escalation.services.notifications import Notifications, mail_people, team_lead

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
