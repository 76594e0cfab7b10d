"""The public help centre: who sees which article, old slugs, feedback, view
counts, and a fixed number of queries per page whatever the number of
articles."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledge_base import pages, services
from knowledge_base.models import Article, ArticleFeedback, Category, Section, Visibility
from knowledge_base.views import public


def url(name: str, **kwargs) -> str:
    return reverse(f"kb:{name}", kwargs=kwargs)


@pytest.fixture
def articles(make_article):
    """One article per visibility, plus a draft."""
    return {
        "public": make_article("Reset your password", "Use **Forgot password**."),
        "customers": make_article(
            "Download your invoices", "Billing page.", visibility=Visibility.CUSTOMERS
        ),
        "internal": make_article(
            "Unlock an account in the admin", "Staff only.", visibility=Visibility.INTERNAL
        ),
        "draft": make_article("Not yet written", "Draft words.", publish=False),
    }


VISIBLE = {
    "anonymous": {"public"},
    "customer": {"public", "customers"},
    "agent": {"public", "customers", "internal"},
}


@pytest.mark.parametrize("who", ["anonymous", "customer", "agent"])
def test_each_visitor_reads_what_they_may_and_nothing_else(who, client, request, articles):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    for kind, article in articles.items():
        response = client.get(url("article", slug=article.slug))
        expected = 200 if kind in VISIBLE[who] else 404
        assert response.status_code == expected, (who, kind)
    home = client.get(url("home")).content.decode()
    section = client.get(url("section", category="your-account", slug="signing-in"))
    category = client.get(url("category", slug="your-account")).content.decode()
    for kind, article in articles.items():
        shown = kind in VISIBLE[who]
        assert (article.title in home) is shown, (who, kind)
        assert (article.title in category) is shown, (who, kind)
        assert (article.title in section.content.decode()) is shown, (who, kind)
    # The counts the home page shows are the visitor's too.
    assert f'<span class="count">{len(VISIBLE[who])}</span>' in home


def test_article_page_has_breadcrumbs_title_description_tags_and_related(client, make_article):
    other = make_article("Change your e-mail address", "Settings.")
    secret = make_article("Staff notes", "Internal.", visibility=Visibility.INTERNAL)
    article = make_article(
        "Reset your password",
        "## Steps\n\n1. Open **Forgot password**\n\n<script>alert(1)</script>",
        summary="Get back into your account when you forgot your password.",
        tags="Login, password",
        related=[other, secret],
    )
    html = client.get(url("article", slug=article.slug)).content.decode()
    assert "<title>Reset your password · Help centre · Helpdesk</title>" in html
    assert (
        '<meta name="description" content="Get back into your account when you forgot '
        'your password.">' in html
    )
    assert '<a href="/help/categories/your-account/">Your account</a>' in html
    assert '<a href="/help/categories/your-account/signing-in/">Signing in</a>' in html
    assert "<h2>Steps</h2>" in html and "<strong>Forgot password</strong>" in html
    assert "<script>alert" not in html
    assert '<span class="tag">login</span>' in html
    assert other.title in html and secret.title not in html


def test_an_old_slug_redirects_permanently_unless_the_visitor_may_not_read_it(
    client, manager, make_article
):
    article = make_article("Reset your password")
    old = article.slug
    services.article_save(
        actor=manager,
        article=article,
        title="Reset a forgotten password",
        body="New.",
        slug="reset-a-forgotten-password",
        section=article.section,
    )
    services.article_publish(article=article, actor=manager)
    response = client.get(url("article", slug=old))
    assert response.status_code == 301
    assert response["Location"] == url("article", slug="reset-a-forgotten-password")

    hidden = make_article("Admin unlock", visibility=Visibility.INTERNAL)
    hidden_old = hidden.slug
    services.article_save(
        actor=manager,
        article=hidden,
        title="Admin unlock",
        body="x",
        slug="admin-unlock-2",
        visibility=Visibility.INTERNAL,
    )
    services.article_publish(article=hidden, actor=manager)
    assert client.get(url("article", slug=hidden_old)).status_code == 404
    assert client.get(url("article", slug="no-such-article")).status_code == 404


def test_archived_articles_are_gone_and_views_are_counted_in_redis(client, manager, make_article):
    article = make_article("Reset your password")
    cache.clear()
    for _ in range(3):
        assert client.get(url("article", slug=article.slug)).status_code == 200
    article.refresh_from_db()
    assert article.view_count == 0  # counted in Redis, not one write per view
    assert services.flush_views() == 3
    article.refresh_from_db()
    assert article.view_count == 3

    services.article_archive(article=article, actor=manager)
    assert client.get(url("article", slug=article.slug)).status_code == 404


def test_anonymous_feedback_with_a_comment_then_a_change_of_mind(client, make_article):
    article = make_article("Reset your password")
    feedback_url = url("feedback", slug=article.slug)
    response = client.post(feedback_url, {"helpful": "yes"})
    assert response.status_code == 302 and response["Location"].endswith("#feedback")
    page = client.get(url("article", slug=article.slug)).content.decode()
    assert "Glad it helped" in page and "Anything we could add?" in page

    # The comment, through htmx: the fragment thanks.
    response = client.post(
        feedback_url, {"helpful": "yes", "comment": "Clear steps."}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Thank you for your feedback" in response.content.decode()
    row = ArticleFeedback.objects.get()
    assert (row.helpful, row.comment, row.user) == (True, "Clear steps.", None)
    assert len(row.visitor) == 64  # a digest of the session, not the session key

    client.post(feedback_url, {"helpful": "no"})  # the same browser changes its answer
    article.refresh_from_db()
    assert (article.helpful_count, article.unhelpful_count) == (0, 1)
    assert ArticleFeedback.objects.count() == 1

    response = client.post(feedback_url, {"helpful": "maybe"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Please answer yes or no." in response.content.decode()


def test_feedback_of_a_signed_in_customer_and_none_on_hidden_articles(
    client, customer, make_article
):
    article = make_article("Download invoices", visibility=Visibility.CUSTOMERS)
    assert client.post(url("feedback", slug=article.slug), {"helpful": "no"}).status_code == 404
    client.force_login(customer)
    client.post(url("feedback", slug=article.slug), {"helpful": "no", "comment": "Where?"})
    row = ArticleFeedback.objects.get()
    assert (row.user, row.helpful, row.comment) == (customer, False, "Where?")


def test_feedback_needs_the_csrf_token(make_article):
    article = make_article("Reset your password")
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url("feedback", slug=article.slug), {"helpful": "yes"}).status_code == 403


def _more_articles(manager, n: int) -> None:
    """n more published articles over new categories and sections, related to
    each other and tagged (so nothing a page shows is fetched per article)."""
    start = Article.objects.count()
    previous = None
    for i in range(n):
        category, _ = Category.objects.get_or_create(
            name=f"Area {i % 3}", slug=f"area-{i % 3}", defaults={"position": 2 + i % 3}
        )
        section, _ = Section.objects.get_or_create(
            category=category, name=f"Topic {i % 5}", slug=f"topic-{i % 5}"
        )
        version = services.article_save(
            actor=manager,
            title=f"Article number {start + i}",
            body=f"Body {i}",
            section=section,
            tags=f"tag{i % 4}, common",
            summary=f"Summary {i}",
            related=[previous] if previous else None,
        )
        services.article_publish(article=version.article, actor=manager)
        previous = version.article


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_pages_cost_the_same_queries_with_more_articles(
    who, client, request, manager, make_article, django_assert_max_num_queries
):
    if who == "customer":
        client.force_login(request.getfixturevalue("customer"))
    first = make_article("Reset your password", tags="login")
    _more_articles(manager, 3)
    addresses = [
        url("home"),
        url("category", slug="your-account"),
        url("category", slug="area-0"),
        url("section", category="area-0", slug="topic-0"),
        url("article", slug=first.slug),
        url("article", slug=Article.objects.order_by("-id").first().slug),
    ]

    def counts() -> list[int]:
        found = []
        for page in addresses:
            cache.clear()
            with CaptureQueriesContext(connection) as captured:
                assert client.get(page).status_code == 200, page
            found.append(len(captured))
        return found

    small = counts()
    _more_articles(manager, 25)
    assert counts() == small
    # And the ceilings: a signed-in visitor adds the session, the user and
    # their permissions (the cache is cleared: the worst case), then the page.
    extra = 4 if who == "customer" else 0
    for page, ceiling in zip(addresses, [4, 4, 4, 3, 3, 3], strict=True):
        cache.clear()
        with django_assert_max_num_queries(ceiling + extra):
            client.get(page)


def test_anonymous_visitors_of_the_root_go_to_the_help_centre(client, customer, settings):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/help/"
    settings.HELPDESK_PUBLIC_HOME_URL = "https://help.example.com/"
    assert client.get("/")["Location"] == "https://help.example.com/"
    login = client.get(reverse("login")).content.decode()
    assert '<a href="/help/">Browse the help centre</a>' in login
    client.force_login(customer)
    assert client.get("/")["Location"] == reverse("tickets:list")


@pytest.mark.parametrize(
    "who, link",
    [
        ("customer", '<a href="/help/" class="active">Help centre</a>'),
        ("agent", '<a href="/help/manage/" class="active">Knowledge base</a>'),
        ("manager", '<a href="/help/manage/" class="active">Knowledge base</a>'),
    ],
)
def test_the_navigation_links_the_help_centre_or_the_editor(who, link, db, client, request):
    client.force_login(request.getfixturevalue(who))
    assert link in client.get(url("home")).content.decode()


def test_category_and_section_pages_list_the_most_viewed_first(client, make_article, monkeypatch):
    monkeypatch.setattr(pages, "ARTICLES_PER_SECTION", 2)
    monkeypatch.setattr(public, "SECTION_PAGE_SIZE", 2)
    for title, views in [("Rarely read", 1), ("Most read", 90), ("Often read", 40)]:
        article = make_article(title)
        Article.objects.filter(pk=article.pk).update(view_count=views)
    make_article("Internal only", visibility=Visibility.INTERNAL)

    html = client.get(url("category", slug="your-account")).content.decode()
    assert html.index("Most read") < html.index("Often read")
    assert "Rarely read" not in html and "See all 3 articles" in html

    first = client.get(url("section", category="your-account", slug="signing-in"))
    text = first.content.decode()
    assert text.index("Most read") < text.index("Often read") and "Rarely read" not in text
    assert "Page 1 of 2" in text
    second = client.get(url("section", category="your-account", slug="signing-in"), {"page": 2})
    assert "Rarely read" in second.content.decode()
    assert "Internal only" not in second.content.decode()


def test_a_category_reads_the_same_without_union(client, make_article, kb_section, monkeypatch):
    """The SQLite demo's path (a query per section) lists what the UNION does."""
    other = Section.objects.create(category=kb_section.category, name="Verify", slug="verify")
    make_article("Reset your password")
    make_article("Verify your account", section=other)

    def listed() -> str:
        html = client.get(url("category", slug="your-account")).content.decode()
        return html[html.index('<div class="help-columns">') :]  # not the CSRF token

    with_union = listed()
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", False)
    cache.clear()
    without = listed()
    assert "Reset your password" in without and "Verify your account" in without
    assert without == with_union


def test_the_top_bar_ticket_search_is_not_prefilled_with_an_article_search(client, customer):
    # The help centre's own box holds the article search's words; the top
    # bar's ticket search would run them against tickets.
    client.force_login(customer)
    help_page = client.get(reverse("kb:search"), {"q": "verifyword"}).content.decode()
    assert help_page.count('value="verifyword"') == 1
    tickets_page = client.get(reverse("tickets:search"), {"q": "verifyword"}).content.decode()
    assert 'value="verifyword"' in tickets_page
