"""Ticket search: PostgreSQL full-text search, ranked over a bounded set.

The `search_vector` column (migration 0003, PostgreSQL only) holds the key and
subject (weight A) and the public conversation (weight B; internal notes are
left out so a customer's search cannot reveal them). Services refresh it on
every write that changes that text, so a new ticket is searchable as soon as
its transaction commits.

A requester's name or e-mail address finds their tickets too: the people who
match (a GIN expression index over users, migration 0013) are looked up in
the same statement and their tickets found through the indexed requester_id,
so renaming a person rewrites no ticket vectors.

Ranking every match of a common word costs seconds at a million tickets, so
the query first takes the newest SEARCH_CANDIDATES matches (_candidate_ids),
then ranks only those. On SQLite (the demo) search falls back to the subject
and the requester's name and e-mail (_fallback).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields import Field

from tickets.models import Ticket, parse_ticket_key
from tickets.reference import attach_named_relations

# How many matches are ranked: the newest this many (see _candidate_ids).
# More than the largest page (the API's 100), few enough that gathering them
# stays cheap whatever the word (bench/README.md, "Agent workspace").
SEARCH_CANDIDATES = 300
# The newest this many ticket ids are searched first by walking the primary
# key backwards; older tickets only through the GIN index (see _candidate_ids).
SEARCH_RECENT_WINDOW = 30_000
# At most this many people whose name or e-mail matches have their tickets
# added to the candidates (a common first name matches many customers).
SEARCH_PEOPLE = 50
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


# The vector of a row that an UPDATE writes together with its other columns:
# the subject is a parameter (the one being written: inside an UPDATE, t.subject
# is the row's old value); the prefix too.
_ROW_VECTOR_SQL = _VECTOR_SQL.replace("t.subject", "%s")


def save_with_vector(ticket: Ticket, fields: Sequence[str]) -> None:
    """Write `fields` of the ticket and its search vector in one UPDATE
    (PostgreSQL), so a service that changes the conversation writes the ticket
    row once in its transaction (tickets.services.base.Edit)."""
    from django.conf import settings

    quote = connection.ops.quote_name
    columns, values = [], []
    for name in fields:
        # Concrete columns of the ticket row (never a relation's reverse side).
        field = cast("Field[Any, Any]", Ticket._meta.get_field(name))
        columns.append(f"{quote(field.column)} = %s")
        values.append(field.get_db_prep_save(getattr(ticket, field.attname), connection))
    sql = (
        f"UPDATE tickets_ticket t SET {', '.join(columns)}, "  # noqa: S608 - names from the model
        f"search_vector = {_ROW_VECTOR_SQL} WHERE t.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [*values, settings.HELPDESK_TICKET_KEY_PREFIX, ticket.subject, ticket.pk]
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


def search_tickets(
    visible: QuerySet[Ticket],
    text: str,
    *,
    limit: int = 50,
    related: Sequence[str] | None = None,
) -> list[Ticket]:
    """The best matches for `text` among `visible` tickets (already limited to
    what the user may see), best first: in the key, subject or public
    conversation, or in the requester's name or e-mail address.

    One query whatever `limit` is. By default the rows come with requester and
    organisation joined and team, category and assignee named from the cached
    lists; `related` names the relations to join instead (the API's rows)."""
    text = (text or "").strip()[:200]
    if not text or visible.query.is_empty():
        return []
    joined = tuple(related) if related is not None else ("requester", "organization")
    pk = parse_ticket_key(text)
    if pk is not None:
        exact = list(visible.filter(pk=pk).select_related(*joined))
        if exact:
            return _named(exact, related)
    if not is_supported():
        return _named(_fallback(visible, text).select_related(*joined)[:limit], related)
    people_sql, people_params = _people_sql(text)
    rank = RawSQL(  # noqa: S611 - constant SQL, the words are a parameter
        f"ts_rank_cd(tickets_ticket.search_vector, websearch_to_tsquery('{SEARCH_CONFIG}', %s))",
        [text],
        output_field=FloatField(),
    )
    # The named person's own tickets first (someone searching a name or an
    # address is looking for that customer), then the text matches.
    by_requester = RawSQL(  # noqa: S611 - constant SQL, the words are a parameter
        f"tickets_ticket.requester_id IN ({people_sql})",
        people_params,
        output_field=BooleanField(),
    )
    return _named(
        Ticket.objects.filter(id__in=_candidate_ids(visible, text))
        .annotate(by_requester=by_requester, rank=rank)
        .select_related(*joined)
        .order_by("-by_requester", "-rank", "-id")[:limit],
        related,
    )


def _named(tickets, related: Sequence[str] | None) -> list[Ticket]:
    rows = list(tickets)
    if related is None:
        attach_named_relations(rows)
    return rows


def _fallback(visible: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Search without full-text support (SQLite, the demo): the text within
    the subject, the requester's name or e-mail address; newest first."""
    return visible.filter(
        Q(subject__icontains=text)
        | Q(requester__full_name__icontains=text)
        | Q(requester__email__icontains=text)
    ).order_by("-id")


# A person's name and e-mail address as a text-search document: the words of
# the name, the whole address, and its two halves ("robin.ellis@acme.example"
# is found by itself, by "robin.ellis" and by "acme.example"). The "simple"
# configuration keeps names as written (no stemming, no stop words).
# Migration 0013 indexes exactly this expression (person_search_gin): change
# both together, or the look-up reads every user.
PERSON_VECTOR_SQL = (
    "to_tsvector('simple'::regconfig, full_name || ' ' || email || ' ' || replace(email, '@', ' '))"
)


def _people_sql(text: str) -> tuple[str, list]:
    """SQL for the ids of the people whose name or e-mail matches `text`
    (at most SEARCH_PEOPLE of them), through the GIN index over users."""
    sql = (
        f"SELECT id FROM tickets_user WHERE {PERSON_VECTOR_SQL} "  # noqa: S608 - constants only
        "@@ websearch_to_tsquery('simple', %s) ORDER BY id LIMIT %s"
    )
    return sql, [text, SEARCH_PEOPLE]


def _candidate_ids(visible: QuerySet[Ticket], text: str) -> RawSQL:
    """SQL for the ids of the newest SEARCH_CANDIDATES visible matches of the
    words, and of the newest SEARCH_CANDIDATES visible tickets of the people
    who match.

    No single plan suits every word: walking the primary key backwards finds
    the newest matches of a frequent word after a few rows, but reads the whole
    table for a frequent word the user cannot see (the planner takes
    visibility and match as independent), while the GIN index finds a rare
    word at once but must visit every row of a frequent one. So the words are
    two bounded branches under one LIMIT: the walk over the newest
    SEARCH_RECENT_WINDOW ids, then, only if that left room (a LIMIT over
    UNION ALL stops pulling once it is full), older tickets through the GIN
    index, ordered by an expression (`id + 0`) so the planner cannot turn that
    branch back into a walk. One statement, whatever the word.

    An agent sees their teams' tickets, their own and untriaged ones: the GIN
    index ticket_search_scope_gin (migration 0013) holds team and assignee
    beside the words, so the GIN branch finds the agent's matches inside the
    index, and a frequent word that only other teams' tickets hold costs an
    index scan instead of a visit to each of its tickets.
    """
    match = RawSQL(  # noqa: S611 - constant SQL, the words are a parameter
        # Unqualified: inside the id__in subquery Django aliases the table (U0), and
        # a qualified name would point at the outer row instead.
        f"search_vector @@ websearch_to_tsquery('{SEARCH_CONFIG}', %s)",
        [text],
        output_field=BooleanField(),
    )
    newest = Subquery(Ticket.objects.order_by("-id").values("id")[:1])
    floor = ExpressionWrapper(newest - SEARCH_RECENT_WINDOW, output_field=IntegerField())
    matching = visible.filter(match).alias(floor=floor)
    recent = matching.filter(id__gt=F("floor")).order_by("-id").values("id")
    # `id + 0` in the bound and the order: the planner can neither walk the
    # primary key for this branch's order nor scan it for its range, which
    # leaves the GIN index (see the docstring).
    older = (
        matching.alias(id_order=F("id") + 0)
        .filter(id_order__lte=F("floor"))
        .order_by("-id_order")
        .values("id")
    )
    # Each matching person's newest visible tickets, through the requester
    # index, person by person (LATERAL): a semi-join would let the planner walk
    # all tickets looking for people that may not exist.
    theirs = (
        visible.filter(requester_id=RawSQL("person.id", ()))  # noqa: S611 - constant SQL
        .order_by("-id")
        .values("id")
    )
    recent_sql, recent_params = _typed(*recent[:SEARCH_CANDIDATES].query.sql_with_params())
    older_sql, older_params = _typed(*older[:SEARCH_CANDIDATES].query.sql_with_params())
    theirs_sql, theirs_params = _typed(*theirs[:SEARCH_CANDIDATES].query.sql_with_params())
    people_sql, people_params = _people_sql(text)
    # Every part is SQL Django compiled or constant; every value stays a parameter.
    sql = (
        f"(SELECT c.id FROM (({recent_sql}) UNION ALL ({older_sql})) AS c LIMIT %s)"  # noqa: S608
        f" UNION (SELECT r.id FROM ({people_sql}) AS person"
        f" CROSS JOIN LATERAL ({theirs_sql}) AS r ORDER BY r.id DESC LIMIT %s)"
    )
    params = (
        *recent_params,
        *older_params,
        SEARCH_CANDIDATES,
        *people_params,
        *theirs_params,
        SEARCH_CANDIDATES,
    )
    return RawSQL(sql, params)  # noqa: S611


_PLACEHOLDER = re.compile(r"%%|%s")


def _typed(sql: str, params: Sequence) -> tuple[str, tuple]:
    """The statement with its integer parameters typed bigint (`%s::bigint`).

    Ids are bigint columns, and psycopg2 sends a Python int as a bare literal,
    which PostgreSQL types integer: `team_id = 3` then compares bigint with
    integer, an operator the btree_gin index ticket_search_scope_gin does not
    have, so the planner could not use the index for the visibility filter.
    A bigint literal compares the same for every integer column."""
    values = iter(params)

    def typed(placeholder: re.Match) -> str:
        if placeholder.group() == "%%":
            return "%%"
        value = next(values)
        is_integer = isinstance(value, int) and not isinstance(value, bool)
        return "%s::bigint" if is_integer else "%s"

    return _PLACEHOLDER.sub(typed, sql), tuple(params)
