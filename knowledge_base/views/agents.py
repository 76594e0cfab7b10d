"""The knowledge base on the staff ticket page: the suggested articles of the
panel (an htmx fragment) and "Create article from this ticket". The ticket is
found through the tickets app's access helper (404 when the agent may not see
it, 403 for customers), articles through knowledge_base.search (what the
agent may read)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from knowledge_base import agents
from knowledge_base.selectors import can_edit
from tickets.models import Status
from tickets.selectors import logged_in_user
from tickets.ticket_page import staff_ticket

# The panel's own search box: longer text is cut.
MAX_QUERY_CHARS = 200


@login_required
@require_GET
def ticket_articles(request: HttpRequest, pk: int) -> HttpResponse:
    """The articles that may answer ticket `pk` (or the words `q`)."""
    ticket = staff_ticket(request, str(pk))
    user = logged_in_user(request)
    query = " ".join(request.GET.get("q", "")[:MAX_QUERY_CHARS].split())
    articles = []
    for hit in agents.suggested_for_ticket(user, ticket, query=query):
        url = request.build_absolute_uri(reverse("kb:article", args=[hit.article.slug]))
        articles.append(
            agents.TicketArticle(hit=hit, url=url, link=agents.reply_link(hit.article.title, url))
        )
    return render(
        request,
        "knowledge_base/_ticket_articles.html",
        {
            "articles": articles,
            "query": query,
            # The page has a reply box unless the ticket is closed.
            "can_reply": ticket.status != Status.CLOSED,
        },
    )


@login_required
@require_POST
def from_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    """An internal draft from ticket `pk`'s question and answer, opened in the editor."""
    ticket = staff_ticket(request, str(pk))
    user = logged_in_user(request)
    if not can_edit(user):
        raise PermissionDenied("Only knowledge-base editors can do this.")
    draft = agents.article_from_ticket(actor=user, ticket=ticket)
    if draft.created:
        messages.success(
            request,
            f"Draft created from {ticket.key}: rewrite it for readers, then choose who may see it.",
        )
    else:
        messages.info(request, f"A draft from {ticket.key} is already being written: here it is.")
    return redirect(reverse("kb:edit", args=[draft.article_id]))
