"""The periods the reports cover, in the operation's time zone
(HELPDESK_REPORT_TIME_ZONE, default TIME_ZONE): weeks run Monday 00:00 to the
next Monday 00:00 local time, months the 1st 00:00 to the next 1st, so a week
across a daylight-saving change is 167 or 169 hours long.

The beat runs the jobs hourly on Mondays (weekly) and on the 1st (monthly)
by Celery's UTC clock; `due_week` and `due_month` say which period, if any,
is owed at that moment in the report zone, so the report goes out at the
first run after the local period ended, wherever the operation is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

# A period is reported within this many local days after it ended, never
# later: a run on the UTC Monday that is still Sunday, or already Tuesday, in
# the report zone must not mail the week before (or an old one) to anybody.
WEEKLY_WINDOW_DAYS = 2
MONTHLY_WINDOW_DAYS = 2


def report_zone() -> ZoneInfo:
    return ZoneInfo(settings.HELPDESK_REPORT_TIME_ZONE or settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """Local days [first_day, last_day] as aware bounds [start, end).

    The bounds carry the report zone (not UTC) on purpose: Python subtracts
    datetimes of one zone by wall clock, so the dashboard's period before
    (start - (end - start)) is the previous local week or month even across
    a daylight-saving change; the database compares them as instants."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime

    @classmethod
    def of_days(cls, first_day: date, last_day: date, zone: ZoneInfo) -> Period:
        return cls(
            first_day=first_day,
            last_day=last_day,
            start=datetime.combine(first_day, time.min, tzinfo=zone),
            end=datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone),
        )


def week_of(monday: date, zone: ZoneInfo | None = None) -> Period:
    if monday.weekday() != 0:
        raise ValueError("A report week starts on a Monday.")
    return Period.of_days(monday, monday + timedelta(days=6), zone or report_zone())


def month_of(first: date, zone: ZoneInfo | None = None) -> Period:
    if first.day != 1:
        raise ValueError("A report month starts on the 1st.")
    following = (first + timedelta(days=32)).replace(day=1)
    return Period.of_days(first, following - timedelta(days=1), zone or report_zone())


def previous_week(week: Period) -> Period:
    return week_of(week.first_day - timedelta(days=7), week.start.tzinfo)  # type: ignore[arg-type]


def previous_month(month: Period) -> Period:
    return month_of(
        (month.first_day - timedelta(days=1)).replace(day=1),
        month.start.tzinfo,  # type: ignore[arg-type]
    )


def last_week(now: datetime, zone: ZoneInfo | None = None) -> Period:
    """The last complete Monday-Sunday week before `now` in the zone."""
    zone = zone or report_zone()
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    return week_of(this_monday - timedelta(days=7), zone)


def last_month(now: datetime, zone: ZoneInfo | None = None) -> Period:
    """The last complete calendar month before `now` in the zone."""
    zone = zone or report_zone()
    today = now.astimezone(zone).date()
    return month_of((today.replace(day=1) - timedelta(days=1)).replace(day=1), zone)


def due_week(now: datetime, zone: ZoneInfo | None = None) -> Period | None:
    """The week whose report is owed at `now`: last week, when it ended less
    than WEEKLY_WINDOW_DAYS local days ago (Monday or Tuesday); else None."""
    zone = zone or report_zone()
    week = last_week(now, zone)
    days_since = (now.astimezone(zone).date() - week.last_day).days
    return week if days_since <= WEEKLY_WINDOW_DAYS else None


def due_month(now: datetime, zone: ZoneInfo | None = None) -> Period | None:
    """The month whose CSAT review is owed at `now`: last month, on the 1st
    or 2nd local day of this one; else None."""
    zone = zone or report_zone()
    month = last_month(now, zone)
    days_since = (now.astimezone(zone).date() - month.last_day).days
    return month if days_since <= MONTHLY_WINDOW_DAYS else None
