"""What every ticket service shares: the locked re-read, the staff check,
model validation mapped to DomainError."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from tickets import history, search
from tickets.errors import DomainError
from tickets.lifecycle import Change, PropertiesChanged, announce
from tickets.models import Ticket, TicketEvent, User
from tickets.reference import attach_named_relations


def validate(obj: models.Model) -> None:
    """full_clean, with the first problem raised as a DomainError on its field."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(" ".join(messages), field=None if field == "__all__" else field) from exc


def locked(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock so concurrent writes serialise.
    Team, category and assignee come from the cached lists (see
    reference.attach_named_relations: joining them costs more to plan than to
    run); their other fields load when first read."""
    fresh = (
        Ticket.objects.select_for_update(of=("self",), no_key=True)
        .select_related("requester", "organization")
        .get(pk=ticket.pk)
    )
    attach_named_relations([fresh])
    return fresh


def is_staff(user: User | None) -> bool:
    """Helpdesk staff (or the system, None) as opposed to a customer."""
    return user is None or user.has_perm("tickets.work_tickets")


def require_staff(actor: User | None, what: str) -> None:
    if not is_staff(actor):
        raise DomainError(f"Only helpdesk staff can {what}.", code="permission_denied")


class Edit:
    """The changes one service call (and the services it calls) makes to one
    locked ticket, made in memory and then written once: the history with one
    INSERT, the lifecycle hooks told (they may add mirrored fields, e.g. the
    SLA due time), then one UPDATE of the ticket row. Writing the row once per
    transaction keeps PostgreSQL from re-checking its foreign keys at commit
    (a second UPDATE of a row makes it take FOR KEY SHARE on every row the
    ticket points at, which deadlocked with the incident detector)."""

    def __init__(self, ticket: Ticket, *, actor: User | None, now: datetime) -> None:
        self.ticket = ticket
        self.actor = actor
        self.now = now
        self.fields: set[str] = set()
        self.events: list[TicketEvent] = []
        # Property changes (field -> (old, new)), announced as one PropertiesChanged.
        self.changes: dict[str, tuple[object, object]] = {}
        self.announcements: list[Change] = []
        self.reindex = False

    def set(self, field: str, value: object) -> object:
        """Set a field; returns its old value."""
        old = getattr(self.ticket, field)
        setattr(self.ticket, field, value)
        self.fields.add(field)
        return old

    def change(
        self,
        field: str,
        value: object,
        *,
        note: str = "",
        action: str = "",
        by_system: bool = False,
    ) -> bool:
        """A property change with its history event (nothing when unchanged)."""
        old = getattr(self.ticket, field)
        if old == value:
            return False
        self.set(field, value)
        self.changes[field] = (old, value)
        self.record(
            action=action or f"ticket.{field}_changed",
            field=field,
            old=old,
            new=value,
            note=note,
            by_system=by_system,
        )
        return True

    def record(self, *, action: str, by_system: bool = False, **details: Any) -> None:
        """A history event by the edit's actor (or the system's)."""
        actor = None if by_system else self.actor
        self.events.append(
            history.event(self.ticket, actor=actor, action=action, at=self.now, **details)
        )

    def announce(self, change: Change) -> None:
        """Queue a change for the lifecycle hooks (told in finish, in order)."""
        self.announcements.append(change)

    def finish(self) -> Ticket:
        if self.changes:
            self.announcements.insert(
                0,
                PropertiesChanged(
                    ticket=self.ticket,
                    actor=self.actor,
                    at=self.now,
                    changes=dict(self.changes),
                    fields=self.fields,
                ),
            )
        history.record_events(self.events)
        for change in self.announcements:
            announce(change)
        if self.fields or self.reindex:
            self.ticket.updated_at = self.now
            self.fields.add("updated_at")
            if self.reindex and search.is_supported():
                # The search vector in the same UPDATE: one write of the row.
                search.save_with_vector(self.ticket, sorted(self.fields))
            else:
                self.ticket.save(update_fields=sorted(self.fields))
        return self.ticket
