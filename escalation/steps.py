"""The intake step that starts a new ticket's SLA clock
(settings.HELPDESK_INTAKE_STEPS, after classification and routing, so the
clock starts with the priority intake settled on)."""

from escalation import clock, incidents
from tickets.models import Ticket


def start_sla_step(ticket: Ticket, context: dict) -> None:
    fresh = Ticket.objects.select_related("organization").get(pk=ticket.pk)
    context["sla"] = clock.start(fresh)


def detect_incident_step(ticket: Ticket, context: dict) -> None:
    """Link the ticket to a major incident of its category, or open one."""
    fresh = Ticket.objects.get(pk=ticket.pk)
    context["incident"] = incidents.on_new_ticket(fresh)
