"""Celery tasks of the escalation app: the SLA sweep (beat, every few
seconds) and the routing of tickets it handed to a higher tier. Their
notifications are outbox rows, sent by the tickets app's mail tasks."""

from __future__ import annotations

from celery import shared_task

from escalation.sweep import sweep_until_done
from tickets import routing
from tickets.models import Ticket


@shared_task(acks_late=True)
def sweep_sla() -> int:
    """Escalate what is due. Safe to run twice at once or again after a crash
    (escalation.sweep explains why). Tickets handed to a higher tier are
    routed by a task of their own once the sweep's batches committed (if that
    enqueue is lost, the assign-waiting job routes them)."""
    result = sweep_until_done()
    if result.to_route:
        route_escalated_tickets.delay(result.to_route)
    return len(result.escalations)


@shared_task(acks_late=True)
def route_escalated_tickets(ticket_ids: list[int]) -> int:
    """Give tickets that moved up a tier to an agent of that tier (or leave
    them waiting in the team queue), one transaction each."""
    routed = 0
    for ticket in Ticket.objects.filter(pk__in=ticket_ids).order_by("id"):
        if routing.route_ticket(ticket) is not None:
            routed += 1
    return routed
