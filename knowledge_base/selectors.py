"""Who may read which article: the one place that decides it. Every list,
page, search result, snippet, count and suggestion starts from these."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from knowledge_base.models import Article, ArticleStatus, Visibility
from tickets.models import User

# What each kind of reader may see of published articles.
_PUBLIC = [Visibility.PUBLIC]
_CUSTOMERS = [Visibility.PUBLIC, Visibility.CUSTOMERS]
_STAFF = [Visibility.PUBLIC, Visibility.CUSTOMERS, Visibility.INTERNAL]


def visibilities_for(user: User | AnonymousUser | None) -> list[str]:
    """Anonymous visitors: public articles; signed-in customers: also those
    for customers; the helpdesk's staff: also internal ones."""
    if user is None or not user.is_authenticated or not user.is_active:
        return list(_PUBLIC)
    if user.has_perm("tickets.work_tickets"):
        return list(_STAFF)
    return list(_CUSTOMERS)


def articles_visible_to(user: User | AnonymousUser | None) -> QuerySet[Article]:
    """The live articles `user` may read (their live version: the article's
    own fields)."""
    return Article.objects.filter(
        live_version__gt=0, visibility__in=visibilities_for(user)
    ).exclude(status=ArticleStatus.ARCHIVED)


def can_edit(user: User | AnonymousUser | None) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("knowledge_base.edit_articles"))


def can_approve(user: User | AnonymousUser | None) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("knowledge_base.approve_articles"))


def articles_editable_by(user: User) -> QuerySet[Article]:
    """Every article, drafts and archived ones included, for an editor."""
    if not can_edit(user):
        return Article.objects.none()
    return Article.objects.all()
