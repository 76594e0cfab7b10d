"""The escalation app's intake steps (settings.HELPDESK_INTAKE_STEPS, after
classification and routing, so they see the category and priority intake
settled on): start the SLA clock, detect major incidents, escalate for the
customer."""

from django.utils import timezone

from escalation import clock, incidents
from escalation.actions import Outbox, mail_people, team_lead
from escalation.models import Escalation
from tickets import services
from tickets.models import Role, Ticket, User


def escalation_step(ticket: Ticket, context: dict) -> None:
    """Intake step: start the SLA clock, link the ticket to a major incident
    of its category (or open one), escalate for the customer — on one fresh
    read of the ticket, whose category, priority and team intake settled."""
    fresh = Ticket.objects.select_related("organization", "team__lead").get(pk=ticket.pk)
    context["sla"] = clock.start(fresh)
    context["incident"] = incidents.on_new_ticket(fresh)
    customer_escalation(fresh, context)


# Words with which customers escalate themselves.
COMPLAINT_WORDS = ("complaint", "unacceptable", "escalate", "cancel our contract", "lawyer")
# VADER compound score at or below which a VIP's message counts as angry.
ANGRY_SENTIMENT = -0.5


def customer_escalation(fresh: Ticket, context: dict) -> None:
    """Customer escalation at intake: a VIP customer who writes angrily, or
    any customer who files a complaint, gets the team lead and the managers
    told at once (the priority was already raised by the urgency cues)."""
    text = (context.get("text") or f"{fresh.subject}\n{fresh.description}").lower()
    decision = context.get("classification")
    sentiment = decision.sentiment if decision is not None else fresh.sentiment
    vip = fresh.organization_id is not None and fresh.organization.support_tier == "vip"
    reasons = []
    if any(word in text for word in COMPLAINT_WORDS):
        reasons.append("the customer complains")
    if vip and sentiment is not None and sentiment <= ANGRY_SENTIMENT:
        reasons.append(f"VIP customer, negative sentiment ({sentiment:.2f})")
    if reasons:
        context["customer_escalation"] = escalate_for_customer(fresh, "; ".join(reasons))


def escalate_for_customer(ticket: Ticket, reason: str) -> Escalation:
    escalation = Escalation.objects.create(
        ticket=ticket, kind=Escalation.Kind.CUSTOMER, reason=reason[:500], created_at=timezone.now()
    )
    outbox = Outbox()
    recipients = [("team_lead", team_lead(ticket))]
    recipients += [("manager", m) for m in User.objects.filter(role=Role.MANAGER, is_active=True)]
    subject = f"[{ticket.key}] Customer escalation: {ticket.subject}"[:250]
    body = f"{reason}.\n\n{ticket.subject}\n{ticket.get_full_url()}\n"
    done = mail_people(escalation, ticket, outbox, recipients, subject, body)
    escalation.actions = done
    escalation.save(update_fields=["actions"])
    outbox.flush()
    services.record_event(
        ticket, actor=None, action="ticket.customer_escalation", note=f"Escalated: {reason}"
    )
    return escalation
