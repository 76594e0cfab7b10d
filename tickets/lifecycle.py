"""What happens when an existing ticket changes: the lifecycle hooks.

Two ordered lists in settings show the whole flow of a ticket:

- HELPDESK_INTAKE_STEPS (tickets/intake.py): what happens once to every new
  ticket — classify, route, start the SLA clock, detect escalations,
  acknowledge.
- HELPDESK_LIFECYCLE_HOOKS (here): what happens whenever a ticket changes
  after that — its status, a message, its properties (priority, tier, team,
  category, assignee...), a merge, its customer's support tier.

The services (tickets/services/) make the change (in memory), record it in
the history, call `announce(change)` — which calls every hook in the order of
the setting, inside the same transaction: a hook that raises undoes the whole
change — and then write the ticket row once. A hook that keeps a mirrored
field of the ticket (the SLA clock's `sla_due_at`) sets it on `change.ticket`
and adds its name to `change.fields`, never writes the ticket row itself: one
UPDATE per ticket and transaction, so PostgreSQL never re-checks the row's
foreign keys at commit (the locks that re-check takes deadlocked with the
incident detector's category lock). Apps built on tickets (the SLA clock of
escalation; analytics and the knowledge base next) register a hook class
there; tickets never imports them.

A hook subclasses LifecycleHook and overrides the methods of the changes it
cares about; the others do nothing. Bulk services announce one change per
ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from tickets.models import Message, Organization, Ticket, User


@dataclass(frozen=True)
class TicketCreated:
    """A ticket was stored (before its intake steps run). `ticket` is the new
    row; hooks must not change it (intake decides its fields)."""

    ticket: Ticket
    actor: User | None
    at: datetime


@dataclass(frozen=True)
class StatusChanged:
    """The status moved along the lifecycle (merges close through here too)."""

    ticket: Ticket
    actor: User | None
    at: datetime
    old: str
    new: str
    # The ticket fields the service writes after the hooks (they add theirs).
    fields: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class MessageAdded:
    """A public reply or an internal note. `by_staff` tells a helpdesk reply
    (or the system's) from a customer's message."""

    ticket: Ticket
    message: Message
    actor: User | None
    at: datetime
    by_staff: bool
    fields: set[str] = field(default_factory=set)

    @property
    def is_public(self) -> bool:
        return not self.message.is_internal


@dataclass(frozen=True)
class PropertiesChanged:
    """Some of priority, tier, team, category, subject, assignee, parent
    changed: `changes` maps each field to its (old, new) value."""

    ticket: Ticket
    actor: User | None
    at: datetime
    changes: Mapping[str, tuple[object, object]]
    fields: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class TicketMerged:
    """`source` was merged into `target` (and closed: a StatusChanged for the
    source is announced first)."""

    source: Ticket
    target: Ticket
    actor: User | None
    at: datetime


@dataclass(frozen=True)
class OrganizationTierChanged:
    """A customer account moved to another support tier (which selects the SLA
    policy of its tickets)."""

    organization: Organization
    actor: User | None
    at: datetime
    old: str
    new: str


Change = (
    TicketCreated
    | StatusChanged
    | MessageAdded
    | PropertiesChanged
    | TicketMerged
    | OrganizationTierChanged
)


class LifecycleHook:
    """Base class of the hooks in HELPDESK_LIFECYCLE_HOOKS: a method per kind
    of change, each a no-op until a hook overrides it."""

    def ticket_created(self, change: TicketCreated) -> None:
        """A ticket was stored."""

    def status_changed(self, change: StatusChanged) -> None:
        """A ticket's status changed."""

    def message_added(self, change: MessageAdded) -> None:
        """A message was added to a ticket's conversation."""

    def properties_changed(self, change: PropertiesChanged) -> None:
        """Properties of a ticket changed."""

    def ticket_merged(self, change: TicketMerged) -> None:
        """A ticket was merged into another."""

    def organization_tier_changed(self, change: OrganizationTierChanged) -> None:
        """A customer account's support tier changed."""

    def handle(self, change: Change) -> None:
        match change:
            case TicketCreated():
                self.ticket_created(change)
            case StatusChanged():
                self.status_changed(change)
            case MessageAdded():
                self.message_added(change)
            case PropertiesChanged():
                self.properties_changed(change)
            case TicketMerged():
                self.ticket_merged(change)
            case OrganizationTierChanged():
                self.organization_tier_changed(change)


@cache
def _hooks(paths: tuple[str, ...]) -> tuple[LifecycleHook, ...]:
    hooks = []
    for path in paths:
        hook = import_string(path)()
        if not isinstance(hook, LifecycleHook):
            raise TypeError(f"{path} in HELPDESK_LIFECYCLE_HOOKS is not a LifecycleHook")
        hooks.append(hook)
    return tuple(hooks)


def lifecycle_hooks() -> tuple[LifecycleHook, ...]:
    return _hooks(tuple(settings.HELPDESK_LIFECYCLE_HOOKS))


def announce(change: Change) -> None:
    """Call every lifecycle hook, in the order of the setting, with `change`."""
    for hook in lifecycle_hooks():
        hook.handle(change)
