from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo-data generator (`manage.py seed_demo`). It uses the domain apps;
    none of them (tickets, escalation, knowledge_base, analytics) imports it.
    No models."""

    name = "demo"
    verbose_name = "Demo data"
