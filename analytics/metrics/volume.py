"""Volumes: the backlog and its age, tickets created and solved per period,
the category mix, and tickets by hour of day x weekday. All counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DateTimeField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, ExtractHour, ExtractIsoWeekDay, Trunc
from django.utils import timezone

from analytics.metrics.filters import MetricFilter, dimensions_q, filter_tickets, range_q
from analytics.metrics.timeline import STATUS_ACTIONS
from tickets.models import OPEN_STATUS_VALUES, Status, TicketEvent

Period = Literal["day", "week", "month"]

# Backlog age buckets: (name, lower bound, upper bound) in days, [lower, upper).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-1d", 0, 1),
    ("1-3d", 1, 3),
    ("3-7d", 3, 7),
    ("7-30d", 7, 30),
    ("30d+", 30, None),
)


def _zone(time_zone: str | tzinfo | None) -> tzinfo:
    if time_zone is None:
        return ZoneInfo(settings.TIME_ZONE)
    return ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone


@dataclass(frozen=True)
class Backlog:
    """Open tickets as of `as_of`, and how many fall in each age bucket."""

    as_of: datetime
    size: int
    by_age: dict[str, int]


def backlog(metric_filter: MetricFilter, *, as_of: datetime | None = None) -> Backlog:
    """Backlog: the tickets open at the instant `as_of` (default: now) —
    created before it, and whose status at that instant (the last status
    change at or before it; "new" before any) is new, open, pending or on
    hold. Age = `as_of` - creation, bucketed [0, 1 d), [1, 3 d), [3, 7 d),
    [7, 30 d), [30 d, ...). The date range does not apply (one instant);
    the other dimensions use the tickets' current values. Unit: tickets.
    Queries: 1."""
    as_of = as_of or timezone.now()
    status_then = Subquery(
        TicketEvent.objects.filter(
            ticket_id=OuterRef("pk"),
            action__in=STATUS_ACTIONS,
            field="status",
            created_at__lte=as_of,
        )
        .order_by("-created_at", "-id")
        .values("new_value")[:1]
    )
    tickets = (
        filter_tickets(metric_filter, date_field=None)
        .filter(created_at__lte=as_of)
        .annotate(status_then=Coalesce(status_then, Value(Status.NEW.value)))
        .filter(status_then__in=OPEN_STATUS_VALUES)
    )
    return Backlog(as_of=as_of, **_age_counts(tickets, as_of))


def _age_counts(tickets, as_of: datetime) -> dict:
    """size and by_age of the open `tickets` at `as_of` (one aggregate)."""
    buckets = {}
    for name, lower, upper in AGE_BUCKETS:
        # Created in (as_of - upper, as_of - lower]: aged [lower, upper).
        condition = Q(created_at__lte=as_of - timedelta(days=lower))
        if upper is not None:
            condition &= Q(created_at__gt=as_of - timedelta(days=upper))
        buckets[name] = Count("created_at", filter=condition)
    # Counted by created_at (never NULL), not id: the open tickets' partial
    # index on created_at then answers alone (an index-only scan).
    counts = tickets.aggregate(size=Count("created_at"), **buckets)
    return {"size": counts["size"], "by_age": {name: counts[name] for name, _, _ in AGE_BUCKETS}}


def current_backlog(metric_filter: MetricFilter, *, now: datetime | None = None) -> Backlog:
    """The backlog as of `now` (default: the current time), as `backlog`
    defines it, read from the tickets' current status instead of replaying
    their status events: every status change goes through the one status
    path (tickets.services), which records its event in the same
    transaction, so the last status change at or before now is the current
    status. One query over the status index, whatever the history's size.
    Unit: tickets."""
    now = now or timezone.now()
    tickets = filter_tickets(metric_filter, date_field=None).filter(
        created_at__lte=now, status__in=OPEN_STATUS_VALUES
    )
    return Backlog(as_of=now, **_age_counts(tickets, now))


def _local_date(moment: datetime, zone: tzinfo) -> date:
    """The local date of a truncated period start: PostgreSQL returns it
    aware, SQLite may return it naive in the zone."""
    return moment.astimezone(zone).date() if timezone.is_aware(moment) else moment.date()


@dataclass(frozen=True)
class PeriodCount:
    period_start: date
    created: int
    solved: int


def period_starts(start: datetime, end: datetime, period: Period, zone: tzinfo) -> list[date]:
    """The local first days of the periods (day, week from Monday, month)
    that meet [start, end)."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if period == "week":
        first -= timedelta(days=first.weekday())
    elif period == "month":
        first = first.replace(day=1)
    starts = []
    current = first
    while current <= last:
        starts.append(current)
        if period == "day":
            current += timedelta(days=1)
        elif period == "week":
            current += timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def created_vs_solved(
    metric_filter: MetricFilter,
    *,
    period: Period = "day",
    time_zone: str | tzinfo | None = None,
    created_rows: QuerySet | None = None,
) -> list[PeriodCount]:
    """Tickets created vs solved per day, week (starting Monday) or month,
    the periods taken in `time_zone` (default settings.TIME_ZONE).
    `created_rows` are the rows whose creation is counted, with a
    created_at each (default: the tickets the filter selects; the dashboard
    passes their ticket facts, analytics.rollups.fact_metrics.fact_rows).

    - created: tickets whose creation falls in [start, end) and the period;
    - solved: changes of status to solved whose time falls in [start, end)
      and the period (a ticket reopened and solved again counts each time;
      a merge's close is no solve).

    With both bounds given every period between them is listed (zeros
    included), otherwise only periods with a count. Unit: tickets.
    Queries: 2."""
    zone = _zone(time_zone)

    def truncated(field: str) -> Trunc:
        return Trunc(field, period, output_field=DateTimeField(), tzinfo=zone)

    if created_rows is None:
        created_rows = filter_tickets(metric_filter)
    created_counts = (
        created_rows.annotate(period=truncated("created_at"))
        .values("period")
        .annotate(n=Count("pk"))
        .values_list("period", "n")
    )
    solved_rows = (
        TicketEvent.objects.filter(
            range_q(metric_filter, "created_at"),
            dimensions_q(metric_filter, "ticket__"),
            action__in=STATUS_ACTIONS,
            field="status",
            new_value=Status.SOLVED.value,
        )
        .order_by()
        .annotate(period=truncated("created_at"))
        .values("period")
        .annotate(n=Count("id"))
        .values_list("period", "n")
    )

    created = {_local_date(p, zone): n for p, n in created_counts}
    solved = {_local_date(p, zone): n for p, n in solved_rows}
    if metric_filter.start is not None and metric_filter.end is not None:
        starts = period_starts(metric_filter.start, metric_filter.end, period, zone)
    else:
        starts = sorted(created.keys() | solved.keys())
    return [PeriodCount(day, created.get(day, 0), solved.get(day, 0)) for day in starts]


@dataclass(frozen=True)
class CategoryShare:
    category_id: int | None
    name: str
    tickets: int
    share: float


def category_mix(metric_filter: MetricFilter) -> list[CategoryShare]:
    """Category mix: the tickets created in [start, end) by their current
    category (None: not categorised yet), most first, each with its share of
    the total (fraction 0..1). Queries: 1."""
    rows = list(
        filter_tickets(metric_filter)
        .values_list("category_id", "category__name")
        .annotate(n=Count("id"))
        .order_by("-n", "category__name")
    )
    total = sum(n for _, _, n in rows)
    return [
        CategoryShare(category_id, name or "Uncategorised", n, n / total)
        for category_id, name, n in rows
    ]


@dataclass(frozen=True)
class CategoryPeriod:
    period_start: date
    category_id: int | None
    name: str
    tickets: int


def category_trend(
    metric_filter: MetricFilter,
    *,
    period: Period = "week",
    time_zone: str | tzinfo | None = None,
) -> list[CategoryPeriod]:
    """Category trend: the category mix per day, week (starting Monday) or
    month of creation in `time_zone` (default settings.TIME_ZONE), for the
    tickets created in [start, end); periods in order, the categories of a
    period most first; only the (period, category) pairs with tickets.
    Unit: tickets. Queries: 1."""
    zone = _zone(time_zone)
    rows = (
        filter_tickets(metric_filter)
        .annotate(period=Trunc("created_at", period, output_field=DateTimeField(), tzinfo=zone))
        .values_list("period", "category_id", "category__name")
        .annotate(n=Count("id"))
    )
    found = [
        CategoryPeriod(_local_date(moment, zone), category_id, name or "Uncategorised", n)
        for moment, category_id, name, n in rows
    ]
    return sorted(found, key=lambda row: (row.period_start, -row.tickets, row.name))


def tickets_by_hour_and_weekday(
    metric_filter: MetricFilter,
    *,
    time_zone: str | tzinfo | None = None,
    created_rows: QuerySet | None = None,
) -> list[list[int]]:
    """Tickets created in [start, end) by weekday x hour of day of their
    creation in `time_zone` (default settings.TIME_ZONE): a 7 x 24 matrix,
    row 0 Monday ... row 6 Sunday, column = hour 0..23. `created_rows` as
    in created_vs_solved. Unit: tickets. Queries: 1."""
    zone = _zone(time_zone)
    grid = [[0] * 24 for _ in range(7)]
    if created_rows is None:
        created_rows = filter_tickets(metric_filter)
    rows = (
        created_rows.annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=zone),
            hour=ExtractHour("created_at", tzinfo=zone),
        )
        .values_list("weekday", "hour")
        .annotate(n=Count("pk"))
    )
    for weekday, hour, n in rows:
        grid[weekday - 1][hour] = n
    return grid
