"""The e-mails of escalations: collected while escalating and queued in the
outbox with one INSERT, sent after the commit (tickets/email/outbox.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tickets import services
from tickets.models import (
    OutboundEmail,
    Role,
    Ticket,
    User,
)

if TYPE_CHECKING:
    pass


class Notifications:
    """The e-mails of one escalation run (an intake, a sweep batch), queued
    in the outbox with one INSERT and sent after the commit."""

    def __init__(self) -> None:
        self.pending: list[OutboundEmail] = []

    def mail(
        self,
        ticket: Ticket,
        *,
        kind: str,
        audience: str,
        user: User | None,
        subject: str,
        body: str,
    ) -> bool:
        if user is None:
            return False
        row = services.ticket_mail(
            ticket,
            kind=kind,
            subject=subject,
            body=body,
            to=user,
            audience=audience,
            auto="auto-generated",
        )
        if row is None:
            return False
        self.pending.append(row)
        return True

    def flush(self) -> None:
        services.mail_queue(self.pending)
        self.pending = []


def managers() -> list[User]:
    return list(User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk"))


def team_lead(ticket: Ticket) -> User | None:
    team = ticket.team
    return team.lead if team is not None and team.lead_id else None


def mail_people(
    notifications: Notifications,
    ticket: Ticket,
    *,
    kind: str,
    recipients: Sequence[tuple[str, User | None]],
    subject: str,
    body: str,
) -> list[str]:
    """Queue one mail per person (audience, user), each person once; returns
    what was done, for the escalation's record."""
    done: list[str] = []
    seen: set[int] = set()
    for audience, user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        if notifications.mail(
            ticket, kind=kind, audience=audience, user=user, subject=subject, body=body
        ):
            done.append(f"notified {audience} {user.email}")
    return done
