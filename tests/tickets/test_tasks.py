"""tickets/tasks.py: the outbox sweep and a real worker sending the mail of a
new ticket."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.conftest import wait_for
from tickets.intake import intake_ticket
from tickets.models import OutboundEmail, Ticket, TicketEvent
from tickets.tasks import send_due_mail


def test_the_sweep_sends_mail_whose_enqueue_was_lost(customer, time_machine):
    """The on-commit enqueue never ran (it never does in this test): after a
    minute's grace the periodic job sends the acknowledgement, once."""
    time_machine.move_to("2026-03-02 09:00:00+00:00", tick=False)
    ticket = intake_ticket(
        requester=customer, subject="Export broken", description="CSV empty", channel="portal"
    )
    assert send_due_mail.apply().get() == 0  # within the grace: the task's job
    assert mail.outbox == []
    time_machine.move_to(timezone.now() + timedelta(minutes=2), tick=False)
    assert send_due_mail.apply().get() == 1
    assert send_due_mail.apply().get() == 0
    assert len(mail.outbox) == 1 and ticket.key in mail.outbox[0].subject
    ticket.refresh_from_db()
    assert ticket.acknowledged_at is not None
    assert TicketEvent.objects.filter(ticket=ticket, action="ticket.acknowledged").count() == 1


@pytest.mark.worker
def test_real_worker_acknowledges_new_ticket(celery_worker_process, customer):
    """A ticket created in the app is acknowledged by a real Celery worker
    process through the real Redis broker: one event, one e-mail."""
    ticket = intake_ticket(
        requester=customer, subject="Export broken", description="CSV empty", channel="portal"
    )

    wait_for(lambda: Ticket.objects.filter(pk=ticket.pk, acknowledged_at__isnull=False).exists())
    assert TicketEvent.objects.filter(ticket=ticket, action="ticket.acknowledged").count() == 1
    assert OutboundEmail.objects.get(ticket=ticket).state == OutboundEmail.State.SENT
    sent = wait_for(lambda: [p for p in celery_worker_process.iterdir() if p.suffix == ".log"])
    text = sent[0].read_text()
    assert ticket.key in text and customer.email in text
