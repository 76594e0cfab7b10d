"""End to end on the running system: a real Celery worker with beat on the
real Redis escalates a ticket whose SLA target passes, exactly once, and the
notifications leave through the outbox."""

import re
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from escalation.models import Escalation, SLAPolicy, TicketSLA
from tests.conftest import wait_for
from tickets.intake import intake_ticket
from tickets.models import Channel, OutboundEmail, Priority, Ticket

# Celery's INFO line for each finished beat sweep, in the worker's log.
SWEEP_DONE = re.compile(r"Task escalation\.tasks\.sweep_sla\[[^\]]+\] succeeded")


def sweeps_finished(worker_log: Path) -> int:
    return len(SWEEP_DONE.findall(worker_log.read_text()))


def test_running_system_escalates_a_breached_ticket_once(
    celery_worker_process, other_customer, agent, access_team
):
    # Globex is VIP: urgent tickets follow the 24x7 calendar. A one-minute
    # first-response target, warned at 50 % (30 s).
    SLAPolicy.objects.filter(support_tier="vip", priority="urgent").update(
        first_response_minutes=1, warning_percent=50
    )
    ticket = intake_ticket(
        requester=other_customer,
        subject="Checkout is down for everyone",
        description="Nobody can pay since 10:02.",
        channel=Channel.PORTAL,
        priority=Priority.URGENT,
        team=access_team,
    )
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, needs_triage=False)
    sla = TicketSLA.objects.get(ticket=ticket)
    assert sla.first_response_due == ticket.created_at + timedelta(minutes=1)
    # Move the clock's start back 55 s instead of waiting (the beat sweeps
    # every second here; the schedule is the real one otherwise).
    start = timezone.now() - timedelta(seconds=55)
    TicketSLA.objects.filter(pk=sla.pk).update(
        started_at=start,
        first_response_due=start + timedelta(minutes=1),
        next_check_at=start + timedelta(seconds=30),
    )

    breach = wait_for(
        lambda: Escalation.objects.filter(ticket=ticket, threshold="breach").first(), timeout=40
    )
    assert breach.target == "first_response"
    warning = Escalation.objects.get(ticket=ticket, threshold="warning")
    assert warning.created_at <= breach.created_at
    # The customer (escalation notice) and the assignee were told, by mail.
    breach_mail = OutboundEmail.objects.filter(ticket=ticket, kind="sla.breach", state="sent")
    wait_for(
        lambda: (
            breach_mail.filter(audience="customer").exists()
            and breach_mail.filter(audience="assignee").exists()
        ),
        timeout=30,
    )
    mails = "".join(p.read_text() for p in celery_worker_process.iterdir() if p.suffix == ".log")
    assert other_customer.email in mails and agent.email in mails
    assert "has been escalated" in mails
    # Later sweeps keep running and record nothing more: wait until two more
    # sweeps have finished (so at least one ran wholly after the breach and its
    # mail), then look.
    worker_log = celery_worker_process.parent / "worker.log"  # beside its mail folder
    swept = sweeps_finished(worker_log)
    wait_for(lambda: sweeps_finished(worker_log) >= swept + 2, timeout=30)
    assert Escalation.objects.filter(ticket=ticket).count() == 2
    assert Ticket.objects.get(pk=ticket.pk).tier == 2
