"""SLA policies, business-hours calendars, each ticket's SLA clock, the
escalation rules managers edit, and the record of every escalation.

The escalation app depends on tickets, never the reverse: tickets announces
its changes to the lifecycle hooks (tickets.lifecycle; escalation.hooks keeps
the clock) and runs this app's intake steps; the one SLA value
the ticket itself carries is `Ticket.sla_due_at`, the nearest pending due
time, so queues can sort by it without knowing about this app.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tickets.models import AgentTier, Category, Priority, SupportTier, Ticket, User

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
            (4, "Friday"), (5, "Saturday"), (6, "Sunday")]  # fmt: skip


def validate_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            f"Unknown time zone {value!r} (use an IANA name such as Europe/Berlin)."
        )


class BusinessCalendar(models.Model):
    """When the helpdesk works: a time zone, weekly opening slots (several a
    day allowed), public holidays of a country (the `holidays` package) and
    custom closed dates. `always_open` makes it 24×7."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_zone])
    always_open = models.BooleanField(default=False, help_text="24×7: every minute counts.")
    holiday_country = models.CharField(
        max_length=2, blank=True, help_text="ISO country code whose public holidays close the desk."
    )
    holiday_subdivision = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OpeningSlot(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                name="slot_closes_after_opening",
                condition=Q(closes__gt=models.F("opens")) | Q(closes=time(0)),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ClosedDate(models.Model):
    """A custom day off (company holiday, office move)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closed_dates"
    )
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="closed_date_once")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SLAPolicy(models.Model):
    """Targets for one customer tier and priority, counted in the calendar's
    business time. Escalation rules warn at `warning_percent` of a target."""

    support_tier = models.CharField(max_length=10, choices=SupportTier.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies"
    )
    first_response_minutes = models.PositiveIntegerField()
    next_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    warning_percent = models.PositiveSmallIntegerField(
        default=75, help_text="Warn when this share of a target has passed (1–99)."
    )

    class Meta:
        ordering = ["support_tier", "priority"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["support_tier", "priority"], name="one_policy_per_tier_priority"
            ),
            models.CheckConstraint(
                name="warning_percent_between_1_and_99",
                condition=Q(warning_percent__gte=1, warning_percent__lte=99),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_support_tier_display()} / {self.get_priority_display()}"


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class Threshold(models.TextChoices):
    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"


class TicketSLA(models.Model):
    """One ticket's SLA clock. Due times are business-time deadlines from the
    target's start plus the business time spent paused (pending / on hold);
    `next_check_at` is the earliest warning or breach still to act on, and
    the sweep finds due rows by a range scan over it (partial index)."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla"
    )
    policy = models.ForeignKey(SLAPolicy, on_delete=models.SET_NULL, null=True, blank=True)
    started_at = models.DateTimeField()
    paused_since = models.DateTimeField(null=True, blank=True)
    # Business seconds spent paused since the ticket was opened / since the
    # customer's last message (the next-response clock's own start).
    paused_seconds = models.FloatField(default=0)
    next_response_started_at = models.DateTimeField(null=True, blank=True)
    next_response_paused_seconds = models.FloatField(default=0)
    next_response_cycle = models.PositiveIntegerField(default=0)

    # Per target: the due time, when it was met, and when its warning and its
    # breach were recorded (each once).
    first_response_due = models.DateTimeField(null=True, blank=True)
    first_response_met_at = models.DateTimeField(null=True, blank=True)
    first_response_warned_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    next_response_warned_at = models.DateTimeField(null=True, blank=True)
    next_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    resolution_met_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    # When the customer is owed a proactive "still working on it" update: the
    # last public staff reply (or the opening) plus HELPDESK_PROACTIVE_UPDATE_HOURS
    # business hours, while the ticket is open (on hold included).
    update_due = models.DateTimeField(null=True, blank=True)

    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "ticket SLA"
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="sla_next_check",
                condition=Q(next_check_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"SLA of {self.ticket_id}"


class EscalationRule(models.Model):
    """What happens when a target of a matching ticket reaches a threshold.
    Empty filters match every ticket."""

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    target = models.CharField(max_length=20, choices=Target.choices)
    threshold = models.CharField(max_length=10, choices=Threshold.choices)
    support_tiers = models.JSONField(
        default=list, blank=True, help_text='e.g. ["vip"]; empty = all'
    )
    priorities = models.JSONField(default=list, blank=True, help_text='e.g. ["urgent", "high"]')
    categories = models.ManyToManyField(Category, blank=True)
    notify_assignee = models.BooleanField(default=False)
    notify_team_lead = models.BooleanField(default=False)
    notify_managers = models.BooleanField(default=False)
    notify_customer = models.BooleanField(default=False)
    raise_priority = models.BooleanField(default=False)
    escalate_tier = models.BooleanField(
        default=False, help_text="Reassign to the next support tier with a hand-over note."
    )

    class Meta:
        ordering = ["target", "threshold", "name"]

    def __str__(self) -> str:
        return self.name

    def matches(self, ticket: Ticket, target: str, threshold: str, category_ids: set[int]) -> bool:
        """Does the rule apply? `category_ids` are the rule's categories (read
        once per sweep, not per ticket)."""
        organization = ticket.organization
        tier = organization.support_tier if organization is not None else SupportTier.BASIC
        return (
            self.is_active
            and self.target == target
            and self.threshold == threshold
            and (not self.support_tiers or tier in self.support_tiers)
            and (not self.priorities or ticket.priority in self.priorities)
            and (not category_ids or ticket.category_id in category_ids)
        )


class Escalation(models.Model):
    """One escalation of one ticket: automatic (a target reached a threshold;
    unique per ticket, target, threshold and next-response cycle, which is what
    makes a rule fire exactly once) or manual (an agent asked for a tier)."""

    class Kind(models.TextChoices):
        SLA = "sla", "SLA"
        MANUAL = "manual", "Manual"
        INCIDENT = "incident", "Major incident"
        CUSTOMER = "customer", "Customer"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SLA)
    target = models.CharField(max_length=20, choices=Target.choices, blank=True)
    threshold = models.CharField(max_length=10, choices=Threshold.choices, blank=True)
    cycle = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    to_tier = models.PositiveSmallIntegerField(choices=AgentTier.choices, null=True, blank=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    actions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "threshold", "cycle"],
                name="escalate_once_per_threshold",
                condition=Q(kind="sla"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} {self.threshold}"


class Incident(models.Model):
    """A major incident: many tickets of one category in a short window. Its
    parent ticket links the reports, so agents can answer them all at once
    (escalation.services.incidents)."""

    parent = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="incident")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="incidents")
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["category", "-opened_at"], name="incident_category_recent")]

    def __str__(self) -> str:
        return f"Incident {self.parent_id} ({self.category})"
