"""The dashboard's figures: the one read layer behind the page, its CSV export
and its API.

Today every figure is read from analytics.metrics over the raw tickets (each
metric a constant number of queries, so the dashboard is too). A rollup layer
will later answer the same `dashboard_figures` call faster; callers do not
change.

The viewer's scope (analytics.dashboard.access) is applied here, to every
read: an agent's totals are those of their teams and the per-agent rows hold
only their own, whatever the caller asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from django.http import Http404

from analytics import metrics
from analytics.dashboard.access import Viewer
from analytics.metrics.volume import Period
from tickets.models import Priority, User

# "Priority" tickets for the resolution targets (12 h); the rest are
# "standard" (24 h).
PRIORITY_LEVELS = (Priority.URGENT.value, Priority.HIGH.value)
STANDARD_LEVELS = (Priority.NORMAL.value, Priority.LOW.value)
# A value no ticket has: an empty sequence means "all" to MetricFilter, so a
# dimension narrowed to nothing is spelled with this to read no tickets while
# running the same statements (the query count stays constant).
NOTHING = "--none--"

Comparison = Literal["le", "lt", "ge", "gt"]


@dataclass(frozen=True)
class Selection:
    """What the filters chose: local dates [start_date, end_date] (both
    included) as aware bounds [start, end), the trend's period, and at most
    one value per dimension (None: all)."""

    start: datetime
    end: datetime
    start_date: date
    end_date: date
    period: Period
    team_id: int | None = None
    category_id: int | None = None
    customer_tier: str | None = None
    channel: str | None = None
    priority: str | None = None
    agent_id: int | None = None

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    @property
    def previous(self) -> tuple[datetime, datetime]:
        """The period of the same length just before."""
        length = self.end - self.start
        return self.start - length, self.start


@dataclass(frozen=True)
class Card:
    """A headline figure against its target. Durations in hours, rates in
    percent (0..100); `change` is value minus the previous period's (hours or
    percentage points)."""

    key: str
    title: str
    unit: Literal["h", "%"]
    value: float | None
    previous: float | None
    comparison: Comparison
    target: float
    detail: str
    sample: int
    # Durations: "business" (the SLA calendar's hours) or "calendar" hours.
    basis: str = ""

    @property
    def target_label(self) -> str:
        sign = {"le": "≤", "lt": "<", "ge": "≥", "gt": ">"}[self.comparison]
        return f"{sign} {self.target:g} {self.unit}"

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return {
            "le": self.value <= self.target,
            "lt": self.value < self.target,
            "ge": self.value >= self.target,
            "gt": self.value > self.target,
        }[self.comparison]

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def improved(self) -> bool | None:
        """Whether the change moved toward the target (None: no change)."""
        change = self.change
        if not change:
            return None
        return (change < 0) == (self.comparison in ("le", "lt"))


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    name: str
    tickets_solved: int
    median_business_hours: float | None
    median_calendar_hours: float | None
    sla_compliance: float | None  # fraction 0..1
    sla_breached: int
    reopen_rate: float | None  # fraction 0..1


@dataclass(frozen=True)
class DashboardFigures:
    selection: Selection
    scope_filter: metrics.MetricFilter
    sees_everyone: bool
    cards: list[Card]
    trend: list[metrics.PeriodCount]
    categories: list[metrics.CategoryShare]
    heatmap: list[list[int]]
    backlog: metrics.Backlog
    sla: metrics.SLACompliance
    escalations: metrics.Escalations
    agents: list[AgentRow]


def _only(value: object | None) -> tuple:
    return () if value is None else (value,)


def scoped_filter(
    viewer: Viewer, selection: Selection, start: datetime, end: datetime
) -> metrics.MetricFilter:
    """The MetricFilter of the selection within what the viewer may see."""
    teams: Sequence[int] = _only(selection.team_id)
    agents: Sequence[int] = _only(selection.agent_id)
    if not viewer.sees_everyone:
        if selection.agent_id is not None and selection.agent_id != viewer.user_id:
            raise Http404("No such agent")
        if selection.team_id is not None and selection.team_id not in viewer.team_ids:
            raise Http404("No such team")
        if not teams:
            teams = viewer.team_ids
        if not teams:
            # In no team: nothing but their own tickets.
            agents = (viewer.user_id,)
    return metrics.MetricFilter(
        start=start,
        end=end,
        teams=teams,
        categories=_only(selection.category_id),
        customer_tiers=_only(selection.customer_tier),
        channels=_only(selection.channel),
        priorities=_only(selection.priority),
        agents=agents,
    )


def _within(levels: Sequence[str], chosen: Sequence[str]) -> tuple[str, ...]:
    if not chosen:
        return tuple(levels)
    return tuple(level for level in levels if level in chosen) or (NOTHING,)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


@dataclass(frozen=True)
class _Headline:
    """The raw metrics behind the cards, for one period."""

    first_response: metrics.DurationMetric
    resolution_priority: metrics.DurationMetric
    resolution_standard: metrics.DurationMetric
    sla: metrics.SLACompliance
    fcr: metrics.Rate
    escalations: metrics.Escalations
    tier1: metrics.Rate


def _headline(metric_filter: metrics.MetricFilter, now: datetime) -> _Headline:
    return _Headline(
        first_response=metrics.first_response_time(metric_filter),
        resolution_priority=metrics.resolution_time(
            replace(metric_filter, priorities=_within(PRIORITY_LEVELS, metric_filter.priorities))
        ),
        resolution_standard=metrics.resolution_time(
            replace(metric_filter, priorities=_within(STANDARD_LEVELS, metric_filter.priorities))
        ),
        sla=metrics.sla_compliance(metric_filter, now=now),
        fcr=metrics.first_contact_resolution_rate(metric_filter),
        escalations=metrics.escalations(metric_filter),
        tier1=metrics.tier1_resolution_rate(metric_filter),
    )


def _cards(now: _Headline, before: _Headline) -> list[Card]:
    def duration(key, title, pick, comparison, target, what) -> Card:
        current, previous = pick(now), pick(before)
        # Business hours are what the SLA targets count; tickets without an
        # SLA policy have no calendar, so when none of them has one the
        # calendar hours are the only measure (said in the detail).
        basis = "business" if current.business.count or not current.calendar.count else "calendar"
        stats, previous_stats = getattr(current, basis), getattr(previous, basis)
        other = current.calendar if basis == "business" else current.business
        return Card(
            key=key,
            title=title,
            unit="h",
            value=stats.median_hours,
            previous=previous_stats.median_hours,
            comparison=comparison,
            target=target,
            detail=(
                f"Median {basis} hours of {stats.count} {what}; "
                f"90th percentile {_hours(stats.p90_hours)}"
                + (
                    f", calendar median {_hours(other.median_hours)}"
                    if basis == "business"
                    else " (none of these tickets has an SLA calendar)"
                )
            ),
            sample=stats.count,
            basis=basis,
        )

    def rate(key, title, pick, comparison, target, what) -> Card:
        current, previous = pick(now), pick(before)
        return Card(
            key=key,
            title=title,
            unit="%",
            value=_percent(current.value),
            previous=_percent(previous.value),
            comparison=comparison,
            target=target,
            detail=f"{current.numerator} of {current.denominator} {what}",
            sample=current.denominator,
        )

    sla_now, sla_before = now.sla.overall["all"], before.sla.overall["all"]
    return [
        duration(
            "acknowledge", "Acknowledgement", lambda h: h.first_response, "le", 1,
            "first responses (no separate acknowledgement is recorded: the first public reply)",
        ),
        duration(
            "first_response", "First response", lambda h: h.first_response, "le", 4,
            "first responses",
        ),
        duration(
            "resolution_priority", "Resolution, urgent and high",
            lambda h: h.resolution_priority, "le", 12, "solved tickets",
        ),
        duration(
            "resolution_standard", "Resolution, normal and low",
            lambda h: h.resolution_standard, "le", 24, "solved tickets",
        ),
        Card(
            key="sla",
            title="SLA compliance",
            unit="%",
            value=_percent(sla_now.rate),
            previous=_percent(sla_before.rate),
            comparison="ge",
            target=95,
            detail=(
                f"{sla_now.met} of {sla_now.total} decided targets met, "
                f"{sla_now.breached} breached"
            ),
            sample=sla_now.total,
        ),
        rate("fcr", "First-contact resolution", lambda h: h.fcr, "ge", 90, "solved tickets"),
        rate(
            "escalation", "Escalation rate", lambda h: h.escalations.rate, "lt", 15,
            "tickets created were escalated",
        ),
        rate("tier1", "Tier 1 resolution", lambda h: h.tier1, "gt", 80, "solved tickets"),
    ]  # fmt: skip


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} h"


def _agent_rows(
    viewer: Viewer, metric_filter: metrics.MetricFilter, now: datetime
) -> list[AgentRow]:
    if not viewer.sees_everyone:
        # Their own row only: read only their own tickets, in any team.
        metric_filter = replace(metric_filter, agents=(viewer.user_id,), teams=())
    found = metrics.agent_figures(metric_filter, now=now)
    names = dict(User.objects.filter(pk__in=list(found)).values_list("pk", "full_name"))
    rows = [
        AgentRow(
            agent_id=agent_id,
            name=names.get(agent_id) or f"Agent {agent_id}",
            tickets_solved=row.tickets_solved,
            median_business_hours=row.resolution_time.business.median_hours,
            median_calendar_hours=row.resolution_time.calendar.median_hours,
            sla_compliance=row.sla_compliance["all"].rate,
            sla_breached=row.sla_compliance["all"].breached,
            reopen_rate=row.reopen_rate.value,
        )
        for agent_id, row in found.items()
    ]
    return sorted(rows, key=lambda row: (-row.tickets_solved, row.name))


def dashboard_figures(viewer: Viewer, selection: Selection, *, now: datetime) -> DashboardFigures:
    """Every figure of the dashboard for `selection` as `viewer` may see it.
    A constant number of queries whatever the range and the filters."""
    current = scoped_filter(viewer, selection, selection.start, selection.end)
    previous = scoped_filter(viewer, selection, *selection.previous)
    headline_now = _headline(current, now)
    headline_before = _headline(previous, now)
    return DashboardFigures(
        selection=selection,
        scope_filter=current,
        sees_everyone=viewer.sees_everyone,
        cards=_cards(headline_now, headline_before),
        trend=metrics.created_vs_solved(current, period=selection.period),
        categories=metrics.category_mix(current),
        heatmap=metrics.tickets_by_hour_and_weekday(current),
        backlog=metrics.backlog(current, as_of=now),
        sla=headline_now.sla,
        escalations=headline_now.escalations,
        agents=_agent_rows(viewer, current, now),
    )
