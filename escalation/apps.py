from django.apps import AppConfig


class EscalationConfig(AppConfig):
    """SLA policies, business-hours clocks and escalation rules (models arrive
    with the SLA issue; the app is registered now so the layout is fixed)."""

    name = "escalation"
