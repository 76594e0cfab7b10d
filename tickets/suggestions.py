"""Article suggestions while a customer writes a request, and deflections.

tickets does not import the knowledge base: suggestion providers are named in
settings.HELPDESK_SUGGESTION_PROVIDERS (dotted paths of callables
`provider(text: str, user) -> list[Suggestion]`), and the knowledge-base app
registers its search there. With no provider the portal simply shows none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from tickets.errors import DomainError
from tickets.models import Deflection, User


@dataclass(frozen=True)
class Suggestion:
    ref: str  # the provider's id of the article
    title: str
    url: str
    snippet: str = ""


@cache
def _providers(paths: tuple[str, ...]):
    return tuple(import_string(path) for path in paths)


def suggest(text: str, user: User, *, limit: int = 5) -> list[Suggestion]:
    text = (text or "").strip()
    if len(text) < 3:
        return []
    found: list[Suggestion] = []
    for provider in _providers(tuple(settings.HELPDESK_SUGGESTION_PROVIDERS)):
        found.extend(provider(text, user))
        if len(found) >= limit:
            break
    return found[:limit]


def deflection_record(*, user: User, query: str, article_ref: str, article_title: str):
    """Count that an article answered the question and no ticket was opened."""
    if not article_ref.strip() or not article_title.strip():
        raise DomainError("Which article helped?", field="article_ref")
    return Deflection.objects.create(
        user=user,
        query=query.strip()[:500],
        article_ref=article_ref.strip()[:100],
        article_title=article_title.strip()[:255],
    )
