"""The ticket page's properties panel in one step, tags, and the optimistic
concurrency check that keeps two agents from overwriting each other."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from core.inputs import parse_int
from tickets.errors import DomainError
from tickets.models import Tag, Ticket, User
from tickets.services.base import Edit, locked, require_staff
from tickets.services.lifecycle import apply_status, assign, route_again, update_properties

# --- optimistic concurrency ---------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The largest version a datetime can hold (31 December 9999).
_LAST_VERSION = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


def ticket_version(ticket: Ticket) -> str:
    """The version a form was rendered from: updated_at in whole microseconds."""
    return str((ticket.updated_at - _EPOCH) // timedelta(microseconds=1))


class StaleTicket(DomainError):
    """The ticket changed (by someone else) after the form was rendered."""


def check_version(ticket: Ticket, expected_version: str | None, actor: User | None) -> None:
    """Refuse when people other than `actor` changed the ticket after the version
    the form was rendered from. The actor's own changes (another tab) and the
    system's (acknowledgements) do not count as a conflict."""
    if not expected_version or ticket_version(ticket) == expected_version:
        return
    since = parse_int(expected_version, maximum=_LAST_VERSION)
    if since is None:
        # Not a version we ever wrote ("²", "-1", a time past the year 9999).
        raise DomainError("The form was damaged; reload the page.", field="version")
    seen_at = _EPOCH + timedelta(microseconds=since)
    others = (
        ticket.events.filter(created_at__gt=seen_at, actor__isnull=False)
        .exclude(actor=actor)
        .select_related("actor")
        .order_by("created_at")
    )
    changes = [
        f"{e.actor.full_name} ({e.action.removeprefix('ticket.')})"
        for e in others[:5]
        if e.actor is not None  # always, by the query; this narrows the type
    ]
    if changes:
        raise StaleTicket(
            f"{ticket.key} changed while you were working on it: {', '.join(changes)}. "
            "Review the latest version, then send again.",
            code="stale",
        )


# --- tags -------------------------------------------------------------------


def _tag_names(raw: str | Iterable[str]) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else raw
    names: list[str] = []
    for item in items:
        name = " ".join(item.strip().lower().split())[:50]
        if name and name not in names:
            names.append(name)
    return names


def set_tags(edit: Edit, tags: str | Iterable[str]) -> None:
    """ticket_set_tags as part of an edit: one history event with the tags
    before and after."""
    require_staff(edit.actor, "tag tickets")
    ticket = edit.ticket
    wanted = _tag_names(tags)
    current = {t.name: t for t in ticket.tags.all()}
    added = [n for n in wanted if n not in current]
    removed = [n for n in current if n not in wanted]
    if not added and not removed:
        return
    for name in added:
        tag, _ = Tag.objects.get_or_create(name=name)
        ticket.tags.add(tag)
    ticket.tags.remove(*(current[name] for name in removed))
    edit.record(
        action="ticket.tags_changed",
        field="tags",
        old=", ".join(sorted(current)),
        new=", ".join(sorted(wanted)),
    )
    edit.fields.add("updated_at")


@transaction.atomic
def ticket_set_tags(*, ticket: Ticket, tags: str | Iterable[str], actor: User) -> Ticket:
    """Make the ticket's tags exactly `tags`, recording what they were."""
    require_staff(actor, "tag tickets")
    edit = Edit(locked(ticket), actor=actor, now=timezone.now())
    set_tags(edit, tags)
    return edit.finish()


@transaction.atomic
def ticket_add_tag(*, ticket: Ticket, tag: str, actor: User) -> Ticket:
    names = _tag_names([tag])
    if not names:
        raise DomainError("The tag is empty.", field="tag")
    current = list(ticket.tags.values_list("name", flat=True))
    return ticket_set_tags(ticket=ticket, tags=[*current, names[0]], actor=actor)


# --- properties edited in place -------------------------------------------------


@transaction.atomic
def ticket_set_properties(
    *,
    ticket: Ticket,
    actor: User,
    expected_version: str | None = None,
    status: str | None = None,
    assignee: User | None | Literal[False] = False,
    tags: str | None = None,
    **changes: Any,
) -> Ticket:
    """Apply the ticket page's properties panel in one step (one write of the
    ticket row). `assignee=False` means "not in the form"; None means
    unassigned."""
    require_staff(actor, "change ticket properties")
    edit = Edit(locked(ticket), actor=actor, now=timezone.now())
    check_version(edit.ticket, expected_version, actor)
    if changes:
        update_properties(edit, **changes)
    if assignee is not False:
        assign(edit, assignee)
    if tags is not None:
        set_tags(edit, tags)
    if status is not None:
        apply_status(edit, status)
    route_again(edit)
    return edit.finish()
