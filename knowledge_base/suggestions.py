"""The knowledge base as a suggestion provider of the portal's request form
(settings.HELPDESK_SUGGESTION_PROVIDERS, read by tickets.suggestions): the
articles that may answer what a customer is typing, found by the help
centre's own search and limited to what that customer may read.

tickets/ never imports this module; it only knows the dotted path in the
setting and the `Suggestion` it returns.

A customer who finds the answer in the help centre itself and says so ("Was
this helpful?" - yes) is a deflection too (feedback_with_deflection), named
by the same ref as the portal's."""

from __future__ import annotations

import html

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.urls import reverse
from django.utils.html import strip_tags

from knowledge_base import services
from knowledge_base.models import Article, ArticleFeedback
from knowledge_base.search import Hit, search_articles
from tickets.models import User
from tickets.suggestions import Suggestion, deflection_record

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


@transaction.atomic
def feedback_with_deflection(
    *,
    article: Article,
    helpful: bool,
    user: User | None = None,
    session_key: str = "",
    comment: str = "",
    query: str = "",
) -> ArticleFeedback:
    """ "Was this helpful?" in the help centre (services.feedback_record), and
    a deflection when a signed-in customer says the article helped: they
    helped themselves instead of writing to the helpdesk. Only a change to
    "yes" counts (a comment sent after it, or the same answer again, does
    not); staff and anonymous visitors are not deflections. `query` is what
    the customer last searched the help centre for, when they did."""
    customer = (
        user if helpful and user is not None and not user.has_perm("tickets.work_tickets") else None
    )
    answered_yes = False
    if customer is not None:
        # One person's answers one at a time: the check below sees the
        # other tab's answer instead of racing it.
        User.objects.select_for_update().filter(pk=customer.pk).first()
        answered_yes = ArticleFeedback.objects.filter(
            article=article, user=customer, helpful=True
        ).exists()
    feedback = services.feedback_record(
        article=article, helpful=helpful, user=user, session_key=session_key, comment=comment
    )
    if customer is not None and not answered_yes:
        deflection_record(
            user=customer,
            query=query,
            article_ref=article_ref(article.pk),
            article_title=article.title,
        )
    return feedback
