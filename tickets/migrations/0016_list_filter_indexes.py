"""Indexes for the ticket list's drill-down filters and staffing's handling time.

- ticket_solved: solved_from/solved_to (Ticket.solved_at range; partial, only
  solved tickets have a solve time) -- the dashboard's solved drill-down.
- ticket_due: the "SLA due soonest" sort of the any-status queue (every
  status; the open queues use the partial ticket_open_due).
- organization_support_tier: the customer_tier filter picks the organisations
  of one tier, then their tickets through ticket_org.
- event_outcome: the sla_breached, escalated/escalation_kind and reopened
  filters (EXISTS over the ticket's "sla.breach", "ticket.tier_changed",
  "ticket.customer_escalation" and "ticket.reopened" events; partial, a few
  events per ticket at most). Keep the list equal to tickets.queues.OUTCOME_ACTIONS.
- message_author_created: analytics.staffing.selectors' handling time reads
  each staff author's messages in a time range, ordered by time; without it
  the query scans every message.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0015_agent_shift"),
    ]

    operations = [
        # Staffing's handling-time query (analytics.staffing.selectors).
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["author", "created_at"], name="message_author_created"),
        ),
        # The ticket list's customer_tier filter (tickets.queues.customer_tier_q).
        migrations.AddIndex(
            model_name="organization",
            index=models.Index(fields=["support_tier"], name="organization_support_tier"),
        ),
        # The ticket list's solved_from/solved_to filter.
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("solved_at__isnull", False)),
                fields=["solved_at"],
                name="ticket_solved",
            ),
        ),
        # The "SLA due soonest" sort of the any-status queue.
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["sla_due_at", "id"], name="ticket_due"),
        ),
        # The ticket list's sla_breached, escalated and reopened filters.
        migrations.AddIndex(
            model_name="ticketevent",
            index=models.Index(
                condition=models.Q(
                    (
                        "action__in",
                        [
                            "ticket.reopened",
                            "sla.breach",
                            "ticket.tier_changed",
                            "ticket.customer_escalation",
                        ],
                    )
                ),
                fields=["action", "field", "ticket"],
                name="event_outcome",
            ),
        ),
    ]
