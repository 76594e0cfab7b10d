"""The reports' beat jobs (helpdesk/schedule.py): hourly on the days a
report may be owed; each finds the period owed in the report time zone and
mails the managers who lack it. Safe to run twice, or twice at once."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from analytics.reports import periods, sending


@shared_task(name="analytics.reports.tasks.send_weekly_reports", acks_late=True)
def send_weekly_reports() -> int:
    """Last week's report to the managers, once the local week has ended."""
    if not settings.HELPDESK_WEEKLY_REPORT:
        return 0
    now = timezone.now()
    week = periods.due_week(now)
    return 0 if week is None else sending.send_weekly_report(week=week, now=now)


@shared_task(name="analytics.reports.tasks.send_csat_reviews", acks_late=True)
def send_csat_reviews() -> int:
    """Last month's CSAT review to the managers, once the local month has ended."""
    if not settings.HELPDESK_MONTHLY_CSAT_REVIEW:
        return 0
    month = periods.due_month(timezone.now())
    return 0 if month is None else sending.send_csat_review(month=month)
