"""The shape of the generated rows, shared by the generator and the sinks.

Rows are plain tuples in the column order below, with values both sinks take
as they are: int, str, bool or None, and timestamps already as UTC text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from tickets.models import Message, Ticket, TicketEvent

# Model field names; the sinks turn them into column names.
TICKET_FIELDS = (
    "id", "subject", "description", "requester", "organization", "channel", "status",
    "priority", "category", "tier", "team", "assignee", "created_at", "updated_at",
    "acknowledged_at", "first_response_at", "solved_at", "closed_at",
)  # fmt: skip
MESSAGE_FIELDS = (
    "id", "ticket", "author", "is_internal", "channel", "body", "email_message_id", "created_at",
)  # fmt: skip
EVENT_FIELDS = (
    "id", "ticket", "actor", "action", "field", "old_value", "new_value", "note", "created_at",
)  # fmt: skip

TABLES: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (Ticket, TICKET_FIELDS),
    (Message, MESSAGE_FIELDS),
    (TicketEvent, EVENT_FIELDS),
)


@dataclass
class Chunk:
    """The rows of a batch of tickets, with their messages and history."""

    tickets: list[tuple] = field(default_factory=list)
    messages: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)

    def tables(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """The rows in the order of TABLES (tickets first, for the foreign keys)."""
        return self.tickets, self.messages, self.events


@dataclass(frozen=True)
class FirstIds:
    """The first free primary key of each table: the generator numbers rows
    itself so messages and events can point at their ticket without a query."""

    ticket: int
    message: int
    event: int
