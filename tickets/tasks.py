"""Celery tasks of the tickets app: thin wrappers that take ids and call a service."""

import smtplib
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from tickets import services
from tickets.classification.tasks import retrain_classifier  # noqa: F401  (registers the task)
from tickets.models import Ticket


@shared_task(
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_ticket_acknowledgement(ticket_id: int) -> bool:
    return services.ticket_acknowledge(ticket_id=ticket_id)


@shared_task(acks_late=True)
def acknowledge_missed_tickets() -> int:
    """Re-enqueue acknowledgements that never ran (lost between commit and
    enqueue). Uses the partial index over unacknowledged tickets."""
    now = timezone.now()
    ids = list(
        Ticket.objects.filter(
            acknowledged_at__isnull=True,
            created_at__lt=now - timedelta(minutes=2),
            created_at__gte=now - timedelta(days=2),
        ).values_list("id", flat=True)[:500]
    )
    for ticket_id in ids:
        send_ticket_acknowledgement.delay(ticket_id)
    return len(ids)


@shared_task(
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_message_email(message_id: int) -> bool:
    return services.message_email(message_id=message_id)


@shared_task(acks_late=True)
def assign_waiting_tickets() -> int:
    """Hand waiting tickets to agents whose capacity freed up."""
    from tickets.routing import assign_waiting_tickets as assign

    return assign()
