"""Writing the reports to the outbox, exactly once per manager and period.

For each manager still owed the period's report, one transaction inserts the
claim (analytics.models.SentReport, unique per kind, period and recipient)
and the e-mail's outbox row; the outbox sends it after the commit and
retries it if the mail server fails (tickets.email.outbox). A second run, or
a second worker at the same moment, hits the unique claim: its insert waits
for the first transaction and then fails, so it rolls back its mail and
moves on. The figures are computed only when somebody is owed the report, so
the hourly beat runs after the first cost one query."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from analytics.models import SentReport
from analytics.reports import monthly, weekly
from analytics.reports.periods import Period
from tickets.email.outbox import first_attempt_at
from tickets.email.outgoing import mail_headers, make_message_id
from tickets.models import OutboundEmail, Role, User
from tickets.services.mail import mail_queue

KIND_WEEKLY = "analytics.weekly_report"
KIND_CSAT_REVIEW = "analytics.csat_review"


def report_recipients() -> QuerySet[User]:
    """Who gets the reports: active managers with an address."""
    return User.objects.filter(role=Role.MANAGER, is_active=True).exclude(email="").order_by("pk")


def owed(kind: str, period: Period) -> list[User]:
    """The managers who have not had this period's report yet. Queries: 1."""
    sent = SentReport.objects.filter(kind=kind, period_start=period.first_day)
    return list(report_recipients().exclude(pk__in=sent.values("recipient_id")))


def report_mail(*, kind: str, recipient: User, subject: str, body: str) -> OutboundEmail:
    now = timezone.now()
    return OutboundEmail(
        kind=kind,
        audience="manager",
        recipient=recipient.email,
        subject=subject[:250],
        body=body,
        headers=mail_headers(message_id=make_message_id(), auto="auto-generated"),
        created_at=now,
        next_attempt_at=first_attempt_at(now),
    )


def deliver(
    *,
    report_kind: str,
    mail_kind: str,
    period: Period,
    recipients: list[User],
    subject: str,
    body_for: Callable[[User], str],
) -> int:
    """Claim and mail the report for each recipient; returns how many mails
    were written (recipients someone else claimed meanwhile are skipped)."""
    written = 0
    for recipient in recipients:
        try:
            with transaction.atomic():
                claim = SentReport.objects.create(
                    kind=report_kind, period_start=period.first_day, recipient=recipient
                )
                mail = report_mail(
                    kind=mail_kind, recipient=recipient, subject=subject, body=body_for(recipient)
                )
                claim.email = mail_queue([mail])[0]
                claim.save(update_fields=["email"])
        except IntegrityError:
            continue  # another run mailed this manager the report
        written += 1
    return written


def send_weekly_report(*, week: Period, now: datetime | None = None) -> int:
    """Mail `week`'s report to every manager who has not had it."""
    recipients = owed(SentReport.Kind.WEEKLY, week)
    if not recipients:
        return 0
    report = weekly.weekly_report(week, now=now or timezone.now())
    return deliver(
        report_kind=SentReport.Kind.WEEKLY,
        mail_kind=KIND_WEEKLY,
        period=week,
        recipients=recipients,
        subject=weekly.subject(report),
        body_for=lambda user: weekly.body(report, greeting_name=user.get_short_name()),
    )


def send_csat_review(*, month: Period) -> int:
    """Mail `month`'s CSAT review to every manager who has not had it."""
    recipients = owed(SentReport.Kind.CSAT_MONTHLY, month)
    if not recipients:
        return 0
    review = monthly.csat_review(month)
    return deliver(
        report_kind=SentReport.Kind.CSAT_MONTHLY,
        mail_kind=KIND_CSAT_REVIEW,
        period=month,
        recipients=recipients,
        subject=monthly.subject(review),
        body_for=lambda user: monthly.body(review, greeting_name=user.get_short_name()),
    )
