from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Metrics, rollups and manager dashboards (built on tickets' history)."""

    name = "analytics"
