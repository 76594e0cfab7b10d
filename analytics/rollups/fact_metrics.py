"""The dashboard's ticket metrics read from the ticket facts
(analytics.models.TicketFact) instead of the raw history: the same
functions, filters and result types as analytics.metrics, with the same
values (tests/analytics/test_fact_metrics.py holds them equal on the
hand-made histories), each one aggregate statement over an indexed range of
one narrow table instead of every ticket's timeline replayed in Python.

The facts are as fresh as their last catch-up (a beat job every minute;
analytics.rollups.facts), and SLA targets are judged as of then. Medians and
90th percentiles are PostgreSQL's `percentile_cont` (the same linear
interpolation as analytics.metrics.stats); the embedded SQLite demo fetches
the values and interpolates in Python.

Not here, because the facts do not hold them: the backlog (the status at an
instant), tickets solved per period (every solve event, not only the final
one) and the survey metrics; the dashboard reads those from analytics.metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from django.db import connections
from django.db.models import Aggregate, Count, FloatField, Q, QuerySet, Sum

from analytics.metrics import (
    AgentFigures,
    CategoryShare,
    Compliance,
    DurationMetric,
    DurationStats,
    Escalations,
    MetricFilter,
    Rate,
    SLACompliance,
    volume,
)
from analytics.metrics.filters import DateField, range_q
from analytics.metrics.stats import SECONDS_PER_HOUR
from analytics.metrics.timeline import TARGETS
from analytics.models import TicketFact, escalation_kind_field, escalation_tier_field
from escalation.models import Escalation
from tickets.models import AgentTier, Category


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: the `fraction` percentile by linear
    interpolation (a constant of the code, never user input)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float, **extra) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def fact_rows(metric_filter: MetricFilter, date_field: DateField = "created_at") -> QuerySet:
    """The facts of the tickets the metric reads: `date_field` in [start, end)
    and every other dimension, as analytics.metrics.filters selects tickets
    (the fact's customer tier already counts no organisation as basic)."""
    condition = range_q(metric_filter, date_field)
    dimensions = (
        ("team_id__in", metric_filter.teams),
        ("category_id__in", metric_filter.categories),
        ("customer_tier__in", metric_filter.customer_tiers),
        ("channel__in", metric_filter.channels),
        ("priority__in", metric_filter.priorities),
        ("agent_id__in", metric_filter.agents),
    )
    for lookup, values in dimensions:
        if values:
            condition &= Q(**{lookup: list(values)})
    return TicketFact.objects.filter(condition).order_by()


def _on_postgres(rows: QuerySet) -> bool:
    return connections[rows.db].vendor == "postgresql"


def _stats(count: int, median: float | None, p90: float | None) -> DurationStats:
    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else seconds / SECONDS_PER_HOUR

    return DurationStats(count=count, median_hours=hours(median), p90_hours=hours(p90))


def _duration_aggregates(prefix: str, field: str, condition: Q | None = None) -> dict:
    """count, median and p90 of `field` (its NULLs left out), named prefix_*."""
    present = Q(**{f"{field}__isnull": False})
    if condition is not None:
        present &= condition
    return {
        f"{prefix}_n": Count("pk", filter=present),
        f"{prefix}_median": PercentileCont(field, 0.5, filter=present),
        f"{prefix}_p90": PercentileCont(field, 0.9, filter=present),
    }


def durations(
    rows: QuerySet,
    fields: dict[str, str],
    priorities: dict[str, Sequence[str]] | None = None,
    extra: dict | None = None,
) -> tuple[dict[str, DurationStats], dict]:
    """DurationStats of several (name -> field) durations of `rows`, each
    optionally narrowed to the priorities[name], and the `extra` aggregates
    over the same rows: one statement on PostgreSQL."""
    priorities, extra = priorities or {}, extra or {}
    if _on_postgres(rows):
        aggregates: dict = dict(extra)
        for name, field in fields.items():
            levels = priorities.get(name)
            condition = None if levels is None else Q(priority__in=list(levels))
            aggregates |= _duration_aggregates(name, field, condition)
        found = rows.aggregate(**aggregates)
        stats = {
            name: _stats(found[f"{name}_n"], found[f"{name}_median"], found[f"{name}_p90"])
            for name in fields
        }
        return stats, {key: found[key] for key in extra}
    # SQLite (the embedded demo): fetch the values, interpolate in Python.
    values: dict[str, list[float]] = {name: [] for name in fields}
    for row in rows.values("priority", *set(fields.values())):
        for name, field in fields.items():
            levels = priorities.get(name)
            if row[field] is not None and (levels is None or row["priority"] in levels):
                values[name].append(row[field])
    stats = {name: DurationStats.of_seconds(seconds) for name, seconds in values.items()}
    return stats, rows.aggregate(**extra) if extra else {}


FIRST_RESPONSE = {"business": "first_response_business_s", "calendar": "first_response_calendar_s"}


def created_figures(metric_filter: MetricFilter) -> tuple[DurationMetric, Escalations]:
    """First response time and escalations (as analytics.metrics defines
    them) of the tickets created in [start, end): one statement."""
    found, counts = durations(
        fact_rows(metric_filter), FIRST_RESPONSE, extra=_ESCALATION_AGGREGATES
    )
    first_response = DurationMetric(business=found["business"], calendar=found["calendar"])
    return first_response, _escalations(counts)


def first_response_time(metric_filter: MetricFilter) -> DurationMetric:
    """As analytics.metrics.first_response_time."""
    found, _ = durations(fact_rows(metric_filter), FIRST_RESPONSE)
    return DurationMetric(business=found["business"], calendar=found["calendar"])


def solved_figures(
    metric_filter: MetricFilter, groups: dict[str, Sequence[str]]
) -> tuple[dict[str, DurationMetric], dict[str, Rate]]:
    """Of the tickets solved in [start, end), in one statement: the
    resolution time (as analytics.metrics.resolution_time) of each group of
    priorities (name -> priorities), and first-contact and Tier 1 resolution
    (as analytics.metrics defines them; keys "fcr" and "tier1")."""
    fields, priorities = {}, {}
    for name, levels in groups.items():
        for basis in ("business", "calendar"):
            fields[f"{name}_{basis}"] = f"resolution_{basis}_s"
            priorities[f"{name}_{basis}"] = levels
    found, counts = durations(
        fact_rows(metric_filter, "solved_at"), fields, priorities, extra=_SOLVED_RATE_AGGREGATES
    )
    times = {
        name: DurationMetric(business=found[f"{name}_business"], calendar=found[f"{name}_calendar"])
        for name in groups
    }
    solved = counts["solved"] or 0
    rates = {"fcr": Rate(counts["fcr"] or 0, solved), "tier1": Rate(counts["tier1"] or 0, solved)}
    return times, rates


def resolution_times(
    metric_filter: MetricFilter, groups: dict[str, Sequence[str]]
) -> dict[str, DurationMetric]:
    """As analytics.metrics.resolution_time for each group of priorities."""
    return solved_figures(metric_filter, groups)[0]


def solved_rates(metric_filter: MetricFilter) -> dict[str, Rate]:
    """First-contact resolution and Tier 1 resolution of the tickets solved
    in [start, end)."""
    return solved_figures(metric_filter, {})[1]


_SOLVED_RATE_AGGREGATES = {
    "solved": Count("pk"),
    "fcr": Count("pk", filter=Q(public_staff_replies=1, reopened=False)),
    "tier1": Count("pk", filter=Q(tier=AgentTier.TIER_1, left_tier1=False)),
}


def _compliance(row: dict, prefix: str = "") -> dict[str, Compliance]:
    found = {
        target: Compliance(
            met=row[f"{prefix}{target}_met"] or 0, breached=row[f"{prefix}{target}_breached"] or 0
        )
        for target in TARGETS
    }
    found["all"] = Compliance(
        met=sum(c.met for c in found.values()), breached=sum(c.breached for c in found.values())
    )
    return found


_OUTCOME_SUMS = {
    f"{target}_{outcome}": Sum(f"{target}_{outcome}")
    for target in TARGETS
    for outcome in ("met", "breached")
}


def sla_compliance(metric_filter: MetricFilter) -> SLACompliance:
    """As analytics.metrics.sla_compliance, judged when each fact was last
    computed. One statement (grouped by customer tier and priority)."""
    rows = list(
        fact_rows(metric_filter).values("customer_tier", "priority").annotate(**_OUTCOME_SUMS)
    )

    def pooled(key: str | None) -> dict[str, dict[str, Compliance]]:
        groups: dict[str, dict[str, Compliance]] = {}
        for row in rows:
            name = "all" if key is None else row[key]
            totals = groups.setdefault(name, {t: Compliance() for t in (*TARGETS, "all")})
            for target, found in _compliance(row).items():
                current = totals[target]
                totals[target] = Compliance(
                    current.met + found.met, current.breached + found.breached
                )
        return dict(sorted(groups.items()))

    overall = pooled(None).get("all") or {t: Compliance() for t in (*TARGETS, "all")}
    return SLACompliance(
        overall=overall, by_customer_tier=pooled("customer_tier"), by_priority=pooled("priority")
    )


def _rate(found: dict) -> Rate:
    return Rate(numerator=found["numerator"] or 0, denominator=found["denominator"] or 0)


def reopen_rate(metric_filter: MetricFilter) -> Rate:
    """As analytics.metrics.reopen_rate."""
    return _rate(
        fact_rows(metric_filter).aggregate(
            denominator=Count("pk", filter=Q(ever_solved=True)),
            numerator=Count("pk", filter=Q(ever_solved=True, reopened=True)),
        )
    )


KIND_FIELDS = {kind: escalation_kind_field(kind) for kind in Escalation.Kind.values}
TIER_FIELDS: dict[int | None, str] = {
    **{tier: escalation_tier_field(tier) for tier in AgentTier.values},
    None: escalation_tier_field(None),
}


def _escalated() -> Q:
    escalated = Q()
    for field in KIND_FIELDS.values():
        escalated |= Q(**{f"{field}__gt": 0})
    return escalated


_ESCALATION_AGGREGATES = {
    "denominator": Count("pk"),
    "numerator": Count("pk", filter=_escalated()),
    **{field: Sum(field) for field in (*KIND_FIELDS.values(), *TIER_FIELDS.values())},
}


def _escalations(found: dict) -> Escalations:
    return Escalations(
        rate=_rate(found),
        by_kind={kind: n for kind, field in KIND_FIELDS.items() if (n := found[field])},
        by_tier={tier: n for tier, field in TIER_FIELDS.items() if (n := found[field])},
    )


def escalations(metric_filter: MetricFilter) -> Escalations:
    """As analytics.metrics.escalations, from the facts' counts of escalation
    records by kind and by tier moved to. One statement."""
    return _escalations(fact_rows(metric_filter).aggregate(**_ESCALATION_AGGREGATES))


def agent_figures(metric_filter: MetricFilter) -> dict[int, AgentFigures]:
    """As analytics.metrics.agent_figures: per agent, over the tickets solved
    in [start, end). One statement (grouped by agent)."""
    rows = fact_rows(metric_filter, "solved_at").filter(agent_id__isnull=False)
    fields = {"business": "resolution_business_s", "calendar": "resolution_calendar_s"}
    found: dict[int, dict] = {}
    if _on_postgres(rows):
        aggregates: dict = {"solved": Count("pk"), "reopens": Count("pk", filter=Q(reopened=True))}
        for name, field in fields.items():
            aggregates |= _duration_aggregates(name, field)
        for row in rows.values("agent_id").annotate(**aggregates, **_OUTCOME_SUMS):
            found[row["agent_id"]] = row | {
                name: _stats(row[f"{name}_n"], row[f"{name}_median"], row[f"{name}_p90"])
                for name in fields
            }
    else:
        for row in rows.values("agent_id", "reopened", *fields.values(), *_OUTCOME_SUMS):
            mine = found.setdefault(
                row["agent_id"],
                {"solved": 0, "reopens": 0, **{k: 0 for k in _OUTCOME_SUMS}}
                | {name: [] for name in fields},
            )
            mine["solved"] += 1
            mine["reopens"] += int(row["reopened"])
            for key in _OUTCOME_SUMS:
                mine[key] += row[key]
            for name, field in fields.items():
                if row[field] is not None:
                    mine[name].append(row[field])
        for mine in found.values():
            for name in fields:
                mine[name] = DurationStats.of_seconds(mine[name])
    return {
        agent_id: AgentFigures(
            agent_id=agent_id,
            tickets_solved=row["solved"],
            resolution_time=DurationMetric(business=row["business"], calendar=row["calendar"]),
            sla_compliance=_compliance(row),
            reopen_rate=Rate(row["reopens"], row["solved"]),
        )
        for agent_id, row in sorted(found.items())
    }


def category_mix(metric_filter: MetricFilter) -> list[CategoryShare]:
    """As analytics.metrics.category_mix. Two statements (the counts, then
    the names of the categories found)."""
    counts = dict(
        fact_rows(metric_filter)
        .values("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    names = dict(Category.objects.filter(pk__in=[c for c in counts if c]).values_list("pk", "name"))
    total = sum(counts.values())
    rows = sorted(
        (
            (category_id, names.get(category_id) or "Uncategorised", n)
            for category_id, n in counts.items()
        ),
        # As the metric's ORDER BY: most first, then by name, Uncategorised last.
        key=lambda row: (-row[2], row[0] is None, row[1]),
    )
    return [CategoryShare(category_id, name, n, n / total) for category_id, name, n in rows]


def tickets_by_hour_and_weekday(
    metric_filter: MetricFilter, *, time_zone: str | tzinfo | None = None
) -> list[list[int]]:
    """As analytics.metrics.tickets_by_hour_and_weekday."""
    return volume.tickets_by_hour_and_weekday(
        metric_filter, time_zone=time_zone, created_rows=fact_rows(metric_filter)
    )
