"""seed_demo's help centre (demo/help_centre.py, demo/articles/): articles for
every ticket category, a mix of visibilities and workflow states, 90 days of
views, ratings, deflections and searches, and the journeys' two articles."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, F

from demo import catalog, help_centre
from knowledge_base import embeddings, import_files, importing
from knowledge_base.models import (
    Article,
    ArticleFeedback,
    ArticleStatus,
    Category,
    SearchTerm,
    Visibility,
)
from knowledge_base.search import search_articles
from knowledge_base.selectors import articles_visible_to
from tickets.models import CannedResponse, Channel, Deflection, ShownArticle, User

NOW = datetime(2026, 3, 4, 15, 30, 12, tzinfo=UTC)


def seed(tickets: int = 60) -> str:
    out = io.StringIO()
    call_command("seed_demo", tickets=tickets, seed=5, verbosity=0, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    with time_machine.travel(NOW, tick=False):
        output = seed()
    return output


def test_the_article_files_import_cleanly_and_cover_every_ticket_category(db):
    source = import_files.open_source(help_centre.ARTICLES_DIR)
    assert 30 <= source.total <= 45
    for row in source.rows():
        assert row.error is None, row.where
        importing.parse_row(row.data)  # raises RowError on a bad field
    # Each of the demo's ticket categories has articles the portal suggests.
    assert set(help_centre.SUGGESTED_FOR) == {c.slug for c in catalog.CATEGORIES}


def test_the_help_centre_has_articles_in_categories_with_a_visibility_mix(seeded):
    assert "Help centre: 42 articles" in seeded
    live = Article.objects.filter(live_version__gt=0).exclude(status=ArticleStatus.ARCHIVED)
    assert live.count() >= 38
    mix = dict(live.values_list("visibility").annotate(n=Count("id")))
    assert mix[Visibility.PUBLIC] >= 20
    assert mix[Visibility.CUSTOMERS] >= 6
    assert mix[Visibility.INTERNAL] >= 4
    assert Category.objects.count() >= 7
    assert not Article.objects.filter(section__isnull=True).exists()

    customer = User.objects.get(email=catalog.DEMO_CUSTOMER.email)
    anonymous_sees = set(articles_visible_to(None).values_list("visibility", flat=True))
    customer_sees = set(articles_visible_to(customer).values_list("visibility", flat=True))
    assert anonymous_sees == {Visibility.PUBLIC}
    assert customer_sees == {Visibility.PUBLIC, Visibility.CUSTOMERS}
    for slug in help_centre.SUGGESTED_FOR.values():
        assert articles_visible_to(customer).filter(slug__in=slug).exists()


def test_the_confirmation_articles_never_say_verify_or_account(seeded):
    """Journey 7's paraphrase must be found by meaning: neither the article
    nor its step-by-step neighbour (nor any article a customer reads) uses
    the customer's words."""
    article = Article.objects.get(slug=help_centre.CONFIRMATION_SLUG)
    assert article.title == "Confirming your e-mail address when you sign up"
    for article in Article.objects.exclude(visibility=Visibility.INTERNAL):
        text = " ".join([article.title, article.summary, article.tag_names, article.body])
        assert "verif" not in text.lower() and "account" not in text.lower(), article.slug
    for slug in (help_centre.CONFIRMATION_SLUG, "company-documents-check"):
        article = Article.objects.get(slug=slug)
        assert article.is_live and article.visibility == Visibility.PUBLIC
        # Step by step: a numbered list, rendered.
        assert re.search(r"<ol>\s*<li>", article.body_html)


def test_articles_have_histories_reviews_and_a_scheduled_publication(seeded):
    manager = User.objects.get(email=catalog.MANAGER.email)
    revised = Article.objects.filter(live_version__gte=2)
    assert revised.count() >= 4
    reset = Article.objects.get(slug=help_centre.RESET_ARTICLE_SLUG)
    assert (reset.version, reset.live_version) == (3, 3)
    notes = list(reset.versions.order_by("number").values_list("note", "author__email"))
    assert notes[0] == ("Imported", manager.email)
    assert notes[1][1] == catalog.AGENT_LOGIN.email
    # Versions are dated over the quarter, oldest first.
    dates = list(reset.versions.order_by("number").values_list("created_at", flat=True))
    assert dates == sorted(dates)
    assert dates[0] < NOW - timedelta(days=80) and dates[-1] > NOW - timedelta(days=30)
    assert reset.events.filter(action="article.published", actor=manager).count() == 3

    in_review = Article.objects.get(slug="single-sign-on")
    assert (in_review.status, in_review.live_version) == (ArticleStatus.REVIEW, 0)
    pending = Article.objects.get(slug=help_centre.PENDING_REVIEW_SLUG)
    assert pending.status == ArticleStatus.REVIEW
    assert pending.live_version == pending.version - 1  # visitors read the previous one
    scheduled = Article.objects.get(slug=help_centre.SCHEDULED_SLUG)
    assert scheduled.status == ArticleStatus.REVIEW and scheduled.live_version == 0
    assert scheduled.publish_at == NOW + help_centre.SCHEDULED_IN

    assert Article.objects.filter(related__isnull=False).distinct().count() >= 30
    assert reset.related.filter(slug="locked-out-too-many-attempts").exists()


def test_views_and_ratings_spread_over_the_last_90_days(seeded):
    live = Article.objects.filter(live_version__gt=0)
    assert not live.filter(view_count=0).exclude(visibility=Visibility.INTERNAL).exists()
    top = live.order_by("-view_count").first()
    assert top.slug == help_centre.RESET_ARTICLE_SLUG
    for article in live.exclude(visibility=Visibility.INTERNAL):
        feedback = ArticleFeedback.objects.filter(article=article)
        assert feedback.filter(helpful=True).count() == article.helpful_count
        assert feedback.filter(helpful=False).count() == article.unhelpful_count
        if article.visibility == Visibility.CUSTOMERS:
            assert not feedback.filter(user__isnull=True).exists()
    dates = ArticleFeedback.objects.values_list("created_at", flat=True)
    assert min(dates) < NOW - timedelta(days=60) and max(dates) > NOW - timedelta(days=7)
    assert all(NOW - timedelta(days=90) < d <= NOW for d in dates)
    # Rated poorly: the content-gaps list has something to show.
    assert Article.objects.filter(
        slug="large-imports", unhelpful_count__gt=F("helpful_count")
    ).exists()


def test_deflections_shown_articles_and_search_terms(seeded):
    refs = {f"kb-{pk}": title for pk, title in Article.objects.values_list("pk", "title")}
    deflections = Deflection.objects.all()
    assert all(refs.get(d.article_ref) == d.article_title for d in deflections)
    # From the portal's suggestions: at least 40, a tenth of the tickets beyond.
    assert deflections.exclude(query="").count() == 40
    assert deflections.filter(query="verify my account").exists()
    # From "Was this helpful?": every signed-in customer's yes, as the help centre records it.
    helped = ArticleFeedback.objects.filter(helpful=True, user__isnull=False)
    assert deflections.filter(query="").count() == helped.count() > 0
    assert set(deflections.filter(query="").values_list("user", "created_at")) == set(
        helped.values_list("user", "created_at")
    )
    recent = deflections.filter(created_at__gte=NOW - timedelta(days=30)).count()
    assert recent > deflections.filter(created_at__lt=NOW - timedelta(days=60)).count()

    shown = ShownArticle.objects.select_related("ticket")
    assert shown.exists()
    for row in shown:
        assert row.ticket.channel == Channel.PORTAL
        assert refs[row.article_ref] == row.article_title
        assert row.shown_at < row.ticket.created_at

    gaps = set(SearchTerm.objects.filter(without_results__gt=0).values_list("term", flat=True))
    assert {"dark mode", "zapier"} <= gaps
    for term in gaps:  # they really find nothing
        assert search_articles(None, term, semantic=False).total == 0, term
    found = SearchTerm.objects.filter(without_results=0, term="password")
    assert found.count() > 30
    assert search_articles(None, "password", semantic=False).total > 0


def test_the_login_canned_response_links_the_password_reset_article(seeded, client):
    canned = CannedResponse.objects.get(title="Password reset steps")
    url = re.search(r"https?://\S+/help/articles/[\w-]+/", canned.body)
    assert url is not None
    path = url.group(0).split("//", 1)[1].split("/", 1)[1]
    assert path == f"help/articles/{help_centre.RESET_ARTICLE_SLUG}/"
    response = client.get("/" + path)
    assert response.status_code == 200
    assert "Reset your password" in response.content.decode()


def test_can_not_log_in_finds_the_password_reset_article(seeded):
    hits = search_articles(None, "can't log in", semantic=False).hits
    assert hits and hits[0].article.slug == help_centre.RESET_ARTICLE_SLUG


def test_seeding_again_keeps_the_help_centre(seeded):
    articles = Article.objects.count()
    feedback = ArticleFeedback.objects.count()
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        output = seed(tickets=10)
    assert "Help centre" not in output
    assert (Article.objects.count(), ArticleFeedback.objects.count()) == (articles, feedback)


@pytest.mark.skipif(not embeddings.enabled(), reason="no sentence-embedding model installed")
def test_verify_my_account_finds_the_confirmation_article_by_meaning(db, settings, demo_embeddings):
    """Journey 7: the article never says "verify" or "account"; the seed
    embeds the demo's articles, so the paraphrase finds it at once."""
    settings.HELPDESK_KB_EMBEDDING_RECHECK_SECONDS = 0
    output = seed(tickets=20)

    assert re.search(r"\d+ embedded for semantic search", output)
    assert not embeddings.stale_articles().exists()
    confirmation = Article.objects.get(slug=help_centre.CONFIRMATION_SLUG)
    customer = User.objects.get(email=catalog.DEMO_CUSTOMER.email)
    for user in (None, customer):
        hits = [hit.article.slug for hit in search_articles(user, "verify my account").hits]
        # The two step-by-step articles on confirming a new sign-up come first.
        assert set(hits[:2]) == {confirmation.slug, "company-documents-check"}, hits


def test_a_demo_seeded_before_the_help_centre_gets_it_with_if_empty(seeded):
    Article.objects.all().delete()
    ArticleFeedback.objects.all().delete()
    Deflection.objects.all().delete()
    SearchTerm.objects.all().delete()

    with time_machine.travel(NOW, tick=False):
        out = io.StringIO()
        call_command("seed_demo", tickets=10, if_empty=True, verbosity=0, stdout=out)

    assert "not seeding demo data" in out.getvalue()
    assert "Help centre: 42 articles" in out.getvalue()
    assert Article.objects.filter(slug=help_centre.CONFIRMATION_SLUG).exists()
