"""Which tickets a metric reads: one filter, applied one way.

Date rule (each metric's docstring says which one it uses):

- a *cohort* metric (first response, next response, SLA compliance, reopen
  rate, escalations, created tickets, category mix and trend, hour x weekday, the
  tickets that were shown articles) counts the tickets **created** in
  [start, end);
- a *completion* metric (resolution time, first-contact resolution, Tier 1
  resolution, per-agent figures) counts the tickets whose final solve
  (`Ticket.solved_at`) falls in [start, end);
- an *event* metric (tickets solved per period, deflections) counts the
  events whose own time falls in [start, end);
- the backlog is taken **as of one instant** and ignores start and end.

Both bounds are aware datetimes compared in UTC; `start` is included, `end`
excluded, and either may be left open (None).

The other dimensions select tickets by their current values: team, category,
channel, priority, assignee ("agent"), and the customer tier of the ticket's
organisation (`Organization.support_tier`), where a ticket without an
organisation counts as basic, as the SLA clock does
(escalation.clock.policy_for).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Q, QuerySet

from tickets.models import Ticket

DateField = Literal["created_at", "solved_at"]


@dataclass(frozen=True)
class MetricFilter:
    """The filter every metric takes. Empty sequences mean "all"."""

    start: datetime | None = None
    end: datetime | None = None
    teams: Sequence[int] = ()
    categories: Sequence[int] = ()
    customer_tiers: Sequence[str] = ()
    channels: Sequence[str] = ()
    priorities: Sequence[str] = ()
    agents: Sequence[int] = ()

    def __post_init__(self) -> None:
        for bound in (self.start, self.end):
            if bound is not None and bound.tzinfo is None:
                raise ValueError("Metric date bounds must be aware datetimes (UTC).")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("The start of a metric's date range must be before its end.")

    @property
    def has_ticket_only_dimensions(self) -> bool:
        """Dimensions that only a ticket has (a deflection never became one)."""
        ticket_only = (self.teams, self.categories, self.channels, self.priorities, self.agents)
        return any(ticket_only)


def tier_q(tiers: Sequence[str], prefix: str = "") -> Q:
    """Tickets (or rows reached through `prefix`, e.g. "ticket__") whose
    customer tier is one of `tiers`; no organisation counts as basic."""
    condition = Q(**{f"{prefix}organization__support_tier__in": list(tiers)})
    if "basic" in tiers:
        condition |= Q(**{f"{prefix}organization__isnull": True})
    return condition


def dimensions_q(metric_filter: MetricFilter, prefix: str = "") -> Q:
    """Every dimension but the date range, for tickets reached through `prefix`."""
    condition = Q()
    dimensions = (
        ("team_id__in", metric_filter.teams),
        ("category_id__in", metric_filter.categories),
        ("channel__in", metric_filter.channels),
        ("priority__in", metric_filter.priorities),
        ("assignee_id__in", metric_filter.agents),
    )
    for lookup, values in dimensions:
        if values:
            condition &= Q(**{f"{prefix}{lookup}": list(values)})
    if metric_filter.customer_tiers:
        condition &= tier_q(metric_filter.customer_tiers, prefix)
    return condition


def range_q(metric_filter: MetricFilter, field: str) -> Q:
    """[start, end) over `field` (any datetime column)."""
    condition = Q()
    if metric_filter.start is not None:
        condition &= Q(**{f"{field}__gte": metric_filter.start})
    if metric_filter.end is not None:
        condition &= Q(**{f"{field}__lt": metric_filter.end})
    return condition


def filter_tickets(
    metric_filter: MetricFilter,
    *,
    date_field: DateField | None = "created_at",
    queryset: QuerySet[Ticket] | None = None,
) -> QuerySet[Ticket]:
    """The tickets a metric reads: `date_field` in [start, end) (None: no
    date condition, e.g. the backlog), and every other dimension."""
    tickets = Ticket.objects.all() if queryset is None else queryset
    condition = dimensions_q(metric_filter)
    if date_field is not None:
        condition &= range_q(metric_filter, date_field)
    return tickets.filter(condition).order_by()
