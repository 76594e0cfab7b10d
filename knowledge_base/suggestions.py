"""The knowledge base as a suggestion provider of the portal's request form
(settings.HELPDESK_SUGGESTION_PROVIDERS, read by tickets.suggestions): the
articles that may answer what a customer is typing, found by the help
centre's own search and limited to what that customer may read.

tickets/ never imports this module; it only knows the dotted path in the
setting and the `Suggestion` it returns."""

from __future__ import annotations

import html

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils.html import strip_tags

from knowledge_base.search import Hit, search_articles
from tickets.models import User
from tickets.suggestions import Suggestion

# How many articles the portal shows at most.
LIMIT = 5
# Ref prefix of knowledge-base articles in Deflection and ShownArticle rows.
REF_PREFIX = "kb-"


def article_ref(article_id: int) -> str:
    """The ref a Deflection or ShownArticle names the article by."""
    return f"{REF_PREFIX}{article_id}"


def article_id_of(ref: str) -> int | None:
    """The article id in a ref made by article_ref (None for another provider's)."""
    if not ref.startswith(REF_PREFIX) or not ref[len(REF_PREFIX) :].isdigit():
        return None
    return int(ref[len(REF_PREFIX) :])


def plain_snippet(hit: Hit) -> str:
    """The hit's snippet as plain text (the portal escapes it itself): its
    highlighting dropped, its entities decoded; the summary when it has none."""
    text = html.unescape(strip_tags(str(hit.snippet)))
    return " ".join(text.split()) or hit.article.summary


def provider(text: str, user: User | AnonymousUser) -> list[Suggestion]:
    """Articles that may answer `text` (the request's subject and
    description), best first: any of its words, typos corrected, and its
    meaning when semantic search is on. Only articles `user` may read
    (search_articles filters by knowledge_base.selectors.visibilities_for)."""
    results = search_articles(user, text, limit=LIMIT, match="any")
    return [
        Suggestion(
            ref=article_ref(hit.article.pk),
            title=hit.article.title,
            url=reverse("kb:article", args=[hit.article.slug]),
            snippet=plain_snippet(hit),
        )
        for hit in results.hits
    ]
