"""The surveys' beat jobs (helpdesk/schedule.py): thin wrappers over the
sweeps of analytics.surveys.sending, safe to run twice at once."""

from collections.abc import Callable

from celery import shared_task

from analytics.surveys import sending

# One run writes at most this many batches, so it stays well inside its time.
MAX_BATCHES = 10


def _until_done(sweep: Callable[[], int]) -> int:
    written = 0
    for _ in range(MAX_BATCHES):
        batch = sweep()
        written += batch
        if batch < sending.BATCH:
            break
    return written


@shared_task(name="analytics.surveys.tasks.send_due_csat", acks_late=True)
def send_due_csat() -> int:
    """CSAT e-mails of the survey rounds whose delay has passed."""
    return _until_done(sending.send_due_csat)


@shared_task(name="analytics.surveys.tasks.send_due_nps", acks_late=True)
def send_due_nps() -> int:
    """NPS questions to customers not yet asked this period."""
    return _until_done(sending.send_due_nps)
