"""The Celery task class of the whole project (helpdesk/celery.py sets it).

Tasks are sent after the surrounding transaction commits (`delay_on_commit`),
so a worker never looks for rows that are not there yet and a rolled-back
change never sends anything. A broker that is down must not turn a committed
write into an error page: the failure is logged, and the periodic sweep that
backs every on-commit task (helpdesk/schedule.py) does the work later. After
a failure, publishing is not even tried for HELPDESK_REDIS_RECHECK_SECONDS
(core.outage), so a hung broker delays one request per interval, not every
one.
"""

from __future__ import annotations

import logging
from typing import Any, ParamSpec, TypeVar

from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from core.outage import Outage

logger = logging.getLogger(__name__)

_broker_outage: Outage | None = None


def broker_outage() -> Outage:
    """This process's view of the broker (one for every task)."""
    global _broker_outage
    if _broker_outage is None:
        _broker_outage = Outage("The Celery broker", recheck_seconds=settings.REDIS_RECHECK_SECONDS)
    return _broker_outage


_P = ParamSpec("_P")
_R_co = TypeVar("_R_co", covariant=True)


class OnCommitTask(DjangoTask[_P, _R_co]):
    # celery-types declares DjangoTask's *_on_commit as returning AsyncResult,
    # but celery's own ones return None (the task is not sent yet); so do these.
    def delay_on_commit(self, *args: _P.args, **kwargs: _P.kwargs) -> None:  # type: ignore[override]
        """`delay(*args, **kwargs)` once the current transaction has committed."""
        transaction.on_commit(lambda: self._send_logged(args, kwargs))

    def apply_async_on_commit(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        transaction.on_commit(lambda: self._send_logged(*args, **kwargs))

    def _send_logged(self, args: Any = (), kwargs: Any = None, **options: Any) -> None:
        outage = broker_outage()
        if not outage.may_try():
            logger.info("Broker down: %s%r left to the periodic sweep", self.name, args)
            return
        try:
            self.apply_async(args, kwargs, **options)
        except OperationalError as error:  # kombu's word for "cannot reach the broker"
            outage.failed(error)
            logger.warning(
                "Could not enqueue %s%r; the periodic sweep will do it: %s", self.name, args, error
            )
        except Exception:  # the broker's other errors vary by transport
            logger.exception(
                "Could not enqueue %s%r; the periodic sweep will do it", self.name, args
            )
        else:
            outage.succeeded()
