"""The knowledge base beside an agent working a ticket: the articles that may
answer the ticket (read) and an article drafted from the ticket's question
and the agent's answer (write, through knowledge_base.services)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from knowledge_base import services
from knowledge_base.models import Article, ArticleStatus, Visibility
from knowledge_base.search import Hit, search_articles
from tickets.models import STAFF_ROLES, Message, Ticket, User

# Articles the ticket page suggests.
PANEL_LIMIT = 5


@dataclass(frozen=True)
class TicketArticle:
    """A suggested article as the ticket panel shows it."""

    hit: Hit
    url: str  # absolute: it goes into a reply read elsewhere
    link: str  # what "Insert link" puts in the reply: "Title: url"

    @property
    def internal(self) -> bool:
        return self.hit.article.visibility == Visibility.INTERNAL


def ticket_text(ticket: Ticket) -> str:
    """What the ticket asks: its subject and the customer's first message."""
    return f"{ticket.subject}\n{ticket.description}"


def reply_link(title: str, url: str) -> str:
    """The article as a reply mentions it: its title, then its address.

    Replies are plain text (the e-mail is text/plain and the pages show the
    text with its addresses made links), so a bare address is what both
    a mail client and the ticket page turn into a link; Markdown's
    [title](url) would reach the customer as brackets."""
    return f"{title}: {url}"


def suggested_for_ticket(user: User, ticket: Ticket, *, query: str = "") -> list[Hit]:
    """Articles `user` may read that may answer the ticket (or `query`, when
    the agent searches for something else): internal ones too for staff."""
    return search_articles(
        user, query or ticket_text(ticket), limit=PANEL_LIMIT, match="all" if query else "any"
    ).hits


def latest_public_answer(ticket: Ticket) -> Message | None:
    """The newest reply the helpdesk's staff sent the customer (no internal note)."""
    return (
        ticket.messages.filter(is_internal=False, author__role__in=STAFF_ROLES)
        .order_by("-created_at", "-id")
        .first()
    )


def draft_body(ticket: Ticket, answer: Message | None) -> str:
    """The Markdown body of an article drafted from the ticket."""
    question = ticket.description.strip() or ticket.subject
    reply = answer.body.strip() if answer is not None else ""
    return (
        f"## Question\n\n{question}\n\n"
        f"## Answer\n\n{reply or '_Write the answer here: this ticket has no public reply yet._'}\n"
    )


@dataclass(frozen=True)
class TicketDraft:
    article_id: int
    # False: a draft from this ticket was already being written (opened instead).
    created: bool


@transaction.atomic
def article_from_ticket(*, actor: User, ticket: Ticket) -> TicketDraft:
    """An internal draft from the ticket: its subject as the title, the
    customer's question and the staff's latest public answer as the body. An
    editor then rewrites it for readers and picks who may see it. While a
    draft from this ticket is unpublished (draft or in review), that one is
    returned instead of a second (a double click, or a colleague's click).
    The caller has checked that `actor` may see the ticket; article_save
    checks that they may edit articles."""
    # The ticket's row lock orders two clicks: the second sees the first's draft.
    Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    existing = (
        Article.objects.filter(
            source_ticket=ticket, status__in=[ArticleStatus.DRAFT, ArticleStatus.REVIEW]
        )
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if existing is not None:
        return TicketDraft(article_id=existing, created=False)
    version = services.article_save(
        actor=actor,
        title=ticket.subject[:200],
        body=draft_body(ticket, latest_public_answer(ticket)),
        visibility=Visibility.INTERNAL,
        note=f"Drafted from ticket {ticket.key}",
    )
    Article.objects.filter(pk=version.article_id).update(source_ticket=ticket)
    return TicketDraft(article_id=version.article_id, created=True)
