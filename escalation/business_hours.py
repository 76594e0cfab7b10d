"""Business-time arithmetic: SLA targets count only the hours a calendar is
open, in the calendar's own time zone, skipping its holidays.

All inputs and outputs are aware datetimes; arithmetic happens in UTC so that
a slot on a daylight-saving change lasts the real time it lasts (Python
subtracts two datetimes of the same zone by wall clock). Opening slots are
wall-clock times of the calendar's zone: 09:00–17:00 stays 09:00–17:00 local
on either side of a DST change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A calendar with opening hours finds its next open minute within a few weeks;
# this bound only stops a calendar with no usable hours (all days holidays)
# from looping for ever.
MAX_DAYS = 3 * 366


class ClosedCalendar(ValueError):
    """The calendar never opens (no slots, or every day a holiday)."""


@dataclass(frozen=True)
class Hours:
    """What the SLA arithmetic needs of a calendar."""

    zone: ZoneInfo
    # weekday (Monday 0) -> [(opens, closes)], local wall times, sorted
    slots: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    is_holiday: Callable[[date], bool] = lambda day: False
    always_open: bool = False


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A wall time that does not exist (spring forward) maps forward, one that
    # exists twice (fall back) maps to its first occurrence: zoneinfo's fold=0.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _slot_end(day: date, closes: time, zone: ZoneInfo) -> datetime:
    # "24:00" is stored as 00:00 closing: the end of the day.
    if closes == time(0):
        return _utc(day + timedelta(days=1), time(0), zone)
    return _utc(day, closes, zone)


def open_intervals(hours: Hours, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open intervals (UTC) from `start` on, in order; the first
    one may be cut at `start`."""
    start = start.astimezone(UTC)
    if hours.always_open:
        yield start, datetime.max.replace(tzinfo=UTC)
        return
    day = start.astimezone(hours.zone).date() - timedelta(days=1)
    for _ in range(MAX_DAYS):
        if not hours.is_holiday(day):
            for opens, closes in hours.slots.get(day.weekday(), ()):
                begin = _utc(day, opens, hours.zone)
                end = _slot_end(day, closes, hours.zone)
                if end <= start or end <= begin:
                    continue
                yield max(begin, start), end
        day += timedelta(days=1)
    raise ClosedCalendar("The calendar has no opening hours in the next three years.")


def add_business_time(hours: Hours, start: datetime, duration: timedelta) -> datetime:
    """The moment when `duration` of open time has passed since `start`."""
    if duration <= timedelta(0):
        # Due at once, but never before the calendar is open: a zero target
        # counted from a closed moment lands on the next opening.
        first = next(open_intervals(hours, start))
        return first[0]
    remaining = duration
    for begin, end in open_intervals(hours, start):
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ClosedCalendar("unreachable")  # open_intervals raises first


def business_time_between(hours: Hours, start: datetime, end: datetime) -> timedelta:
    """Open time between two moments (zero when end <= start)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if hours.always_open:
        return end - start
    total = timedelta(0)
    for begin, slot_end in open_intervals(hours, start):
        if begin >= end:
            break
        total += min(slot_end, end) - begin
    return total
