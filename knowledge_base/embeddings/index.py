"""The vectors of the live articles, held in this process as one float32
matrix per visibility, so a semantic query is a matrix-vector product and a
partial sort (bench/kb_embeddings.py measures it at 100,000 articles).

Loaded on the first query (on PostgreSQL with a binary COPY, read straight
into the matrix), then kept in step with the database cheaply:
- every change to an article's row (a publish, an archive, a restore, a
  visibility change: the post_save signal) and every vector written
  (embed_articles) is logged, once the transaction commits, as article ids
  under a version number in the Django cache (shared by the web processes and
  the workers); a process that sees a newer version re-reads only those rows;
- at most every HELPDESK_KB_EMBEDDING_RECHECK_SECONDS a stamp of the live
  articles (how many, the newest published_at: an index-only scan of the
  partial index kb_live_recent) catches what a lost cache entry hid from the
  log; a different stamp reloads the whole matrix.

float16 would halve the memory (75 MB instead of 150 MB at 100,000
articles), but numpy has no fast half-precision product: converting the
matrix back for each query costs more than the product itself.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Max
from django.db.models.functions import Length
from django.db.models.signals import post_delete, post_save

from knowledge_base.embeddings.minilm import threadpools
from knowledge_base.embeddings.queries import live_articles
from knowledge_base.models import Article

logger = logging.getLogger(__name__)

_VERSION_KEY = "kb:embeddings:version"
_IDS_KEY = "kb:embeddings:ids:{}"
# A log entry outlives any process's recheck interval by far.
_LOG_SECONDS = 3600
# More changed rows than this at once: reload everything instead.
_MAX_PATCH_IDS = 5000


def _recheck_seconds() -> float:
    return float(getattr(settings, "HELPDESK_KB_EMBEDDING_RECHECK_SECONDS", 5.0))


def _log_version() -> int:
    try:
        return int(cache.get(_VERSION_KEY) or 0)
    except Exception:  # a cache that is down: the database stamp still works
        logger.warning("Could not read the embeddings version from the cache", exc_info=True)
        return 0


def changed(ids: list[int]) -> None:
    """Log that the rows (or vectors) of articles `ids` changed, once the
    current transaction commits (at once outside one)."""
    ids = list(ids)
    if ids:
        # This process re-reads them at its next query (its own transaction
        # sees them); the others once they are committed.
        with _lock:
            if _index is not None:
                _pending.update(ids)
        transaction.on_commit(lambda: _log(ids))


def _log(ids: list[int]) -> None:
    try:
        cache.add(_VERSION_KEY, 0, timeout=None)
        version = cache.incr(_VERSION_KEY)
        cache.set(_IDS_KEY.format(version), ids, timeout=_LOG_SECONDS)
    except Exception:
        # The other processes notice at their next stamp check (a re-embedded
        # article not before something else changes).
        logger.warning("Could not log changed articles in the cache", exc_info=True)


# The fields that decide whether and where an article is in the matrix, and
# its vector.
_INDEXED_FIELDS = frozenset(
    {"visibility", "status", "live_version", "embedding", "embedding_model"}
)


def _article_saved(
    sender: type[Article], instance: Article, update_fields: Any = None, **kwargs: Any
) -> None:
    if update_fields is not None and not _INDEXED_FIELDS.intersection(update_fields):
        return
    if not instance.live_version and kwargs.get("signal") is post_save:
        return  # never live (a new draft): in no matrix, before or after
    changed([instance.pk])


post_save.connect(_article_saved, sender=Article, dispatch_uid="kb-embeddings-index")
post_delete.connect(_article_saved, sender=Article, dispatch_uid="kb-embeddings-index-delete")


class Group:
    """The vectors of one visibility: rows 0..n-1 of arrays with room to
    grow. A row whose article left the group is a tombstone (id -1, a zero
    vector: it never scores above 0) until the next full load."""

    def __init__(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        self.ids, self.matrix, self.n = ids, matrix, len(ids)

    def append(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        needed = self.n + len(ids)
        if needed > len(self.ids):
            capacity = needed + needed // 4 + 256
            grown_ids = np.full(capacity, -1, dtype=np.int64)
            grown = np.zeros((capacity, self.matrix.shape[1]), dtype=np.float32)
            grown_ids[: self.n] = self.ids[: self.n]
            grown[: self.n] = self.matrix[: self.n]
            # Rows first, then the arrays: a query running meanwhile reads
            # either the old arrays or the complete new ones.
            self.matrix, self.ids = grown, grown_ids
        self.matrix[self.n : needed] = matrix
        self.ids[self.n : needed] = ids
        self.n = needed

    @property
    def live(self) -> int:
        return int((self.ids[: self.n] >= 0).sum())


@dataclass
class Index:
    label: str
    dimension: int = 0
    # visibility -> its vectors
    groups: dict[str, Group] = field(default_factory=dict)
    log_version: int = 0
    stamp: tuple[Any, ...] = ()
    checked_at: float = 0.0

    @property
    def size(self) -> int:
        return sum(group.live for group in self.groups.values())

    @property
    def nbytes(self) -> int:
        return sum(group.ids.nbytes + group.matrix.nbytes for group in self.groups.values())

    def nearest(
        self, vector: np.ndarray, visibilities: list[str], limit: int, min_score: float = 0.0
    ) -> list[tuple[int, float]]:
        found_ids: list[np.ndarray] = []
        found_scores: list[np.ndarray] = []
        for visibility in dict.fromkeys(visibilities):
            group = self.groups.get(visibility)
            if group is None or not group.n or group.matrix.shape[1] != vector.shape[0]:
                continue
            n = group.n
            # One BLAS thread, like the encoder (minilm.py says why).
            with threadpools.limit(limits=1, user_api="blas"):
                scores = group.matrix[:n] @ vector
            ids = group.ids[:n]
            if n > limit:
                top = np.argpartition(scores, n - limit)[-limit:]
                ids, scores = ids[top], scores[top]
            found_ids.append(ids)
            found_scores.append(scores)
        if not found_ids:
            return []
        all_ids = np.concatenate(found_ids)
        all_scores = np.concatenate(found_scores)
        order = np.argsort(-all_scores, kind="stable")[:limit]
        return [
            (int(all_ids[i]), float(all_scores[i]))
            for i in order
            if all_scores[i] > min_score and all_ids[i] >= 0
        ]


_index: Index | None = None
# Articles changed by this process since its matrix was read.
_pending: set[int] = set()
_lock = threading.RLock()


def _rows(label: str):
    return live_articles().filter(embedding_model__startswith=f"{label}#", embedding__isnull=False)


def _stamp(label: str) -> tuple[Any, ...]:
    # Both from the partial index kb_live_recent (an index-only scan):
    # archived or restored articles change the count, a publish the newest.
    row = live_articles().aggregate(live=Count("*"), newest=Max("published_at"))
    return (row["live"], row["newest"])


def _group(rows: list[tuple[int, bytes]], dimension: int) -> Group:
    ids = np.fromiter((pk for pk, _ in rows), dtype=np.int64, count=len(rows))
    if not rows:
        return Group(ids, np.zeros((0, dimension), dtype=np.float32))
    matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype="<f4")
    return Group(ids, matrix.reshape(len(rows), dimension).copy())


def _fetch(label: str, ids: list[int] | None, dimension: int) -> dict[str, list[tuple[int, bytes]]]:
    """Rows with a vector of this model (all of them, or of `ids`), by visibility."""
    query = _rows(label)
    if ids is not None:
        query = query.filter(pk__in=ids)
    by_visibility: dict[str, list[tuple[int, bytes]]] = {}
    for pk, visibility, blob in query.values_list("id", "visibility", "embedding").iterator(
        chunk_size=2000
    ):
        blob = bytes(blob)
        if len(blob) != dimension * 4:
            logger.warning("Article %s has a vector of another size: skipped", pk)
            continue
        by_visibility.setdefault(visibility, []).append((pk, blob))
    return by_visibility


def _copy_group(label: str, visibility: str, dimension: int) -> Group:
    """PostgreSQL: the (id, vector) rows of one visibility as a binary COPY,
    whose fixed-size rows numpy reads in place (no Python object per row)."""
    query = (
        _rows(label)
        .filter(visibility=visibility)
        .alias(size=Length("embedding"))
        .filter(size=dimension * 4)
    )
    sql, params = query.values_list("id", "embedding").query.sql_with_params()
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        sql = cursor.mogrify(sql, params).decode()
        cursor.copy_expert(f"COPY ({sql}) TO STDOUT (FORMAT binary)", buffer)
    data = buffer.getbuffer()
    # Header: signature (11 bytes), flags (4), extension length (4) and
    # extension; trailer: -1 (2 bytes).
    start = 19 + int.from_bytes(data[15:19], "big")
    row = np.dtype(
        [
            ("fields", ">i2"),
            ("id_size", ">i4"),
            ("id", ">i8"),
            ("vector_size", ">i4"),
            ("vector", "<f4", (dimension,)),
        ]
    )
    rows = np.frombuffer(data[start : len(data) - 2], dtype=row)
    if len(rows) and not (
        (rows["fields"] == 2).all()
        and (rows["id_size"] == 8).all()
        and (rows["vector_size"] == dimension * 4).all()
    ):
        raise ValueError("unexpected COPY row layout")
    return Group(
        rows["id"].astype(np.int64), np.ascontiguousarray(rows["vector"], dtype=np.float32)
    )


def load(label: str, dimension: int) -> Index:
    """Every vector of this model, read now (the stamp and the log version
    are taken first, so a change during the read shows at the next check)."""
    index = Index(label=label, log_version=_log_version(), stamp=_stamp(label))
    index.checked_at = time.monotonic()
    index.dimension = dimension
    if connection.vendor == "postgresql":
        visibilities = list(_rows(label).order_by().values_list("visibility", flat=True).distinct())
        index.groups = {vis: _copy_group(label, vis, dimension) for vis in visibilities}
    else:
        rows = _fetch(label, None, dimension)
        index.groups = {vis: _group(group, dimension) for vis, group in rows.items()}
    return index


def _patch(index: Index, version: int) -> bool:
    """Re-read, into `index`, the rows the log names since its version and
    this process's own changes; False when the log cannot say (entries
    expired, too many)."""
    keys = [_IDS_KEY.format(v) for v in range(index.log_version + 1, version + 1)]
    if len(keys) > 1000:
        return False
    try:
        entries = cache.get_many(keys) if keys else {}
    except Exception:
        return False
    if len(entries) != len(keys):
        return False
    ids = sorted({pk for entry in entries.values() for pk in entry} | _pending)
    _pending.clear()
    if len(ids) > _MAX_PATCH_IDS:
        return False
    # Taken before the read, like load()'s.
    stamp = _stamp(index.label)
    dimension = index.dimension
    fresh: dict[int, tuple[str, bytes]] = {
        pk: (visibility, blob)
        for visibility, rows in _fetch(index.label, ids, dimension).items()
        for pk, blob in rows
    }
    changed_ids = np.array(ids, dtype=np.int64)
    for visibility, group in index.groups.items():
        for position in np.flatnonzero(np.isin(group.ids[: group.n], changed_ids)):
            pk = int(group.ids[position])
            row = fresh.get(pk)
            if row is not None and row[0] == visibility:
                group.matrix[position] = np.frombuffer(row[1], dtype="<f4")
                del fresh[pk]
            else:  # left this visibility, or the live articles
                group.ids[position] = -1
                group.matrix[position] = 0.0
    by_visibility: dict[str, list[tuple[int, bytes]]] = {}
    for pk, (visibility, blob) in fresh.items():
        by_visibility.setdefault(visibility, []).append((pk, blob))
    for visibility, rows in by_visibility.items():
        new = _group(rows, dimension)
        if visibility in index.groups:
            index.groups[visibility].append(new.ids, new.matrix)
        else:
            index.groups[visibility] = new
    index.log_version = version
    index.stamp = stamp
    index.checked_at = time.monotonic()
    return True


def current(label: str, dimension: int) -> Index:
    """This process's index for `label` (vectors of `dimension`), brought up
    to date if it is due."""
    global _index
    index = _index
    now = time.monotonic()
    if index is not None and index.label == label and index.dimension == dimension:
        due = now - index.checked_at >= _recheck_seconds()
        version = _log_version()
        if not due and version == index.log_version and not _pending:
            return index
    with _lock:
        index = _index
        if index is None or index.label != label or index.dimension != dimension:
            _pending.clear()
            _index = index = load(label, dimension)
            return index
        version = _log_version()
        if version != index.log_version or _pending:
            if not _patch(index, version):
                _pending.clear()
                _index = index = load(label, dimension)
                return index
        if now - index.checked_at >= _recheck_seconds():
            stamp = _stamp(label)
            if stamp != index.stamp:
                _pending.clear()
                _index = index = load(label, dimension)
            else:
                index.checked_at = now
        return index


def forget() -> None:
    """Drop this process's matrix (the next query loads it again)."""
    global _index
    with _lock:
        _index = None
        _pending.clear()
