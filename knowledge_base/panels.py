"""The knowledge-base panel of the staff ticket page
(settings.HELPDESK_TICKET_PANELS): suggested articles for the ticket, each
with "Insert link" (into the reply, at the cursor: static
knowledge_base/ticket_panel.js) and "Open", and "Create article from this
ticket" for editors.

The panel itself runs no query, so the ticket page's queries and time do not
grow: the articles are searched by a second request (htmx, on load) to
knowledge_base.views.agents.ticket_articles."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from knowledge_base.selectors import can_edit
from tickets.models import Ticket


def articles_panel(request: HttpRequest, ticket: Ticket) -> str:
    return render_to_string(
        "knowledge_base/_ticket_panel.html",
        # The user's permissions are cached for the page already (has_perm).
        {"ticket": ticket, "can_edit": can_edit(request.user)},
        request=request,
    )
