"""The statistics every metric reports, computed one way.

Percentiles use **linear interpolation between closest ranks** (Hyndman and
Fan's type 7: what PostgreSQL's `percentile_cont`, numpy's default and
Excel's PERCENTILE.INC compute). For sorted values x[0..n-1] and a fraction
p, h = (n - 1) * p; the result is x[floor h] + (h - floor h) *
(x[floor h + 1] - x[floor h]). The median is p = 0.5 (the mean of the two
middle values when n is even), the 90th percentile p = 0.9. No values: None.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

SECONDS_PER_HOUR = 3600.0


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """The `fraction` (0..1) percentile of `values` by linear interpolation."""
    if not 0 <= fraction <= 1:
        raise ValueError("A percentile's fraction lies between 0 and 1.")
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (position - lower) * (ordered[upper] - ordered[lower])


@dataclass(frozen=True)
class DurationStats:
    """Count, median and 90th percentile of durations, in hours."""

    count: int
    median_hours: float | None
    p90_hours: float | None

    @classmethod
    def of_seconds(cls, seconds: Iterable[float]) -> DurationStats:
        values = list(seconds)
        median = percentile(values, 0.5)
        p90 = percentile(values, 0.9)
        return cls(
            count=len(values),
            median_hours=None if median is None else median / SECONDS_PER_HOUR,
            p90_hours=None if p90 is None else p90 / SECONDS_PER_HOUR,
        )


@dataclass(frozen=True)
class DurationMetric:
    """A duration measured twice: in business hours of each ticket's SLA
    calendar (pauses left out, as the SLA clock counts; tickets without an
    SLA policy have no calendar and are left out of `business`), and in
    calendar hours (wall-clock time, pauses included)."""

    business: DurationStats
    calendar: DurationStats


@dataclass(frozen=True)
class Rate:
    """A share: `numerator` of `denominator`; `value` is None when nothing
    was counted (0 / 0)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class Compliance:
    """SLA targets decided as met or breached; running targets not yet past
    their due time are in neither."""

    met: int = 0
    breached: int = 0

    @property
    def total(self) -> int:
        return self.met + self.breached

    @property
    def rate(self) -> float | None:
        """The share met (0..1), None when no target was decided."""
        return self.met / self.total if self.total else None

    def add(self, met: bool) -> Compliance:
        return Compliance(self.met + int(met), self.breached + int(not met))
