"""The project's Redis cache: Django's RedisCache that carries on when Redis
does not answer.

Nothing kept in the cache is the only copy: sessions are in the database too
(`cached_db`), permission sets, reference lists and queue counts are read
again, throttle and rate-limit counters start again, presence is ephemeral.
So while Redis is unreachable, reads miss (they return the default) and
writes are skipped, instead of failing the request. The socket timeouts
(settings: HELPDESK_REDIS_CONNECT_TIMEOUT, HELPDESK_REDIS_TIMEOUT) bound what
one call can wait, and after a failure this process leaves Redis alone for
`recheck_seconds` (core.outage), so a hung server costs one timeout per
interval, not one per call.

What a skipped write leaves behind: if Redis kept its data (a network
partition, a paused server), entries that should have been deleted or
replaced are still there when it answers again: the session of someone who
logged out, a permission set from before a role change, a category list
from before an edit. So when this process skipped a write, its first call
after the outage deletes every entry of this cache (the KEY_PREFIX's keys
only, with SCAN and UNLINK: FLUSHDB would also take the Celery broker's
queues when both share a database) before it reads anything.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import Redis
from redis.exceptions import RedisError

from core.outage import Outage

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# Keys removed per UNLINK when the cache is emptied after an outage.
_PURGE_BATCH = 500
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


class FailSafeRedisCache(RedisCache):
    """CACHES OPTIONS are the connection pool's (socket_connect_timeout,
    socket_timeout...) plus `recheck_seconds`: how long this process leaves
    Redis alone after a failure."""

    # RedisCache's client, a cached_property that django-stubs does not declare.
    _cache: RedisCacheClient

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        recheck_seconds = float(options.pop("recheck_seconds", 5.0))
        super().__init__(server, {**params, "OPTIONS": options})
        # Named without the URL, which may hold a password.
        self.outage = Outage("The Redis cache", recheck_seconds=recheck_seconds)
        self._lost_writes = False

    # --- the guard around every call -----------------------------------------

    def _guard(self, call: Callable[[], _T], fallback: _T, *, write: bool) -> _T:
        if not self.outage.may_try():
            self._lost_writes = self._lost_writes or write
            return fallback
        try:
            if self.outage.down:
                self._recover()
            return call()
        except RedisError as error:
            self._lost_writes = self._lost_writes or write
            self.outage.failed(error)
            return fallback

    def _recover(self) -> None:
        client = self._cache.get_client(write=True)
        client.ping()
        if self._lost_writes:
            self._purge(client)
            self._lost_writes = False
        self.outage.succeeded()

    def _purge(self, client: Redis) -> None:
        # Keys of Django's default key function: "<prefix>:<version>:<key>".
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self.key_prefix) + ":*"
        removed = 0
        batch: list[Any] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= _PURGE_BATCH:
                removed += client.unlink(*batch)
                batch.clear()
        if batch:
            removed += client.unlink(*batch)
        logger.warning(
            "Emptied the cache (%d entries) after an outage during which writes were skipped",
            removed,
        )

    # --- Django's cache API ---------------------------------------------------

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._guard(partial(super().add, key, value, timeout, version), False, write=True)

    def get(self, key: Any, default: Any | None = None, version: int | None = None) -> Any:
        return self._guard(partial(super().get, key, default, version), default, write=False)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._guard(partial(super().set, key, value, timeout, version), None, write=True)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard(partial(super().touch, key, timeout, version), False, write=True)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guard(partial(super().delete, key, version), False, write=True)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._guard(partial(super().get_many, keys, version), {}, write=False)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guard(partial(super().has_key, key, version), False, write=False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A counter Redis cannot be asked about starts again: callers that
        # count attempts (rate limits) see `delta`, under any limit. A missing
        # key on a Redis that answers still raises ValueError, as Django says.
        return self._guard(partial(super().incr, key, delta, version), delta, write=True)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        # Django's contract: the keys that could not be stored.
        return self._guard(
            partial(super().set_many, data, timeout, version), list(data), write=True
        )

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self._guard(partial(super().delete_many, keys, version), None, write=True)

    def clear(self) -> None:
        self._guard(super().clear, None, write=True)
