"""Celery tasks of the escalation app: the SLA sweep (beat, every few seconds)
and the sending of queued notifications."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from escalation.models import Notification
from escalation.sweep import sweep_until_done

RETRYABLE = (smtplib.SMTPException, ConnectionError, TimeoutError)
MAX_RETRIES = 8


@shared_task(acks_late=True)
def sweep_sla() -> int:
    """Escalate what is due. Safe to run twice at once or again after a crash
    (escalation.sweep explains why)."""
    return len(sweep_until_done().escalations)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_notification(self, notification_id: int) -> str:
    """Send one queued notification, at most once: the row is claimed under a
    lock and marked sent in the same transaction. A mail error is recorded on
    the row (committed) and retried with backoff; after the last retry the row
    stays 'failed' (admin: SLA notifications) for a person to see."""
    error = None
    with transaction.atomic():
        note = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if note is None or note.state == Notification.State.SENT:
            return "nothing to do"
        note.attempts += 1
        try:
            EmailMessage(note.subject, note.body, to=[note.recipient]).send()
        except RETRYABLE as exc:
            error = exc
            last = self.request.retries >= MAX_RETRIES
            note.state = Notification.State.FAILED if last else Notification.State.QUEUED
            note.last_error = f"{type(exc).__name__}: {exc}"[:500]
            note.save(update_fields=["attempts", "state", "last_error"])
        else:
            note.state = Notification.State.SENT
            note.sent_at = timezone.now()
            note.last_error = ""
            note.save(update_fields=["attempts", "state", "sent_at", "last_error"])
    if error is None:
        return "sent"
    if note.state == Notification.State.FAILED:
        return "failed"
    raise self.retry(exc=error, countdown=min(600, 5 * 2**self.request.retries))
