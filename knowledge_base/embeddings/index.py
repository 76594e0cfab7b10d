"""The vectors of the live articles, held in this process as one float32
matrix per visibility, so a semantic query is a matrix-vector product and a
partial sort (about 10 ms at 100,000 articles; bench/kb_embeddings.py).

Loaded on the first query, then kept in step with the database cheaply:
- every embed_articles() call logs the ids it wrote under a version number in
  the Django cache (shared by the web processes and the workers); a process
  that sees a newer version reloads only those rows;
- at most every HELPDESK_KB_EMBEDDING_RECHECK_SECONDS a stamp of the live
  articles (how many have a vector, how many an up-to-date one, their newest
  updated_at) catches what the log does not say (an article archived or
  restored, a visibility changed, a lost cache entry): a different stamp
  reloads the whole matrix.

float16 would halve the memory (75 MB instead of 150 MB at 100,000
articles), but numpy has no fast half-precision product: converting the
matrix back for each query costs more than the product itself.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q

from knowledge_base.embeddings.queries import embedded_as, live_articles

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
    """Record that the vectors of `ids` were written (embed_articles)."""
    global _index
    try:
        cache.add(_VERSION_KEY, 0, timeout=None)
        version = cache.incr(_VERSION_KEY)
        cache.set(_IDS_KEY.format(version), list(ids), timeout=_LOG_SECONDS)
    except Exception:
        # The other processes notice at their next stamp check (or not, for a
        # re-embedded article, until something else changes: logged).
        logger.warning("Could not log changed article vectors in the cache", exc_info=True)
    # This process reloads at once.
    with _lock:
        if _index is not None:
            _index.checked_at = float("-inf")


@dataclass
class Index:
    label: str
    dimension: int = 0
    # visibility -> (article ids, their unit vectors as rows)
    groups: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    log_version: int = 0
    stamp: tuple[Any, ...] = ()
    checked_at: float = 0.0

    @property
    def size(self) -> int:
        return sum(len(ids) for ids, _ in self.groups.values())

    @property
    def nbytes(self) -> int:
        return sum(ids.nbytes + matrix.nbytes for ids, matrix in self.groups.values())

    def nearest(
        self, vector: np.ndarray, visibilities: list[str], limit: int, min_score: float = 0.0
    ) -> list[tuple[int, float]]:
        found_ids: list[np.ndarray] = []
        found_scores: list[np.ndarray] = []
        for visibility in dict.fromkeys(visibilities):
            group = self.groups.get(visibility)
            if group is None or not len(group[0]):
                continue
            ids, matrix = group
            if matrix.shape[1] != vector.shape[0]:
                continue
            scores = matrix @ vector
            if len(scores) > limit:
                top = np.argpartition(scores, len(scores) - limit)[-limit:]
                ids, scores = ids[top], scores[top]
            found_ids.append(ids)
            found_scores.append(scores)
        if not found_ids:
            return []
        all_ids = np.concatenate(found_ids)
        all_scores = np.concatenate(found_scores)
        order = np.argsort(-all_scores, kind="stable")[:limit]
        return [(int(all_ids[i]), float(all_scores[i])) for i in order if all_scores[i] > min_score]


_index: Index | None = None
_lock = threading.Lock()


def _rows(label: str):
    return live_articles().filter(embedding_model__startswith=f"{label}#", embedding__isnull=False)


def _stamp(label: str) -> tuple[Any, ...]:
    current = embedded_as(label)
    row = live_articles().aggregate(
        vectors=Count("id", filter=Q(embedding_model__startswith=f"{label}#")),
        fresh=Count("id", filter=Q(embedding_model=current)),
        latest=Max("updated_at"),
    )
    return (row["vectors"], row["fresh"], row["latest"])


def _group(rows: list[tuple[int, bytes]], dimension: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter((pk for pk, _ in rows), dtype=np.int64, count=len(rows))
    if not rows:
        return ids, np.zeros((0, dimension), dtype=np.float32)
    matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype="<f4")
    return ids, matrix.reshape(len(rows), dimension).astype(np.float32, copy=False)


def _fetch(label: str, ids: list[int] | None) -> tuple[dict[str, list[tuple[int, bytes]]], int]:
    """Rows with a vector of this model (all of them, or of `ids`), by visibility."""
    query = _rows(label)
    if ids is not None:
        query = query.filter(pk__in=ids)
    by_visibility: dict[str, list[tuple[int, bytes]]] = {}
    dimension = 0
    for pk, visibility, blob in query.values_list("id", "visibility", "embedding").iterator(
        chunk_size=2000
    ):
        blob = bytes(blob)
        if not dimension:
            dimension = len(blob) // 4
        if len(blob) != dimension * 4:
            logger.warning("Article %s has a vector of another size: skipped", pk)
            continue
        by_visibility.setdefault(visibility, []).append((pk, blob))
    return by_visibility, dimension


def load(label: str) -> Index:
    """Every vector of this model, read now (the stamp is taken first, so a
    change during the read shows at the next check)."""
    index = Index(label=label, log_version=_log_version(), stamp=_stamp(label))
    index.checked_at = time.monotonic()
    rows, index.dimension = _fetch(label, None)
    index.groups = {vis: _group(group, index.dimension) for vis, group in rows.items()}
    return index


def _patch(index: Index, version: int) -> Index | None:
    """A copy of `index` with the rows the log names since its version
    re-read; None when the log cannot say (entries expired, too many)."""
    keys = [_IDS_KEY.format(v) for v in range(index.log_version + 1, version + 1)]
    if len(keys) > 1000:
        return None
    try:
        entries = cache.get_many(keys)
    except Exception:
        return None
    if len(entries) != len(keys):
        return None
    ids = sorted({pk for entry in entries.values() for pk in entry})
    if len(ids) > _MAX_PATCH_IDS:
        return None
    # Taken before the read, like load()'s.
    stamp = _stamp(index.label)
    rows, dimension = _fetch(index.label, ids)
    if index.dimension and dimension and dimension != index.dimension:
        return None
    dimension = index.dimension or dimension
    drop = np.array(ids, dtype=np.int64)
    groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for visibility in set(index.groups) | set(rows):
        old_ids, old_matrix = index.groups.get(visibility) or _group([], dimension)
        keep = ~np.isin(old_ids, drop)
        new_ids, new_matrix = _group(rows.get(visibility, []), dimension)
        groups[visibility] = (
            np.concatenate([old_ids[keep], new_ids]),
            np.concatenate([old_matrix[keep], new_matrix]),
        )
    return Index(
        label=index.label,
        dimension=dimension,
        groups=groups,
        log_version=version,
        stamp=stamp,
        checked_at=time.monotonic(),
    )


def current(label: str) -> Index:
    """This process's index for `label`, brought up to date if it is due."""
    global _index
    index = _index
    now = time.monotonic()
    if index is not None and index.label == label:
        due = now - index.checked_at >= _recheck_seconds()
        version = _log_version()
        if not due and version == index.log_version:
            return index
    with _lock:
        index = _index
        if index is None or index.label != label:
            _index = index = load(label)
            return index
        version = _log_version()
        if version != index.log_version:
            patched = _patch(index, version)
            if patched is None:
                _index = index = load(label)
                return index
            _index = index = patched
        if now - index.checked_at >= _recheck_seconds():
            stamp = _stamp(label)
            if stamp != index.stamp:
                _index = index = load(label)
            else:
                index.checked_at = now
        return index


def forget() -> None:
    """Drop this process's matrix (the next query loads it again)."""
    global _index
    with _lock:
        _index = None
