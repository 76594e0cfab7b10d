"""Default SLA policies, calendars and escalation rules (editable in the admin).

The support plan this product serves: acknowledgement within 1 h (automatic,
tickets.tasks), first meaningful response within 4 business hours, urgent and
high priority resolved within 12 h, the rest within 24 h; VIP customers work
on a 24×7 calendar with tighter targets (urgent: 15 min response, 2 h
resolution). Basic and standard customers count Monday–Friday 08:00–18:00 UTC.
"""

from datetime import time

from django.db import migrations

# (tier, priority): (first response, next response, resolution) in minutes
TARGETS = {
    **{
        (tier, priority): (240, 240, 720 if priority in ("urgent", "high") else 1440)
        for tier in ("basic", "standard")
        for priority in ("urgent", "high", "normal", "low")
    },
    ("vip", "urgent"): (15, 30, 120),
    ("vip", "high"): (60, 120, 480),
    ("vip", "normal"): (120, 240, 960),
    ("vip", "low"): (240, 240, 1440),
}

RULES = [
    # name, target, threshold, actions
    ("Warn assignee and team lead: first response", "first_response", "warning",
     {"notify_assignee": True, "notify_team_lead": True}),
    ("Warn assignee and team lead: next response", "next_response", "warning",
     {"notify_assignee": True, "notify_team_lead": True}),
    ("First response breached: managers, next tier, customer told", "first_response", "breach",
     {"notify_assignee": True, "notify_team_lead": True, "notify_managers": True,
      "escalate_tier": True, "notify_customer": True}),
    ("Next response breached: team lead and managers", "next_response", "breach",
     {"notify_team_lead": True, "notify_managers": True}),
    ("Resolution breached: managers, priority up", "resolution", "breach",
     {"notify_managers": True, "raise_priority": True}),
]  # fmt: skip


def create_defaults(apps, schema_editor):
    BusinessCalendar = apps.get_model("escalation", "BusinessCalendar")
    OpeningSlot = apps.get_model("escalation", "OpeningSlot")
    SLAPolicy = apps.get_model("escalation", "SLAPolicy")
    EscalationRule = apps.get_model("escalation", "EscalationRule")
    office, _ = BusinessCalendar.objects.get_or_create(
        name="Office hours (Mon–Fri 08–18 UTC)", defaults={"time_zone": "UTC"}
    )
    if not office.slots.exists():
        OpeningSlot.objects.bulk_create(
            OpeningSlot(calendar=office, weekday=day, opens=time(8), closes=time(18))
            for day in range(5)
        )
    always, _ = BusinessCalendar.objects.get_or_create(
        name="24×7", defaults={"time_zone": "UTC", "always_open": True}
    )
    for (tier, priority), (first, nxt, resolution) in TARGETS.items():
        SLAPolicy.objects.get_or_create(
            support_tier=tier,
            priority=priority,
            defaults={
                "calendar": always if tier == "vip" else office,
                "first_response_minutes": first,
                "next_response_minutes": nxt,
                "resolution_minutes": resolution,
            },
        )
    if not EscalationRule.objects.exists():
        for name, target, threshold, actions in RULES:
            EscalationRule.objects.create(name=name, target=target, threshold=threshold, **actions)


class Migration(migrations.Migration):
    dependencies = [("escalation", "0001_sla")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
