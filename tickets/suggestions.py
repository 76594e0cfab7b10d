"""Article suggestions while a customer writes a request, and deflections.

tickets does not import the knowledge base: suggestion providers are named in
settings.HELPDESK_SUGGESTION_PROVIDERS (dotted paths of callables
`provider(text: str, user) -> list[Suggestion]`), and the knowledge-base app
registers its search there. With no provider the portal simply shows none.

What the portal showed is signed by the server (django.core.signing, bound to
the customer): a deflection names a suggestion the customer was really shown,
and the articles a submitted request keeps (ShownArticle, written by intake
with the ticket) are the ones the form really rendered, never refs typed into
a request by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.module_loading import import_string

from tickets.errors import DomainError
from tickets.models import Deflection, ShownArticle, Ticket, User


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


# --- what the portal showed, signed -----------------------------------------

_SHOWN_SALT = "tickets.suggestions.shown"
_DEFLECT_SALT = "tickets.suggestions.deflect"
# A request form left open over a day starts its record again.
SIGNED_MAX_AGE = 24 * 60 * 60
# The articles one request keeps at most (the first ones shown).
MAX_SHOWN = 20
# Longer than any token the server signs: refused unread.
_MAX_TOKEN_CHARS = 12_000


@dataclass(frozen=True)
class ShownSuggestion:
    """An article the portal showed while the customer wrote a request."""

    ref: str
    title: str
    position: int  # the best rank it was shown at, 1 = first
    shown_at: datetime  # when it was first shown


@dataclass(frozen=True)
class Shown:
    """Everything the request form has shown so far (`articles`) and the refs
    on screen now (`current`), as carried by the form's signed token."""

    articles: tuple[ShownSuggestion, ...] = ()
    current: tuple[str, ...] = ()


def _unsign(token: str, *, salt: str, user: User) -> dict[str, Any] | None:
    if not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    try:
        data = signing.loads(token, salt=salt, max_age=SIGNED_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        return None  # signed for somebody else
    return data


def shown_read(token: str, user: User) -> Shown:
    """What the form's token says it showed `user`; nothing when the token is
    missing, forged, expired or another person's."""
    data = _unsign(token, salt=_SHOWN_SALT, user=user)
    if data is None:
        return Shown()
    articles = tuple(
        ShownSuggestion(
            ref=ref, title=title, position=position, shown_at=datetime.fromtimestamp(at, tz=UTC)
        )
        for ref, title, position, at in data["a"]
    )
    return Shown(articles=articles, current=tuple(data["c"]))


def shown_add(shown: Shown, found: Sequence[Suggestion], *, now: datetime | None = None) -> Shown:
    """`shown` plus the suggestions on screen now: an article keeps the time
    it was first shown and the best rank it was shown at."""
    at = (now or timezone.now()).replace(microsecond=0)
    articles = {a.ref: a for a in shown.articles}
    for position, suggestion in enumerate(found, start=1):
        before = articles.get(suggestion.ref)
        if before is None:
            if len(articles) < MAX_SHOWN:
                articles[suggestion.ref] = ShownSuggestion(
                    ref=suggestion.ref, title=suggestion.title, position=position, shown_at=at
                )
        elif position < before.position:
            articles[suggestion.ref] = ShownSuggestion(
                ref=before.ref, title=before.title, position=position, shown_at=before.shown_at
            )
    return Shown(articles=tuple(articles.values()), current=tuple(s.ref for s in found))


def shown_token(shown: Shown, user: User) -> str:
    """The signed token the request form carries (and sends back)."""
    data = {
        "u": user.pk,
        "a": [[a.ref, a.title, a.position, int(a.shown_at.timestamp())] for a in shown.articles],
        "c": list(shown.current),
    }
    return signing.dumps(data, salt=_SHOWN_SALT, compress=True)


def shown_articles_record(*, ticket: Ticket, shown: Sequence[ShownSuggestion]) -> None:
    """Keep with a new ticket the articles its request form showed (intake
    calls it in the ticket's transaction)."""
    ShownArticle.objects.bulk_create(
        [
            ShownArticle(
                ticket=ticket,
                article_ref=a.ref[:100],
                article_title=a.title[:255],
                position=a.position,
                shown_at=a.shown_at,
            )
            for a in shown[:MAX_SHOWN]
        ],
        ignore_conflicts=True,
    )


def suggestion_token(suggestion: Suggestion, user: User) -> str:
    """Signs one suggestion shown to `user`, for its "This solved my problem"."""
    return signing.dumps(
        {"u": user.pk, "r": suggestion.ref, "t": suggestion.title}, salt=_DEFLECT_SALT
    )


def deflection_from_token(*, user: User, query: str, token: str) -> Deflection:
    """Record a deflection for a suggestion the portal really showed `user`."""
    data = _unsign(token, salt=_DEFLECT_SALT, user=user)
    if data is None:
        raise DomainError(
            "That suggestion has expired: please use the articles shown now.",
            field="article_ref",
        )
    return deflection_record(user=user, query=query, article_ref=data["r"], article_title=data["t"])
