"""What every ticket service shares: the locked re-read, the staff check,
model validation mapped to DomainError."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from tickets.errors import DomainError
from tickets.models import Ticket, User
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
        Ticket.objects.select_for_update(of=("self",))
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
