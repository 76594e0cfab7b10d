"""Reads of the surveys: a ticket's rounds for the staff panel, the round a
customer may answer on the portal, and the managers' follow-up list."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from analytics.models import BAD_RATING_MAX, CSATResponse, SurveyInvite
from tickets.models import Status, Ticket, User

# The follow-up list shows this many at a time (newest first).
FOLLOW_UP_PAGE = 100


@dataclass(frozen=True)
class SurveyRound:
    round: int
    invite: SurveyInvite | None
    response: CSATResponse | None


def ticket_survey_rounds(ticket: Ticket) -> list[SurveyRound]:
    """Every survey round of the ticket, newest first, with its answer (two
    queries, whatever the number of rounds)."""
    invites = {i.round: i for i in SurveyInvite.objects.filter(ticket_id=ticket.pk)}
    responses = {r.round: r for r in CSATResponse.objects.filter(ticket_id=ticket.pk)}
    return [
        SurveyRound(round=n, invite=invites.get(n), response=responses.get(n))
        for n in sorted(invites.keys() | responses.keys(), reverse=True)
    ]


def portal_survey_round(ticket: Ticket, user: User) -> SurveyInvite | None:
    """The round the ticket's requester may answer on the portal: the latest
    round of a ticket that is still solved (or closed after its solve), not
    one cancelled by a reopen."""
    if ticket.requester_id != user.pk or not user.is_customer:
        return None
    if ticket.status not in (Status.SOLVED, Status.CLOSED) or ticket.merged_into_id:
        return None
    return (
        SurveyInvite.objects.filter(ticket_id=ticket.pk)
        .exclude(state=SurveyInvite.State.CANCELLED)
        .order_by("-round")
        .first()
    )


def follow_up_list() -> QuerySet[CSATResponse]:
    """Bad ratings nobody has followed up yet, newest first: one query with
    the ticket, customer, agent and team (partial index csat_needs_follow_up)."""
    return (
        CSATResponse.objects.filter(rating__lte=BAD_RATING_MAX, followed_up_at__isnull=True)
        .select_related("ticket", "customer", "agent", "team")
        .order_by("-answered_at", "-id")[:FOLLOW_UP_PAGE]
    )
