"""A sweep killed in the middle of a batch leaves nothing half done: its
escalations, history and notifications roll back with its transaction, and the
next sweep records each of them exactly once."""

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import Escalation, TicketSLA
from escalation.sweep import sweep
from tests.conftest import REPO_ROOT, _database_url_of_test_db, wait_for
from tickets.intake import intake_ticket
from tickets.models import Channel, OutboundEmail, Ticket, TicketEvent

# Runs one sweep, but stops for good just before its batch would commit (the
# notifications are flushed last), announcing that it got there.
SWEEP_THAT_HANGS = """
import sys, time
import django
django.setup()
from escalation import services
from escalation.sweep import sweep

def hang(self):
    from escalation.models import Escalation
    # Inside the open transaction the batch's escalations exist.
    count = Escalation.objects.filter(kind="sla").count()
    print(f"BATCH DONE, NOT COMMITTED: {count}", flush=True)
    time.sleep(120)

services.Notifications.flush = hang
sweep()
"""


@pytest.mark.django_db(transaction=True)
def test_a_sweep_killed_mid_batch_is_redone_exactly_once(
    other_customer, agent, access_team, manager
):
    tickets = []
    for i in range(3):
        ticket = intake_ticket(
            requester=other_customer,  # VIP: a 24x7 calendar, whatever the hour
            subject=f"Broken export {i}",
            description="The export fails.",
            channel=Channel.PORTAL,
            team=access_team,
        )
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, needs_triage=False)
        tickets.append(ticket)
    # Their first-response warnings came due a minute ago.
    past = timezone.now() - timedelta(minutes=1)
    TicketSLA.objects.filter(ticket__in=tickets).update(
        first_response_due=past + timedelta(hours=2), next_check_at=past
    )
    TicketSLA.objects.filter(ticket__in=tickets).update(
        started_at=past - timedelta(hours=3), paused_seconds=0
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url_of_test_db(),
        "PYTHONPATH": str(REPO_ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", SWEEP_THAT_HANGS],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = ""
        for line in proc.stdout:
            if "BATCH DONE" in line:
                break
        assert "BATCH DONE, NOT COMMITTED" in line, line
        recorded_before_crash = int(line.rsplit(":", 1)[1])
        assert recorded_before_crash >= 3  # at least each ticket's warning
        # The worker dies without warning, its transaction open.
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
    sla_escalations = Escalation.objects.filter(kind="sla")
    assert not sla_escalations.exists()
    assert not TicketEvent.objects.filter(action__startswith="sla.").exists()
    assert not OutboundEmail.objects.filter(kind__startswith="sla.").exists()
    assert not TicketSLA.objects.filter(first_response_warned_at__isnull=False).exists()
    # Once PostgreSQL has noticed the dead connection and released its row
    # locks, the next sweep takes the batch again and does it exactly once.
    wait_for(lambda: sweep().escalations, timeout=30)
    assert sla_escalations.count() == recorded_before_crash
    assert sla_escalations.filter(threshold="warning", target="first_response").count() == 3
    assert set(sla_escalations.values_list("ticket_id", flat=True)) == {t.pk for t in tickets}
    # Sweeping on (the rules' actions may bring other thresholds due) never
    # records a threshold twice.
    while sweep().escalations:
        pass
    assert sla_escalations.filter(threshold="warning", target="first_response").count() == 3
    keys = list(sla_escalations.values_list("ticket_id", "target", "threshold", "cycle"))
    assert len(keys) == len(set(keys))
