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


def on_organization_saved(sender, instance, update_fields=None, **kwargs) -> None:
    """A customer's support tier selects their SLA policy: when it changes,
    every open ticket of the organisation re-derives its due times from its
    own start and pauses under the new policy."""
    from tickets.models import OPEN_STATUSES, Ticket

    if update_fields is not None and "support_tier" not in update_fields:
        return
    clocks = TicketSLA.objects.select_related("policy").filter(
        ticket__organization_id=instance.pk, ticket__status__in=OPEN_STATUSES
    )
    for sla in clocks.exclude(policy__support_tier=instance.support_tier):
        ticket = Ticket.objects.select_related("organization").get(pk=sla.ticket_id)
        clock.on_policy_inputs_changed(sla, ticket)
