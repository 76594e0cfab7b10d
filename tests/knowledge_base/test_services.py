"""Writes of the knowledge base: versions, review and publishing, restore,
archive, slugs, feedback and view counts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache

from knowledge_base import services
from knowledge_base.models import (
    Article,
    ArticleFeedback,
    ArticleSlug,
    ArticleStatus,
    SearchTerm,
    Visibility,
)
from knowledge_base.selectors import articles_visible_to
from tickets.errors import DomainError

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("UTC"))


def actions(article):
    return list(article.events.values_list("action", flat=True))


def test_every_save_is_a_version_and_publishing_makes_it_live(manager, agent, kb_section):
    v1 = services.article_save(
        actor=agent,
        title="Reset your password",
        body="Use **Forgot password**.",
        tags="Login, password",
    )
    article = v1.article
    assert (v1.number, article.status, article.live_version) == (1, ArticleStatus.DRAFT, 0)
    assert not articles_visible_to(None).filter(pk=article.pk).exists()

    services.article_submit(article=article, actor=agent)
    services.article_publish(article=article, actor=manager)
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED and article.live_version == 1
    assert "<strong>Forgot password</strong>" in article.body_html
    assert article.tag_names == "login, password"
    assert sorted(article.tags.values_list("name", flat=True)) == ["login", "password"]
    assert articles_visible_to(None).filter(pk=article.pk).exists()

    # Editing a live article: visitors keep version 1 until version 2 is published.
    v2 = services.article_save(
        actor=agent, article=article, title="Reset your password", body="New words.", note="Shorter"
    )
    article.refresh_from_db()
    assert (v2.number, v2.author, v2.note) == (2, agent, "Shorter")
    assert article.status == ArticleStatus.DRAFT and article.live_version == 1
    assert "Forgot password" in article.body
    services.article_publish(article=article, actor=manager)
    article.refresh_from_db()
    assert article.live_version == 2 and article.body == "New words."
    assert actions(article) == [
        "article.created",
        "article.submitted",
        "article.published",
        "article.published",
    ]


def test_only_reviewers_publish_and_only_editors_write(agent, customer, manager, make_article):
    with pytest.raises(DomainError) as refused:
        services.article_save(actor=customer, title="Mine", body="Words")
    assert refused.value.code == "permission_denied"
    version = services.article_save(actor=agent, title="Draft", body="Words")
    with pytest.raises(DomainError):
        services.article_publish(article=version.article, actor=agent)
    with pytest.raises(DomainError):
        services.article_archive(article=version.article, actor=agent)
    services.article_publish(article=version.article, actor=manager)


def test_bad_input_is_refused_with_the_field(agent):
    for title, body, visibility, field in [
        ("", "Words", Visibility.PUBLIC, "title"),
        ("x" * 201, "Words", Visibility.PUBLIC, "title"),
        ("Title", "   ", Visibility.PUBLIC, "body"),
        ("Title", "Words", "everyone", "visibility"),
    ]:
        with pytest.raises(DomainError) as refused:
            services.article_save(actor=agent, title=title, body=body, visibility=visibility)
        assert refused.value.field == field
    assert not Article.objects.exists()


def test_scheduled_publish_happens_once_when_due(agent, manager):
    with time_machine.travel(NOW, tick=False):
        article = services.article_save(actor=agent, title="Coming soon", body="Words").article
        services.article_publish(
            article=article, actor=manager, publish_at=NOW + timedelta(hours=2)
        )
        article.refresh_from_db()
        assert article.status == ArticleStatus.REVIEW and article.live_version == 0
        assert services.publish_due() == 0
    with time_machine.travel(NOW + timedelta(hours=2, minutes=1), tick=False):
        assert services.publish_due() == 1
        assert services.publish_due() == 0
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED and article.live_version == 1
    assert actions(article) == ["article.created", "article.scheduled", "article.published"]


def test_restore_makes_an_old_version_the_newest_and_diff_shows_changes(agent, make_article):
    article = make_article("Billing", "Line one\nLine two")
    services.article_save(actor=agent, article=article, title="Billing", body="Line one\nLine 2")
    diff = services.version_diff(article, 1, 2)
    assert "-Line two" in diff and "+Line 2" in diff
    restored = services.article_restore(article=article, actor=agent, number=1)
    assert restored.number == 3 and restored.body == "Line one\nLine two"
    assert restored.note == "Restored version 1"
    with pytest.raises(DomainError):
        services.article_restore(article=article, actor=agent, number=9)


def test_rename_keeps_old_links(agent, manager, make_article):
    article = make_article("Reset your password")
    assert article.slug == "reset-your-password"
    services.article_save(
        actor=agent, article=article, title="Change your password", body="x", slug="change-password"
    )
    services.article_publish(article=article, actor=manager)
    article.refresh_from_db()
    assert article.slug == "change-password"
    assert ArticleSlug.objects.get(slug="reset-your-password").article == article
    # A new article cannot take the old address.
    other = make_article("Reset your password")
    assert other.slug == "reset-your-password-2"


def test_archive_hides_and_restore_brings_back(manager, make_article):
    article = make_article("Old pricing")
    services.article_archive(article=article, actor=manager)
    assert not articles_visible_to(None).filter(pk=article.pk).exists()
    with pytest.raises(DomainError):
        services.article_publish(article=article, actor=manager)
    services.article_restore(article=article, actor=manager, number=1)
    services.article_publish(article=article, actor=manager)
    assert articles_visible_to(None).filter(pk=article.pk).exists()


def test_visibility(agent, customer, make_article):
    public = make_article("Public")
    for_customers = make_article("Customers", visibility=Visibility.CUSTOMERS)
    internal = make_article("Internal", visibility=Visibility.INTERNAL)
    draft = make_article("Draft", publish=False)
    assert set(articles_visible_to(None)) == {public}
    assert set(articles_visible_to(customer)) == {public, for_customers}
    assert set(articles_visible_to(agent)) == {public, for_customers, internal}
    assert draft not in articles_visible_to(agent)


def test_feedback_once_per_person_and_changeable(customer, make_article):
    article = make_article("Reset your password")
    services.feedback_record(article=article, helpful=False, user=customer, comment="Too short")
    services.feedback_record(article=article, helpful=True, user=customer)
    services.feedback_record(article=article, helpful=True, session_key="abc")
    services.feedback_record(article=article, helpful=False, session_key="def")
    article.refresh_from_db()
    assert (article.helpful_count, article.unhelpful_count) == (2, 1)
    mine = ArticleFeedback.objects.get(user=customer)
    assert mine.helpful and mine.comment == "Too short"
    assert "abc" not in ArticleFeedback.objects.values_list("visitor", flat=True)
    with pytest.raises(DomainError):
        services.feedback_record(article=article, helpful=True)


def test_views_are_counted_in_redis_and_flushed_in_batches(make_article, django_assert_num_queries):
    article = make_article("Popular")
    cache.clear()
    with django_assert_num_queries(0):
        for _ in range(5):
            services.view_count(article.pk)
    assert services.flush_views() == 5
    assert services.flush_views() == 0
    services.view_count(article.pk)
    assert services.flush_views() == 1
    article.refresh_from_db()
    assert article.view_count == 6


def test_search_terms_are_counted_per_day(db):
    services.search_term_record(term="  Refund  policy", results=0)
    services.search_term_record(term="refund policy", results=2)
    row = SearchTerm.objects.get()
    assert (row.term, row.searches, row.without_results) == ("refund policy", 2, 1)
