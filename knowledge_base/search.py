"""Search of the help centre: ranked full-text search, fused with semantic
retrieval when embeddings are enabled.

    search_articles(user, query, *, limit=10, offset=0, semantic=True,
                    match="all", record=False) -> SearchResults

Only live articles `user` may read are ever looked at (selectors.
articles_visible_to / visibilities_for, inside the SQL), so results,
snippets and totals never show an article the visitor may not see.

PostgreSQL (migration 0002):
1. Full text over the stored `search_vector` (english stemming; title
   weight A, summary and tags B, body C), ranked by ts_rank_cd with those
   weights. match="all" (the search box) reads the query as
   websearch_to_tsquery does — every word, "quoted phrases", `or`, `-word` —
   and the last word as a prefix while it is being typed ("passw" finds
   "password"); match="any" (long text from the portal form) matches any of
   its words, ranked by how many and where.
2. Typo tolerance: a word no article holds is corrected to the closest word
   one does (pg_trgm similarity over knowledge_base_searchword). match="any"
   adds the corrections to its words; match="all" tries them when the words
   as typed find nothing: first the corrected query (every word again, for
   a query of up to three words), and when that finds nothing either, the
   corrected words OR-ed, with titles similar to the query
   (word_similarity) as candidates too.
3. With embeddings enabled and semantic=True, the full-text list and
   embeddings.semantic_rank's list are fused by reciprocal rank.
4. One query fetches the page's articles with their snippets (ts_headline
   over the text without its Markdown; escaped here, matches in <mark>).

At most five SQL statements whatever the number of results (the longest
path: every word, the corrections, the corrected words, the OR-ed typo pass,
the page; plus the SET and RESET of _index_scans and what semantic_rank and
the search log cost), and bounded work whatever the word:
only a bounded set of candidates is scored (_rank_candidates), and the total
is exact up to MAX_TOTAL (above it, MAX_TOTAL + 1). SQLite (the demo) falls back to
substring matching with the same interface.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection
from django.db.models import BooleanField, Count, Exists, FloatField, Window
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString, mark_safe

from core.inputs import storable_text
from knowledge_base.models import Article
from knowledge_base.search_fallback import fallback_page, fallback_ranked
from knowledge_base.selectors import articles_visible_to, visibilities_for
from tickets.models import User

Match = Literal["all", "any"]

# Longest query read (characters, words): a pasted portal description is cut.
MAX_QUERY_CHARS = 1000
MAX_QUERY_WORDS = 64
# The deepest page served (offset + limit).
MAX_DEPTH = 500
# ts_rank_cd weights, in PostgreSQL's order {D, C, B, A}: body C, summary and
# tags B, title A.
RANK_WEIGHTS = [0.05, 0.2, 0.5, 1.0]
# ts_rank normalisation: 1 divides by 1 + log(document length), so a long
# article that mentions a word once does not beat a short one about it.
RANK_NORMALISATION = {"all": 1, "any": 1}
# Cover density (ts_rank_cd) rewards the words close together.
RANK_FUNCTIONS = {"all": "ts_rank_cd", "any": "ts_rank_cd"}
# Words shorter than this are never "corrected" (to, my, on...), and at most
# this many words of a query are.
MIN_CORRECTED_LENGTH = 4
MAX_CORRECTED_WORDS = 12
# A misspelt query of at most this many words is searched corrected, every
# word again, before any corrected word will do: "deliverry adress" wants
# the articles holding both. A customer's long message rarely has all its
# words in one article; which of them an article holds is the ranking's job
# (on the Bitext messages, 10 words on average, searching them corrected as
# every word first cost match="all" MRR 0.970 -> 0.969, bench/README.md).
CORRECTED_ALL_WORDS = 3
# Reciprocal-rank fusion: score = sum of weight / (RRF_K + rank) over the lists.
RRF_K = 60
# The semantic list counts four times the full-text one. On the Bitext tuning
# split (bench/kb_relevance.py --split dev --semantic-weights ...), with the
# passage re-ranking of the embeddings, weights 2 / 3 / 4 / 6 gave MRR
# 0.964 / 0.966 / 0.967 / 0.968 for match="all" and 0.976 / 0.976 / 0.977 /
# 0.977 for match="any" (customers' messages are paraphrases, which the
# embeddings read better than word matches; a product name or an error code
# still ranks through the full-text list).
SEMANTIC_WEIGHT = 4.0
# Scored candidates of a search (see _rank_candidates): matches by title and,
# when the titles are fewer, of all matches. Finding the candidates and
# reading their vectors (out of line, in TOAST) is the search's cost, so the
# bounds are: 100 + 150 instead of 200 + 300 took about 3 ms off a search of
# a common word at 100,000 articles, skipping the vector matches when the
# titles fill their bound more (bench/README.md). For a word thousands of
# articles hold, the candidates are an arbitrary sample either way; the
# title matches are the ones that rank, and semantic retrieval adds what
# means the same.
TITLE_CANDIDATES = 100
CANDIDATES = 150
# A total above this is "more than MAX_TOTAL" (returned as MAX_TOTAL + 1):
# more title matches than TITLE_CANDIDATES stop the count there.
MAX_TOTAL = TITLE_CANDIDATES
# The title's own vector (a GIN expression index, migration 0003).
# Column names in `matches` and `in_title` SQL are unqualified: they are
# also used in subqueries, where the table has another alias.
_TITLE_VECTOR = "to_tsvector('english'::regconfig, title)"
# How many full-text and semantic results are fused.
FUSION_DEPTH = 50
# A semantic result less similar than this is not a result on its own.
SEMANTIC_MIN_COSINE = 0.3
# ts_headline options; \x02 and \x03 mark the matches until the text is
# escaped, then become <mark> and </mark>.
HEADLINE_OPTIONS = 'StartSel="\x02", StopSel="\x03", MaxWords=35, MinWords=15'

_WORD = re.compile(r"[^\W_]+")
_ALPHA = re.compile(r"^[^\W\d_]+$")

# The article's text without Markdown for ts_headline: link targets, HTML
# tags and markup characters out, the snippet's markers removed.
_HEADLINE_TEXT = r"""
    translate(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    CASE WHEN knowledge_base_article.summary = '' THEN ''
                         ELSE knowledge_base_article.summary || ' — ' END
                        || left(knowledge_base_article.body, 10000),
                    '!?\[([^\]]*)\]\([^)]*\)', '\1', 'g'),
                '<[^>]*>|[|_]', ' ', 'g'),
            '[`*#>~]+', '', 'g'),
        E'\x02\x03', '')
"""


@dataclass
class Hit:
    article: Article
    # Safe HTML: the escaped text around the matches, matches in <mark>.
    snippet: str
    score: float


@dataclass
class SearchResults:
    hits: list[Hit] = field(default_factory=list)
    total: int = 0


def words_of(query: str) -> list[str]:
    """The query's words, lower case, letters and digits only."""
    return _WORD.findall((query or "")[:MAX_QUERY_CHARS].lower())[:MAX_QUERY_WORDS]


def search_articles(
    user: User | AnonymousUser | None,
    query: str,
    *,
    limit: int = 10,
    offset: int = 0,
    semantic: bool = True,
    match: Match = "all",
    record: bool = False,
) -> SearchResults:
    """The live articles `user` may read that answer `query`, best first:
    `limit` of them from `offset`, with the number of all matches."""
    # What PostgreSQL cannot take as text (a NUL from a URL's %00, a lone
    # surrogate) is a word break or U+FFFD, not a 500.
    query = " ".join(storable_text((query or "")[:MAX_QUERY_CHARS].replace("\x00", " ")).split())
    words = words_of(query)
    limit = max(0, min(limit, MAX_DEPTH))
    offset = max(0, min(offset, MAX_DEPTH - limit))
    if not words:
        return SearchResults()
    visibilities = visibilities_for(user)
    depth = offset + limit
    fuse = semantic and _semantic_enabled()
    if fuse:
        depth = max(depth, FUSION_DEPTH)

    if fuse:
        from knowledge_base import embeddings

        embeddings.encode_query_soon(query)  # while the full-text SQL below runs
    if connection.vendor == "postgresql":
        with _index_scans():
            ranked, total = _pg_ranked(user, query, words, match, depth)
    else:
        ranked, total = fallback_ranked(user, words, match, depth)

    if fuse:
        ranked, total = _with_semantic(user, ranked, total, query, visibilities)

    page = ranked[offset : offset + limit]
    if connection.vendor == "postgresql":
        hits = _pg_page(user, page, query, words, match)
    else:
        found = fallback_page(user, page, words)
        hits = [Hit(article, snippet, score) for article, snippet, score in found]
    results = SearchResults(hits=hits, total=total)
    if record:
        from knowledge_base import services

        services.search_term_record(term=query, results=total)
    return results


# --- fusion ---------------------------------------------------------------------------------


def _semantic_enabled() -> bool:
    try:
        from knowledge_base import embeddings
    except ImportError:
        return False
    enabled = getattr(embeddings, "enabled", None)
    return bool(enabled and enabled())


def reciprocal_rank_fusion(
    *lists: list[tuple[int, float]], k: int = RRF_K, weights: tuple[float, ...] = ()
) -> list[tuple[int, float]]:
    """Ids of several ranked lists ordered by the sum of weight / (k + rank)
    over the lists each appears in (rank from 1; weights 1 unless given); ties
    keep the earlier list's order."""
    scores: dict[int, float] = {}
    first_seen: dict[int, tuple[int, int]] = {}
    for list_index, ranked in enumerate(lists):
        weight = weights[list_index] if list_index < len(weights) else 1.0
        for rank, (article_id, _score) in enumerate(ranked, start=1):
            scores[article_id] = scores.get(article_id, 0.0) + weight / (k + rank)
            first_seen.setdefault(article_id, (list_index, rank))
    return sorted(scores.items(), key=lambda item: (-item[1], first_seen[item[0]]))


def _with_semantic(
    user: User | AnonymousUser | None,
    ranked: list[tuple[int, float]],
    total: int,
    query: str,
    visibilities: list[str],
) -> tuple[list[tuple[int, float]], int]:
    from knowledge_base import embeddings

    similar = [
        (int(article_id), float(cosine))
        for article_id, cosine in embeddings.semantic_rank(
            query, visibilities=visibilities, limit=FUSION_DEPTH
        )
        if cosine >= SEMANTIC_MIN_COSINE
    ]
    in_head = {article_id for article_id, _ in ranked[:FUSION_DEPTH]}
    new = [article_id for article_id, _ in similar if article_id not in in_head]
    if similar:  # (whether or not any is new: the same queries for every search)
        # The matrix follows the database within seconds, not at once: an
        # article it still holds may have been archived, deleted or hidden
        # since. Only what the visitor may read now takes a place or counts.
        live = set(articles_visible_to(user).filter(id__in=new).values_list("id", flat=True))
        similar = [(i, c) for i, c in similar if i in in_head or i in live]
    if not similar:
        return ranked, total
    head, tail = ranked[:FUSION_DEPTH], ranked[FUSION_DEPTH:]
    fused = reciprocal_rank_fusion(head, similar, weights=(1.0, SEMANTIC_WEIGHT))
    added = sum(1 for article_id, _ in similar if article_id not in in_head)
    return fused + tail, total + added


# --- PostgreSQL -----------------------------------------------------------------------------


def _is_prefix_typed(query: str) -> bool:
    """The last word is still being typed: the query ends in a letter or
    digit, outside quotes."""
    if not query or not query[-1].isalnum() or query.count('"') % 2:
        return False
    last = _WORD.findall(query.lower())[-1]
    before = query[: query.lower().rfind(last)]
    return not before.endswith("-")


def _tsquery(
    query: str,
    words: list[str],
    match: Match,
    also: list[str] | None = None,
    *,
    typed: bool = True,
) -> tuple[str, list[Any]]:
    """SQL for the query as a tsquery, and its parameters (`also`: more
    words to OR in match="any", the corrections of misspelt ones; `typed`:
    the query is as the visitor typed it, so its last word may be a prefix,
    not words put together here)."""
    prefix = typed and _is_prefix_typed(query)
    if match == "any":
        terms = [*words[:-1], words[-1] + (":*" if prefix else "")]
        terms += [w for w in dict.fromkeys(also or []) if w not in words]
        return "to_tsquery('english', %s)", [" | ".join(terms)]
    if prefix:
        last = _WORD.findall(query.lower())[-1]
        head = query[: query.lower().rfind(last)]
        return (
            "(websearch_to_tsquery('english', %s) && to_tsquery('english', %s))",
            [head, last + ":*"],
        )
    return "websearch_to_tsquery('english', %s)", [query]


def _rank_sql(tsquery: str, match: Match = "all") -> str:
    function = RANK_FUNCTIONS[match]
    return (
        f"{function}('{{{','.join(str(w) for w in RANK_WEIGHTS)}}}'::float4[], "
        f"knowledge_base_article.search_vector, {tsquery}, {RANK_NORMALISATION[match]})"
    )


def _pg_ranked(
    user: User | AnonymousUser | None, query: str, words: list[str], match: Match, depth: int
) -> tuple[list[tuple[int, float]], int]:
    # match="any": misspelt words are corrected up front (a long text often
    # has one); match="all": only when the words as typed find nothing.
    if match == "all":
        ranked, total = _pg_all_words(user, query, words, depth)
        return (ranked, total) if total else _pg_fuzzy(user, query, words, depth)
    tsquery, params = _tsquery(query, words, match, _corrected(words))
    return _rank_candidates(
        user,
        in_vector=(f"search_vector @@ {tsquery}", params),
        in_title=(f"{_TITLE_VECTOR} @@ {tsquery}", params),
        score=(_rank_sql(tsquery, match), params),
        depth=depth,
    )


def _pg_all_words(
    user: User | AnonymousUser | None,
    query: str,
    words: list[str],
    depth: int,
    *,
    typed: bool = True,
) -> tuple[list[tuple[int, float]], int]:
    """match="all": the articles holding every word of `query` as the
    search box reads it (phrases, `or`, `-word`, the last word a prefix
    while `typed`)."""
    tsquery, params = _tsquery(query, words, "all", typed=typed)
    return _rank_candidates(
        user,
        in_vector=(f"search_vector @@ {tsquery}", params),
        # The title is part of the vector: a title match is a match, unless
        # a word excluded ("-word") is missing from the title and in the body.
        in_title=(f"{_TITLE_VECTOR} @@ {tsquery}", params),
        title_needs_vector="-" in query,
        score=(_rank_sql(tsquery, "all"), params),
        depth=depth,
    )


def _rank_candidates(
    user: User | AnonymousUser | None,
    *,
    in_vector: tuple[str, list[Any]],
    in_title: tuple[str, list[Any]],
    score: tuple[str, list[Any]],
    depth: int,
    title_needs_vector: bool = False,
) -> tuple[list[tuple[int, float]], int]:
    """The best `depth` of the visible articles that match, by `score`, and
    how many match (MAX_TOTAL + 1: more than MAX_TOTAL). An article matches
    when its vector does (`in_vector`) or its title does (`in_title`; with
    `title_needs_vector`, only when its vector matches too). Only a bounded
    set of candidates is read and scored, so a word half the articles hold
    costs what a rare one does: up to TITLE_CANDIDATES + 1 title matches
    (through the title's own index), and, only when the titles do not fill
    that, up to CANDIDATES + 1 vector matches (through the vector's index);
    every match when there are fewer."""
    visible = articles_visible_to(user)

    def where(sql: tuple[str, list[Any]]) -> RawSQL:
        return RawSQL(sql[0], sql[1], output_field=BooleanField())  # noqa: S611 - constant SQL

    title_matches = visible.filter(where(in_title))
    if title_needs_vector:
        title_matches = title_matches.filter(where(in_vector))
    by_title = title_matches.order_by().values("id")[: TITLE_CANDIDATES + 1]
    # More title matches than TITLE_CANDIDATES: they are what ranks first
    # (the title weighs 5x the body), and there are more than MAX_TOTAL
    # matches, so the vector's index is not read at all. PostgreSQL runs this
    # uncorrelated NOT EXISTS once, before the scan it guards (a one-time
    # filter), and skips the scan when it is false: for a word thousands of
    # articles hold, that scan was most of the search's time (bench/README.md).
    titles_fill = title_matches.order_by().values("id")[TITLE_CANDIDATES : TITLE_CANDIDATES + 1]
    by_words = (
        visible.filter(where(in_vector))
        .filter(~Exists(titles_fill))
        .order_by()
        .values("id")[: CANDIDATES + 1]
    )
    # The candidates are matches already: testing the match again would
    # read every candidate's vector (mostly out of line, in TOAST) twice.
    candidates = visible.filter(id__in=by_title.union(by_words))
    rows = list(
        candidates.annotate(
            score=RawSQL(score[0], score[1], output_field=FloatField()),  # noqa: S611
            candidates=Window(Count("id")),
        )
        .order_by("-score", "-id")
        .values_list("id", "score", "candidates")[: max(depth, 1)]
    )
    ranked = [(article_id, float(points)) for article_id, points, _ in rows][:depth]
    # The candidates are every match unless the titles or the vectors
    # overflowed their bound, and then there are more than MAX_TOTAL
    # (MAX_TOTAL is TITLE_CANDIDATES, below CANDIDATES).
    total = min(rows[0][2], MAX_TOTAL + 1) if rows else 0
    return ranked, total


@contextmanager
def _index_scans() -> Iterator[None]:
    """PostgreSQL's planner off sequential scans while the candidates are
    ranked (one SET and one RESET, whatever the statements between). For
    "the first CANDIDATES + 1 matches" of a common word it prefers reading
    the table in order until it has found them, pricing `@@` as cheap; but
    each row's vector is out of line (TOAST), so that read costs 3-4x the
    index's bitmap (bench/README.md, "Knowledge base at 100,000 articles").
    RESET afterwards, also when the statement failed: in a transaction the
    failure's rollback undoes the SET, so the RESET may fail then too."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        yield
    finally:
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")


def _corrected(words: list[str]) -> list[str]:
    """Each word, or the closest word an article holds when none holds it."""
    unknown = sorted({w for w in words if len(w) >= MIN_CORRECTED_LENGTH and _ALPHA.match(w)})
    unknown = unknown[:MAX_CORRECTED_WORDS]
    if not unknown:
        return list(words)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT u.w, coalesce(
                (SELECT s.word FROM knowledge_base_searchword s WHERE s.word = u.w),
                (SELECT s.word FROM knowledge_base_searchword s
                 WHERE s.word %% u.w ORDER BY s.word <-> u.w, s.word LIMIT 1))
            FROM unnest(%s::text[]) AS u(w)
            """,
            [unknown],
        )
        fixes = {w: fix for w, fix in cursor.fetchall() if fix}
    return [fixes.get(w, w) for w in words]


def _pg_fuzzy(
    user: User | AnonymousUser | None,
    query: str,
    words: list[str],
    depth: int,
) -> tuple[list[tuple[int, float]], int]:
    """Typo-tolerant matches: the query with its misspelt words corrected,
    all of them as the search box reads words; when that finds nothing, the
    corrected words OR-ed, and titles similar to the query."""
    corrected = _corrected(words)
    if corrected != words and len(words) <= CORRECTED_ALL_WORDS:
        # "deliverry adress" means "delivery address": its articles are the
        # ones holding both. OR-ing the corrections first would rank the
        # union of two common words' matches (27 ms instead of 8 at 100,000
        # articles, bench/README.md) to find mostly the same top articles.
        # The corrections are whole words: none is a prefix (a prefix of a
        # common word would widen the match and cost an index expansion).
        fixed = " ".join(corrected)
        ranked, total = _pg_all_words(user, fixed, corrected, depth, typed=False)
        if total:
            return ranked, total
    tsquery = "to_tsquery('english', %s)"
    params: list[Any] = [" | ".join(corrected)]
    text = " ".join(words)[:200]
    similar_title = "%s <%% lower(title)"
    return _rank_candidates(
        user,
        in_vector=(f"search_vector @@ {tsquery}", params),
        in_title=(similar_title, [text]),
        score=(
            f"{_rank_sql(tsquery)} + word_similarity(%s, lower(knowledge_base_article.title))",
            [*params, text],
        ),
        depth=depth,
    )


def _snippet_html(marked: str) -> SafeString:
    """ts_headline's text (matches between \\x02 and \\x03) as safe HTML."""
    text = html.escape(" ".join(marked.split()))
    return mark_safe(text.replace("\x02", "<mark>").replace("\x03", "</mark>"))  # noqa: S308 - escaped above


def _pg_page(
    user: User | AnonymousUser | None,
    page: list[tuple[int, float]],
    query: str,
    words: list[str],
    match: Match,
) -> list[Hit]:
    if not page:
        return []
    # Highlight every word of the query (and the phrase, prefix... as typed).
    tsquery, params = _tsquery(query, words, match)
    any_query, any_params = _tsquery(query, words, "any")
    articles = (
        articles_visible_to(user)
        .filter(id__in=[i for i, _ in page])
        .annotate(
            headline=RawSQL(  # noqa: S611 - constant SQL, the words are parameters
                f"ts_headline('english', {_HEADLINE_TEXT}, ({tsquery}) || ({any_query}), %s)",
                [*params, *any_params, HEADLINE_OPTIONS],
            )
        )
    )
    by_id = {article.id: article for article in articles.select_related("section__category")}
    return [
        Hit(
            article=by_id[article_id],
            snippet=_snippet_html(by_id[article_id].headline),
            score=score,
        )
        for article_id, score in page
        if article_id in by_id
    ]
