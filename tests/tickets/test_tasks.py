import pytest
from django.core import mail

from tests.conftest import wait_for
from tests.factories import make_ticket
from tickets.models import Ticket, TicketEvent
from tickets.tasks import acknowledge_missed_tickets, send_ticket_acknowledgement


def test_ack_task_is_idempotent(customer):
    ticket = make_ticket(requester=customer)
    assert send_ticket_acknowledgement.apply(args=[ticket.pk]).get() is True
    assert send_ticket_acknowledgement.apply(args=[ticket.pk]).get() is False
    assert len(mail.outbox) == 1


def test_missed_acknowledgements_are_sent_again(customer, time_machine, celery_eager):
    """An acknowledgement whose enqueue was lost is sent by the periodic job."""
    time_machine.move_to("2026-03-02 09:00:00+00:00", tick=False)
    ticket = make_ticket(requester=customer)  # on_commit never fires in this test
    fresh = make_ticket(requester=customer)
    time_machine.move_to("2026-03-02 09:01:00+00:00", tick=False)
    fresh_later = make_ticket(requester=customer)
    time_machine.move_to("2026-03-02 09:10:00+00:00", tick=False)
    Ticket.objects.filter(pk=fresh.pk).update(acknowledged_at="2026-03-02 09:00:30+00:00")
    assert acknowledge_missed_tickets.apply().get() == 2
    acked = set(Ticket.objects.filter(acknowledged_at__isnull=False).values_list("pk", flat=True))
    assert acked == {ticket.pk, fresh.pk, fresh_later.pk}
    assert len(mail.outbox) == 2


@pytest.mark.worker
def test_real_worker_acknowledges_new_ticket(celery_worker_process, customer):
    """A ticket created in the app is acknowledged by a real Celery worker
    process through the real Redis broker: one event, one e-mail."""
    ticket = make_ticket(requester=customer, subject="Export broken")

    wait_for(lambda: Ticket.objects.filter(pk=ticket.pk, acknowledged_at__isnull=False).exists())
    assert TicketEvent.objects.filter(ticket=ticket, action="ticket.acknowledged").count() == 1
    sent = wait_for(lambda: [p for p in celery_worker_process.iterdir() if p.suffix == ".log"])
    text = sent[0].read_text()
    assert ticket.key in text and customer.email in text
