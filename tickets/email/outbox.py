"""Sending the outbox (tickets.models.OutboundEmail): each row once, never
inside a transaction.

1. Claim: in a short transaction of its own, rows move QUEUED -> SENDING
   (attempts + 1, a lease until LEASE from now) under FOR UPDATE SKIP LOCKED,
   so two senders never hold the same row; the claim commits before any mail
   server is contacted.
2. Send: SMTP with no transaction open (the claim and every mark run in
   `atomic(durable=True)`, which refuses to run inside a caller's
   transaction, so a sender called from one fails before it sends).
3. Mark: SENT (and the effect of having sent it: the message's emailed_at,
   the ticket's acknowledged_at), or back to QUEUED with the error and a retry
   time, or FAILED after MAX_ATTEMPTS (recorded in the ticket's history).

Who sends: the task enqueued after the commit that wrote the rows
(`send_outbound_mail`, rows never tried), and the beat sweep (`send_due`):
rows whose enqueue was lost (QUEUED past the time a first send should have
taken), rows waiting for a retry, and rows whose sender died after claiming
them (SENDING past its lease). A sender killed between claim and send loses
nothing: the lease runs out and the sweep sends the mail. A sender killed
after the mail server accepted the mail but before marking it means one
duplicate at worst, with the same Message-ID.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import shared_task
from django.core import mail
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from tickets.history import record_event
from tickets.models import Message, OutboundEmail, Ticket

logger = logging.getLogger(__name__)

State = OutboundEmail.State

# The kinds of mail whose sending changes something besides the row.
KIND_ACKNOWLEDGEMENT = "ticket.acknowledgement"

MAX_ATTEMPTS = 8
# How long a claimed row is the claimer's: far longer than one SMTP
# conversation (EMAIL_TIMEOUT), so only a dead sender's rows are taken over.
LEASE = timedelta(minutes=10)
# A new row that its enqueued task has not sent within this is the sweep's.
FIRST_SEND_GRACE = timedelta(minutes=1)
BATCH = 100

# The mail server said no for good: trying again would not help.
PERMANENT = (smtplib.SMTPRecipientsRefused, ValueError)
# Anything else from the mail server or the network may pass.
RETRYABLE = (smtplib.SMTPException, OSError)


def retry_delay(attempts: int) -> timedelta:
    """Back off after the n-th failed attempt: 30 s, 1, 2, 4 ... up to 60 min."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def first_attempt_at(now: datetime) -> datetime:
    """next_attempt_at of a new row: when the sweep takes it over."""
    return now + FIRST_SEND_GRACE


@dataclass
class SendResult:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


# --- claiming ----------------------------------------------------------------------


def _claim(rows: QuerySet[OutboundEmail], now: datetime, limit: int) -> list[OutboundEmail]:
    with transaction.atomic(durable=True):
        claimed = list(
            rows.select_for_update(skip_locked=True).order_by("next_attempt_at", "id")[:limit]
        )
        if claimed:
            OutboundEmail.objects.filter(pk__in=[row.pk for row in claimed]).update(
                state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE
            )
    for row in claimed:
        row.state = State.SENDING
        row.attempts += 1
        row.next_attempt_at = now + LEASE
    return claimed


def claim_new(ids: Sequence[int], *, now: datetime | None = None) -> list[OutboundEmail]:
    """The rows of `ids` that nobody has tried yet (what an on-commit task
    carries); a redelivered task finds them taken and claims nothing."""
    now = now or timezone.now()
    rows = OutboundEmail.objects.filter(pk__in=list(ids), state=State.QUEUED, attempts=0)
    return _claim(rows, now, limit=len(ids))


def claim_due(*, now: datetime | None = None, limit: int = BATCH) -> list[OutboundEmail]:
    """Rows still owed whose time has come (partial index outbox_due)."""
    now = now or timezone.now()
    rows = OutboundEmail.objects.filter(
        state__in=[State.QUEUED, State.SENDING], next_attempt_at__lte=now
    )
    return _claim(rows, now, limit=limit)


# --- sending -------------------------------------------------------------------------


def send_new(ids: Sequence[int]) -> SendResult:
    return deliver(claim_new(ids))


def send_due(*, now: datetime | None = None, limit: int = BATCH) -> SendResult:
    return deliver(claim_due(now=now, limit=limit))


def deliver(rows: Sequence[OutboundEmail]) -> SendResult:
    """Send claimed rows over one connection and mark each. Must not run in a
    transaction: the durable marks refuse to."""
    result = SendResult()
    if not rows:
        return result
    connection = mail.get_connection()
    try:
        connection.open()
    except RETRYABLE as error:
        for row in rows:
            _mark_unsent(row, error, result)
        return result
    try:
        for row in rows:
            if row.attempts > MAX_ATTEMPTS:
                # Claimed again and again by senders that died before marking it.
                _mark_failed(row, RuntimeError("the sender stopped during every attempt"))
                result.failed.append(row.pk)
                continue
            message = mail.EmailMessage(
                # A line break in a header would be refused by Django (header
                # injection); subjects come from customers.
                subject=" ".join(row.subject.split()),
                body=row.body,
                to=[row.recipient],
                headers=row.headers,
                connection=connection,
            )
            try:
                message.send()
            except PERMANENT as error:
                _mark_failed(row, error)
                result.failed.append(row.pk)
            except RETRYABLE as error:
                _mark_unsent(row, error, result)
            except Exception as error:  # a bug, not the network: a person must look
                _mark_failed(row, error)
                result.failed.append(row.pk)
            else:
                _mark_sent(row)
                result.sent.append(row.pk)
    finally:
        connection.close()
    return result


# --- marking ---------------------------------------------------------------------------


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _mark_sent(row: OutboundEmail) -> None:
    now = timezone.now()
    with transaction.atomic(durable=True):
        OutboundEmail.objects.filter(pk=row.pk, state=State.SENDING).update(
            state=State.SENT, sent_at=now, next_attempt_at=None, last_error=""
        )
        if row.message_id is not None:
            Message.objects.filter(pk=row.message_id, emailed_at__isnull=True).update(
                emailed_at=now
            )
        if row.kind == KIND_ACKNOWLEDGEMENT and row.ticket_id is not None:
            acknowledged = Ticket.objects.filter(
                pk=row.ticket_id, acknowledged_at__isnull=True
            ).update(acknowledged_at=now)
            if acknowledged:
                record_event(
                    row.ticket_id,
                    actor=None,
                    action="ticket.acknowledged",
                    note="Acknowledgement e-mailed",
                    at=now,
                )
    row.state, row.sent_at = State.SENT, now


def _mark_unsent(row: OutboundEmail, error: BaseException, result: SendResult) -> None:
    """A temporary failure: try again later, or give up after the last attempt."""
    if row.attempts >= MAX_ATTEMPTS:
        _mark_failed(row, error)
        result.failed.append(row.pk)
        return
    retry_at = timezone.now() + retry_delay(row.attempts)
    logger.warning(
        "Mail %s to %s failed (attempt %s), retrying at %s: %s",
        row.pk,
        row.recipient,
        row.attempts,
        retry_at,
        error,
    )
    with transaction.atomic(durable=True):
        OutboundEmail.objects.filter(pk=row.pk, state=State.SENDING).update(
            state=State.QUEUED, next_attempt_at=retry_at, last_error=_error_text(error)
        )
    row.state, row.next_attempt_at = State.QUEUED, retry_at
    result.retrying.append(row.pk)


def _mark_failed(row: OutboundEmail, error: BaseException) -> None:
    """Given up: the row stays FAILED with the error (admin: outbound e-mails),
    and the ticket's history says so, where staff see it."""
    text = _error_text(error)
    logger.error("Mail %s to %s failed for good: %s", row.pk, row.recipient, text)
    now = timezone.now()
    with transaction.atomic(durable=True):
        updated = OutboundEmail.objects.filter(pk=row.pk, state=State.SENDING).update(
            state=State.FAILED, next_attempt_at=None, last_error=text
        )
        if updated and row.ticket_id is not None:
            record_event(
                row.ticket_id,
                actor=None,
                action="mail.failed",
                field="email",
                new=row.recipient,
                note=f"Not sent ({row.kind}, {row.attempts} attempts): {text}",
                at=now,
            )
    row.state = State.FAILED


@shared_task(name="tickets.send_outbound_mail", acks_late=True)
def send_outbound_mail(ids: list[int]) -> int:
    """Send rows written by one transaction, right after it committed."""
    return len(send_new(ids).sent)
