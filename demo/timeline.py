"""Time for the demo history: integer seconds since the Unix epoch (UTC), the
helpdesk's office hours, when tickets arrive, and fast timestamp text.

Everything works on plain integers because the generator handles millions of
timestamps; datetime objects would dominate its run time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

DAY = 86_400
HOUR = 3_600

# The helpdesk's office hours (UTC, the demo's time zone), Monday to Friday.
WORK_START = 8 * HOUR
WORK_END = 18 * HOUR

# How many days of history the demo has.
HISTORY_DAYS = 90

# Relative ticket volume per hour of the day: office hours peak, lunch dips.
HOUR_WEIGHTS = (
    0.15, 0.1, 0.1, 0.1, 0.15, 0.25, 0.45, 0.8, 1.4, 2.2, 2.4, 2.3,
    1.6, 2.0, 2.2, 2.1, 1.8, 1.3, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2,
)  # fmt: skip
# Relative volume per weekday, Monday first: Monday catches the weekend's backlog.
WEEKDAY_WEIGHTS = (1.15, 1.0, 1.0, 0.95, 0.85, 0.3, 0.25)


def weekday(day: int) -> int:
    """The weekday (Monday is 0) of a day counted from the epoch, 1970-01-01,
    which was a Thursday."""
    return (day + 3) % 7


def next_working_time(t: int) -> int:
    """`t` if the office is open then, else the moment it next opens."""
    day, sec = divmod(t, DAY)
    if weekday(day) < 5:
        if sec < WORK_START:
            return day * DAY + WORK_START
        if sec < WORK_END:
            return t
    day += 1
    while weekday(day) >= 5:
        day += 1
    return day * DAY + WORK_START


def add_working_time(t: int, seconds: int) -> int:
    """The moment `seconds` of office time after `t` have passed: work that
    does not fit in today's hours carries over to the next working day."""
    t = next_working_time(t)
    while True:
        room = (t // DAY) * DAY + WORK_END - t
        if seconds <= room:
            return t + seconds
        seconds -= room
        t = next_working_time(t + room)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class Stamper:
    """Formats epoch seconds as 'YYYY-MM-DD HH:MM:SS' (UTC) from two lookup
    tables: the text Django's SQLite backend stores, and what PostgreSQL reads
    for timestamptz in the UTC session zone Django sets on its connections."""

    def __init__(self, first: int, last: int) -> None:
        self._first_day = first // DAY
        days = range(self._first_day, last // DAY + 1)
        self._days = [datetime.fromtimestamp(d * DAY, tz=UTC).strftime("%Y-%m-%d ") for d in days]
        self._clock = [
            f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def __call__(self, t: int) -> str:
        return self._days[t // DAY - self._first_day] + self._clock[t % DAY]


def history_start(now: int) -> int:
    """Midnight at the start of the oldest day of history (today is the last)."""
    return (now // DAY - (HISTORY_DAYS - 1)) * DAY


def arrivals(rng: random.Random, now: int, count: int) -> Iterator[int]:
    """`count` ticket creation times over the history window, oldest first,
    following the weekday and hour-of-day pattern (today only up to `now`)."""
    start = history_start(now)
    today = now // DAY
    full_day = sum(HOUR_WEIGHTS)
    weights = []
    for day in range(start // DAY, today + 1):
        share = 1.0 if day < today else _elapsed_weight(now) / full_day
        # Some days are busier than others beyond the weekday pattern.
        noise = rng.uniform(0.85, 1.15)
        weights.append(WEEKDAY_WEIGHTS[weekday(day)] * share * noise)
    for offset, day_count in enumerate(_apportion(count, weights)):
        if not day_count:
            continue
        day_start = start + offset * DAY
        if day_start // DAY < today:
            hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=day_count)
            times = [day_start + h * HOUR + rng.randrange(HOUR) for h in hours]
        else:
            times = _times_until(rng, day_start, now, day_count)
        times.sort()
        yield from times


def _elapsed_weight(now: int) -> float:
    hour, second = divmod(now % DAY, HOUR)
    return sum(HOUR_WEIGHTS[:hour]) + HOUR_WEIGHTS[hour] * second / HOUR


def _times_until(rng: random.Random, day_start: int, now: int, count: int) -> list[int]:
    """Times in today's elapsed part: the hours so far, and the current one
    only up to now."""
    hour, second = divmod(now - day_start, HOUR)
    weights = [*HOUR_WEIGHTS[:hour], HOUR_WEIGHTS[hour] * second / HOUR]
    hours = rng.choices(range(hour + 1), weights=weights, k=count)
    return [
        day_start + h * HOUR + rng.randrange(HOUR if h < hour else max(second, 1)) for h in hours
    ]


def _apportion(count: int, weights: list[float]) -> list[int]:
    """Split `count` in proportion to `weights` (largest remainder), so the
    total is exact and the split does not depend on random draws."""
    total = sum(weights)
    exact = [count * w / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: count - sum(counts)]:
        counts[i] += 1
    return counts
