"""Intake: the one way a ticket enters the helpdesk, whatever the channel.

`intake_ticket` stores the ticket with `services.ticket_create`, then runs the
intake steps named in settings.HELPDESK_INTAKE_STEPS, in order, inside the
same transaction — like MIDDLEWARE, the list is the whole flow in one place:
classify, place (tier, team), assign, start the SLA clock, link to a major
incident, escalate for the customer, acknowledge. A step that raises undoes
the whole intake: no half a ticket. Mail leaves after the commit (outbox).

A step is a callable `step(intakes: Sequence[Intake]) -> None` over a batch
of new tickets (one, today; a batched enrichment runs the same steps over
many). Each Intake carries its ticket — loaded once and passed down — with
what the submitter chose explicitly and what earlier steps decided (typed
fields, not a dict). Steps change the ticket row only through
`Intake.change` / `Intake.set`, which keep the decision and its history event
in memory; `services.intake_apply` then writes all of it with one UPDATE and
one INSERT. Other rows (the SLA clock, an escalation, the outbox) the steps
write through their own services.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.module_loading import import_string

from tickets import services
from tickets.history import event
from tickets.models import Category, Priority, Team, Ticket, TicketEvent, User
from tickets.suggestions import ShownSuggestion, shown_articles_record

if TYPE_CHECKING:
    from tickets.classification.steps import Decision


@dataclass
class Intake:
    """One new ticket on its way through the intake steps."""

    ticket: Ticket
    # What the submitter chose explicitly (an agent on the phone, an API
    # client, a mailbox's defaults): the steps respect it and fill in the rest.
    actor: User | None = None
    explicit_priority: str | None = None
    explicit_category: Category | None = None
    explicit_team: Team | None = None
    # The Message-IDs the acknowledgement answers (the customer's e-mail).
    thread: tuple[str, ...] = ()
    # Set by the classify step: category, priority, sentiment and why.
    classification: Decision | None = None
    # Ticket fields the steps changed (written by services.intake_apply) and
    # the history of those decisions.
    changed: set[str] = field(default_factory=set)
    events: list[TicketEvent] = field(default_factory=list)

    @property
    def text(self) -> str:
        """What the customer wrote, as the classifier and detectors read it."""
        return f"{self.ticket.subject}\n{self.ticket.description}"

    def change(self, field_name: str, value: Any, *, note: str = "", action: str = "") -> None:
        """A decision about the ticket, with its history event (the system's,
        with `note` saying why). Nothing is written until intake_apply."""
        old = getattr(self.ticket, field_name)
        if old == value:
            return
        setattr(self.ticket, field_name, value)
        self.changed.add(field_name)
        self.events.append(
            event(
                self.ticket,
                actor=None,
                action=action or f"ticket.{field_name}_changed",
                field=field_name,
                old=old,
                new=value,
                note=note,
            )
        )

    def set(self, **values: Any) -> None:
        """Values that are scores or mirrors, not decisions (sentiment, the
        SLA due time): stored without a history event."""
        for field_name, value in values.items():
            setattr(self.ticket, field_name, value)
            self.changed.add(field_name)

    def record(self, action: str, **details: Any) -> None:
        """A history event about the ticket that changes none of its fields."""
        self.events.append(event(self.ticket, actor=None, action=action, **details))


IntakeStep = Callable[[Sequence[Intake]], None]


@cache
def _steps(paths: tuple[str, ...]) -> tuple[IntakeStep, ...]:
    return tuple(import_string(path) for path in paths)


def intake_steps() -> tuple[IntakeStep, ...]:
    return _steps(tuple(settings.HELPDESK_INTAKE_STEPS))


def run_intake(intakes: Sequence[Intake]) -> None:
    """Run every intake step over the batch, then store what they decided."""
    for step in intake_steps():
        step(intakes)
    services.intake_apply(intakes)


@transaction.atomic
def intake_ticket(
    *,
    requester: User,
    subject: str,
    description: str,
    channel: str,
    attachments: Sequence[UploadedFile] = (),
    actor: User | None = None,
    priority: str | None = None,
    category: Category | None = None,
    team: Team | None = None,
    email_message_id: str = "",
    shown_articles: Sequence[ShownSuggestion] = (),
) -> Ticket:
    """Open a ticket from any channel and run the intake steps on it.

    `priority`, `category` and `team` are what the submitter chose explicitly;
    the steps respect them and fill in the rest. `shown_articles` are the
    articles the portal suggested while the request was written (checked by
    the caller: tickets.suggestions.shown_read), kept with the ticket."""
    ticket = services.ticket_create(
        requester=requester,
        subject=subject,
        description=description,
        channel=channel,
        priority=priority or Priority.NORMAL,
        category=category,
        team=team,
        actor=actor,
        attachments=attachments,
        email_message_id=email_message_id,
    )
    if shown_articles:
        shown_articles_record(ticket=ticket, shown=shown_articles)
    run_intake(
        [
            Intake(
                ticket=ticket,
                actor=actor,
                explicit_priority=priority,
                explicit_category=category,
                explicit_team=team,
                thread=(email_message_id,) if email_message_id else (),
            )
        ]
    )
    return ticket


def acknowledge(intakes: Sequence[Intake]) -> None:
    """Intake step: queue the "we received your request" e-mail for every new
    ticket whose requester gets one (services.acknowledgement_wanted)."""
    services.mail_queue([services.acknowledgement(i.ticket, thread=i.thread) for i in intakes])
