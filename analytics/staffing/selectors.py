"""Reads behind the staffing view: who may see which teams, the hourly arrival
history, the measured handling time, the roster and the first-response target.

Each is one SQL statement whatever the size of the history, so the page and
the API run a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum, Window
from django.db.models.functions import Lag, TruncHour
from django.http import Http404

from escalation.models import SLAPolicy
from tickets.models import (
    ASSIGNABLE_ROLES,
    STAFF_ROLES,
    AgentShift,
    Message,
    Priority,
    SupportTier,
    Team,
    Ticket,
    User,
)

# When no SLA policy says otherwise: the operation's "first meaningful
# response within 4 h" (DESIGN.md).
DEFAULT_TARGET_MINUTES = 240
DEFAULT_HANDLING_MINUTES = 20.0
# Fewer work intervals than this and the measured handling time is noise.
MIN_HANDLING_SAMPLES = 30


def setting(name: str, default):
    """HELPDESK_STAFFING_<name>, read per call so a test's override counts."""
    return getattr(settings, f"HELPDESK_STAFFING_{name}", default)


# --- access -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a user may plan for: managers every team (and the tickets no team
    holds yet), agents only their own teams."""

    sees_all: bool
    teams: list[Team]

    def team_ids(self) -> list[int]:
        return [team.pk for team in self.teams]


def staffing_scope(user: User) -> Scope:
    """The user's scope; a customer (or anyone who works no tickets) gets a 404,
    as if the page did not exist."""
    if not user.is_authenticated or not user.is_active:
        raise Http404("No such page")
    if user.has_perm("tickets.view_dashboards"):
        return Scope(sees_all=True, teams=list(Team.objects.order_by("name")))
    if user.has_perm("tickets.work_tickets"):
        return Scope(sees_all=False, teams=list(user.teams.order_by("name")))
    raise Http404("No such page")


# --- arrival history --------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which tickets count. `team_ids` None means every ticket (a manager's
    "all teams", tickets without a team included)."""

    team_ids: Sequence[int] | None
    category_id: int | None = None
    channel: str | None = None


def _tickets(filters: Filters) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all()
    if filters.team_ids is not None:
        tickets = tickets.filter(team_id__in=list(filters.team_ids))
    if filters.category_id is not None:
        tickets = tickets.filter(category_id=filters.category_id)
    if filters.channel:
        tickets = tickets.filter(channel=filters.channel)
    return tickets


def hourly_arrivals(
    *, filters: Filters, since: datetime, until: datetime
) -> tuple[datetime, np.ndarray]:
    """Tickets created per hour in [since, until) (both UTC, whole hours): one
    GROUP BY over the hour, which PostgreSQL and SQLite both truncate
    (date_trunc / Django's SQLite function). Returns the history's first hour
    and the counts from there, hours without tickets as 0.

    The history starts at the first ticket when that comes more than a day
    after `since` (a new team, a new install), so a young history is not padded
    with weeks of zeros that would read as "no demand"."""
    rows = (
        _tickets(filters)
        .filter(created_at__gte=since, created_at__lt=until)
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("hour")
        .annotate(tickets=Count("id"))
        .values_list("hour", "tickets")
    )
    by_hour = {hour.astimezone(UTC): count for hour, count in rows}
    start = since
    if by_hour:
        first = min(by_hour)
        if first - since > timedelta(days=1):
            start = first
    else:
        start = until
    hours = int((until - start) / timedelta(hours=1))
    counts = np.zeros(hours)
    for hour, count in by_hour.items():
        counts[int((hour - start) / timedelta(hours=1))] = count
    return start, counts


# --- handling time ----------------------------------------------------------------


@dataclass(frozen=True)
class HandlingTime:
    minutes: float  # what Erlang C uses
    source: str  # "setting", "measured" or "default"
    measured_minutes: float | None  # the measurement, shown beside a configured value
    work_intervals: int  # how many gaps the measurement rests on
    messages_per_ticket: float | None


def handling_time(*, filters: Filters, since: datetime, until: datetime) -> HandlingTime:
    """Agent work per ticket, measured from the staff's messages.

    The helpdesk does not record how long an agent works on a ticket, and the
    time from assignment or first response to solved is waiting, not work. What
    is recorded is when each agent posted each reply or note. While an agent
    works continuously, the time between two of their consecutive messages is
    the time spent on the second one (reading, looking things up, writing). So:

        minutes per message = mean gap between an agent's consecutive messages,
                              counting only gaps up to SESSION_GAP_MINUTES (45)
                              (a longer one is a break, a meeting, the night);
        messages per ticket = staff messages / tickets they were written on;
        handling time       = minutes per message × messages per ticket.

    It overstates work when agents are idle between messages (a quiet hour's
    gaps are partly waiting), so a planner can set
    HELPDESK_STAFFING_AHT_MINUTES from a time study; the measurement is still
    shown beside it. Too few intervals (under 30): the configured figure or
    20 minutes. It is the work of the team's agents (all staff for every
    team); the category and channel filters do not narrow it.
    """
    session_gap = timedelta(minutes=float(setting("SESSION_GAP_MINUTES", 45)))
    # The gap to the same agent's previous message: a window function, and the
    # sums over it in one statement (Django wraps the window in a subquery), on
    # PostgreSQL and SQLite alike; 0.19 s for 63,000 messages at 100,000
    # tickets, where reading the rows into Python took 0.6 s.
    gap = ExpressionWrapper(
        F("created_at")
        - Window(Lag("created_at"), partition_by=[F("author_id")], order_by=F("created_at").asc()),
        output_field=DurationField(),
    )
    working = Q(gap__lte=session_gap)
    messages_in_window = Message.objects.filter(
        created_at__gte=since, created_at__lt=until, author__role__in=STAFF_ROLES
    )
    if filters.team_ids is not None:
        # The team's people, on whatever tickets they worked: a filter on the
        # tickets would hide their other messages and stretch the gaps.
        members = User.objects.filter(teams__in=list(filters.team_ids)).values("id")
        messages_in_window = messages_in_window.filter(author_id__in=members)
    totals = messages_in_window.annotate(gap=gap).aggregate(
        messages=Count("id"),
        tickets=Count("ticket_id", distinct=True),
        worked=Sum("gap", filter=working),
        intervals=Count("id", filter=working),
    )
    messages = totals["messages"] or 0
    intervals = totals["intervals"] or 0
    worked = totals["worked"] or timedelta()
    tickets = totals["tickets"] or 0
    measured = None
    per_ticket = messages / tickets if tickets else None
    if intervals >= MIN_HANDLING_SAMPLES and per_ticket is not None:
        measured = worked / timedelta(minutes=1) / intervals * per_ticket
    configured = setting("AHT_MINUTES", None)
    if configured is not None:
        return HandlingTime(float(configured), "setting", measured, intervals, per_ticket)
    if measured is not None and measured > 0:
        return HandlingTime(measured, "measured", measured, intervals, per_ticket)
    return HandlingTime(DEFAULT_HANDLING_MINUTES, "default", None, intervals, per_ticket)


# --- roster -----------------------------------------------------------------------


def shift_coverage(*, team_ids: Sequence[int] | None, start: datetime, hours: int) -> np.ndarray:
    """Agents scheduled in each of `hours` hours from `start` (UTC), counted
    by the share of the hour their shift covers (an agent from 09:30 counts
    0.5 in the 09:00 hour). Active agents and managers of the teams (all of
    them for None); someone in two teams is one person for "all teams"."""
    shifts = AgentShift.objects.filter(agent__is_active=True, agent__role__in=ASSIGNABLE_ROLES)
    if team_ids is not None:
        shifts = shifts.filter(agent__teams__in=list(team_ids))
    rows = set(shifts.values_list("id", "weekday", "starts", "ends", "time_zone"))
    coverage = np.zeros(hours)
    end = start + timedelta(hours=hours)
    for _id, weekday, starts, ends, zone_name in rows:
        zone = ZoneInfo(zone_name)
        first_day = start.astimezone(zone).date() - timedelta(days=1)
        last_day = end.astimezone(zone).date()
        for day in _days(first_day, last_day):
            if day.weekday() != weekday:
                continue
            shift_start = datetime.combine(day, starts, tzinfo=zone).astimezone(UTC)
            end_day = day if ends > starts and ends != time(0) else day + timedelta(days=1)
            shift_end = datetime.combine(end_day, ends, tzinfo=zone).astimezone(UTC)
            _add_overlap(coverage, start, shift_start, shift_end)
    return coverage


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _add_overlap(coverage: np.ndarray, start: datetime, begin: datetime, end: datetime) -> None:
    hour = timedelta(hours=1)
    first = max(0, int((begin - start) // hour))
    last = min(len(coverage), int(-((start - end) // hour)))  # ceiling
    for index in range(first, last):
        slot_start = start + index * hour
        overlap = min(end, slot_start + hour) - max(begin, slot_start)
        if overlap > timedelta():
            coverage[index] += overlap / hour


# --- target -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    minutes: float
    source: str  # "setting", "SLA policy …" or "default"
    # The SLA calendar the target counts in (the standard tier's normal
    # policy's); None: always open (no such policy).
    calendar_id: int | None = None


def first_response_target() -> Target:
    """The answer time Erlang C plans for: HELPDESK_STAFFING_TARGET_MINUTES,
    else the first-response target of the standard tier's normal-priority SLA
    policy (the bulk of the tickets), else 4 hours; counted in the business
    hours of that policy's calendar (always open without one), as the SLA
    clock counts them: the plan staffs the hours the calendar is open."""
    policy = (
        SLAPolicy.objects.filter(support_tier=SupportTier.STANDARD, priority=Priority.NORMAL)
        .values("first_response_minutes", "calendar_id")
        .first()
    )
    calendar_id = policy["calendar_id"] if policy else None
    configured = setting("TARGET_MINUTES", None)
    if configured is not None:
        return Target(float(configured), "setting", calendar_id)
    if policy and policy["first_response_minutes"]:
        return Target(
            float(policy["first_response_minutes"]),
            "SLA policy (standard tier, normal priority)",
            calendar_id,
        )
    return Target(float(DEFAULT_TARGET_MINUTES), "default", calendar_id)
