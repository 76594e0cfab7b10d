"""Ticket search: PostgreSQL full-text search, ranked over a bounded set.

The `search_vector` column (migration 0003, PostgreSQL only) holds the key and
subject (weight A) and the public conversation (weight B; internal notes are
left out so a customer's search cannot reveal them). Services refresh it on
every write that changes that text, so a new ticket is searchable as soon as
its transaction commits.

Ranking every match of a common word costs seconds at a million tickets, so
the query first takes the newest SEARCH_CANDIDATES matches (_candidate_ids),
then ranks only those. On SQLite (the demo) search falls back to the subject.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL

from tickets.models import Ticket, parse_ticket_key
from tickets.reference import attach_named_relations

SEARCH_CANDIDATES = 1000
# The newest this many ticket ids are searched first by walking the primary
# key backwards; older tickets only through the GIN index (see _candidate_ids).
SEARCH_RECENT_WINDOW = 100_000
SEARCH_CONFIG = "english"
MAX_INDEXED_CHARS = 100_000

# Plain SQL text (search config "english", at most MAX_INDEXED_CHARS of the
# conversation); the key prefix and the ids are parameters.
_VECTOR_SQL = """
    setweight(to_tsvector('english', %s || '-' || t.id || ' ' || t.subject), 'A') ||
    setweight(to_tsvector('english', coalesce((
        SELECT left(string_agg(m.body, ' ' ORDER BY m.id), 100000)
        FROM tickets_message m WHERE m.ticket_id = t.id AND NOT m.is_internal
    ), '')), 'B')
"""


def is_supported() -> bool:
    return connection.vendor == "postgresql"


def search_index_tickets(ticket_ids: list[int]) -> None:
    """Recompute the search vector of these tickets (PostgreSQL only)."""
    if not ticket_ids or not is_supported():
        return
    from django.conf import settings

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE tickets_ticket t SET search_vector = {_VECTOR_SQL} WHERE t.id = ANY(%s)",  # noqa: S608 - constants only
            [settings.HELPDESK_TICKET_KEY_PREFIX, list(ticket_ids)],
        )


def search_index_rebuild(*, batch_size: int = 5000, only_missing: bool = False, progress=None):
    """Recompute vectors for all tickets in id batches; yields tickets done."""
    if not is_supported():
        return
    qs = Ticket.objects.order_by("id")
    if only_missing:
        qs = qs.extra(where=["search_vector IS NULL"])  # noqa: S610 - constant SQL
    last = 0
    while True:
        ids = list(qs.filter(id__gt=last).values_list("id", flat=True)[:batch_size])
        if not ids:
            return
        search_index_tickets(ids)
        last = ids[-1]
        if progress is not None:
            progress(len(ids))


def search_tickets(visible: QuerySet[Ticket], text: str, *, limit: int = 50) -> list[Ticket]:
    """The best matches for `text` among `visible` tickets (already limited to
    what the user may see), best first."""
    text = (text or "").strip()[:200]
    if not text:
        return []
    related = ("requester", "organization")  # the rest: attach_named_relations
    pk = parse_ticket_key(text)
    if pk is not None:
        exact = list(visible.filter(pk=pk).select_related(*related))
        if exact:
            return _named(exact)
    if not is_supported():
        return _named(
            visible.filter(subject__icontains=text).select_related(*related).order_by("-id")[:limit]
        )
    # The SQL text is constant; the user's words travel as a parameter.
    match = RawSQL(  # noqa: S611
        # Unqualified: inside the id__in subquery Django aliases the table (U0), and
        # a qualified name would point at the outer row instead.
        f"search_vector @@ websearch_to_tsquery('{SEARCH_CONFIG}', %s)",
        [text],
        output_field=BooleanField(),
    )
    candidates = _candidate_ids(visible, match)
    rank = RawSQL(  # noqa: S611
        f"ts_rank_cd(tickets_ticket.search_vector, websearch_to_tsquery('{SEARCH_CONFIG}', %s))",
        [text],
        output_field=FloatField(),
    )
    return _named(
        Ticket.objects.filter(id__in=candidates)
        .annotate(rank=rank)
        .select_related(*related)
        .order_by("-rank", "-id")[:limit]
    )


def _named(tickets) -> list[Ticket]:
    rows = list(tickets)
    attach_named_relations(rows)
    return rows


def _candidate_ids(visible: QuerySet[Ticket], match: RawSQL) -> RawSQL:
    """SQL for the ids of the newest SEARCH_CANDIDATES visible matches.

    No single plan suits every word: walking the primary key backwards finds
    the newest matches of a frequent word after a few rows, but reads the whole
    table for a frequent word the user cannot see (the planner takes
    visibility and match as independent), while the GIN index finds a rare
    word at once but must visit every row of a frequent one. So the statement
    is two bounded branches under one LIMIT: the walk over the newest
    SEARCH_RECENT_WINDOW ids, then, only if that left room (a LIMIT over
    UNION ALL stops pulling once it is full), older tickets through the GIN
    index, ordered by an expression (`id + 0`) so the planner cannot turn that
    branch back into a walk. One statement, whatever the word.
    """
    newest = Subquery(Ticket.objects.order_by("-id").values("id")[:1])
    floor = ExpressionWrapper(newest - SEARCH_RECENT_WINDOW, output_field=IntegerField())
    matching = visible.filter(match).alias(floor=floor)
    recent = matching.filter(id__gt=F("floor")).order_by("-id").values("id")
    older = (
        matching.filter(id__lte=F("floor"))
        .alias(id_order=F("id") + 0)
        .order_by("-id_order")
        .values("id")
    )
    recent_sql, recent_params = recent[:SEARCH_CANDIDATES].query.sql_with_params()
    older_sql, older_params = older[:SEARCH_CANDIDATES].query.sql_with_params()
    # Both parts are SQL Django compiled; every value stays a parameter.
    sql = f"SELECT c.id FROM (({recent_sql}) UNION ALL ({older_sql})) AS c LIMIT %s"  # noqa: S608
    return RawSQL(sql, (*recent_params, *older_params, SEARCH_CANDIDATES))  # noqa: S611
