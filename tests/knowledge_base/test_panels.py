"""The knowledge-base panel of the staff ticket page: suggested articles
(loaded by a second request, so the page's queries do not grow), the link an
agent inserts, and "Create article from this ticket"."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from knowledge_base.models import Article, ArticleStatus, ArticleVersion, Visibility
from tests.factories import make_ticket
from tickets import services as ticket_services
from tickets.models import Status


@pytest.fixture
def ticket(customer, access_team):
    return make_ticket(
        requester=customer,
        subject="Cannot reset my password",
        description="The password reset e-mail never arrives.",
        team=access_team,
    )


@pytest.fixture
def articles(make_article):
    return [
        make_article("Reset your password", "Choose **Forgot password** on the sign-in page."),
        make_article(
            "Password reset e-mails that never arrive (staff)",
            "Check the mail log for the password reset e-mail.",
            visibility=Visibility.INTERNAL,
        ),
        make_article("Download an invoice", "Invoices are under Billing."),
    ]


def articles_url(ticket):
    return reverse("kb:ticket_articles", args=[ticket.pk])


def test_ticket_page_shows_the_panel_to_staff_only(client, ticket, agent, customer):
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'aria-labelledby="kb-panel-heading"' in page
    assert f'hx-get="{articles_url(ticket)}"' in page
    assert "Create article from this ticket" in page
    assert "knowledge_base/ticket_panel.js" in page
    client.force_login(customer)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "kb-panel-heading" not in page and "Create article" not in page


def test_panel_offers_no_draft_to_staff_who_cannot_edit_articles(client, ticket, agent):
    group = Group.objects.get(name__startswith="role:", user=agent)
    group.permissions.remove(Permission.objects.get(codename="edit_articles"))
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "kb-panel-heading" in page and "Create article from this ticket" not in page
    response = client.post(reverse("kb:from_ticket", args=[ticket.pk]))
    assert response.status_code == 403
    assert not Article.objects.exists()


def test_the_panel_adds_no_query_to_the_ticket_page(
    client, ticket, agent, settings, warm_caches, django_assert_num_queries
):
    client.force_login(agent)
    url = ticket.get_absolute_url()
    warm_caches(agent)
    counts = {}
    for panels in (
        ["escalation.panels.sla_panel"],
        ["escalation.panels.sla_panel", "knowledge_base.panels.articles_panel"],
    ):
        settings.HELPDESK_TICKET_PANELS = panels
        client.get(url)  # anything a first view caches
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert page.status_code == 200
        counts[len(panels)] = len(queries)
    assert counts[2] == counts[1]
    # The same total as tests/tickets/test_workspace.py asserts for the page.
    with django_assert_num_queries(10):
        client.get(url)


def test_suggested_articles_for_the_ticket(client, ticket, articles, agent):
    public, internal, unrelated = articles
    client.force_login(agent)
    response = client.get(articles_url(ticket))
    assert response.status_code == 200
    fragment = response.content.decode()
    assert public.title in fragment and internal.title in fragment
    assert unrelated.title not in fragment
    # Internal ones are marked; each can be inserted as a link or opened.
    assert fragment.count(">Internal</span>") == 1
    link = f"{public.title}: http://testserver/help/articles/{public.slug}/"
    assert f'data-kb-insert="{html.escape(link)}"' in fragment
    assert f'href="http://testserver/help/articles/{public.slug}/"' in fragment
    assert fragment.count(">Insert link</button>") == 2


def test_suggestions_run_constant_queries(
    client, ticket, articles, agent, warm_caches, django_assert_max_num_queries
):
    client.force_login(agent)
    warm_caches(agent)
    client.get(articles_url(ticket))
    # The session, the user, the ticket through the access helper (teams,
    # the ticket), then at most the search's own five statements.
    with django_assert_max_num_queries(10):
        assert client.get(articles_url(ticket)).status_code == 200


def test_the_agent_searches_other_words(client, ticket, articles, agent):
    client.force_login(agent)
    fragment = client.get(articles_url(ticket), {"q": "invoice"}).content.decode()
    assert articles[2].title in fragment and articles[0].title not in fragment
    assert "Articles for “invoice”" in fragment
    fragment = client.get(articles_url(ticket), {"q": "zebra crossing"}).content.decode()
    assert "No article matches “zebra crossing”." in fragment


def test_a_closed_ticket_offers_no_insert(client, ticket, articles, agent):
    from tickets.models import Ticket

    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.CLOSED, solved_at=timezone.now(), closed_at=timezone.now()
    )
    client.force_login(agent)
    fragment = client.get(articles_url(ticket)).content.decode()
    assert articles[0].title in fragment and "Insert link" not in fragment


def test_panel_follows_the_ticket_access_rule(
    client, ticket, articles, other_agent, customer, other_customer
):
    for user, status in ((other_agent, 404), (other_customer, 404), (customer, 403)):
        client.force_login(user)
        assert client.get(articles_url(ticket)).status_code == status, user
        assert client.post(reverse("kb:from_ticket", args=[ticket.pk])).status_code == status
    client.logout()
    response = client.get(articles_url(ticket))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert Article.objects.count() == len(articles)  # no draft made


# --- "Create article from this ticket" ------------------------------------------------------


def test_create_article_from_the_ticket(client, ticket, agent, customer):
    ticket_services.ticket_reply(ticket=ticket, author=customer, body="Any news?")
    ticket_services.ticket_reply(
        ticket=ticket, author=agent, body="Look in your spam folder first.", is_internal=False
    )
    ticket_services.ticket_reply(
        ticket=ticket, author=agent, body="Check the mail relay logs.", is_internal=True
    )
    client.force_login(agent)
    response = client.post(reverse("kb:from_ticket", args=[ticket.pk]))
    article = Article.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("kb:edit", args=[article.pk])
    version = ArticleVersion.objects.get(article=article)
    assert (article.title, article.visibility, article.status) == (
        "Cannot reset my password",
        Visibility.INTERNAL,
        ArticleStatus.DRAFT,
    )
    assert article.live_version == 0  # nobody reads it before it is published
    assert version.body == (
        "## Question\n\nThe password reset e-mail never arrives.\n\n"
        "## Answer\n\nLook in your spam folder first."
    )
    assert version.author == agent and ticket.key in version.note
    editor = client.get(response.url)
    assert editor.status_code == 200
    assert "Look in your spam folder first." in editor.content.decode()


def test_the_draft_takes_the_latest_public_answer(client, ticket, agent, manager):
    ticket_services.ticket_reply(ticket=ticket, author=agent, body="First try this.")
    ticket_services.ticket_reply(ticket=ticket, author=manager, body="Then this worked.")
    client.force_login(agent)
    client.post(reverse("kb:from_ticket", args=[ticket.pk]))
    body = ArticleVersion.objects.get().body
    assert "Then this worked." in body and "First try this." not in body


def test_a_ticket_without_an_answer_drafts_the_question(client, ticket, agent):
    client.force_login(agent)
    client.post(reverse("kb:from_ticket", args=[ticket.pk]))
    body = ArticleVersion.objects.get().body
    assert body.startswith("## Question\n\nThe password reset e-mail never arrives.")
    assert "## Answer" in body and "no public reply yet" in body


def test_create_article_needs_post(client, ticket, agent):
    client.force_login(agent)
    assert client.get(reverse("kb:from_ticket", args=[ticket.pk])).status_code == 405
    assert not Article.objects.exists()


def test_a_second_click_opens_the_unpublished_draft_instead_of_another(client, ticket, agent):
    client.force_login(agent)
    first = client.post(reverse("kb:from_ticket", args=[ticket.pk]))
    second = client.post(reverse("kb:from_ticket", args=[ticket.pk]), follow=True)
    article = Article.objects.get()
    assert first.url == reverse("kb:edit", args=[article.pk])
    assert second.redirect_chain[-1][0] == first.url
    assert "already being written" in second.content.decode()
    assert article.source_ticket == ticket
    # Once it is published, the ticket can give another draft.
    Article.objects.filter(pk=article.pk).update(status="published")
    client.post(reverse("kb:from_ticket", args=[ticket.pk]))
    assert Article.objects.count() == 2
