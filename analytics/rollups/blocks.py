"""Rollup blocks: the ticket facts' cells (analytics.rollups.cells) summed
per series and per aligned block of days (analytics.models.FactRollup).

    decompose(first, last)           -> (level, block) pairs covering the days
    read(dim, values, ranges)        -> summed Cells per range   (one query)
    daily(dim, values, first, last)  -> {day: Day counts}         (one query)
    apply_changes(pairs, zone)       -> keep the blocks current as facts change
    rebuild(zone, progress)          -> Rebuilt(rows, differing)  (nightly)

Level k holds blocks of 2**k days, k = 0 .. LEVELS - 1. A range of days is
covered by at most two blocks per level, so a year's figures sum about a
dozen rows, a month's about eight, whatever the number of tickets; a
changed fact changes one block per level of each of its series (the
difference between its old and new cells is added, inside the transaction
that stores the fact, under one lock). The nightly rebuild sums every fact
afresh and counts the rows that differ from the kept ones: 0 when the
updates were right.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from analytics.models import FactRollup, TicketFact
from analytics.rollups import cells as layout
from analytics.rollups.cells import Cells

LEVELS = 11  # blocks of up to 1,024 days
# A constant of this code: the PostgreSQL advisory lock that serialises
# every change to the blocks (catch-up, rebuild).
_LOCK_KEY = 73012
_WRITE_BATCH = 500


def rollup_zone() -> tzinfo:
    """The zone of the rollups' days: the dashboard's."""
    return ZoneInfo(settings.TIME_ZONE)


def decompose(first: int, last: int) -> list[tuple[int, int]]:
    """The aligned blocks (level, block) that cover days first..last
    (inclusive ordinals) exactly: the largest aligned block that starts at
    each step and fits, so at most two per level."""
    pairs = []
    day = first
    while day <= last:
        level = 0
        while level + 1 < LEVELS:
            size = 1 << (level + 1)
            if day % size or day + size - 1 > last:
                break
            level += 1
        pairs.append((level, day >> level))
        day += 1 << level
    return pairs


def pack(codes: np.ndarray, counts: np.ndarray) -> bytes:
    """The bytes of sorted unique codes and their counts: the codes as the
    differences between neighbours (small numbers), then the counts, as
    little-endian int64, compressed by zlib. A year's block of every ticket
    shrinks about 4.5 times, which is what a page waits for: the rows'
    transfer, not the query (0.1 ms)."""
    differences = np.diff(codes.astype(np.int64), prepend=np.int64(0))
    raw = differences.astype("<i8").tobytes() + counts.astype("<i8").tobytes()
    return zlib.compress(raw, 1)


def unpack(blob: bytes | memoryview) -> tuple[np.ndarray, np.ndarray]:
    values = np.frombuffer(zlib.decompress(blob), dtype="<i8")
    half = len(values) // 2
    return np.cumsum(values[:half]), values[half:]


def _same_cells(kept: bytes | None, fresh: bytes) -> bool:
    """Equal blocks, whichever zlib compressed them."""
    if kept is None:
        return False
    if kept == fresh:
        return True
    (a, b), (c, d) = unpack(kept), unpack(fresh)
    return bool(np.array_equal(a, c) and np.array_equal(b, d))


def _blocks_q(pairs: Iterable[tuple[int, int]]) -> Q:
    by_level: dict[int, list[int]] = defaultdict(list)
    for level, block in pairs:
        by_level[level].append(block)
    condition = Q(pk__in=[])
    for level, blocks in sorted(by_level.items()):
        condition |= Q(level=level, block__in=sorted(set(blocks)))
    return condition


def read(requests: Sequence[tuple[str, Sequence[str], int, int]]) -> list[Cells]:
    """The summed cells of each request (dim, values, first, last): the
    series of that dimension's values (their sum) over days first..last
    (inclusive ordinals). One query for them all."""
    owners: dict[tuple[str, str, int, int], list[int]] = defaultdict(list)
    condition = Q(pk__in=[])
    for index, (dim, values, first, last) in enumerate(requests):
        pairs = decompose(first, last)
        for value in values:
            for level, block in pairs:
                owners[(dim, value, level, block)].append(index)
        condition |= Q(_blocks_q(pairs), dim=dim, value__in=list(values))
    parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in requests]
    rows = FactRollup.objects.filter(condition).values_list(
        "dim", "value", "level", "block", "cells"
    )
    for dim, value, level, block, blob in rows:
        cells = unpack(blob)
        for index in owners.get((dim, value, level, block), ()):
            parts[index].append(cells)
    return [Cells.total(found) for found in parts]


@dataclass(frozen=True)
class Day:
    created: int = 0
    solves: int = 0
    csat_answers: int = 0
    csat_satisfied: int = 0
    csat_rating_sum: int = 0

    def __add__(self, other: Day) -> Day:
        return Day(
            self.created + other.created,
            self.solves + other.solves,
            self.csat_answers + other.csat_answers,
            self.csat_satisfied + other.csat_satisfied,
            self.csat_rating_sum + other.csat_rating_sum,
        )


def daily(dim: str, values: Sequence[str], first: int, last: int) -> dict[int, Day]:
    """{day: its counts} of the series over days first..last (the days
    with any left out). One query."""
    found: dict[int, Day] = {}
    rows = FactRollup.objects.filter(
        dim=dim, value__in=list(values), level=0, block__gte=first, block__lte=last
    ).values_list("block", *(f.name for f in fields(Day)))
    for day, *counts in rows:
        found[day] = found.get(day, Day()) + Day(*counts)
    return found


def _lock() -> None:
    """Serialise changes to the blocks until the transaction ends (SQLite,
    the embedded demo, has one writer at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def lock_for_facts() -> None:
    """Taken by analytics.rollups.facts before it reads the stored facts it
    replaces, so that two refreshes of one ticket cannot both add their
    difference against the same old row."""
    _lock()


def _cells_by_series(row: Mapping[str, Any], zone: tzinfo, sign: int) -> Counter:
    found: Counter = Counter()
    for series_list, cells in layout.grouped(row, zone):
        for series in series_list:
            for day, code, n in cells:
                found[(*series, day, code)] += sign * n
    return found


def apply_changes(
    changes: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]],
    zone: tzinfo,
) -> int:
    """Add to the blocks the difference between each fact's old row and its
    new one (None: none). Call inside the transaction that stores the new
    facts, after lock_for_facts. Returns how many blocks were written.
    Two queries (the blocks touched, their upsert), plus one delete when a
    block became empty."""
    net: Counter = Counter()
    for old, new in changes:
        if old is not None:
            net.update(_cells_by_series(old, zone, -1))
        if new is not None:
            net.update(_cells_by_series(new, zone, 1))
    deltas: dict[tuple[str, str, int, int], list[tuple[int, int]]] = defaultdict(list)
    for (dim, value, day, code), n in net.items():
        if n:
            for level in range(LEVELS):
                deltas[(dim, value, level, day >> level)].append((code, n))
    if not deltas:
        return 0
    pairs = {(level, block) for _, _, level, block in deltas}
    stored = {
        (row.dim, row.value, row.level, row.block): row
        for row in FactRollup.objects.filter(
            _blocks_q(pairs),
            dim__in={key[0] for key in deltas},
            value__in={key[1] for key in deltas},
        )
        if (row.dim, row.value, row.level, row.block) in deltas
    }
    written, emptied = [], []
    for key, changed in deltas.items():
        delta = Cells.total(
            [
                (
                    np.array([c for c, _ in changed], np.int64),
                    np.array([n for _, n in changed], np.int64),
                )
            ]
        )
        total = Cells(*unpack(stored[key].cells)).plus(delta) if key in stored else delta
        if len(total.codes):
            written.append(_row(key, total))
        elif key in stored:
            emptied.append(stored[key].pk)
    _write(written)
    if emptied:
        FactRollup.objects.filter(pk__in=emptied).delete()
    return len(written) + len(emptied)


def _row(key: tuple[str, str, int, int], total: Cells) -> FactRollup:
    dim, value, level, block = key
    return FactRollup(
        dim=dim,
        value=value,
        level=level,
        block=block,
        created=total.count(layout.CREATED),
        solves=total.count(layout.SOLVES),
        csat_answers=total.count(layout.CSAT, 0),
        csat_satisfied=total.count(layout.CSAT, 1),
        csat_rating_sum=total.count(layout.CSAT, 2),
        cells=pack(total.codes, total.counts),
    )


def _write(rows: list[FactRollup]) -> None:
    FactRollup.objects.bulk_create(
        rows,
        batch_size=_WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["dim", "value", "level", "block"],
        update_fields=[
            "created",
            "solves",
            "csat_answers",
            "csat_satisfied",
            "csat_rating_sum",
            "cells",
        ],
    )


# --- The full rebuild -----------------------------------------------------


@dataclass(frozen=True)
class Rebuilt:
    rows: int
    # Rows whose rebuilt cells differed from the kept ones, or that were
    # missing or left over: 0 when the updates had kept every block right.
    differing: int


class _Sums:
    """(series, day, code) -> count, summed with numpy in chunks."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, str], int] = {}
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.pending = 0

    def series_id(self, series: tuple[str, str]) -> int:
        return self.series.setdefault(series, len(self.series))

    def add(self, keys: np.ndarray, codes: np.ndarray, counts: np.ndarray) -> None:
        """keys: series id << 32 | day."""
        self.parts.append(_summed(keys, codes, counts))
        self.pending += len(keys)
        if self.pending > 20_000_000:
            self.parts = [self.total()]
            self.pending = len(self.parts[0][0])

    def total(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.parts:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty
        return _summed(*(np.concatenate(column) for column in zip(*self.parts, strict=True)))


def _summed(
    keys: np.ndarray, codes: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort by (key, code), add up equal pairs, drop zeros."""
    if not len(keys):
        return keys, codes, counts
    order = np.lexsort((codes, keys))
    keys, codes, counts = keys[order], codes[order], counts[order]
    starts = np.flatnonzero(
        np.concatenate(([True], (keys[1:] != keys[:-1]) | (codes[1:] != codes[:-1])))
    )
    summed = np.add.reduceat(counts, starts)
    keep = summed != 0
    return keys[starts][keep], codes[starts][keep], summed[keep]


def _rows_of(
    names: dict[int, tuple[str, str]], level: int, summed: tuple[np.ndarray, ...]
) -> dict[tuple[str, str, int, int], FactRollup]:
    keys, codes, counts = summed
    rows: dict[tuple[str, str, int, int], FactRollup] = {}
    if not len(keys):
        return rows
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    ends = np.append(starts[1:], len(keys))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        key = int(keys[start])
        dim, value = names[key >> 32]
        block_key = (dim, value, level, key & 0xFFFFFFFF)
        rows[block_key] = _row(block_key, Cells(codes[start:end], counts[start:end]))
    return rows


def _sum_facts(zone: tzinfo, progress: bool) -> tuple[_Sums, tuple[np.ndarray, ...]]:
    """Every fact's cells summed per (series, day, code). The cells are
    computed once per fact in Python; numpy repeats them for each series
    the fact counts in and adds them up."""
    from tqdm import tqdm

    sums = _Sums()
    width = 1 + len(layout.DIMENSIONS)
    facts = TicketFact.objects.order_by().values(*layout.FIELDS)
    total = TicketFact.objects.count()
    owners: list[int] = []
    days: list[int] = []
    codes: list[int] = []
    counts: list[int] = []
    series: list[int] = []

    def flush() -> None:
        if not owners:
            return
        of_fact = np.array(series, np.int64).reshape(-1, width)
        fact = np.array(owners, np.int64)
        day = np.array(days, np.int64)
        code = np.array(codes, np.int64)
        count = np.array(counts, np.int64)
        keys, repeated, added = [], [], []
        for column in range(width):
            ids = of_fact[fact, column]
            present = ids >= 0
            keys.append(ids[present] << 32 | day[present])
            repeated.append(code[present])
            added.append(count[present])
        sums.add(np.concatenate(keys), np.concatenate(repeated), np.concatenate(added))
        for found in (owners, days, codes, counts, series):
            found.clear()

    with tqdm(total=total, unit="fact", desc="Rollups", disable=not progress) as bar:
        done = 0
        for row in facts.iterator(chunk_size=5000):
            for series_list, cells in layout.grouped(row, zone):
                index = len(series) // width
                ids = {dim: sums.series_id((dim, value)) for dim, value in series_list}
                series.append(ids["all"])
                series.extend(ids.get(dim, -1) for dim in layout.DIMENSIONS)
                for day, code, n in cells:
                    owners.append(index)
                    days.append(day)
                    codes.append(code)
                    counts.append(n)
            done += 1
            if done % 20_000 == 0:
                flush()
                bar.update(20_000)
        bar.update(done % 20_000)
        flush()
    return sums, sums.total()


def rebuild(zone: tzinfo | None = None, *, progress: bool = False) -> Rebuilt:
    """Sum every fact afresh into the blocks of every level, compare them
    with the kept rows, write what differs and delete what is left over.
    Holds the lock for the whole run: a catch-up waits for it."""
    zone = zone or rollup_zone()
    with transaction.atomic():
        _lock()
        sums, level0 = _sum_facts(zone, progress)
        names = {sid: series for series, sid in sums.series.items()}
        fresh: dict[tuple[str, str, int, int], FactRollup] = {}
        keys, codes, counts = level0
        for level in range(LEVELS):
            if level:
                series, days = keys >> 32, keys & 0xFFFFFFFF
                keys, codes, counts = _summed(series << 32 | days >> 1, codes, counts)
            fresh |= _rows_of(names, level, (keys, codes, counts))
        kept = {
            (dim, value, level, block): (bytes(blob), pk)
            for dim, value, level, block, blob, pk in FactRollup.objects.values_list(
                "dim", "value", "level", "block", "cells", "pk"
            ).iterator(chunk_size=500)
        }
        changed = [
            row
            for key, row in fresh.items()
            if not _same_cells(kept.get(key, (None,))[0], row.cells)
        ]
        gone = [pk for key, (_, pk) in kept.items() if key not in fresh]
        _write(changed)
        for start in range(0, len(gone), 10_000):
            FactRollup.objects.filter(pk__in=gone[start : start + 10_000]).delete()
    return Rebuilt(rows=len(fresh), differing=len(changed) + len(gone))
