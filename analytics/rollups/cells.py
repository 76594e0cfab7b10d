"""Rollup cells: what one ticket fact adds to the daily rollups
(analytics.rollups.blocks), as (local day, code, count) contributions.

A code is `measure << 48 | key`: the measure (CREATED, FIRST_RESPONSE, ...)
and a key inside it (a category, an hour of the week, a histogram bucket,
an agent and a bucket...). Every measure is a count, so the cells of any
set of tickets are the sum of the cells of its days: that is what makes a
range of days cheap (a handful of pre-summed blocks) and exact for counts.

Durations are counted in logarithmic histograms (bucket 0: [0, 1) s,
bucket b: [GAMMA**(b-1), GAMMA**b) s), which merge by adding; a median or
90th percentile read from one is within the width of one bucket of the
exact value (less than 2 % relative, under one second below one second):
the mergeable "sketch" the written definitions allow for pre-summed ranges
(README.md, "Metric definitions"). The facts (analytics.rollups.fact_metrics)
give the exact values where no rollup applies.

Days are local dates in settings.TIME_ZONE, the dashboard's zone; a ticket
adds its creation cells to its creation day, its resolution cells to the day
of its final solve, one SOLVES cell to the day of each solve, and its CSAT
answers to the days they were given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

import numpy as np

from analytics.metrics.surveys import SATISFIED_MIN
from analytics.metrics.timeline import TARGETS
from analytics.models import escalation_kind_field, escalation_tier_field
from escalation.models import Escalation
from tickets.models import AgentTier, Priority, SupportTier

GAMMA = 1.02
_LOG_GAMMA = math.log(GAMMA)
BUCKETS = 1024  # up to GAMMA**1023 s: 19 years
_BUCKET_BITS = 10
# A duration key: owner << 12 | total << 11 | basis << 10 | bucket, where
# basis 0 is business and 1 calendar seconds, and total 0 counts the values
# in the bucket, 1 adds them up (milliseconds): a bucket holding one value
# gives that value exactly.
_OWNER_SHIFT = 12
_TOTAL_BIT = 1 << 11
_KEY_BITS = 48

# Measures (the code's high bits). Keys are described beside each.
CREATED = 1  # 0
HEAT = 2  # (ISO weekday - 1) * 24 + local hour of the creation
CATEGORY = 3  # category id + 1 (0: none yet)
FIRST_RESPONSE = 4  # a duration key (duration_cells) of owner 0
ESCALATED = 5  # 0: tickets with at least one counted escalation
ESCALATIONS = 6  # index in ESCALATION_FIELDS; count = records
SLA = 7  # customer tier << 8 | priority << 4 | (target << 1 | breached, or SLA_GROUP)
SOLVED = 8  # 0: tickets whose final solve is that day
FCR = 9  # 0: of those, solved with one public staff reply, never reopened
TIER1 = 10  # 0: of those, solved at Tier 1 and never moved up
RESOLUTION = 11  # a duration key of owner: the priority
SOLVES = 12  # 0: solve events (a reopened ticket solved again counts twice)
AGENT_SOLVED = 13  # agent id
AGENT_REOPENED = 14  # agent id
AGENT_SLA = 15  # agent id << 4 | target << 1 | breached
AGENT_RESOLUTION = 16  # a duration key of owner: the agent id
CSAT = 17  # 0 answers, 1 rated 4-5, 2 sum of ratings, 3 with an effort, 4 sum of efforts
AGENT_CSAT = 18  # agent id << 2 | (0 answers, 1 rated 4-5, 2 sum of ratings)

# The SLA key's low bits for "a ticket of this customer tier and priority
# was created" (the group is listed even when none of its targets is decided).
SLA_GROUP = 15
BASES = ("business", "calendar")
PRIORITIES: tuple[str, ...] = tuple(Priority.values)
CUSTOMER_TIERS: tuple[str, ...] = tuple(SupportTier.values)
ESCALATION_FIELDS: tuple[str, ...] = (
    *(escalation_kind_field(kind) for kind in Escalation.Kind.values),
    *(escalation_tier_field(tier) for tier in AgentTier.values),
    escalation_tier_field(None),
)
KIND_FIELDS = tuple(escalation_kind_field(kind) for kind in Escalation.Kind.values)

# The dimensions a rollup series is kept for ("all": every ticket), with the
# fact column each reads; MetricFilter's field of the same meaning in
# analytics.rollups.rollup_metrics.
DIMENSIONS: dict[str, str] = {
    "team": "team_id",
    "category": "category_id",
    "customer_tier": "customer_tier",
    "channel": "channel",
    "priority": "priority",
    "agent": "agent_id",
}

# The fact columns the cells read.
FIELDS: tuple[str, ...] = (
    "ticket_id",
    "created_at",
    "solved_at",
    "solve_times",
    "csat_answers",
    "team_id",
    "category_id",
    "customer_tier",
    "channel",
    "priority",
    "agent_id",
    "tier",
    "first_response_business_s",
    "first_response_calendar_s",
    "resolution_business_s",
    "resolution_calendar_s",
    *(f"{target}_{outcome}" for target in TARGETS for outcome in ("met", "breached")),
    "reopened",
    "public_staff_replies",
    "left_tier1",
    *ESCALATION_FIELDS,
)


def code(measure: int, key: int = 0) -> int:
    return measure << _KEY_BITS | key


def measure_range(measure: int) -> tuple[int, int]:
    """The codes of one measure: [low, high)."""
    return measure << _KEY_BITS, (measure + 1) << _KEY_BITS


def key_of(codes: np.ndarray) -> np.ndarray:
    return codes & ((1 << _KEY_BITS) - 1)


def bucket(seconds: float) -> int:
    if seconds < 1:
        return 0
    return min(BUCKETS - 1, 1 + int(math.log(seconds) / _LOG_GAMMA))


def day_of(moment: datetime, zone: tzinfo) -> int:
    """The local day (a proleptic ordinal: date.toordinal) of an instant."""
    return moment.astimezone(zone).date().toordinal()


def row_of(fact: Any) -> dict[str, Any]:
    """A TicketFact (or a values() row of it) as the mapping the cells read."""
    if isinstance(fact, Mapping):
        return dict(fact)
    return {name: getattr(fact, name) for name in FIELDS}


def series_of(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rollup series a fact counts in: all tickets, and each of its
    dimensions' values (none for an empty one: no filter asks for it)."""
    found = [("all", "")]
    for dim, field in DIMENSIONS.items():
        value = row[field]
        if value is not None and value != "":
            found.append((dim, str(value)))
    return found


def _outcomes(row: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(target << 1 | breached, how many) of the fact's decided SLA targets."""
    found = []
    for index, target in enumerate(TARGETS):
        for breached, outcome in enumerate(("met", "breached")):
            n = row[f"{target}_{outcome}"]
            if n:
                found.append((index << 1 | breached, n))
    return found


def grouped(
    row: Mapping[str, Any], zone: tzinfo
) -> list[tuple[list[tuple[str, str]], list[tuple[int, int, int]]]]:
    """What one fact adds, as (series, cells) groups: its own cells in its
    series, and each CSAT answer's in the same series but for the agent's,
    which is the answer's agent (as analytics.metrics.surveys filters)."""
    groups = [(series_of(row), contributions(row, zone))]
    for answered, rating, effort, agent in row["csat_answers"]:
        day = datetime_day(answered, zone)
        found = [
            (day, code(CSAT, 0), 1),
            (day, code(CSAT, 2), rating),
        ]
        if rating >= SATISFIED_MIN:
            found.append((day, code(CSAT, 1), 1))
        if effort is not None:
            found += [(day, code(CSAT, 3), 1), (day, code(CSAT, 4), effort)]
        if agent is not None:
            found.append((day, code(AGENT_CSAT, agent << 2), 1))
            found.append((day, code(AGENT_CSAT, agent << 2 | 2), rating))
            if rating >= SATISFIED_MIN:
                found.append((day, code(AGENT_CSAT, agent << 2 | 1), 1))
        groups.append((series_of({**row, "agent_id": agent}), found))
    return groups


def contributions(row: Mapping[str, Any], zone: tzinfo) -> list[tuple[int, int, int]]:
    """What one fact adds about its ticket: (local day, code, count)."""
    created = row["created_at"].astimezone(zone)
    day = created.date().toordinal()
    priority = PRIORITIES.index(row["priority"])
    cells = [
        (day, code(CREATED), 1),
        (day, code(HEAT, (created.isoweekday() - 1) * 24 + created.hour), 1),
        (day, code(CATEGORY, (row["category_id"] or -1) + 1), 1),
    ]
    for basis, field in enumerate(("first_response_business_s", "first_response_calendar_s")):
        if row[field] is not None:
            for key, n in duration_cells(0, basis, row[field]):
                cells.append((day, code(FIRST_RESPONSE, key), n))
    if any(row[field] for field in KIND_FIELDS):
        cells.append((day, code(ESCALATED), 1))
    for index, field in enumerate(ESCALATION_FIELDS):
        if row[field]:
            cells.append((day, code(ESCALATIONS, index), row[field]))
    tier_key = CUSTOMER_TIERS.index(row["customer_tier"]) << 8 | priority << 4
    outcomes = _outcomes(row)
    cells.append((day, code(SLA, tier_key | SLA_GROUP), 1))
    for outcome, n in outcomes:
        cells.append((day, code(SLA, tier_key | outcome), n))

    for moment in row["solve_times"]:
        cells.append((datetime_day(moment, zone), code(SOLVES), 1))

    if row["solved_at"] is not None:
        day = day_of(row["solved_at"], zone)
        cells.append((day, code(SOLVED), 1))
        if row["public_staff_replies"] == 1 and not row["reopened"]:
            cells.append((day, code(FCR), 1))
        if row["tier"] == AgentTier.TIER_1 and not row["left_tier1"]:
            cells.append((day, code(TIER1), 1))
        agent = row["agent_id"]
        if agent is not None:
            cells.append((day, code(AGENT_SOLVED, agent), 1))
            if row["reopened"]:
                cells.append((day, code(AGENT_REOPENED, agent), 1))
            for outcome, n in outcomes:
                cells.append((day, code(AGENT_SLA, agent << 4 | outcome), n))
        for basis, field in enumerate(("resolution_business_s", "resolution_calendar_s")):
            if row[field] is not None:
                for key, n in duration_cells(priority, basis, row[field]):
                    cells.append((day, code(RESOLUTION, key), n))
                if agent is not None:
                    for key, n in duration_cells(agent, basis, row[field]):
                        cells.append((day, code(AGENT_RESOLUTION, key), n))
    return cells


def duration_cells(owner: int, basis: int, seconds: float) -> list[tuple[int, int]]:
    """The two cells of one duration: its bucket's count and total."""
    key = owner << _OWNER_SHIFT | basis << _BUCKET_BITS | bucket(seconds)
    return [(key, 1), (key | _TOTAL_BIT, round(seconds * 1000))]


def owners(keys: np.ndarray) -> np.ndarray:
    """The owners (priority, agent) of duration keys."""
    return keys >> _OWNER_SHIFT


def basis_of(keys: np.ndarray) -> np.ndarray:
    """0 (business) or 1 (calendar) of duration keys."""
    return (keys >> _BUCKET_BITS) & 1


def datetime_day(epoch_seconds: int, zone: tzinfo) -> int:
    """The local day of a solve time as the facts keep it (epoch seconds)."""
    return datetime.fromtimestamp(epoch_seconds, zone).date().toordinal()


# --- Reading summed cells -------------------------------------------------


class Cells:
    """Summed cells: sorted unique codes and their counts (numpy arrays)."""

    def __init__(self, codes: np.ndarray, counts: np.ndarray) -> None:
        self.codes, self.counts = codes, counts

    @classmethod
    def total(cls, parts: list[tuple[np.ndarray, np.ndarray]]) -> Cells:
        """The sum of several (codes, counts) pairs; zero counts dropped."""
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))
        codes = np.concatenate([c for c, _ in parts])
        counts = np.concatenate([n for _, n in parts]).astype(np.int64)
        # Each part is usually sorted already (a block's codes): the stable
        # sort (timsort) merges such runs in far fewer steps than a quicksort.
        order = np.argsort(codes, kind="stable")
        codes, counts = codes[order], counts[order]
        if not len(codes):
            return cls(codes, counts)
        starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
        summed = np.add.reduceat(counts, starts)
        keep = summed != 0
        return cls(codes[starts][keep], summed[keep])

    def plus(self, delta: Cells) -> Cells:
        """This plus a (small) delta, without re-sorting this: the delta's
        codes already here are added to, the others inserted in order."""
        at = np.searchsorted(self.codes, delta.codes)
        inside = at < len(self.codes)
        present = np.zeros(len(delta.codes), bool)
        present[inside] = self.codes[at[inside]] == delta.codes[inside]
        counts = self.counts.astype(np.int64, copy=True)
        np.add.at(counts, at[present], delta.counts[present])
        codes = np.insert(self.codes, at[~present], delta.codes[~present])
        counts = np.insert(counts, at[~present], delta.counts[~present])
        keep = counts != 0
        return Cells(codes[keep], counts[keep])

    def section(self, measure: int) -> tuple[np.ndarray, np.ndarray]:
        """(keys, counts) of one measure."""
        low, high = measure_range(measure)
        start, stop = np.searchsorted(self.codes, [low, high])
        return key_of(self.codes[start:stop]), self.counts[start:stop]

    def count(self, measure: int, key: int = 0) -> int:
        index = int(np.searchsorted(self.codes, code(measure, key)))
        if index < len(self.codes) and self.codes[index] == code(measure, key):
            return int(self.counts[index])
        return 0

    def by_key(self, measure: int) -> dict[int, int]:
        keys, counts = self.section(measure)
        return dict(zip(keys.tolist(), counts.tolist(), strict=True))


def histogram(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dense (counts, totals in ms) per bucket of duration cells."""
    totals = (keys & _TOTAL_BIT) != 0
    buckets = keys & (BUCKETS - 1)
    return (
        np.bincount(buckets[~totals], weights=counts[~totals], minlength=BUCKETS).astype(np.int64),
        np.bincount(buckets[totals], weights=counts[totals], minlength=BUCKETS).astype(np.int64),
    )


def percentile(buckets: np.ndarray, totals: np.ndarray, fraction: float) -> float | None:
    """The `fraction` percentile (seconds) of the values counted in
    `buckets` (totals: their sums in ms), with the linear interpolation
    between ranks of analytics.metrics.stats (as PostgreSQL's
    percentile_cont); see _value_at for a rank inside its bucket. None
    when empty."""
    size = int(buckets.sum())
    if size == 0:
        return None
    cumulative = np.cumsum(buckets)
    position = fraction * (size - 1)
    lower = math.floor(position)
    low_value = _value_at(buckets, totals, cumulative, lower)
    if position == lower:
        return low_value
    high_value = _value_at(buckets, totals, cumulative, lower + 1)
    return low_value + (position - lower) * (high_value - low_value)


def _value_at(buckets: np.ndarray, totals: np.ndarray, cumulative: np.ndarray, rank: int) -> float:
    """The value of `rank` (0-based), taken as the mean of its bucket's
    values: exact when they are equal (one value, or repeats of it), and
    inside the bucket, so off by less than its width, otherwise."""
    index = int(np.searchsorted(cumulative, rank, side="right"))
    return int(totals[index]) / 1000 / int(buckets[index])
