"""Keyset pagination for the API's lists.

A page is "the rows after this cursor, in this order", never an OFFSET: page
10,000 costs one index range scan like page 1, and a ticket created while a
client pages through does not shift the rows under it. Tickets reuse the
agent workspace's sorts and cursors (tickets.queues); a message cursor is the
(created_at, id) of the last message of the page.

Each page reads one row more than it returns to know whether a next page
exists, instead of counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.utils.urls import replace_query_param

from tickets import queues
from tickets.models import Message, Ticket

DEFAULT_PAGE_SIZE = 25
BAD_CURSOR = "This is not a cursor this API gave; start again from the first page."
MAX_PAGE_SIZE = 100

# What a ticket row of the API shows, loaded with the page in one query (plus
# one for the tags), whatever the number of rows.
TICKET_RELATED = ("requester", "organization", "category", "team", "assignee")


@dataclass(frozen=True)
class Page:
    rows: list
    next_url: str | None


def _next_url(request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return replace_query_param(request.build_absolute_uri(), "cursor", cursor)


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": [BAD_CURSOR]})


def ticket_page(qs: QuerySet[Ticket], *, request, sort: str, cursor: str | None, size: int) -> Page:
    qs = queues.apply_sort(qs, sort)
    if cursor:
        after = queues.apply_cursor(qs, sort, cursor)
        if after is None:
            raise _bad_cursor()
        qs = after
    rows = list(qs.select_related(*TICKET_RELATED).prefetch_related("tags")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, _next_url(request, queues.encode_cursor(rows[-1], sort) if more else None))


def _encode_message_cursor(message: Message) -> str:
    micros = (message.created_at - queues.EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{message.pk}"


def _after_message_cursor(qs: QuerySet[Message], cursor: str) -> QuerySet[Message]:
    position = queues.parse_cursor(cursor)
    if position is None:
        raise _bad_cursor()
    if position.time is None:
        return qs.none()  # every message has a time: nothing lies past them
    created_at, pk = position.time, position.pk
    # Served by the (ticket, created_at) index; the id breaks ties between
    # messages written in the same microsecond (a merge moves several at once).
    return qs.filter(Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=pk))


def message_page(qs: QuerySet[Message], *, request, cursor: str | None, size: int) -> Page:
    """A page of a conversation, oldest first (the order people read it in)."""
    qs = qs.order_by("created_at", "id")
    if cursor:
        qs = _after_message_cursor(qs, cursor)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, _next_url(request, _encode_message_cursor(rows[-1]) if more else None))
