"""Customer escalation at intake: a complaint, an angry VIP customer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from escalation.models import Escalation

if TYPE_CHECKING:
    from tickets.intake import Intake

from escalation.services.notifications import Notifications, mail_people, managers, team_lead


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
