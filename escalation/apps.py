from django.apps import AppConfig


class EscalationConfig(AppConfig):
    """SLA policies, business-hours clocks and escalation rules."""

    name = "escalation"
    verbose_name = "SLA and escalation"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from escalation.calendars import forget_calendars
        from escalation.models import BusinessCalendar, ClosedDate, OpeningSlot
        from escalation.receivers import on_organization_saved, on_ticket_event
        from tickets.models import Organization
        from tickets.signals import ticket_event

        ticket_event.connect(on_ticket_event, dispatch_uid="escalation.sla_clock")
        post_save.connect(
            on_organization_saved, sender=Organization, dispatch_uid="escalation.customer_tier"
        )
        for model in (BusinessCalendar, OpeningSlot, ClosedDate):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                uid = f"escalation.calendar.{model.__name__}.{name}"
                signal.connect(forget_calendars, sender=model, dispatch_uid=uid)
