"""Escalation notifications become rows of the one outbox (tickets.OutboundEmail):
existing ones are copied over with their state, then the old table goes."""

from django.db import migrations
from django.utils import timezone

_KINDS = {"customer": "escalation.customer", "incident": "incident.opened"}


def copy_to_outbox(apps, schema_editor):
    Notification = apps.get_model("escalation", "Notification")
    OutboundEmail = apps.get_model("tickets", "OutboundEmail")
    now = timezone.now()
    rows = []
    for note in Notification.objects.select_related("escalation").iterator():
        escalation = note.escalation
        if escalation is None:
            kind = "sla.proactive_update"
        else:
            kind = _KINDS.get(escalation.kind, f"sla.{escalation.threshold or 'breach'}")
        rows.append(
            OutboundEmail(
                kind=kind,
                ticket_id=note.ticket_id,
                audience=note.audience,
                recipient=note.recipient,
                subject=note.subject,
                body=note.body,
                headers={},
                state=note.state,
                attempts=note.attempts,
                last_error=note.last_error,
                created_at=note.created_at,
                sent_at=note.sent_at,
                next_attempt_at=now if note.state == "queued" else None,
            )
        )
    OutboundEmail.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0006_proactive_updates"),
        ("tickets", "0009_outbox"),
    ]

    operations = [
        migrations.RunPython(copy_to_outbox, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]
