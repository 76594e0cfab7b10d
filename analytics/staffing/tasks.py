"""Celery task of the staffing view: a thin wrapper around the plan module."""

from celery import shared_task
from django.utils import timezone

from analytics.staffing import plan


@shared_task(acks_late=True, time_limit=600)
def warm_staffing_forecasts() -> int:
    """Cache this hour's forecasts (all tickets and each team) ahead of the
    first manager who opens the staffing page. Safe to run twice: the second
    run finds them cached."""
    return plan.warm_forecasts(now=timezone.now(), zone=timezone.get_current_timezone())
