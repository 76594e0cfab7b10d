"""Each ticket's timeline as the metrics need it, read in three queries
whatever the number of tickets: the ticket rows (with the SLA policy its
clock uses), their status changes (-> pauses, reopenings), and their public
messages (-> the first response and the next-response rounds).

The measures follow the SLA clock (escalation/clock.py) exactly:

- a *pause* runs while the ticket is pending (waiting on the customer) or on
  hold: from the status change into either until the change out of both;
- *business time* between two moments is the open time of the ticket's SLA
  calendar (the calendar of the policy on `TicketSLA.policy`, chosen by the
  customer tier and the priority) minus the open time spent paused in
  between;
- a *due time* is the start plus the target plus the open time paused since
  the start, added in business time (escalation.business_hours);
- a *next-response round* starts at a customer's public message after a
  public staff reply (later customer messages before our answer join the
  same round) and ends at the next public staff reply.

A public staff message is a public message by an agent, manager or admin
(tickets.models.STAFF_ROLES) or by the system; everything else public is
the customer's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from escalation.business_hours import Hours, add_business_time, business_time_between
from escalation.calendars import hours_for
from tickets.models import STAFF_ROLES, Message, Status, SupportTier, Ticket, TicketEvent

PAUSED = frozenset({Status.PENDING.value, Status.ON_HOLD.value})
STATUS_ACTIONS = ("ticket.status_changed", "ticket.reopened")
# Any one of the three targets, by its name in escalation.models.Target.
TARGETS = ("first_response", "next_response", "resolution")


# A public message by staff (or by the system, which tickets.services.base.
# is_staff counts as staff).
STAFF_AUTHOR = Q(author__isnull=True) | Q(author__role__in=list(STAFF_ROLES))


def conversation_messages() -> QuerySet[Message]:
    """The public messages of the conversation after the request itself:
    ticket_create's first message (the description, by the requester at the
    creation time) is no reply, even when staff opened a ticket for
    themselves."""
    return Message.objects.filter(is_internal=False).exclude(
        created_at=F("ticket__created_at"), author_id=F("ticket__requester_id")
    )


@dataclass
class Timeline:
    """One ticket: its row, its SLA policy's calendar and targets, pauses,
    next-response rounds and reopenings."""

    id: int
    created_at: datetime
    solved_at: datetime | None
    first_response_at: datetime | None
    priority: str
    customer_tier: str
    assignee_id: int | None
    hours: Hours | None
    # Target minutes by target name; empty without an SLA policy.
    targets: dict[str, int] = field(default_factory=dict)
    # (start, end); end None while the ticket is still paused.
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    rounds: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    reopenings: int = 0
    # Every change of status to solved.
    solves: list[datetime] = field(default_factory=list)

    def paused_business(self, hours: Hours, start: datetime, end: datetime) -> timedelta:
        """Open time of the calendar spent paused within [start, end]."""
        total = timedelta(0)
        for paused_from, paused_until in self.pauses:
            since = max(paused_from, start)
            until = end if paused_until is None else min(paused_until, end)
            total += business_time_between(hours, since, until)
        return total

    def business_seconds(self, start: datetime, end: datetime) -> float | None:
        """Business time between two moments, pauses left out; None without
        an SLA calendar."""
        if self.hours is None:
            return None
        open_time = business_time_between(self.hours, start, end)
        return (open_time - self.paused_business(self.hours, start, end)).total_seconds()

    def due(self, target: str, start: datetime, until: datetime) -> datetime | None:
        """The clock's due time of `target` started at `start`, with the
        pauses up to `until` (the moment it was met, or "now")."""
        if self.hours is None or target not in self.targets:
            return None
        paused = self.paused_business(self.hours, start, until)
        extra = timedelta(minutes=self.targets[target]) + paused
        return add_business_time(self.hours, start, extra)


def load_timelines(tickets: QuerySet[Ticket]) -> list[Timeline]:
    """The timelines of `tickets` (a filtered queryset): three queries, plus
    one per SLA calendar not yet cached in this process (escalation.calendars)."""
    rows = tickets.order_by("id").values_list(
        "id",
        "created_at",
        "solved_at",
        "first_response_at",
        "priority",
        Coalesce("organization__support_tier", Value(SupportTier.BASIC.value)),
        "assignee_id",
        "sla__policy__calendar_id",
        "sla__policy__first_response_minutes",
        "sla__policy__next_response_minutes",
        "sla__policy__resolution_minutes",
    )
    timelines: dict[int, Timeline] = {}
    for (pk, created, solved, first_response, priority, customer_tier, assignee_id,
         calendar_id, *minutes) in rows:  # fmt: skip
        timelines[pk] = Timeline(
            id=pk,
            created_at=created,
            solved_at=solved,
            first_response_at=first_response,
            priority=priority,
            customer_tier=customer_tier,
            assignee_id=assignee_id,
            hours=hours_for(calendar_id) if calendar_id is not None else None,
            targets=dict(zip(TARGETS, minutes, strict=True)) if calendar_id is not None else {},
        )
    if not timelines:
        return []
    ids = tickets.values_list("id", flat=True)
    _add_status_history(timelines, ids)
    _add_conversation(timelines, ids)
    return list(timelines.values())


def _add_status_history(timelines: dict[int, Timeline], ids: QuerySet[Ticket, int]) -> None:
    changes = (
        TicketEvent.objects.filter(ticket_id__in=ids, action__in=STATUS_ACTIONS, field="status")
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "created_at", "old_value", "new_value", "action")
    )
    paused_since: dict[int, datetime] = {}
    for ticket_id, at, old, new, action in changes:
        timeline = timelines[ticket_id]
        # As escalation.clock.on_status: entering a paused status pauses,
        # leaving both resumes.
        if new in PAUSED:
            paused_since.setdefault(ticket_id, at)
        elif old in PAUSED and ticket_id in paused_since:
            timeline.pauses.append((paused_since.pop(ticket_id), at))
        if action == "ticket.reopened":
            timeline.reopenings += 1
        if new == Status.SOLVED.value:
            timeline.solves.append(at)
    for ticket_id, since in paused_since.items():
        timelines[ticket_id].pauses.append((since, None))


def _add_conversation(timelines: dict[int, Timeline], ids: QuerySet[Ticket, int]) -> None:
    by_staff = ExpressionWrapper(STAFF_AUTHOR, output_field=BooleanField())
    messages = (
        conversation_messages()
        .filter(ticket_id__in=ids)
        .annotate(by_staff=by_staff)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "created_at", "by_staff")
    )
    answered: set[int] = set()
    round_start: dict[int, datetime] = {}
    for ticket_id, at, staff in messages:
        timeline = timelines[ticket_id]
        if staff:
            answered.add(ticket_id)
            started = round_start.pop(ticket_id, None)
            if started is not None:
                timeline.rounds.append((started, at))
        elif ticket_id in answered:
            # As escalation.clock.on_customer_message: only after the first
            # response, and a running round keeps its start.
            round_start.setdefault(ticket_id, at)
    for ticket_id, started in round_start.items():
        timelines[ticket_id].rounds.append((started, None))
