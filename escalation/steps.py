"""The escalation app's intake steps (settings.HELPDESK_INTAKE_STEPS, after
classification and routing, so they see the category and priority intake
settled on). Thin: each reads the batch and calls a service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from escalation import clock, services
from escalation.models import TicketSLA
from tickets.classification.sentiment import is_angry
from tickets.models import SupportTier

if TYPE_CHECKING:
    from tickets.intake import Intake

# Words with which customers escalate themselves.
COMPLAINT_WORDS = ("complaint", "unacceptable", "escalate", "cancel our contract", "lawyer")


def start_sla_clock(intakes: Sequence[Intake]) -> None:
    """Start each new ticket's SLA clock from its creation time, under the
    policy of its customer's tier and its settled priority, and mirror the
    nearest due time onto the ticket (what "Breaching soon" sorts by)."""
    by_tier_and_priority = clock.policies()
    clocks = [clock.new_clock(intake.ticket, by_tier_and_priority) for intake in intakes]
    TicketSLA.objects.bulk_create(clocks)
    for intake, sla in zip(intakes, clocks, strict=True):
        intake.set(sla_due_at=clock.nearest_due(sla))


def link_major_incident(intakes: Sequence[Intake]) -> None:
    """Impact escalation: link each new ticket to its category's open major
    incident, or open one when enough reports arrived in the window."""
    services.incidents_for_new_tickets(intakes)


def customer_escalation_reasons(intake: Intake) -> list[str]:
    text = intake.text.lower()
    decision = intake.classification
    sentiment = decision.sentiment if decision is not None else intake.ticket.sentiment
    ticket = intake.ticket
    organization = ticket.organization
    vip = organization is not None and organization.support_tier == SupportTier.VIP
    reasons = []
    if any(word in text for word in COMPLAINT_WORDS):
        reasons.append("the customer complains")
    if vip and is_angry(sentiment):
        reasons.append(f"VIP customer, negative sentiment ({sentiment:.2f})")
    return reasons


def detect_customer_escalation(intakes: Sequence[Intake]) -> None:
    """Customer escalation: a VIP customer who writes angrily, or any customer
    who files a complaint, gets the team lead and the managers told at once
    (the priority was already raised by the urgency cues)."""
    for intake in intakes:
        reasons = customer_escalation_reasons(intake)
        if reasons:
            services.escalation_for_customer(intake, "; ".join(reasons))
