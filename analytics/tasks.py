"""Celery tasks of the analytics app, imported by the worker's autodiscovery;
tasks defined beside their services are registered from here."""

from analytics.surveys.tasks import send_due_surveys  # noqa: F401  (registers the task)
