"""The shape of the generated rows, shared by the generator and the sinks.

Rows are plain tuples in the column order below, with values both sinks take
as they are: int, str, bool or None, and timestamps already as UTC text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from analytics.models import CSATResponse, SurveyInvite
from escalation.models import Escalation
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

SURVEY_INVITE_FIELDS = (
    "id", "ticket", "round", "state", "customer", "agent", "team", "solved_at", "due_at",
    "sent_at", "created_at",
)  # fmt: skip
CSAT_RESPONSE_FIELDS = (
    "id", "ticket", "round", "customer", "rating", "comment", "effort", "source", "agent", "team",
    "answered_at", "updated_at", "followed_up_at", "followed_up_by",
)  # fmt: skip
ESCALATION_FIELDS = (
    "id", "ticket", "kind", "target", "threshold", "cycle", "due_at", "to_tier", "actor",
    "reason", "actions", "created_at",
)  # fmt: skip

TABLES: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (Ticket, TICKET_FIELDS),
    (Message, MESSAGE_FIELDS),
    (TicketEvent, EVENT_FIELDS),
    (SurveyInvite, SURVEY_INVITE_FIELDS),
    (CSATResponse, CSAT_RESPONSE_FIELDS),
    (Escalation, ESCALATION_FIELDS),
)


@dataclass
class Chunk:
    """The rows of a batch of tickets, with their messages and history."""

    tickets: list[tuple] = field(default_factory=list)
    messages: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    # The CSAT rounds of the solves, and their answers (demo.surveys).
    survey_invites: list[tuple] = field(default_factory=list)
    csat_responses: list[tuple] = field(default_factory=list)
    # The tier escalations the history plays (escalation.models.Escalation).
    escalations: list[tuple] = field(default_factory=list)

    def tables(self) -> tuple[list[tuple], ...]:
        """The rows in the order of TABLES (tickets first, for the foreign keys)."""
        return (
            self.tickets,
            self.messages,
            self.events,
            self.survey_invites,
            self.csat_responses,
            self.escalations,
        )


@dataclass(frozen=True)
class FirstIds:
    """The first free primary key of each table: the generator numbers rows
    itself so messages and events can point at their ticket without a query."""

    ticket: int
    message: int
    event: int
    survey_invite: int = 1
    csat_response: int = 1
    escalation: int = 1
