"""The knowledge base's lifecycle hook (settings.HELPDESK_LIFECYCLE_HOOKS):
an article linked in a staff reply to a customer gets an "article.linked"
event in its history (who, which ticket), so editors see which articles
agents answer with and analytics can count them. tickets never imports
this module."""

from __future__ import annotations

import re
from functools import cache

from django.db.models import Q
from django.urls import reverse

from knowledge_base.models import Article, ArticleEvent
from tickets.lifecycle import LifecycleHook, MessageAdded

# An article's address ends in a slug; old slugs count too (they redirect).
_SLUG = "[-a-zA-Z0-9_]+"
# Distinct articles one reply records at most.
MAX_LINKS_PER_MESSAGE = 20


@cache
def _article_link() -> re.Pattern[str]:
    # The article route with its slug cut out, e.g. "/help/articles/(slug)/".
    marker = "slug-marker"
    prefix, suffix = reverse("kb:article", args=[marker]).split(marker)
    return re.compile(re.escape(prefix) + f"({_SLUG})" + re.escape(suffix))


def linked_slugs(text: str) -> list[str]:
    """The article slugs `text` links to, in order, each once."""
    slugs: list[str] = []
    for slug in _article_link().findall(text):
        if slug not in slugs:
            slugs.append(slug)
    return slugs[:MAX_LINKS_PER_MESSAGE]


class ArticleLinkHook(LifecycleHook):
    def message_added(self, change: MessageAdded) -> None:
        if not (change.by_staff and change.is_public):
            return
        slugs = linked_slugs(change.message.body)
        if not slugs:
            return  # most replies: no query
        articles = Article.objects.filter(
            Q(slug__in=slugs) | Q(old_slugs__slug__in=slugs)
        ).distinct()
        ArticleEvent.objects.bulk_create(
            ArticleEvent(
                article=article,
                actor=change.actor,
                action="article.linked",
                note=f"In a reply to {change.ticket.key}",
                created_at=change.at,
            )
            for article in articles.only("id")
        )
