"""The escalation app's lifecycle hook (settings.HELPDESK_LIFECYCLE_HOOKS):
keep each ticket's SLA clock in step with what happens to the ticket."""

from __future__ import annotations

from escalation import clock
from escalation.models import TicketSLA
from tickets.lifecycle import (
    LifecycleHook,
    MessageAdded,
    OrganizationTierChanged,
    PropertiesChanged,
    StatusChanged,
)
from tickets.models import OPEN_STATUSES, Ticket


def _clock(ticket: Ticket) -> TicketSLA | None:
    # None: opened before SLAs existed, or by the system (major incidents).
    return TicketSLA.objects.select_related("policy").filter(ticket_id=ticket.pk).first()


class SLAClockHook(LifecycleHook):
    """Waiting on the customer pauses the clock, solving stops it (a merge
    closes, so it stops too), a staff reply meets the response targets, a
    customer message starts the next-response round, and a new priority or
    customer tier re-derives the due times from the same start."""

    # Each method keeps the clock and mirrors its nearest due time onto the
    # ticket in memory; the service writes the ticket row once afterwards.

    def status_changed(self, change: StatusChanged) -> None:
        sla = _clock(change.ticket)
        if sla is not None and clock.on_status(
            sla, change.ticket, change.old, change.new, change.at
        ):
            change.fields.add("sla_due_at")

    def message_added(self, change: MessageAdded) -> None:
        if not change.is_public:
            return
        sla = _clock(change.ticket)
        if sla is None:
            return
        if change.by_staff:
            moved = clock.on_staff_reply(sla, change.ticket, change.at)
        else:
            moved = clock.on_customer_message(sla, change.ticket, change.at)
        if moved:
            change.fields.add("sla_due_at")

    def properties_changed(self, change: PropertiesChanged) -> None:
        if "priority" not in change.changes:
            return
        sla = _clock(change.ticket)
        if sla is not None and clock.on_policy_inputs_changed(sla, change.ticket):
            change.fields.add("sla_due_at")

    def organization_tier_changed(self, change: OrganizationTierChanged) -> None:
        """Every open ticket of the account re-derives its due times under
        the policy of the new tier, from its own start and pauses."""
        clocks = TicketSLA.objects.select_related("policy").filter(
            ticket__organization_id=change.organization.pk, ticket__status__in=OPEN_STATUSES
        )
        for sla in clocks.exclude(policy__support_tier=change.new):
            ticket = Ticket.objects.select_related("organization").get(pk=sla.ticket_id)
            sla.policy = clock.policy_for(ticket)
            clock.save_and_mirror(sla, ticket)
