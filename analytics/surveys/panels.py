"""The surveys panel of the staff ticket page (settings.HELPDESK_TICKET_PANELS):
the customer's CSAT answers for each solve of the ticket, bad ratings marked;
and the customer's own panel inviting them to rate a solved ticket.

The staff panel, like the knowledge-base panel, runs no query itself, so the ticket page's
query count does not grow: the answers come from a second request (htmx, on
load) to analytics.surveys.views.ticket_panel."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from analytics.models import CSATResponse
from analytics.surveys.selectors import portal_survey_round
from tickets.models import Ticket, User


def survey_panel(request: HttpRequest, ticket: Ticket) -> str:
    try:
        answers_url = reverse("surveys:ticket_panel", kwargs={"key": ticket.key})
    except NoReverseMatch:
        # The survey pages are not routed (helpdesk/urls.py lacks the
        # include): the ticket page must still render.
        answers_url = ""
    return render_to_string(
        "analytics/_survey_panel.html",
        {"ticket": ticket, "answers_url": answers_url},
        request=request,
    )


def customer_survey_panel(request: HttpRequest, ticket: Ticket) -> str:
    """For the customer's own ticket page (the portal): the survey of the
    latest solve, a link to the same form the e-mail opens (no token needed:
    the requester is logged in). Empty when there is nothing to rate. The
    tickets app shows staff panels only; it needs a customer-side list to
    call this (see the report of the surveys work)."""
    user = request.user
    if not isinstance(user, User):
        return ""
    invite = portal_survey_round(ticket, user)
    if invite is None:
        return ""
    try:
        url = reverse("surveys:portal", kwargs={"key": ticket.key})
    except NoReverseMatch:
        return ""
    answer = CSATResponse.objects.filter(ticket_id=ticket.pk, round=invite.round).first()
    return render_to_string(
        "analytics/_customer_survey_panel.html",
        {"ticket": ticket, "url": url, "answer": answer},
        request=request,
    )
