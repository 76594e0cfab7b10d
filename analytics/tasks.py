"""Celery tasks of the analytics app, imported by the worker's autodiscovery;
tasks defined beside their services are registered from here."""

from analytics.reports.tasks import send_csat_reviews, send_weekly_reports  # noqa: F401
from analytics.rollups.tasks import catch_up_ticket_facts, rebuild_ticket_facts  # noqa: F401
from analytics.staffing.tasks import warm_staffing_forecasts  # noqa: F401  (registers it)
from analytics.surveys.tasks import send_due_csat, send_due_nps  # noqa: F401  (registers them)
