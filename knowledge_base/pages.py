"""Reads for the help centre's pages. Each starts from
knowledge_base.selectors.articles_visible_to, so a page never lists, counts or
links an article its visitor may not read; each costs a fixed number of
queries whatever the number of articles (asserted in
tests/knowledge_base/test_views_public.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, QuerySet
from django.http import Http404

from knowledge_base.models import Article, ArticleSlug, Category, Section
from knowledge_base.selectors import articles_visible_to, visibilities_for
from tickets.models import User

Reader = User | AnonymousUser | None

# Articles listed per section on the home and category pages ("See all N").
ARTICLES_PER_SECTION = 6
# How long the per-section article counts (home, category and section pages,
# and the section's pagination) are kept: a newly published article is
# counted within this time (its page is live at once).
SECTION_COUNTS_SECONDS = 120


@dataclass
class SectionEntry:
    section: Section
    count: int
    articles: list[Article] = field(default_factory=list)


@dataclass
class CategoryEntry:
    category: Category
    sections: list[SectionEntry] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(entry.count for entry in self.sections)


def _list_fields(qs: QuerySet[Article]) -> QuerySet[Article]:
    # What a list of articles shows: never the body (it can be 200 kB).
    return qs.only(
        "id", "title", "slug", "summary", "section_id", "published_at", "view_count", "visibility"
    )


def section_counts(user: Reader) -> dict[int, int]:
    """Visible live articles per section id (cached per kind of visitor: one
    GROUP BY over every live article is too much for each home page view)."""
    kinds = ",".join(sorted(visibilities_for(user)))
    key = f"kb:section-counts:{kinds}"
    counts = cache.get(key)
    if counts is None:
        rows = (
            articles_visible_to(user)
            .filter(section__isnull=False)
            .values_list("section_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        counts = dict(rows)
        cache.set(key, counts, SECTION_COUNTS_SECONDS)
    return counts


def help_home(user: Reader) -> list[CategoryEntry]:
    """Categories with their sections that hold something `user` may read."""
    counts = section_counts(user)
    entries: dict[int, CategoryEntry] = {}
    for section in Section.objects.select_related("category").order_by(
        "category__position", "category__name", "position", "name"
    ):
        if not counts.get(section.pk):
            continue
        entry = entries.setdefault(section.category_id, CategoryEntry(section.category))
        entry.sections.append(SectionEntry(section, counts[section.pk]))
    return list(entries.values())


def most_viewed(user: Reader, limit: int = 6) -> list[Article]:
    return list(_list_fields(articles_visible_to(user)).order_by("-view_count", "-id")[:limit])


def recently_updated(user: Reader, limit: int = 6) -> list[Article]:
    return list(
        _list_fields(articles_visible_to(user))
        .filter(published_at__isnull=False)
        .order_by("-published_at", "-id")[:limit]
    )


def _top_articles(user: Reader, section_ids: Sequence[int]) -> dict[int, list[Article]]:
    """The most viewed articles of each section, in one statement: a UNION ALL
    of one short branch per section, each read in order from the
    popularity index (kb_live_popular) until it has enough, never every
    article of the section."""
    base = _list_fields(articles_visible_to(user))
    branches = [
        base.filter(section_id=pk).order_by("-view_count", "-id")[:ARTICLES_PER_SECTION]
        for pk in section_ids
    ]
    found: dict[int, list[Article]] = {pk: [] for pk in section_ids}
    if not branches:
        return found
    if len(branches) == 1:
        rows: Iterable[Article] = branches[0]
    elif connection.features.supports_slicing_ordering_in_compound:
        rows = branches[0].union(*branches[1:], all=True)
    else:
        # SQLite (the demo) refuses ORDER BY and LIMIT inside a UNION: a
        # query per section there.
        rows = [article for branch in branches for article in branch]
    for article in rows:
        found[article.section_id].append(article)  # type: ignore[index]
    for articles in found.values():
        articles.sort(key=lambda a: (-a.view_count, -a.pk))
    return found


def category_page(user: Reader, slug: str) -> CategoryEntry:
    """A category with, per section, its most viewed articles and how many
    there are (sections without anything `user` may read left out)."""
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise Http404("No such category.")
    counts = section_counts(user)
    sections = [s for s in category.sections.order_by("position", "name") if counts.get(s.pk)]
    if not sections:
        raise Http404("Nothing to read here.")
    top = _top_articles(user, [s.pk for s in sections])
    return CategoryEntry(category, [SectionEntry(s, counts[s.pk], top[s.pk]) for s in sections])


def section_get(slug_category: str, slug: str) -> Section:
    section = (
        Section.objects.select_related("category")
        .filter(category__slug=slug_category, slug=slug)
        .first()
    )
    if section is None:
        raise Http404("No such section.")
    return section


def section_articles(user: Reader, section: Section) -> QuerySet[Article]:
    """The section's articles, most viewed first (the first pages are read in
    order from the popularity index)."""
    return (
        _list_fields(articles_visible_to(user))
        .filter(section=section)
        .order_by("-view_count", "-id")
    )


def section_paginator(user: Reader, section: Section, per_page: int) -> Paginator:
    """Pages of the section's articles, counted by section_counts (cached)
    instead of a COUNT over the section on every view."""
    paginator = Paginator(section_articles(user, section), per_page)
    paginator.count = section_counts(user).get(section.pk, 0)
    return paginator


@dataclass
class ArticleLookup:
    article: Article | None = None
    # The article's current slug when `slug` was one of its old ones.
    moved_to: str = ""


def article_lookup(user: Reader, slug: str) -> ArticleLookup:
    """The article at `slug` that `user` may read, or where it moved to.
    An article the visitor may not read is not found, as if it did not exist
    (its new slug is not revealed either)."""
    article = (
        articles_visible_to(user).select_related("section__category").filter(slug=slug).first()
    )
    if article is not None:
        return ArticleLookup(article=article)
    moved = (
        ArticleSlug.objects.filter(slug=slug, article__in=articles_visible_to(user).values("pk"))
        .values_list("article__slug", flat=True)
        .first()
    )
    if moved:
        return ArticleLookup(moved_to=moved)
    raise Http404("No such article.")


def related_articles(user: Reader, article: Article, limit: int = 6) -> Sequence[Article]:
    """The article's related articles that `user` may read."""
    return list(
        _list_fields(articles_visible_to(user))
        .filter(pk__in=article.related.values("pk"))
        .order_by("title")[:limit]
    )
