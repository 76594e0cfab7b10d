"""Whether a helper service (the cache, the Celery broker) counts as down in
this process, so that calls to it can be skipped instead of each one waiting
for a timeout.

After a failure the service is left alone for `recheck_seconds`; then the
next call tries it again. The log gets one line when it goes down and one
when it answers again (with how long it was gone and how many calls were
skipped), not one per call: a dead Redis under load would otherwise write
hundreds of tracebacks a second.
"""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)


class Outage:
    def __init__(self, name: str, *, recheck_seconds: float) -> None:
        self.name = name
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_try = 0.0
        self._skipped = 0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def may_try(self) -> bool:
        """True when a call should go to the service: it is up, or it has been
        left alone long enough to be tried again. A False counts a skipped call."""
        if self._down_since is None or time.monotonic() >= self._next_try:
            return True
        with self._lock:
            self._skipped += 1
        return False

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = now
                self._skipped = 0
            self._next_try = now + self.recheck_seconds
        if first:
            logger.error(
                "%s is unreachable (%s: %s); carrying on without it and trying again every %s s",
                self.name,
                type(error).__name__,
                error,
                self.recheck_seconds,
            )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.monotonic() - self._down_since
            skipped, self._skipped = self._skipped, 0
            self._down_since = None
        logger.warning(
            "%s answers again after %.1f s (%d calls skipped meanwhile)",
            self.name,
            down_for,
            skipped,
        )
