"""Per-agent figures, from the same timelines and rules as the team-wide
metrics (durations, sla), grouped by agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from analytics.metrics.durations import measure
from analytics.metrics.filters import MetricFilter, filter_tickets
from analytics.metrics.sla import pool, target_outcomes
from analytics.metrics.stats import Compliance, DurationMetric, Rate
from analytics.metrics.timeline import Timeline, load_timelines


@dataclass(frozen=True)
class AgentFigures:
    """One agent's solved tickets in the period and what they show."""

    agent_id: int
    tickets_solved: int
    resolution_time: DurationMetric
    # By target ("first_response", "next_response", "resolution", "all").
    sla_compliance: dict[str, Compliance]
    reopen_rate: Rate


def agent_figures(
    metric_filter: MetricFilter, *, now: datetime | None = None
) -> dict[int, AgentFigures]:
    """Per-agent figures over the tickets solved in [start, end) (final
    solve), credited to the ticket's assignee (a solved ticket cannot be
    reassigned, so the assignee is the agent who had it when it was solved;
    unassigned tickets are credited to nobody):

    - tickets solved: their number (unit: tickets);
    - resolution time: as resolution_time, median and 90th percentile in
      business and calendar hours;
    - SLA compliance: as sla_compliance, of every decided target of those
      tickets (judged at `now`, default the current time);
    - reopen rate: the share of those tickets reopened at least once before
      their final solve (fraction 0..1).

    Keyed by the agent's user id. Queries: 3 (plus one per SLA calendar not
    cached yet)."""
    now = now or timezone.now()
    by_agent: dict[int, list[Timeline]] = {}
    for timeline in load_timelines(filter_tickets(metric_filter, date_field="solved_at")):
        if timeline.assignee_id is not None and timeline.solved_at is not None:
            by_agent.setdefault(timeline.assignee_id, []).append(timeline)
    figures = {}
    for agent_id, timelines in sorted(by_agent.items()):
        figures[agent_id] = AgentFigures(
            agent_id=agent_id,
            tickets_solved=len(timelines),
            resolution_time=measure(
                [(t, t.created_at, t.solved_at) for t in timelines if t.solved_at is not None]
            ),
            sla_compliance=pool(o for t in timelines for o in target_outcomes(t, now)),
            reopen_rate=Rate(sum(1 for t in timelines if t.reopenings), len(timelines)),
        )
    return figures
