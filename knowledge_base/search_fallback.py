"""Search of the help centre on SQLite (the demo): substring matching of
each word, scored by where it is found, with the interface of
knowledge_base.search (which calls it when the database is not PostgreSQL and
makes its Hits from the (article, snippet, score) rows given here)."""

from __future__ import annotations

import html
import re

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe

from knowledge_base.markdown import plain_text
from knowledge_base.models import Article
from knowledge_base.selectors import articles_visible_to
from tickets.models import User

# The most matches read, and the length of a snippet (characters).
MAX_DEPTH = 500
SNIPPET_CHARS = 220


def _word_filter(word: str) -> Q:
    return (
        Q(title__icontains=word)
        | Q(summary__icontains=word)
        | Q(tag_names__icontains=word)
        | Q(body__icontains=word)
    )


def fallback_ranked(
    user: User | AnonymousUser | None, words: list[str], match: str, depth: int
) -> tuple[list[tuple[int, float]], int]:
    """Substring matching of each word (all of them, or any), scored by
    where each is found: title 3, summary or tags 2, body 1."""
    condition = Q()
    for word in words:
        condition = (
            (condition & _word_filter(word)) if match == "all" else (condition | _word_filter(word))
        )
    rows = (
        articles_visible_to(user)
        .filter(condition)
        .values_list("id", "title", "summary", "tag_names")[:MAX_DEPTH]
    )
    scored = []
    for article_id, title, summary, tag_names in rows:
        title, rest = title.lower(), f"{summary} {tag_names}".lower()
        score = sum(3 if w in title else 2 if w in rest else 1 for w in words)
        scored.append((article_id, float(score)))
    scored.sort(key=lambda item: (-item[1], -item[0]))
    return scored[:depth], len(scored)


def _snippet(article: Article, words: list[str]) -> SafeString:
    text = " ".join(part for part in (article.summary, plain_text(article.body)) if part)
    lower = text.lower()
    positions = [p for p in (lower.find(w) for w in words) if p >= 0]
    start = max(0, min(positions) - 60) if positions else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    excerpt = text[start : start + SNIPPET_CHARS]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.I)
    out, last = [], 0
    for found in pattern.finditer(excerpt):
        out.append(html.escape(excerpt[last : found.start()]))
        out.append(f"<mark>{html.escape(found.group())}</mark>")
        last = found.end()
    out.append(html.escape(excerpt[last:]))
    prefix = "… " if start else ""
    suffix = " …" if start + SNIPPET_CHARS < len(text) else ""
    return mark_safe(prefix + "".join(out) + suffix)  # noqa: S308 - every piece escaped


def fallback_page(
    user: User | AnonymousUser | None, page: list[tuple[int, float]], words: list[str]
) -> list[tuple[Article, SafeString, float]]:
    if not page:
        return []
    articles = articles_visible_to(user).filter(id__in=[i for i, _ in page])
    by_id = {article.id: article for article in articles.select_related("section__category")}
    return [(by_id[i], _snippet(by_id[i], words), score) for i, score in page if i in by_id]
