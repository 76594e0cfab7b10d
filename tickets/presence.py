"""Who else is looking at a ticket right now (the collision warning).

Each agent's ticket page reports in every few seconds; an entry older than
PRESENCE_TTL is gone. Kept in the shared cache (Redis in production): it is
ephemeral by nature, and a lost update costs one refresh interval, nothing more.
"""

import time

from django.core.cache import cache

from tickets.models import User

PRESENCE_TTL = 30  # seconds; the page reports every 10
STATES = ("viewing", "replying")


def _key(ticket_id: int) -> str:
    return f"presence:ticket:{ticket_id}"


def presence_report(*, ticket_id: int, user: User, state: str) -> list[dict]:
    """Record that `user` is viewing/replying and return the *other* agents
    present, most active first."""
    if state not in STATES:
        state = "viewing"
    now = time.time()
    entries = cache.get(_key(ticket_id)) or {}
    entries = {uid: e for uid, e in entries.items() if now - e["at"] < PRESENCE_TTL}
    entries[str(user.pk)] = {"name": user.full_name, "state": state, "at": now}
    cache.set(_key(ticket_id), entries, PRESENCE_TTL)
    others = [e for uid, e in entries.items() if uid != str(user.pk)]
    return sorted(others, key=lambda e: (e["state"] != "replying", e["name"]))


def presence_leave(*, ticket_id: int, user: User) -> None:
    entries = cache.get(_key(ticket_id)) or {}
    if entries.pop(str(user.pk), None) is not None:
        cache.set(_key(ticket_id), entries, PRESENCE_TTL)
