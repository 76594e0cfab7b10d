from django.apps import AppConfig


class EscalationConfig(AppConfig):
    """SLA policies, business-hours clocks and escalation rules."""

    name = "escalation"
    verbose_name = "SLA and escalation"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from escalation.calendars import forget_calendars
        from escalation.models import BusinessCalendar, ClosedDate, OpeningSlot

        # Only the cache of business calendars follows edits through signals;
        # what happens to tickets is in HELPDESK_LIFECYCLE_HOOKS.
        for model in (BusinessCalendar, OpeningSlot, ClosedDate):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                uid = f"escalation.calendar.{model.__name__}.{name}"
                signal.connect(forget_calendars, sender=model, dispatch_uid=uid)
