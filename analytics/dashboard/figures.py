"""The dashboard's figures: the one read layer behind the page, its CSV export
and its API.

The ticket figures are read from the rollup blocks (analytics.rollups.
rollup_metrics: one query sums a dozen pre-summed rows per period) when the
filters choose at most one dimension, otherwise from the ticket facts
(analytics.rollups.fact_metrics: one aggregate statement each over one
narrow indexed table); both are as fresh as the facts' last catch-up, a
minute at most. The backlog and the survey figures come from
analytics.metrics over the raw tables. Each path runs a constant number of
queries whatever the range and the data.

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
from analytics.rollups import fact_metrics, rollup_metrics
from analytics.rollups import facts as ticket_facts
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
# "h" hours, "%" percent, "nps" a Net Promoter Score (-100..100), "ces" a
# mean Customer Effort Score (1 very hard .. 7 very easy).
Unit = Literal["h", "%", "nps", "ces"]
# The operation's CSAT target: at least this share of answers rated 4-5.
CSAT_TARGET_PERCENT = 85.0


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
    percent (0..100), NPS in points (-100..100), CES as a mean of 1..7;
    `change` is value minus the previous period's (hours, percentage points
    or score points). `comparison` says which way is better; a figure the
    operation set no target for (NPS, CES) has `target` None."""

    key: str
    title: str
    unit: Unit
    value: float | None
    previous: float | None
    comparison: Comparison
    target: float | None
    detail: str
    sample: int
    # Durations: "business" (the SLA calendar's hours) or "calendar" hours.
    basis: str = ""

    @property
    def target_label(self) -> str | None:
        if self.target is None:
            return None
        sign = {"le": "≤", "lt": "<", "ge": "≥", "gt": ">"}[self.comparison]
        return f"{sign} {self.target:g} {self.unit}"

    @property
    def value_suffix(self) -> str:
        """What follows the value on the page ("" for an NPS score)."""
        return {"h": "h", "%": "%", "nps": "", "ces": "of 7"}[self.unit]

    @property
    def change_unit(self) -> str:
        return {"h": "h", "%": "pts", "nps": "points", "ces": ""}[self.unit]

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None:
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
    # CSAT answers credited to the agent (the agent recorded on the answer),
    # given in the range: how many, the share rated 4-5 and the mean rating.
    csat_answers: int = 0
    csat: float | None = None  # fraction 0..1
    csat_average: float | None = None  # 1..5


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
    satisfaction: metrics.Satisfaction
    csat_by_month: list[metrics.CSATPeriod]
    # Bad ratings nobody followed up yet (the managers' list; None for an
    # agent, who cannot open that list).
    follow_up: int | None
    # When the ticket facts behind the ticket figures were last brought up to
    # date (None: never computed, e.g. before the first catch-up).
    facts_as_of: datetime | None = None
    # Where the ticket figures were read: "rollups" (medians within one
    # histogram bucket, under 2 %) or "facts" (exact).
    source: Literal["rollups", "facts"] = "facts"


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
class _Tickets:
    """The ticket figures of one period (from the rollups or the facts)."""

    first_response: metrics.DurationMetric
    escalations: metrics.Escalations
    # "priority" and "standard" resolution times.
    resolution: dict[str, metrics.DurationMetric]
    # "fcr" and "tier1".
    rates: dict[str, metrics.Rate]
    sla: metrics.SLACompliance


def _groups(metric_filter: metrics.MetricFilter) -> dict[str, Sequence[str]]:
    return {
        "priority": _within(PRIORITY_LEVELS, metric_filter.priorities),
        "standard": _within(STANDARD_LEVELS, metric_filter.priorities),
    }


def _tickets_from_facts(metric_filter: metrics.MetricFilter) -> _Tickets:
    first_response, escalations = fact_metrics.created_figures(metric_filter)
    resolution, rates = fact_metrics.solved_figures(metric_filter, _groups(metric_filter))
    return _Tickets(
        first_response, escalations, resolution, rates, fact_metrics.sla_compliance(metric_filter)
    )


def _tickets_from_rollups(
    summary: rollup_metrics.Summary, metric_filter: metrics.MetricFilter
) -> _Tickets:
    first_response, escalations = summary.created_figures()
    resolution, rates = summary.solved_figures(_groups(metric_filter))
    return _Tickets(first_response, escalations, resolution, rates, summary.sla_compliance())


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
    satisfaction: metrics.Satisfaction


def _headline(tickets: _Tickets, satisfaction: metrics.Satisfaction) -> _Headline:
    return _Headline(
        first_response=tickets.first_response,
        resolution_priority=tickets.resolution["priority"],
        resolution_standard=tickets.resolution["standard"],
        sla=tickets.sla,
        fcr=tickets.rates["fcr"],
        escalations=tickets.escalations,
        tier1=tickets.rates["tier1"],
        satisfaction=satisfaction,
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
        *_satisfaction_cards(now.satisfaction, before.satisfaction),
    ]  # fmt: skip


def _satisfaction_cards(now: metrics.Satisfaction, before: metrics.Satisfaction) -> list[Card]:
    csat, ces, nps = now.csat, now.ces, now.nps
    average = "n/a" if csat.average is None else f"{csat.average:.2f}"
    if nps.defined:
        nps_detail = (
            f"{nps.promoters} promoters (9–10), {nps.passives} passives (7–8) and "
            f"{nps.detractors} detractors (0–6) of {nps.answers} answers"
        )
    else:
        # NPS answers belong to customers, not tickets (analytics.metrics.nps).
        nps_detail = (
            "NPS is asked per customer, not per ticket: it has no figure for a team, "
            "category, channel, priority or agent"
        )
    return [
        Card(
            key="csat",
            title="CSAT (rated 4–5)",
            unit="%",
            value=csat.percent,
            previous=before.csat.percent,
            comparison="ge",
            target=CSAT_TARGET_PERCENT,
            detail=(
                f"{csat.satisfied} of {csat.answers} survey answers rated 4 or 5; "
                f"average rating {average} of 5"
            ),
            sample=csat.answers,
        ),
        Card(
            key="nps",
            title="Net Promoter Score",
            unit="nps",
            value=nps.score,
            previous=before.nps.score,
            comparison="ge",
            target=None,
            detail=nps_detail + "; from −100 to +100",
            sample=nps.answers,
        ),
        Card(
            key="ces",
            title="Customer effort (CES)",
            unit="ces",
            value=ces.average,
            previous=before.ces.average,
            comparison="ge",
            target=None,
            detail=f"Mean of {ces.answers} answers; 1 very hard to 7 very easy (higher is better)",
            sample=ces.answers,
        ),
    ]


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} h"


def _agent_filter(viewer: Viewer, metric_filter: metrics.MetricFilter) -> metrics.MetricFilter:
    """The tickets of the per-agent rows: an agent's own only, in any team."""
    if viewer.sees_everyone:
        return metric_filter
    return replace(metric_filter, agents=(viewer.user_id,), teams=())


def _agent_rows(
    viewer: Viewer,
    found: dict[int, metrics.AgentFigures],
    csat: dict[int, metrics.CSAT],
) -> list[AgentRow]:
    """The rows of `found` and `csat` (the figures of _agent_filter's
    tickets and answers) with their names."""
    agent_ids = found.keys() | csat.keys()
    if not viewer.sees_everyone:
        # The filter already holds only their answers and tickets; this
        # keeps a colleague's row out whatever a metric's grouping does.
        agent_ids &= {viewer.user_id}
    names = dict(User.objects.filter(pk__in=list(agent_ids)).values_list("pk", "full_name"))
    no_answers = metrics.CSAT(answers=0, satisfied=0, rating_sum=0)
    rows = []
    for agent_id in agent_ids:
        row = found.get(agent_id)
        rated = csat.get(agent_id, no_answers)
        rows.append(
            AgentRow(
                agent_id=agent_id,
                name=names.get(agent_id) or f"Agent {agent_id}",
                tickets_solved=row.tickets_solved if row else 0,
                median_business_hours=row.resolution_time.business.median_hours if row else None,
                median_calendar_hours=row.resolution_time.calendar.median_hours if row else None,
                sla_compliance=row.sla_compliance["all"].rate if row else None,
                sla_breached=row.sla_compliance["all"].breached if row else 0,
                reopen_rate=row.reopen_rate.value if row else None,
                csat_answers=rated.answers,
                csat=rated.rate.value,
                csat_average=rated.average,
            )
        )
    return sorted(rows, key=lambda row: (-row.tickets_solved, row.name))


@dataclass(frozen=True)
class _Read:
    """Everything the page reads about tickets and CSAT, from one source."""

    now: _Tickets
    before: _Tickets
    satisfaction_now: metrics.Satisfaction
    satisfaction_before: metrics.Satisfaction
    trend: list[metrics.PeriodCount]
    categories: list[metrics.CategoryShare]
    heatmap: list[list[int]]
    agents: dict[int, metrics.AgentFigures]
    agent_csat: dict[int, metrics.CSAT]
    csat_by_month: list[metrics.CSATPeriod]
    source: Literal["rollups", "facts"]


def _satisfaction(
    summary: rollup_metrics.Summary, metric_filter: metrics.MetricFilter
) -> metrics.Satisfaction:
    csat, ces = summary.csat()
    # NPS answers belong to customers, not tickets: from their own table.
    return metrics.Satisfaction(csat=csat, ces=ces, nps=metrics.nps(metric_filter))


def _read(
    current: metrics.MetricFilter,
    previous: metrics.MetricFilter,
    agents: metrics.MetricFilter,
    period: Period,
    rollups_built: bool,
) -> _Read:
    """From the rollups when every filter has one (three queries: the
    blocks, the days, the category names; NPS aside), else from the facts
    and the survey tables."""
    summed = rollup_metrics.summaries([current, previous, agents]) if rollups_built else None
    if summed is not None:
        now, before, mine = summed
        trend, csat_by_month = rollup_metrics.daily_figures(current, period)
        return _Read(
            now=_tickets_from_rollups(now, current),
            before=_tickets_from_rollups(before, previous),
            satisfaction_now=_satisfaction(now, current),
            satisfaction_before=_satisfaction(before, previous),
            trend=trend,
            categories=now.category_mix(rollup_metrics.category_names(now.category_ids())),
            heatmap=now.heatmap(),
            agents=mine.agent_figures(),
            agent_csat=mine.csat_by_agent(),
            csat_by_month=csat_by_month,
            source="rollups",
        )
    return _Read(
        now=_tickets_from_facts(current),
        before=_tickets_from_facts(previous),
        satisfaction_now=metrics.satisfaction(current),
        satisfaction_before=metrics.satisfaction(previous),
        trend=metrics.created_vs_solved(
            current, period=period, created_rows=fact_metrics.fact_rows(current)
        ),
        categories=fact_metrics.category_mix(current),
        heatmap=fact_metrics.tickets_by_hour_and_weekday(current),
        agents=fact_metrics.agent_figures(agents),
        agent_csat=metrics.csat_by_agent(agents),
        csat_by_month=metrics.csat_by_month(current),
        source="facts",
    )


def dashboard_figures(viewer: Viewer, selection: Selection, *, now: datetime) -> DashboardFigures:
    """Every figure of the dashboard for `selection` as `viewer` may see it.
    A constant number of queries whatever the range and the filters."""
    current = scoped_filter(viewer, selection, selection.start, selection.end)
    previous = scoped_filter(viewer, selection, *selection.previous)
    agents = _agent_filter(viewer, current)
    state = ticket_facts.state()
    read = _read(current, previous, agents, selection.period, state.rollups_built)
    headline_now = _headline(read.now, read.satisfaction_now)
    headline_before = _headline(read.before, read.satisfaction_before)
    return DashboardFigures(
        selection=selection,
        scope_filter=current,
        sees_everyone=viewer.sees_everyone,
        cards=_cards(headline_now, headline_before),
        trend=read.trend,
        categories=read.categories,
        heatmap=read.heatmap,
        backlog=metrics.current_backlog(current, now=now),
        sla=headline_now.sla,
        escalations=headline_now.escalations,
        agents=_agent_rows(viewer, read.agents, read.agent_csat),
        satisfaction=headline_now.satisfaction,
        csat_by_month=read.csat_by_month,
        follow_up=metrics.bad_ratings_awaiting_follow_up() if viewer.sees_everyone else None,
        facts_as_of=state.as_of,
        source=read.source,
    )
