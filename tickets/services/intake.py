"""The write at the end of intake: what the intake steps decided for each new
ticket, in one UPDATE of the ticket rows and one INSERT of their history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from tickets.history import record_events
from tickets.models import Ticket

if TYPE_CHECKING:
    from tickets.intake import Intake


@transaction.atomic(savepoint=False)
def intake_apply(intakes: Sequence[Intake]) -> None:
    """Store the steps' decisions. The steps changed the tickets in memory
    through Intake.change/set (which also wrote the history events); nothing
    of the ticket row was written meanwhile."""
    changed = [i for i in intakes if i.changed]
    if changed:
        now = timezone.now()
        fields = sorted(set().union(*(i.changed for i in changed)) | {"updated_at"})
        for intake in changed:
            intake.ticket.updated_at = now
        Ticket.objects.bulk_update([i.ticket for i in changed], fields)
    record_events([e for i in intakes for e in i.events])
