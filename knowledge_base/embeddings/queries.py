"""The article queries of semantic search (shared by the package and its
in-process index)."""

from __future__ import annotations

from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast, Concat

from knowledge_base.models import Article, ArticleStatus


def live_articles() -> QuerySet[Article]:
    """Articles visitors may see (whoever may see them): what semantic_rank searches."""
    return Article.objects.filter(live_version__gt=0).exclude(status=ArticleStatus.ARCHIVED)


def embedded_as(label: str) -> Concat:
    """SQL: the embedding_model of an up-to-date vector of the row (the
    model's label and the article's live version)."""
    return Concat(Value(f"{label}#"), Cast(F("live_version"), CharField()))
