"""The metric definitions: each metric computed from the raw tables
(tickets, their history, messages, escalations, SLA clocks, deflections),
with its one written definition in its docstring (and in README.md, "Metric
definitions"). Later rollups and dashboards must give exactly these values.

Every function is a pure read over the tickets a MetricFilter selects, with a
constant number of SQL queries whatever the number of tickets.
"""

from analytics.metrics.agents import AgentFigures, agent_figures
from analytics.metrics.durations import first_response_time, next_response_time, resolution_time
from analytics.metrics.filters import MetricFilter, filter_tickets
from analytics.metrics.rates import (
    Escalations,
    SelfService,
    escalations,
    first_contact_resolution_rate,
    reopen_rate,
    self_service,
    tier1_resolution_rate,
)
from analytics.metrics.sla import SLACompliance, sla_compliance
from analytics.metrics.stats import Compliance, DurationMetric, DurationStats, Rate, percentile
from analytics.metrics.surveys import (
    CES,
    CSAT,
    NPS,
    CSATPeriod,
    Satisfaction,
    bad_ratings_awaiting_follow_up,
    ces,
    csat,
    csat_by_agent,
    csat_by_month,
    nps,
    satisfaction,
)
from analytics.metrics.volume import (
    AGE_BUCKETS,
    Backlog,
    CategoryPeriod,
    CategoryShare,
    PeriodCount,
    backlog,
    category_mix,
    category_trend,
    created_vs_solved,
    current_backlog,
    tickets_by_hour_and_weekday,
)

__all__ = [
    "AGE_BUCKETS",
    "AgentFigures",
    "Backlog",
    "CES",
    "CSAT",
    "CSATPeriod",
    "CategoryPeriod",
    "CategoryShare",
    "Compliance",
    "DurationMetric",
    "DurationStats",
    "Escalations",
    "MetricFilter",
    "NPS",
    "PeriodCount",
    "Rate",
    "SLACompliance",
    "Satisfaction",
    "SelfService",
    "agent_figures",
    "backlog",
    "bad_ratings_awaiting_follow_up",
    "category_mix",
    "category_trend",
    "ces",
    "created_vs_solved",
    "current_backlog",
    "csat",
    "csat_by_agent",
    "csat_by_month",
    "escalations",
    "filter_tickets",
    "first_contact_resolution_rate",
    "first_response_time",
    "next_response_time",
    "nps",
    "percentile",
    "reopen_rate",
    "resolution_time",
    "satisfaction",
    "self_service",
    "sla_compliance",
    "tickets_by_hour_and_weekday",
    "tier1_resolution_rate",
]
