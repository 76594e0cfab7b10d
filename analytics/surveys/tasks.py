"""The surveys' beat jobs (helpdesk/schedule.py): thin wrappers over the
sweeps of analytics.surveys.sending, safe to run twice at once."""

from celery import shared_task

from analytics.surveys import sending

# One run writes at most this many batches, so it stays well inside its time.
MAX_BATCHES = 10


@shared_task(name="analytics.surveys.tasks.send_due_surveys", acks_late=True)
def send_due_surveys() -> int:
    """CSAT e-mails of rounds whose delay has passed, then NPS invitations."""
    written = 0
    for _ in range(MAX_BATCHES):
        batch = sending.send_due_csat()
        written += batch
        if batch < sending.BATCH:
            break
    for _ in range(MAX_BATCHES):
        batch = sending.send_due_nps()
        written += batch
        if batch < sending.BATCH:
            break
    return written
