"""SLA compliance per target, recomputed from the raw history with the SLA
clock's own arithmetic (escalation.clock): the due time of a target is its
start plus the policy's target plus the open time paused since the start,
in business time of the policy's calendar."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from analytics.metrics.filters import MetricFilter, filter_tickets
from analytics.metrics.stats import Compliance
from analytics.metrics.timeline import TARGETS, Timeline, load_timelines


def _judge(
    timeline: Timeline, target: str, start: datetime, met_at: datetime | None, now: datetime
) -> bool | None:
    """True met, False breached, None still running within its time."""
    if met_at is not None:
        due = timeline.due(target, start, met_at)
        return None if due is None else met_at <= due
    # Not met: the clock stops the target while the ticket is solved or
    # closed, so it is judged at the solve; otherwise at `now`.
    stop = timeline.solved_at or now
    due = timeline.due(target, start, stop)
    if due is None or due > stop:
        return None
    return False


def target_outcomes(timeline: Timeline, now: datetime) -> list[tuple[str, bool]]:
    """(target, met) for every target of the ticket decided by `now`: its
    first response, each next-response round, its resolution. Tickets
    without an SLA policy have none."""
    if not timeline.targets:
        return []
    judged = [
        ("first_response", _judge(timeline, "first_response", timeline.created_at,
                                  timeline.first_response_at, now)),
        *(("next_response", _judge(timeline, "next_response", start, end, now))
          for start, end in timeline.rounds),
        ("resolution", _judge(timeline, "resolution", timeline.created_at,
                              timeline.solved_at, now)),
    ]  # fmt: skip
    return [(target, met) for target, met in judged if met is not None]


def next_decision(timeline: Timeline, now: datetime) -> datetime | None:
    """The earliest due time of a target still running at `now` (not met,
    the ticket not solved, its due time not passed): when `target_outcomes`
    may next change without anything happening to the ticket. A pause
    started since only moves it later, so judging again then is never too
    late. None when no target is running, and while the ticket is paused:
    a paused clock's due times move on with the pause, so none falls due
    before the status change that resumes it (which is a change of the
    ticket, judged then)."""
    if not timeline.targets or timeline.solved_at is not None:
        return None
    if any(until is None for _, until in timeline.pauses):
        return None
    running = [("first_response", timeline.created_at, timeline.first_response_at)]
    running += [("next_response", start, end) for start, end in timeline.rounds]
    running.append(("resolution", timeline.created_at, None))
    dues = [
        due
        for target, start, met_at in running
        if met_at is None and (due := timeline.due(target, start, now)) is not None and due > now
    ]
    return min(dues, default=None)


def pool(outcomes: Iterable[tuple[str, bool]]) -> dict[str, Compliance]:
    """Compliance by target, plus "all" (every decided target counted once)."""
    totals: dict[str, Compliance] = {target: Compliance() for target in (*TARGETS, "all")}
    for target, met in outcomes:
        totals[target] = totals[target].add(met)
        totals["all"] = totals["all"].add(met)
    return totals


@dataclass(frozen=True)
class SLACompliance:
    """Compliance by target ("first_response", "next_response", "resolution",
    and "all" pooling them), overall, by customer tier and by priority."""

    overall: dict[str, Compliance]
    by_customer_tier: dict[str, dict[str, Compliance]] = field(default_factory=dict)
    by_priority: dict[str, dict[str, Compliance]] = field(default_factory=dict)


def sla_compliance(metric_filter: MetricFilter, *, now: datetime | None = None) -> SLACompliance:
    """SLA compliance: of the SLA targets of the tickets created in
    [start, end) that are decided, the share met. Unit: fraction 0..1 (with
    the met and breached counts).

    - First response: met when the first public staff reply came at or
      before its due time (creation + target + open time paused before the
      reply).
    - Next response: every round (see next_response_time) is one target,
      met when answered at or before its due time (round start + target +
      open time paused within the round).
    - Resolution: met when the final solve came at or before its due time
      (creation + target + open time paused before the solve); time spent
      solved before a reopen counts, as on the clock.
    - A target not met yet is breached once its due time has passed by
      `now` (default: the current time); one still within its time is not
      counted. A target the ticket's solve stopped unmet is judged at the
      solve.
    - The targets are those of the policy the clock uses now
      (`TicketSLA.policy`: customer tier x current priority), so a priority
      change re-judges the whole ticket, as the clock re-derives its due
      times. Tickets without an SLA policy are not counted.
    - Tier: the customer's support tier (no organisation: basic); priority:
      the ticket's current priority.

    Queries: 3 (plus one per SLA calendar not cached yet)."""
    now = now or timezone.now()
    timelines = load_timelines(filter_tickets(metric_filter))
    by_tier: dict[str, list[tuple[str, bool]]] = {}
    by_priority: dict[str, list[tuple[str, bool]]] = {}
    everything: list[tuple[str, bool]] = []
    for timeline in timelines:
        outcomes = target_outcomes(timeline, now)
        everything += outcomes
        by_tier.setdefault(timeline.customer_tier, []).extend(outcomes)
        by_priority.setdefault(timeline.priority, []).extend(outcomes)
    return SLACompliance(
        overall=pool(everything),
        by_customer_tier={tier: pool(found) for tier, found in sorted(by_tier.items())},
        by_priority={priority: pool(found) for priority, found in sorted(by_priority.items())},
    )
