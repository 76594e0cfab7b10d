"""The staffing plan: forecast arrivals per hour for the next two weeks, the
agents Erlang C says each hour needs, the agents on the roster, and the gap.

Agents are planned for the hours the SLA calendar is open, because the
first-response target counts business hours (selectors.first_response_target):
a ticket that arrives while the calendar is closed waits, within its target,
for the opening. Such tickets are carried over and added evenly to the first
open hours within the target's length after the opening (a 4-hour target:
the first four open hours), the hours that must answer them; a closed hour
needs nobody. Without a calendar (no SLA policy) every hour is open.

The page, its CSV and the API all render one `StaffingPlan`, so they show the
same figures.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from django.core.cache import cache

from analytics.staffing import erlang, selectors
from analytics.staffing.forecast import Forecast, forecast_hours
from analytics.staffing.selectors import Filters, HandlingTime, Target
from escalation.business_hours import business_time_between
from escalation.calendars import hours_for

HORIZON_DAYS = 14
# A forecast is good until the history gains an hour (the key changes then).
CACHE_SECONDS = 3600
# Heatmap colour steps (CSS classes heat-0 … heat-8): nine, so neighbouring
# steps stay distinguishable on a single-hue scale.
BUCKETS = 9
# Gap colour steps heat-gap-1 … heat-gap-4 by agents short, a fixed scale so a
# colour always means the same shortfall: up to 1, 2, 4, and more.
GAP_STEPS = (1.0, 2.0, 4.0)


@dataclass(frozen=True)
class HourPlan:
    start: datetime  # UTC
    local_start: datetime  # in the plan's zone
    forecast: float  # tickets in the hour, from the history
    planned: float  # the forecast with the "what if" change applied
    # Tickets the hour must answer: its arrivals while open plus its share of
    # those carried over from closed hours (0 while closed).
    workload: float
    open_share: float  # share of the hour the SLA calendar is open (0..1)
    agents_needed: int
    on_shift: float  # agents on the roster (share of the hour covered)
    service_level: float  # share answered in time with `agents_needed`

    @property
    def gap(self) -> float:
        """Agents missing (positive) or spare (negative)."""
        return self.agents_needed - self.on_shift


@dataclass(frozen=True)
class Cell:
    value: float
    bucket: int
    closed: bool = False  # the SLA calendar is closed all hour


@dataclass(frozen=True)
class DayRow:
    day: datetime  # local midnight
    forecast: list[Cell | None]  # 24, None for an hour a DST change skips
    needed: list[Cell | None]
    on_shift: list[Cell | None]
    gap: list[Cell | None]


@dataclass(frozen=True)
class StaffingPlan:
    hours: list[HourPlan]
    forecast: Forecast
    handling: HandlingTime
    target: Target
    service_level_goal: float
    max_occupancy: float
    what_if_percent: float
    zone: tzinfo
    history_weeks: int

    def week(self, number: int) -> list[DayRow]:
        """Week 1 or 2 of the horizon as heatmap rows, one per local day."""
        return _heatmap(self, number)

    @property
    def totals(self) -> dict[str, float]:
        return {
            "forecast_tickets": sum(h.forecast for h in self.hours),
            "planned_tickets": sum(h.planned for h in self.hours),
            "agent_hours_needed": float(sum(h.agents_needed for h in self.hours)),
            "agent_hours_on_shift": sum(h.on_shift for h in self.hours),
            "understaffed_hours": float(sum(1 for h in self.hours if h.gap > 0)),
        }


def horizon(now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The next two weeks: from tomorrow 00:00 local to 14 local days later (UTC)."""
    today = now.astimezone(zone).date()
    first = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    last = datetime.combine(
        today + timedelta(days=1 + HORIZON_DAYS), datetime.min.time(), tzinfo=zone
    )
    return first.astimezone(UTC), last.astimezone(UTC)


def staffing_plan(
    *, filters: Filters, what_if_percent: float, now: datetime, zone: tzinfo
) -> StaffingPlan:
    history_weeks = int(selectors.setting("HISTORY_WEEKS", 12))
    service_level_goal = float(selectors.setting("SERVICE_LEVEL", 0.8))
    max_occupancy = float(selectors.setting("MAX_OCCUPANCY", 0.85))
    until = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    since = until - timedelta(weeks=history_weeks)
    first, last = horizon(now, zone)
    lead = int((first - until) / timedelta(hours=1))
    count = int((last - first) / timedelta(hours=1))
    predicted, handling = _forecast_and_handling(
        filters=filters, since=since, until=until, hours=lead + count, zone=zone
    )
    target = selectors.first_response_target()
    coverage = selectors.shift_coverage(team_ids=filters.team_ids, start=first, hours=count)
    factor = 1 + what_if_percent / 100
    open_shares = _open_shares(target, until, lead + count)
    workloads = _workloads(
        [float(v) * factor for v in predicted.values[: lead + count]], open_shares, target
    )
    hours = []
    for index in range(count):
        start = first + timedelta(hours=index)
        expected = float(predicted.values[lead + index])
        workload = workloads[lead + index]
        need = erlang.agents_needed(
            arrivals_per_hour=workload,
            handling_minutes=handling.minutes,
            target_minutes=target.minutes,
            service_level_goal=service_level_goal,
            max_occupancy=max_occupancy,
        )
        hours.append(
            HourPlan(
                start=start,
                local_start=start.astimezone(zone),
                forecast=expected,
                planned=expected * factor,
                workload=workload,
                open_share=open_shares[lead + index],
                agents_needed=need.agents,
                on_shift=float(coverage[index]),
                service_level=need.service_level,
            )
        )
    return StaffingPlan(
        hours=hours,
        forecast=predicted,
        handling=handling,
        target=target,
        service_level_goal=service_level_goal,
        max_occupancy=max_occupancy,
        what_if_percent=what_if_percent,
        zone=zone,
        history_weeks=history_weeks,
    )


def _open_shares(target: Target, start: datetime, count: int) -> list[float]:
    """The share of each of `count` hours from `start` that the target's SLA
    calendar is open (1.0 each without a calendar)."""
    if target.calendar_id is None:
        return [1.0] * count
    hours = hours_for(target.calendar_id)
    hour = timedelta(hours=1)
    return [
        business_time_between(hours, start + index * hour, start + (index + 1) * hour) / hour
        for index in range(count)
    ]


def _workloads(arrivals: list[float], open_shares: list[float], target: Target) -> list[float]:
    """Tickets each hour must answer: the arrivals of its open part, plus an
    even share of the tickets that arrived while the calendar was closed,
    spread over the first open hours within the target after the opening."""
    spread_over = max(1, math.ceil(target.minutes / 60))
    carried = 0.0
    # [tickets left to spread, open hours left to spread them over]
    spreading: list[list[float]] = []
    workloads = []
    for arrived, share in zip(arrivals, open_shares, strict=True):
        carried += arrived * (1 - share)
        if share <= 0:
            workloads.append(0.0)
            continue
        if carried:
            spreading.append([carried, float(spread_over)])
            carried = 0.0
        load = arrived * share
        for entry in spreading:
            portion = entry[0] / entry[1]
            load += portion
            entry[0] -= portion
            entry[1] -= 1
        spreading = [entry for entry in spreading if entry[1] > 0]
        workloads.append(load)
    return workloads


def warm_forecasts(*, now: datetime, zone: tzinfo) -> int:
    """Compute and cache this hour's forecast and handling time for every
    team and for all tickets (the filters the page opens with), so no manager
    waits for the cold computation (2.7-3.4 s at 1,000,000 tickets). Run hourly
    just after the hour by analytics.staffing.tasks.warm_staffing_forecasts.
    Returns how many were computed."""
    from tickets.models import Team

    history_weeks = int(selectors.setting("HISTORY_WEEKS", 12))
    until = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first, last = horizon(now, zone)
    hours = int((last - until) / timedelta(hours=1))
    scopes: list[list[int] | None] = [None]
    scopes += [[pk] for pk in Team.objects.order_by("pk").values_list("pk", flat=True)]
    for team_ids in scopes:
        _forecast_and_handling(
            filters=Filters(team_ids=team_ids),
            since=until - timedelta(weeks=history_weeks),
            until=until,
            hours=hours,
            zone=zone,
        )
    return len(scopes)


def _forecast_and_handling(
    *, filters: Filters, since: datetime, until: datetime, hours: int, zone: tzinfo
) -> tuple[Forecast, HandlingTime]:
    """The slow part (the arrival history, the backtest's model fits, the
    handling-time aggregate: about 1.3 s at 100,000 tickets on a busy 2-core
    box), cached until the history gains its next hour: `until` is in the key,
    and the history ends at the last whole hour, so a cached forecast is the
    one a fresh computation would give. The roster and the target are read
    every time, so an edited shift shows at once. Without the cache (Redis
    down) it is computed per request (core.cache.FailSafeRedisCache)."""
    key = (
        "staffing:v1:"
        + hashlib.sha256(
            repr(
                (
                    sorted(filters.team_ids) if filters.team_ids is not None else None,
                    filters.category_id,
                    filters.channel,
                    since.isoformat(),
                    until.isoformat(),
                    hours,
                    str(zone),
                    selectors.setting("AHT_MINUTES", None),
                    selectors.setting("SESSION_GAP_MINUTES", 45),
                )
            ).encode()
        ).hexdigest()
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    history_start, counts = selectors.hourly_arrivals(filters=filters, since=since, until=until)
    predicted = forecast_hours(history_start=history_start, counts=counts, hours=hours, zone=zone)
    handling = selectors.handling_time(
        filters=filters, since=until - timedelta(days=28), until=until
    )
    cache.set(key, (predicted, handling), timeout=CACHE_SECONDS)
    return predicted, handling


def _gap_bucket(gap: float) -> int:
    """0 staffed (or spare), 1..4 short by up to 1, 2, 4 or more agents."""
    if gap <= 0:
        return 0
    return 1 + sum(1 for step in GAP_STEPS if gap > step)


def _bucket(value: float, top: float, steps: int) -> int:
    if top <= 0 or value <= 0:
        return 0
    return min(steps - 1, max(1, math.ceil(value / top * (steps - 1))))


def _heatmap(plan: StaffingPlan, number: int) -> list[DayRow]:
    # One scale for both weeks (and one for agents needed and on shift), so a
    # colour means the same number wherever it appears.
    top_tickets = max((h.planned for h in plan.hours), default=0.0)
    top_agents = max((max(h.agents_needed, h.on_shift) for h in plan.hours), default=0.0)
    days: dict = {}
    for hour in plan.hours:
        day = hour.local_start.date()
        row = days.setdefault(day, {"forecast": [None] * 24, "needed": [None] * 24,
                                    "on_shift": [None] * 24, "gap": [None] * 24})  # fmt: skip
        slot = hour.local_start.hour
        if row["forecast"][slot] is not None:
            continue  # the repeated hour when clocks go back: the first one shows
        row["forecast"][slot] = Cell(hour.planned, _bucket(hour.planned, top_tickets, BUCKETS))
        closed = hour.open_share <= 0
        row["needed"][slot] = Cell(
            hour.agents_needed, _bucket(hour.agents_needed, top_agents, BUCKETS), closed
        )
        row["on_shift"][slot] = Cell(hour.on_shift, _bucket(hour.on_shift, top_agents, BUCKETS))
        row["gap"][slot] = Cell(hour.gap, _gap_bucket(hour.gap), closed)
    ordered = sorted(days.items())[(number - 1) * 7 : number * 7]
    return [
        DayRow(
            day=datetime.combine(day, datetime.min.time(), tzinfo=plan.zone),
            forecast=row["forecast"],
            needed=row["needed"],
            on_shift=row["on_shift"],
            gap=row["gap"],
        )
        for day, row in ordered
    ]
