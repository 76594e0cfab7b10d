"""BusinessCalendar rows as `business_hours.Hours`, cached per process.

Calendars change rarely and every SLA computation needs one, so each is read
once (slots, closed dates, the country's holidays) and kept for
CACHE_SECONDS; a save of a calendar, its slots or closed dates clears this
process's copy at once (signals in apps.py), other processes within
CACHE_SECONDS.
"""

from __future__ import annotations

import time
from datetime import date
from zoneinfo import ZoneInfo

import holidays

from escalation.business_hours import Hours
from escalation.models import BusinessCalendar

CACHE_SECONDS = 300
_cache: dict[int, tuple[float, Hours]] = {}


def hours_for(calendar_id: int) -> Hours:
    cached = _cache.get(calendar_id)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    hours = _load(calendar_id)
    _cache[calendar_id] = (time.monotonic(), hours)
    return hours


def _load(calendar_id: int) -> Hours:
    calendar = BusinessCalendar.objects.prefetch_related("slots", "closed_dates").get(
        pk=calendar_id
    )
    slots: dict[int, list] = {}
    for slot in calendar.slots.all():
        slots.setdefault(slot.weekday, []).append((slot.opens, slot.closes))
    for day_slots in slots.values():
        day_slots.sort()
    closed = {c.date for c in calendar.closed_dates.all()}
    public = (
        holidays.country_holidays(
            calendar.holiday_country, subdiv=calendar.holiday_subdivision or None
        )
        if calendar.holiday_country
        else None
    )

    def is_holiday(day: date) -> bool:
        return day in closed or (public is not None and day in public)

    return Hours(
        zone=ZoneInfo(calendar.time_zone),
        slots=slots,
        is_holiday=is_holiday,
        always_open=calendar.always_open,
    )


def forget_calendars(**_signal_kwargs) -> None:
    _cache.clear()
