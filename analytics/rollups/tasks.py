"""Celery tasks of the rollups: thin wrappers around analytics.rollups.facts."""

from celery import shared_task
from django.utils import timezone

from analytics.rollups import facts


@shared_task(acks_late=True, time_limit=600)
def catch_up_ticket_facts() -> int:
    """Refresh the facts of the tickets changed since the last run. Safe to
    run twice (a refresh is an idempotent upsert)."""
    return facts.catch_up(timezone.now())


@shared_task(acks_late=True, time_limit=6 * 3600)
def rebuild_ticket_facts() -> dict:
    """Recompute every ticket's facts (nightly); the count of facts that
    differed is kept in RollupRun for a person to see."""
    rebuilt = facts.rebuild_facts(timezone.now())
    return {"tickets": rebuilt.tickets, "differing": rebuilt.differing}
