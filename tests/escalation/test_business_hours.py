"""Business-time arithmetic across weekends, holidays, zones and DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from escalation.business_hours import (
    ClosedCalendar,
    Hours,
    add_business_time,
    business_time_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_17 = {day: [(time(9), time(17))] for day in range(5)}


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def office(zone=BERLIN, slots=None, is_holiday=lambda day: False) -> Hours:
    return Hours(zone=zone, slots=slots or WEEKDAYS_9_TO_17, is_holiday=is_holiday)


def test_within_one_day():
    # Monday 2026-11-23 10:00 + 4 h = 14:00
    assert add_business_time(office(), berlin(2026, 11, 23, 10), timedelta(hours=4)) == berlin(
        2026, 11, 23, 14
    )


def test_rolls_over_the_night_and_the_weekend():
    # Friday 15:00 + 4 h: 2 h on Friday, 2 h on Monday -> Monday 11:00
    due = add_business_time(office(), berlin(2026, 11, 27, 15), timedelta(hours=4))
    assert due == berlin(2026, 11, 30, 11)


def test_starting_while_closed_waits_for_opening():
    # Saturday night + 30 min -> Monday 09:30
    due = add_business_time(office(), berlin(2026, 11, 28, 23), timedelta(minutes=30))
    assert due == berlin(2026, 11, 30, 9, 30)


def test_several_slots_a_day():
    split = {day: [(time(8), time(12)), (time(13), time(17))] for day in range(5)}
    # 11:00 + 2 h: one hour before lunch, one after -> 14:00
    due = add_business_time(office(slots=split), berlin(2026, 11, 23, 11), timedelta(hours=2))
    assert due == berlin(2026, 11, 23, 14)


def test_public_holidays_from_the_holidays_package_are_skipped():
    german = holidays.country_holidays("DE")
    hours = office(is_holiday=lambda day: day in german)
    # Thursday 24 Dec 2026 16:00 + 3 h: 1 h on Thursday; 25 Dec (Fri) is a
    # holiday, the weekend follows, Monday 28 Dec gives the other 2 h.
    due = add_business_time(hours, berlin(2026, 12, 24, 16), timedelta(hours=3))
    assert due == berlin(2026, 12, 28, 11)


def test_custom_closed_dates():
    hours = office(is_holiday=lambda day: day == date(2026, 11, 24))
    due = add_business_time(hours, berlin(2026, 11, 23, 16), timedelta(hours=2))
    assert due == berlin(2026, 11, 25, 10)


def test_time_zones_count_local_opening_hours():
    # 14:00 UTC on a Monday is 09:00 in New York (EST, UTC-5).
    start = datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert add_business_time(office(zone=NEW_YORK), start, timedelta(hours=1)) == datetime(
        2026, 11, 23, 15, tzinfo=UTC
    )
    # The same instant in Berlin is 15:00: two open hours left that day.
    assert add_business_time(office(zone=BERLIN), start, timedelta(hours=3)) == berlin(
        2026, 11, 24, 10
    )


def test_dst_spring_forward_night_shift_is_an_hour_shorter():
    # A 00:00-06:00 slot on 29 March 2026 in Berlin lasts 5 real hours
    # (02:00 -> 03:00): 6 h of work from 00:00 ends at 01:00 the next night.
    night = {day: [(time(0), time(6))] for day in range(7)}
    hours = office(slots=night)
    assert business_time_between(hours, berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 6)) == (
        timedelta(hours=5)
    )
    due = add_business_time(hours, berlin(2026, 3, 29, 0), timedelta(hours=6))
    assert due == berlin(2026, 3, 30, 1)


def test_dst_fall_back_night_shift_is_an_hour_longer():
    night = {day: [(time(0), time(6))] for day in range(7)}
    hours = office(slots=night)
    assert business_time_between(hours, berlin(2026, 10, 25, 0), berlin(2026, 10, 25, 6)) == (
        timedelta(hours=7)
    )


def test_office_hours_stay_local_across_dst():
    # Friday 27 March 16:00 CET + 2 h -> Monday 30 March 10:00 CEST (08:00 UTC)
    due = add_business_time(office(), berlin(2026, 3, 27, 16), timedelta(hours=2))
    assert due == berlin(2026, 3, 30, 10)
    assert due.astimezone(UTC).hour == 8


def test_always_open_counts_every_minute():
    hours = Hours(zone=BERLIN, always_open=True)
    start = berlin(2026, 11, 28, 23)
    assert add_business_time(hours, start, timedelta(minutes=15)) == start + timedelta(minutes=15)
    assert business_time_between(hours, start, start + timedelta(days=2)) == timedelta(days=2)


def test_between_is_the_inverse_of_add():
    start = berlin(2026, 11, 26, 13, 17)
    for minutes in (1, 59, 240, 600, 2400):
        due = add_business_time(office(), start, timedelta(minutes=minutes))
        assert business_time_between(office(), start, due) == timedelta(minutes=minutes)


def test_midnight_closing_means_end_of_day():
    late = {day: [(time(20), time(0))] for day in range(7)}
    due = add_business_time(office(slots=late), berlin(2026, 11, 23, 23), timedelta(hours=2))
    assert due == berlin(2026, 11, 24, 21)


def test_a_calendar_that_never_opens_fails_clearly():
    with pytest.raises(ClosedCalendar):
        add_business_time(Hours(zone=BERLIN, slots={}), berlin(2026, 11, 23, 9), timedelta(hours=1))
