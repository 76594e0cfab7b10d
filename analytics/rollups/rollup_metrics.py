"""The dashboard's ticket metrics read from the rollup blocks
(analytics.rollups.blocks): the same result types as analytics.metrics and
analytics.rollups.fact_metrics, from a dozen pre-summed rows per range
instead of every fact of the range.

A rollup series holds every ticket or those of one value of one dimension,
so a filter on at most one dimension (several values of it add up: a
ticket has one team) over whole local days has a rollup; anything else
(two dimensions at once, a range not made of whole days) is read from the
facts (`summaries` answers None). Counts are exact; medians and 90th
percentiles come from the cells' log histograms, within one bucket (under
2 %) of the exact value (analytics.rollups.cells).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from analytics.metrics import (
    CES,
    CSAT,
    AgentFigures,
    CategoryShare,
    Compliance,
    CSATPeriod,
    DurationMetric,
    DurationStats,
    Escalations,
    MetricFilter,
    PeriodCount,
    Rate,
    SLACompliance,
)
from analytics.metrics.stats import SECONDS_PER_HOUR
from analytics.metrics.timeline import TARGETS
from analytics.metrics.volume import Period
from analytics.models import escalation_kind_field, escalation_tier_field
from analytics.rollups import blocks
from analytics.rollups import cells as layout
from analytics.rollups.cells import Cells
from escalation.models import Escalation
from tickets.models import AgentTier, Category

_FILTER_DIMENSIONS = (
    ("team", "teams"),
    ("category", "categories"),
    ("customer_tier", "customer_tiers"),
    ("channel", "channels"),
    ("priority", "priorities"),
    ("agent", "agents"),
)


@dataclass(frozen=True)
class Request:
    """One series over days first..last (date ordinals, inclusive)."""

    dim: str
    values: tuple[str, ...]
    first: int
    last: int


def request_for(metric_filter: MetricFilter) -> Request | None:
    """The rollup read that answers the filter, or None when none does."""
    chosen = [
        (dim, values)
        for dim, field in _FILTER_DIMENSIONS
        if (values := getattr(metric_filter, field))
    ]
    if len(chosen) > 1 or metric_filter.start is None or metric_filter.end is None:
        return None
    zone = blocks.rollup_zone()
    start, end = metric_filter.start.astimezone(zone), metric_filter.end.astimezone(zone)
    if not (_midnight(start) and _midnight(end)) or end <= start:
        return None
    dim, values = chosen[0] if chosen else ("all", ("",))
    last = (end - timedelta(days=1)).date()
    return Request(dim, tuple(str(v) for v in values), start.date().toordinal(), last.toordinal())


def _midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def summaries(filters: Sequence[MetricFilter]) -> list[Summary] | None:
    """The summed rollups of each filter's tickets, in one query; None when
    one of the filters has no rollup."""
    requests = [request_for(metric_filter) for metric_filter in filters]
    if any(request is None for request in requests):
        return None
    # The same request twice (a manager's agent rows are the page's tickets)
    # is read and summed once.
    distinct = list(dict.fromkeys(r for r in requests if r is not None))
    found = blocks.read([(r.dim, r.values, r.first, r.last) for r in distinct])
    summed = {request: Summary(cells) for request, cells in zip(distinct, found, strict=True)}
    return [summed[request] for request in requests if request is not None]


def _stats(keys: np.ndarray, counts: np.ndarray) -> DurationStats:
    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else seconds / SECONDS_PER_HOUR

    buckets, totals = layout.histogram(keys, counts)
    return DurationStats(
        count=int(buckets.sum()),
        median_hours=hours(layout.percentile(buckets, totals, 0.5)),
        p90_hours=hours(layout.percentile(buckets, totals, 0.9)),
    )


def _duration(keys: np.ndarray, counts: np.ndarray) -> DurationMetric:
    """The DurationMetric of duration cells (analytics.rollups.cells)."""
    basis = layout.basis_of(keys)
    return DurationMetric(
        business=_stats(keys[basis == 0], counts[basis == 0]),
        calendar=_stats(keys[basis == 1], counts[basis == 1]),
    )


def _compliance(outcomes: dict[int, int]) -> dict[str, Compliance]:
    """By target (and "all") from {target << 1 | breached: count}."""
    found = {
        target: Compliance(
            met=outcomes.get(index << 1, 0), breached=outcomes.get(index << 1 | 1, 0)
        )
        for index, target in enumerate(TARGETS)
    }
    found["all"] = Compliance(
        met=sum(c.met for c in found.values()), breached=sum(c.breached for c in found.values())
    )
    return found


class Summary:
    """The figures of the tickets of one summed range of rollups."""

    def __init__(self, cells: Cells) -> None:
        self.cells = cells

    def created_figures(self) -> tuple[DurationMetric, Escalations]:
        """As fact_metrics.created_figures."""
        first_response = _duration(*self.cells.section(layout.FIRST_RESPONSE))
        counts = self.cells.by_key(layout.ESCALATIONS)
        by_field = {layout.ESCALATION_FIELDS[i]: n for i, n in counts.items()}
        tiers: list[int | None] = [*AgentTier.values, None]
        escalations = Escalations(
            rate=Rate(self.cells.count(layout.ESCALATED), self.cells.count(layout.CREATED)),
            by_kind={
                kind: n
                for kind in Escalation.Kind.values
                if (n := by_field.get(escalation_kind_field(kind), 0))
            },
            by_tier={
                tier: n for tier in tiers if (n := by_field.get(escalation_tier_field(tier), 0))
            },
        )
        return first_response, escalations

    def solved_figures(
        self, groups: dict[str, Sequence[str]]
    ) -> tuple[dict[str, DurationMetric], dict[str, Rate]]:
        """As fact_metrics.solved_figures."""
        keys, counts = self.cells.section(layout.RESOLUTION)
        priority = layout.owners(keys)
        times = {}
        for name, levels in groups.items():
            wanted = [layout.PRIORITIES.index(p) for p in levels if p in layout.PRIORITIES]
            mask = np.isin(priority, wanted)
            times[name] = _duration(keys[mask], counts[mask])
        solved = self.cells.count(layout.SOLVED)
        rates = {
            "fcr": Rate(self.cells.count(layout.FCR), solved),
            "tier1": Rate(self.cells.count(layout.TIER1), solved),
        }
        return times, rates

    def sla_compliance(self) -> SLACompliance:
        """As fact_metrics.sla_compliance."""
        groups: dict[tuple[str, str], dict[int, int]] = {}
        for key, n in self.cells.by_key(layout.SLA).items():
            group = (layout.CUSTOMER_TIERS[key >> 8], layout.PRIORITIES[(key >> 4) & 0xF])
            outcomes = groups.setdefault(group, {})
            if key & 0xF != layout.SLA_GROUP:
                outcomes[key & 0xF] = outcomes.get(key & 0xF, 0) + n

        def pooled(index: int | None) -> dict[str, dict[str, Compliance]]:
            totals: dict[str, dict[int, int]] = {}
            for group, outcomes in groups.items():
                name = "all" if index is None else group[index]
                mine = totals.setdefault(name, {})
                for outcome, n in outcomes.items():
                    mine[outcome] = mine.get(outcome, 0) + n
            return {name: _compliance(outcomes) for name, outcomes in sorted(totals.items())}

        overall = pooled(None).get("all") or _compliance({})
        return SLACompliance(overall=overall, by_customer_tier=pooled(0), by_priority=pooled(1))

    def agent_figures(self) -> dict[int, AgentFigures]:
        """As fact_metrics.agent_figures."""
        solved = self.cells.by_key(layout.AGENT_SOLVED)
        reopened = self.cells.by_key(layout.AGENT_REOPENED)
        outcomes: dict[int, dict[int, int]] = {}
        for key, n in self.cells.by_key(layout.AGENT_SLA).items():
            outcomes.setdefault(key >> 4, {})[key & 0xF] = n
        keys, counts = self.cells.section(layout.AGENT_RESOLUTION)
        agents = layout.owners(keys)
        starts = np.flatnonzero(np.concatenate(([True], agents[1:] != agents[:-1])))
        ends = np.append(starts[1:], len(agents))
        times = {
            int(agents[start]): _duration(keys[start:end], counts[start:end])
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
            if len(agents)
        }
        empty = DurationStats(count=0, median_hours=None, p90_hours=None)
        return {
            agent: AgentFigures(
                agent_id=agent,
                tickets_solved=n,
                resolution_time=times.get(agent, DurationMetric(business=empty, calendar=empty)),
                sla_compliance=_compliance(outcomes.get(agent, {})),
                reopen_rate=Rate(reopened.get(agent, 0), n),
            )
            for agent, n in sorted(solved.items())
        }

    def category_mix(self, names: dict[int, str]) -> list[CategoryShare]:
        """As fact_metrics.category_mix, the names given (category_names)."""
        counts = {
            key - 1 if key else None: n for key, n in self.cells.by_key(layout.CATEGORY).items()
        }
        total = sum(counts.values())
        rows = sorted(
            (
                (category, (names.get(category) if category else None) or "Uncategorised", n)
                for category, n in counts.items()
            ),
            # As the metric's ORDER BY: most first, then by name, Uncategorised last.
            key=lambda row: (-row[2], row[0] is None, row[1]),
        )
        return [CategoryShare(category, name, n, n / total) for category, name, n in rows]

    def csat(self) -> tuple[CSAT, CES]:
        """As analytics.metrics.csat and ces."""
        found = self.cells.by_key(layout.CSAT)
        return (
            CSAT(answers=found.get(0, 0), satisfied=found.get(1, 0), rating_sum=found.get(2, 0)),
            CES(answers=found.get(3, 0), effort_sum=found.get(4, 0)),
        )

    def csat_by_agent(self) -> dict[int, CSAT]:
        """As analytics.metrics.csat_by_agent."""
        found: dict[int, dict[int, int]] = {}
        for key, n in self.cells.by_key(layout.AGENT_CSAT).items():
            found.setdefault(key >> 2, {})[key & 3] = n
        return {
            agent: CSAT(answers=n.get(0, 0), satisfied=n.get(1, 0), rating_sum=n.get(2, 0))
            for agent, n in sorted(found.items())
        }

    def category_ids(self) -> list[int]:
        return [key - 1 for key in self.cells.by_key(layout.CATEGORY) if key]

    def heatmap(self) -> list[list[int]]:
        """As analytics.metrics.tickets_by_hour_and_weekday."""
        grid = [[0] * 24 for _ in range(7)]
        for key, n in self.cells.by_key(layout.HEAT).items():
            grid[key // 24][key % 24] = n
        return grid


def category_names(ids: Sequence[int]) -> dict[int, str]:
    """One query."""
    return dict(Category.objects.filter(pk__in=list(ids)).values_list("pk", "name"))


def _days(metric_filter: MetricFilter) -> dict[int, blocks.Day]:
    request = request_for(metric_filter)
    if request is None:
        raise ValueError("This filter has no rollup: read the facts instead.")
    return blocks.daily(request.dim, request.values, request.first, request.last)


def _periods(metric_filter: MetricFilter, period: Period) -> list[date]:
    request = request_for(metric_filter)
    if request is None:
        raise ValueError("This filter has no rollup: read the facts instead.")
    days = range(request.first, request.last + 1)
    return sorted({_period_of(date.fromordinal(day), period) for day in days})


def daily_figures(
    metric_filter: MetricFilter, period: Period
) -> tuple[list[PeriodCount], list[CSATPeriod]]:
    """As analytics.metrics.created_vs_solved (by `period`) and
    csat_by_month, from the daily blocks: one query. The filter must have a
    rollup (request_for)."""
    days = _days(metric_filter)
    trend = dict.fromkeys(_periods(metric_filter, period), blocks.Day())
    months = dict.fromkeys(_periods(metric_filter, "month"), blocks.Day())
    for ordinal, counts in days.items():
        day = date.fromordinal(ordinal)
        trend[_period_of(day, period)] += counts
        months[_period_of(day, "month")] += counts
    return (
        [PeriodCount(start, found.created, found.solves) for start, found in trend.items()],
        [
            CSATPeriod(
                start,
                CSAT(
                    answers=found.csat_answers,
                    satisfied=found.csat_satisfied,
                    rating_sum=found.csat_rating_sum,
                ),
            )
            for start, found in months.items()
        ],
    )


def _period_of(day: date, period: Period) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day
