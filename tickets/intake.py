"""Intake: the one way a ticket enters the helpdesk, whatever the channel.

`intake_ticket` opens the ticket with `services.ticket_create` and then runs
the intake steps named in settings.HELPDESK_INTAKE_STEPS, in order, inside the
same transaction (like MIDDLEWARE, the list is the whole flow in one place):
classify, route, and — as their apps arrive — start the SLA clock and suggest
articles. A step that raises undoes the whole intake: no half a ticket.
Notifications are enqueued by the services and leave after the commit.

A step is a callable `step(ticket, context) -> None` that changes the ticket
only through services and may read or add to `context` (a dict shared by the
steps of one intake: "text", "explicit_priority", "explicit_category"...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.module_loading import import_string

from tickets import services
from tickets.models import Category, Team, Ticket, User

IntakeStep = Callable[[Ticket, dict], None]


@cache
def _steps(paths: tuple[str, ...]) -> tuple[IntakeStep, ...]:
    return tuple(import_string(path) for path in paths)


def intake_steps() -> tuple[IntakeStep, ...]:
    return _steps(tuple(settings.HELPDESK_INTAKE_STEPS))


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
) -> Ticket:
    """Open a ticket from any channel and run the intake steps on it.

    `priority`, `category` and `team` are what the submitter chose explicitly
    (an agent on the phone, an API client, a mailbox's defaults); the steps
    respect them and fill in the rest."""
    ticket = services.ticket_create(
        requester=requester,
        subject=subject,
        description=description,
        channel=channel,
        priority=priority or "normal",
        category=category,
        team=team,
        actor=actor,
        attachments=attachments,
        email_message_id=email_message_id,
    )
    context = {
        "text": f"{ticket.subject}\n{ticket.description}",
        "explicit_priority": priority,
        "explicit_category": category,
        "explicit_team": team,
        "actor": actor,
    }
    for step in intake_steps():
        step(ticket, context)
    ticket.refresh_from_db()
    return ticket
