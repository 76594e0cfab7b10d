"""Keep SLA clocks in step with what happens to tickets (tickets.signals)."""

from __future__ import annotations

from escalation import clock
from escalation.models import TicketSLA
from tickets.models import Role

HANDLED = frozenset(
    {
        "ticket.status_changed",
        "ticket.reopened",
        "ticket.replied",
        "ticket.priority_changed",
    }
)
STAFF_ROLES = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})


def on_ticket_event(sender, ticket, event, **kwargs) -> None:
    if event.action not in HANDLED:
        return
    sla = TicketSLA.objects.select_related("policy").filter(ticket_id=ticket.pk).first()
    if sla is None:
        return  # no clock (opened before SLAs existed, or outside intake)
    at = event.created_at
    if event.action in ("ticket.status_changed", "ticket.reopened"):
        clock.on_status(sla, ticket, event.old_value, event.new_value, at)
    elif event.action == "ticket.replied":
        if event.actor is None or event.actor.role in STAFF_ROLES:
            clock.on_staff_reply(sla, ticket, at)
        else:
            clock.on_customer_message(sla, ticket, at)
    else:
        clock.on_policy_inputs_changed(sla, ticket)
