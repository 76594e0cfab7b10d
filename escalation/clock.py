"""SLA clocks: start one for a new ticket, keep its due times right as the
ticket changes, and say which thresholds are due.

A target's due time is its start plus the policy's target in business time
plus the business time the ticket spent paused since that start. So a pause
(pending, on hold) moves the due time by exactly the open hours it lasted, and
a priority or tier change re-derives every due time from the same start and
pauses with the new policy: history, not a fresh start.

- first response: from the ticket's creation until the first public staff reply;
- next response: restarts at every customer message after a staff reply, until
  the next public staff reply (`next_response_cycle` numbers the rounds, so
  each round can warn and breach once);
- resolution: from creation until solved (a reopen resumes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

from escalation.business_hours import add_business_time, business_time_between
from escalation.calendars import hours_for
from escalation.models import SLAPolicy, Target, Threshold, TicketSLA
from tickets.models import Status, SupportTier, Ticket

PAUSED_STATUSES = frozenset({Status.PENDING, Status.ON_HOLD})
STOPPED_STATUSES = frozenset({Status.SOLVED, Status.CLOSED})


class TicketStatus(Protocol):
    """What recompute reads of a ticket: its status (the backfill passes a
    stand-in built from one row instead of a Ticket)."""

    @property
    def status(self) -> str: ...


def policy_for(ticket: Ticket) -> SLAPolicy | None:
    """The policy of the ticket's customer tier (guests count as basic) and
    priority."""
    organization = ticket.organization
    tier = organization.support_tier if organization is not None else SupportTier.BASIC
    return (
        SLAPolicy.objects.select_related("calendar")
        .filter(support_tier=tier, priority=ticket.priority)
        .first()
    )


@dataclass(frozen=True)
class Pending:
    """A threshold of a target that has not been acted on yet."""

    target: str
    threshold: str
    at: datetime
    due: datetime
    cycle: int


def _minutes(policy: SLAPolicy, target: str) -> int:
    return getattr(policy, f"{target}_minutes")


def _start_and_pause(sla: TicketSLA, target: str) -> tuple[datetime | None, float]:
    if target == Target.NEXT_RESPONSE:
        return sla.next_response_started_at, sla.next_response_paused_seconds
    return sla.started_at, sla.paused_seconds


def _active(sla: TicketSLA, ticket: TicketStatus, target: str) -> bool:
    if ticket.status in STOPPED_STATUSES:
        return False
    if target == Target.FIRST_RESPONSE:
        return sla.first_response_met_at is None
    if target == Target.NEXT_RESPONSE:
        return sla.next_response_started_at is not None
    return True


def recompute(sla: TicketSLA, ticket: TicketStatus) -> None:
    """Due times and next_check_at from the policy, starts and pauses (not
    saved). Paused or stopped targets have no due time."""
    policy = sla.policy
    hours = hours_for(policy.calendar_id) if policy else None
    for target in Target.values:
        due = None
        start, paused = _start_and_pause(sla, target)
        # (hours is set whenever policy is; testing it too only narrows its type)
        if (
            policy
            and hours is not None
            and start
            and sla.paused_since is None
            and _active(sla, ticket, target)
        ):
            target_time = timedelta(minutes=_minutes(policy, target))
            due = add_business_time(hours, start, target_time + timedelta(seconds=paused))
        setattr(sla, f"{target}_due", due)
    if ticket.status in STOPPED_STATUSES:
        sla.update_due = None
    upcoming = [p.at for p in pending_thresholds(sla)]
    if sla.update_due is not None:
        upcoming.append(sla.update_due)
    sla.next_check_at = min(upcoming, default=None)


def schedule_update(sla: TicketSLA, since: datetime) -> None:
    """The next proactive update is owed HELPDESK_PROACTIVE_UPDATE_HOURS of
    business time after `since` (0 turns them off)."""
    from django.conf import settings

    hours_owed = settings.HELPDESK_PROACTIVE_UPDATE_HOURS
    if not hours_owed or sla.policy is None:
        sla.update_due = None
        return
    sla.update_due = add_business_time(
        hours_for(sla.policy.calendar_id), since, timedelta(hours=hours_owed)
    )


def pending_thresholds(sla: TicketSLA) -> list[Pending]:
    """The warnings and breaches of the running targets not yet recorded,
    with the moment each is reached."""
    policy = sla.policy
    if policy is None:
        return []
    hours = hours_for(policy.calendar_id)
    found = []
    for target in Target.values:
        due = getattr(sla, f"{target}_due")
        if due is None:
            continue
        cycle = sla.next_response_cycle if target == Target.NEXT_RESPONSE else 0
        if getattr(sla, f"{target}_warned_at") is None:
            start, paused = _start_and_pause(sla, target)
            share = timedelta(minutes=_minutes(policy, target) * policy.warning_percent / 100)
            # The target has a due time, and recompute sets one only from a start.
            start_at = cast(datetime, start)
            warn_at = add_business_time(hours, start_at, share + timedelta(seconds=paused))
            found.append(Pending(target, Threshold.WARNING, warn_at, due, cycle))
        if getattr(sla, f"{target}_breached_at") is None:
            found.append(Pending(target, Threshold.BREACH, due, due, cycle))
    return found


def nearest_due(sla: TicketSLA) -> datetime | None:
    """The earliest due time of a running target (what queues sort by); a
    breached one keeps its past due time, so it stays first."""
    return min(
        (due for t in Target.values if (due := getattr(sla, f"{t}_due")) is not None),
        default=None,
    )


def save(sla: TicketSLA, ticket: Ticket) -> bool:
    """Recompute and store the clock, and mirror its nearest due time onto
    the ticket in memory (the one SLA column tickets knows about). Returns
    whether the mirror changed: the caller writes the ticket row — a lifecycle
    hook adds `sla_due_at` to the change's fields, so the service writes the
    row once (escalation.hooks); others call save_and_mirror."""
    recompute(sla, ticket)
    sla.save()
    due = nearest_due(sla)
    if ticket.sla_due_at == due:
        return False
    ticket.sla_due_at = due
    return True


def save_and_mirror(sla: TicketSLA, ticket: Ticket) -> None:
    """save, and write the mirrored due time to the ticket row at once (the
    sweep and other writers outside a ticket service)."""
    if save(sla, ticket):
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=ticket.sla_due_at)


def policies() -> dict[tuple[str, str], SLAPolicy]:
    """Every policy by (customer tier, priority): a handful of rows, read once
    per intake batch instead of once per ticket."""
    return {(p.support_tier, p.priority): p for p in SLAPolicy.objects.select_related("calendar")}


def new_clock(
    ticket: Ticket,
    by_tier_and_priority: dict[tuple[str, str], SLAPolicy],
    *,
    tier: str | None = None,
) -> TicketSLA:
    """The clock of a new ticket (not saved), running from its creation time:
    a ticket whose intake runs late keeps its true deadlines. `tier` overrides
    the customer's (a major incident takes its most demanding report's)."""
    organization = ticket.organization
    if tier is None:
        tier = organization.support_tier if organization is not None else SupportTier.BASIC
    sla = TicketSLA(
        ticket=ticket,
        policy=by_tier_and_priority.get((tier, ticket.priority)),
        started_at=ticket.created_at,
        paused_since=ticket.updated_at if ticket.status in PAUSED_STATUSES else None,
    )
    schedule_update(sla, sla.started_at)
    recompute(sla, ticket)
    return sla


def _pause(sla: TicketSLA, at: datetime) -> None:
    if sla.paused_since is None:
        sla.paused_since = at


def _resume(sla: TicketSLA, at: datetime) -> None:
    if sla.paused_since is None:
        return
    if sla.policy is not None:
        hours = hours_for(sla.policy.calendar_id)
        spent = business_time_between(hours, sla.paused_since, at).total_seconds()
        sla.paused_seconds += spent
        if sla.next_response_started_at is not None:
            # Only the part of the pause after the round started counts for it.
            since = max(sla.paused_since, sla.next_response_started_at)
            sla.next_response_paused_seconds += business_time_between(
                hours, since, at
            ).total_seconds()
    sla.paused_since = None


def on_status(sla: TicketSLA, ticket: Ticket, old: str, new: str, at: datetime) -> bool:
    if new in PAUSED_STATUSES:
        _pause(sla, at)
    elif old in PAUSED_STATUSES:
        _resume(sla, at)
    # Waiting on the customer: we owe them no update; on hold (waiting on us,
    # e.g. the roadmap) we do.
    if new == Status.PENDING:
        sla.update_due = None
    elif old == Status.PENDING and new not in STOPPED_STATUSES:
        schedule_update(sla, at)
    if new == Status.SOLVED and sla.resolution_met_at is None:
        sla.resolution_met_at = at
    if old == Status.SOLVED and new not in STOPPED_STATUSES:
        sla.resolution_met_at = None  # reopened: resolution runs again
        schedule_update(sla, at)
    return save(sla, ticket)


def on_staff_reply(sla: TicketSLA, ticket: Ticket, at: datetime) -> bool:
    if sla.first_response_met_at is None:
        sla.first_response_met_at = at
    sla.next_response_started_at = None
    sla.next_response_paused_seconds = 0
    schedule_update(sla, at)
    return save(sla, ticket)


def on_customer_message(sla: TicketSLA, ticket: Ticket, at: datetime) -> bool:
    """A customer wrote: after a staff reply, the next-response clock restarts
    (a new round that may warn and breach again)."""
    if sla.first_response_met_at is None:
        return False  # still waiting for the first response: that clock covers it
    if sla.next_response_started_at is None:
        sla.next_response_cycle += 1
        sla.next_response_started_at = at
        sla.next_response_paused_seconds = 0
        sla.next_response_warned_at = None
        sla.next_response_breached_at = None
    return save(sla, ticket)


def on_policy_inputs_changed(sla: TicketSLA, ticket: Ticket) -> bool:
    """Priority or the customer's tier changed: the same starts and pauses,
    measured against the new policy."""
    sla.policy = policy_for(ticket)
    return save(sla, ticket)
