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


@shared_task(acks_late=True)
def send_notifications(notification_ids: list[int]) -> int:
    """Send a batch queued together (one sweep batch); a notification whose
    mail fails continues on its own with retries (send_notification)."""
    sent = 0
    for notification_id in notification_ids:
        outcome, error = _send_one(notification_id, last_try=False)
        if outcome == "sent":
            sent += 1
        elif error is not None:
            send_notification.apply_async(
                (notification_id,), kwargs={"retry_of_batch": True}, countdown=5
            )
    return sent


@shared_task(acks_late=True)
def route_escalated_tickets(ticket_ids: list[int]) -> int:
    """route_escalated_ticket for a sweep batch's hand-overs, one transaction each."""
    return sum(1 for ticket_id in ticket_ids if route_escalated_ticket(ticket_id))


@shared_task(acks_late=True)
def route_escalated_ticket(ticket_id: int) -> bool:
    """Give a ticket that moved up a tier to an agent of that tier (or leave it
    waiting in the team queue, where assign_waiting_tickets picks it up)."""
    from tickets import routing
    from tickets.models import Ticket

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    return ticket is not None and routing.route_ticket(ticket) is not None


def _send_one(notification_id: int, *, last_try: bool):
    """(outcome, error): send one notification under a row lock, recording the
    attempt; outcome is "sent", "failed", "retry" or "nothing to do"."""
    with transaction.atomic():
        note = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if note is None or note.state == Notification.State.SENT:
            return "nothing to do", None
        note.attempts += 1
        try:
            EmailMessage(note.subject, note.body, to=[note.recipient]).send()
        except RETRYABLE as exc:
            note.state = Notification.State.FAILED if last_try else Notification.State.QUEUED
            note.last_error = f"{type(exc).__name__}: {exc}"[:500]
            note.save(update_fields=["attempts", "state", "last_error"])
            return ("failed" if last_try else "retry"), exc
        note.state = Notification.State.SENT
        note.sent_at = timezone.now()
        note.last_error = ""
        note.save(update_fields=["attempts", "state", "sent_at", "last_error"])
        return "sent", None


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_notification(self, notification_id: int, retry_of_batch: bool = False) -> str:
    """Send one queued notification, at most once: the row is claimed under a
    lock and marked sent in the same transaction. A mail error is recorded on
    the row (committed) and retried with backoff; after the last retry the row
    stays 'failed' (admin: SLA notifications) for a person to see."""
    outcome, error = _send_one(notification_id, last_try=self.request.retries >= MAX_RETRIES)
    if outcome != "retry":
        return outcome
    raise self.retry(exc=error, countdown=min(600, 5 * 2**self.request.retries))
