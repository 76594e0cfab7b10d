"""Celery tasks of the tickets app: thin wrappers that take ids and call a service.

Imported by the worker (autodiscovery), so the tasks defined beside their
services are registered from here too.
"""

from celery import shared_task

from tickets.classification.tasks import retrain_classifier  # noqa: F401  (registers the task)
from tickets.email import outbox
from tickets.email.outbox import send_outbound_mail  # noqa: F401  (registers the task)
from tickets.routing import assign_waiting_tickets as assign_waiting

# One sweep sends at most this many batches, so it never runs past its time limit.
MAX_MAIL_BATCHES = 20


@shared_task(acks_late=True)
def send_due_mail() -> int:
    """The outbox sweep: mail whose enqueue was lost, whose retry time has
    come, or whose sender died after claiming it (tickets/email/outbox.py)."""
    sent = 0
    for _ in range(MAX_MAIL_BATCHES):
        result = outbox.send_due()
        sent += len(result.sent)
        if not (result.sent or result.retrying or result.failed):
            break
    return sent


@shared_task(acks_late=True)
def assign_waiting_tickets() -> int:
    """Hand waiting tickets to agents whose capacity freed up."""
    return assign_waiting()
