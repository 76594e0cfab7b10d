"""The small lists every workspace page shows in its selects (categories,
teams, agents), read once and kept in the cache.

Each queue view and ticket page would otherwise run three queries (through
server-side cursors on PostgreSQL) for lists that change a few times a year.
Saving or deleting a category, team or user clears the entry (signals wired
in TicketsConfig.ready), so an edit shows on the next page view; the timeout
only bounds how long a missed signal (a raw SQL edit) could linger.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import models

from tickets.models import Category, Role, Team, Ticket, User

CACHE_KEY = "workspace-reference:v3"
CACHE_SECONDS = 300


@dataclass(frozen=True)
class Reference:
    categories: list[tuple[int, str]]
    teams: list[tuple[int, str]]
    # Active agents and managers: who can be picked as an assignee.
    agents: list[tuple[int, str]]
    # Every staff member's (name, e-mail), inactive ones too: who can appear
    # as an assignee.
    staff: dict[int, tuple[str, str]] = field(default_factory=dict)


# Within one process the lists are also kept for a moment, so that a burst of
# lookups (a sweep escalating a batch, a page's several queries) does not go to
# the cache server each time. Edits clear this copy in the process that made
# them at once, elsewhere within LOCAL_SECONDS.
LOCAL_SECONDS = 2.0
_local: tuple[float, Reference] | None = None


def workspace_reference() -> Reference:
    global _local
    if _local is not None and time.monotonic() < _local[0]:
        return _local[1]
    reference = cache.get(CACHE_KEY)
    if reference is None:
        reference = Reference(
            categories=list(Category.objects.order_by("name").values_list("id", "name")),
            teams=list(Team.objects.order_by("name").values_list("id", "name")),
            agents=list(
                User.objects.assignable().order_by("full_name").values_list("id", "full_name")
            ),
            staff={
                pk: (name, email)
                for pk, name, email in User.objects.exclude(role=Role.CUSTOMER).values_list(
                    "id", "full_name", "email"
                )
            },
        )
        cache.set(CACHE_KEY, reference, CACHE_SECONDS)
    _local = (time.monotonic() + LOCAL_SECONDS, reference)
    return reference


def forget_reference(**_signal_kwargs) -> None:
    global _local
    _local = None
    cache.delete(CACHE_KEY)


def forget_reference_unless_login(update_fields=None, **_signal_kwargs) -> None:
    # Logging in saves last_login only: nothing the lists show.
    if update_fields is None or set(update_fields) != {"last_login"}:
        forget_reference()


def _loaded(model: type[models.Model], **values) -> models.Model:
    """An instance loaded with only these fields: any other is deferred and read
    from the database if something asks for it, never silently empty."""
    # from_db takes the values in the model's field order.
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[name] for name in names])


def attach_named_relations(tickets: Iterable[Ticket]) -> None:
    """Give tickets their team, category and assignee from the cached lists
    instead of joining three more tables: with those joins, planning a ticket
    query took ~2.7 ms on PostgreSQL against 0.3 ms without (the ticket table
    carries many indexes), ten times its execution. A ticket pointing at
    something the lists lack (just created) keeps the ordinary lazy lookup."""
    reference = workspace_reference()
    teams = dict(reference.teams)
    categories = dict(reference.categories)
    team_field = Ticket._meta.get_field("team")
    category_field = Ticket._meta.get_field("category")
    assignee_field = Ticket._meta.get_field("assignee")
    for ticket in tickets:
        if ticket.team_id in teams:
            team = _loaded(Team, id=ticket.team_id, name=teams[ticket.team_id])
            team_field.set_cached_value(ticket, team)
        if ticket.category_id in categories:
            name = categories[ticket.category_id]
            category_field.set_cached_value(
                ticket, _loaded(Category, id=ticket.category_id, name=name)
            )
        if ticket.assignee_id in reference.staff:
            name, email = reference.staff[ticket.assignee_id]
            assignee_field.set_cached_value(
                ticket, _loaded(User, id=ticket.assignee_id, full_name=name, email=email)
            )
