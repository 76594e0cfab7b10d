"""Content gaps for the managers who approve articles: what visitors searched
for and did not find, and the articles readers said did not help (with what
they wrote). Reads only; the search log is written by
services.search_term_record, the feedback by services.feedback_record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from knowledge_base.models import Article, ArticleFeedback, SearchTerm

# The periods the page offers (days), the default first.
PERIODS = (30, 90)
TERMS_SHOWN = 50
ARTICLES_SHOWN = 30
COMMENTS_PER_ARTICLE = 3


@dataclass
class Gaps:
    days: int
    terms: list[dict]
    articles: list[Article]


def unanswered_terms(days: int, *, limit: int = TERMS_SHOWN) -> list[dict]:
    """The terms searched in the last `days` days that found nothing, most
    often first: {term, missed, searches, last_day}."""
    since = timezone.localdate() - timedelta(days=days - 1)
    return list(
        SearchTerm.objects.filter(day__gte=since, without_results__gt=0)
        .values("term")
        .annotate(missed=Sum("without_results"), searches=Sum("searches"), last_day=Max("day"))
        .order_by("-missed", "-last_day", "term")[:limit]
    )


def unhelpful_articles(days: int, *, limit: int = ARTICLES_SHOWN) -> QuerySet[Article]:
    """Articles rated "not helpful" in the last `days` days, the most such
    answers first, with their counts over the period and their latest
    comments (`complaints`)."""
    since = timezone.now() - timedelta(days=days)
    recent = Q(feedback__created_at__gte=since)
    comments = (
        ArticleFeedback.objects.filter(helpful=False, created_at__gte=since)
        .exclude(comment="")
        .order_by("-created_at", "-id")
    )
    return (
        Article.objects.annotate(
            unhelpful_recent=Count("feedback", filter=recent & Q(feedback__helpful=False)),
            helpful_recent=Count("feedback", filter=recent & Q(feedback__helpful=True)),
        )
        .filter(unhelpful_recent__gt=0)
        .select_related("section__category")
        .prefetch_related(
            Prefetch("feedback", queryset=comments[:COMMENTS_PER_ARTICLE], to_attr="complaints")
        )
        .order_by("-unhelpful_recent", "-id")[:limit]
    )


def content_gaps(days: int) -> Gaps:
    days = days if days in PERIODS else PERIODS[0]
    return Gaps(days=days, terms=unanswered_terms(days), articles=list(unhelpful_articles(days)))
