"""Articles linked in staff replies are recorded in their history
(knowledge_base.hooks.ArticleLinkHook), with no query for other replies."""

from __future__ import annotations

import pytest

from knowledge_base import services
from knowledge_base.hooks import linked_slugs
from knowledge_base.models import ArticleEvent
from tests.factories import make_ticket
from tickets import services as ticket_services


@pytest.fixture
def ticket(customer, access_team):
    return make_ticket(requester=customer, subject="Locked out", team=access_team)


def linked(article):
    return list(
        ArticleEvent.objects.filter(article=article, action="article.linked").values_list(
            "actor__email", "note"
        )
    )


def test_linked_slugs():
    text = (
        "See [Reset](https://help.example/help/articles/reset-your-password/) and "
        "/help/articles/reset-your-password/ again, or /help/articles/api_keys-2/; "
        "not /help/categories/x/ nor /help/articles/"
    )
    assert linked_slugs(text) == ["reset-your-password", "api_keys-2"]


def test_a_staff_reply_that_links_an_article_is_recorded(
    ticket, agent, customer, make_article, manager
):
    reset = make_article("Reset your password")
    other = make_article("Download an invoice")
    renamed = make_article("API keys")
    version = services.article_save(
        actor=manager, article=renamed, title="Create API keys", body="b", slug="create-api-keys"
    )
    services.article_publish(article=version.article, actor=manager)
    body = (
        f"Try [Reset your password](http://testserver/help/articles/{reset.slug}/), "
        f"then [this](http://testserver/help/articles/{reset.slug}/) and the old "
        "address /help/articles/api-keys/."
    )
    ticket_services.ticket_reply(ticket=ticket, author=agent, body=body)
    assert linked(reset) == [(agent.email, f"In a reply to {ticket.key}")]
    assert linked(renamed) == [(agent.email, f"In a reply to {ticket.key}")]
    assert linked(other) == []
    # Internal notes and the customer's own messages are not answers.
    ticket_services.ticket_reply(ticket=ticket, author=agent, body=body, is_internal=True)
    ticket_services.ticket_reply(ticket=ticket, author=customer, body=body)
    assert len(linked(reset)) == 1


def test_a_reply_without_a_link_costs_no_query(ticket, agent, settings, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The first reply also meets the first-response target: compare later ones.
    ticket_services.ticket_reply(ticket=ticket, author=agent, body="First answer.")
    counts = []
    for hooks in (
        ["escalation.hooks.SLAClockHook"],
        ["escalation.hooks.SLAClockHook", "knowledge_base.hooks.ArticleLinkHook"],
    ):
        settings.HELPDESK_LIFECYCLE_HOOKS = hooks
        with CaptureQueriesContext(connection) as queries:
            ticket_services.ticket_reply(ticket=ticket, author=agent, body="No link here.")
        counts.append(len(queries))
    assert counts[0] == counts[1]
