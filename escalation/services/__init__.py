"""Every write of the escalation app: manual, customer, impact (major
incident) and SLA escalations, what the SLA rules do to a ticket, the
hand-over to a higher tier, and the notifications they send.

Ticket changes go through tickets.services (so the ticket's history shows
them and the lifecycle hooks run); e-mail goes through the outbox
(tickets.services.mail_queue), written in the same transaction as the
escalation. Intake-time escalations (customer, impact) take the ticket's
Intake and record their history there, so intake writes it in one INSERT.
"""

from escalation.services.customer import escalation_for_customer
from escalation.services.handover import (
    Move,
    escalation_manual,
    hand_over,
    hand_over_sla_batch,
)
from escalation.services.incidents import incident_reply_all, incidents_for_new_tickets
from escalation.services.notifications import Notifications, mail_people, managers, team_lead
from escalation.services.sla_rules import (
    PRIORITY_UP,
    TARGET_WORDS,
    notify_customer,
    notify_staff,
    proactive_update,
    raise_priority,
)

__all__ = [
    "PRIORITY_UP",
    "TARGET_WORDS",
    "Move",
    "Notifications",
    "escalation_for_customer",
    "escalation_manual",
    "hand_over",
    "hand_over_sla_batch",
    "incident_reply_all",
    "incidents_for_new_tickets",
    "mail_people",
    "managers",
    "notify_customer",
    "notify_staff",
    "proactive_update",
    "raise_priority",
    "team_lead",
]
