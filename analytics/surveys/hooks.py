"""The surveys' lifecycle hook (settings.HELPDESK_LIFECYCLE_HOOKS): a solve
opens a CSAT survey round, a reopen cancels the round if its e-mail has not
left yet. Nothing is sent here: the survey sweep (analytics.surveys.sending)
sends rounds whose delay has passed, so a ticket reopened within the delay
never gets a survey, and no long Celery countdown stands in for a timer."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from analytics.models import SurveyInvite
from tickets.lifecycle import LifecycleHook, StatusChanged
from tickets.models import Status, TicketEvent


def solve_count(ticket_id: int) -> int:
    """How many times the ticket has been solved, from its history (the
    service writes the status event before it tells the hooks, so the solve
    being announced is counted). Served by the event_ticket_created index."""
    return TicketEvent.objects.filter(
        ticket_id=ticket_id, field="status", new_value=Status.SOLVED
    ).count()


class SurveyHook(LifecycleHook):
    def status_changed(self, change: StatusChanged) -> None:
        ticket = change.ticket
        if change.new == Status.SOLVED:
            # A merge closes the duplicate without solving it, so merged
            # tickets open no round.
            delay = timedelta(minutes=max(0, settings.HELPDESK_CSAT_DELAY_MINUTES))
            SurveyInvite.objects.get_or_create(
                ticket_id=ticket.pk,
                round=solve_count(ticket.pk),
                defaults={
                    "customer_id": ticket.requester_id,
                    "agent_id": ticket.assignee_id,
                    "team_id": ticket.team_id,
                    "solved_at": change.at,
                    "due_at": change.at + delay,
                    "created_at": change.at,
                },
            )
        elif change.old == Status.SOLVED and change.new != Status.CLOSED:
            # Reopened: the solve no longer stands; a later solve asks again.
            SurveyInvite.objects.filter(
                ticket_id=ticket.pk, state=SurveyInvite.State.PENDING
            ).update(state=SurveyInvite.State.CANCELLED)
