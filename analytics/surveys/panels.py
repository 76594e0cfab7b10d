"""The surveys panel of the staff ticket page (settings.HELPDESK_TICKET_PANELS):
the customer's CSAT answers for each solve of the ticket, bad ratings marked.

Like the knowledge-base panel it runs no query itself, so the ticket page's
query count does not grow: the answers come from a second request (htmx, on
load) to analytics.surveys.views.ticket_panel."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from tickets.models import Ticket


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
