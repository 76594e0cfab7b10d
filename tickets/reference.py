"""The small lists every workspace page shows in its selects (categories,
teams, agents), read once and kept in the cache.

Each queue view and ticket page would otherwise run three queries (through
server-side cursors on PostgreSQL) for lists that change a few times a year.
Saving or deleting a category, team or user clears the entry (signals wired
in TicketsConfig.ready), so an edit shows on the next page view; the timeout
only bounds how long a missed signal (a raw SQL edit) could linger.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from tickets.models import Category, Role, Team, User

CACHE_KEY = "workspace-reference:v1"
CACHE_SECONDS = 300


@dataclass(frozen=True)
class Reference:
    categories: list[tuple[int, str]]
    teams: list[tuple[int, str]]
    agents: list[tuple[int, str]]


def workspace_reference() -> Reference:
    reference = cache.get(CACHE_KEY)
    if reference is None:
        reference = Reference(
            categories=list(Category.objects.order_by("name").values_list("id", "name")),
            teams=list(Team.objects.order_by("name").values_list("id", "name")),
            agents=list(
                User.objects.filter(is_active=True, role__in=[Role.AGENT, Role.MANAGER])
                .order_by("full_name")
                .values_list("id", "full_name")
            ),
        )
        cache.set(CACHE_KEY, reference, CACHE_SECONDS)
    return reference


def forget_reference(**_signal_kwargs) -> None:
    cache.delete(CACHE_KEY)


def forget_reference_unless_login(update_fields=None, **_signal_kwargs) -> None:
    # Logging in saves last_login only: nothing the lists show.
    if update_fields is None or set(update_fields) != {"last_login"}:
        forget_reference()
