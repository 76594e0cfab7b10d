"""The ticket's history (TicketEvent): one way to write it.

Every change of a ticket is recorded with a dotted action name
(`ticket.assigned`, `sla.breach`, `mail.failed`), who did it (None for the
system), the field with its old and new value, and a note saying why. The
services write history for what they change; other apps record what they did
to a ticket (an escalation, an SLA warning) with `record_event`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from tickets.models import Ticket, TicketEvent, User


def display(value: object) -> str:
    """How a value is written into the history (people by e-mail)."""
    if value is None:
        return ""
    if isinstance(value, User):
        return value.email
    return str(value)[:255]


def event(
    ticket: Ticket | int,
    *,
    actor: User | None,
    action: str,
    field: str = "",
    old: object = "",
    new: object = "",
    note: str = "",
    at: datetime | None = None,
) -> TicketEvent:
    """A history event, not yet saved (several go in with one INSERT)."""
    return TicketEvent(
        ticket_id=ticket if isinstance(ticket, int) else ticket.pk,
        actor=actor,
        action=action,
        field=field,
        old_value=display(old),
        new_value=display(new),
        note=note[:500],
        created_at=at or timezone.now(),
    )


def record_event(
    ticket: Ticket | int,
    *,
    actor: User | None,
    action: str,
    field: str = "",
    old: object = "",
    new: object = "",
    note: str = "",
    at: datetime | None = None,
) -> TicketEvent:
    """Write one history event now."""
    created = event(
        ticket, actor=actor, action=action, field=field, old=old, new=new, note=note, at=at
    )
    created.save()
    return created


def record_events(events: Sequence[TicketEvent]) -> None:
    """Write several events with one INSERT."""
    if events:
        TicketEvent.objects.bulk_create(events)
