"""Enqueue Celery tasks after the surrounding transaction commits."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """Send `task` with `args` once the current transaction has committed.

    A broker that is down must not turn a committed write into an error page:
    the failure is logged, and the periodic sweeps that back every on-commit
    task (see helpdesk/schedule.py) pick the work up again.
    """

    def send() -> None:
        try:
            task.delay(*args)
        except Exception:  # the broker's errors vary by transport
            logger.exception(
                "Could not enqueue %s%r; the periodic sweep will retry", task.name, args
            )

    transaction.on_commit(send)
