"""tickets.email.outbox: every e-mail is a row written with the change that
caused it and sent after the commit, once — also when the enqueue is lost or
the sender dies between claiming a row and sending it — and never while a
transaction is open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tests.conftest import REPO_ROOT, _database_url_of_test_db
from tests.tickets.email.backends import InTransactionDetector
from tickets import services
from tickets.email import outbox
from tickets.intake import intake_ticket
from tickets.models import Channel, OutboundEmail, TicketEvent

State = OutboundEmail.State


def new_ticket(customer):
    return intake_ticket(
        requester=customer, subject="Invoice twice", description="Charged twice.", channel="portal"
    )


def test_a_row_is_written_with_its_change_and_sent_after_the_commit_once(
    customer, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = new_ticket(customer)
    row = OutboundEmail.objects.get(ticket=ticket)
    assert row.state == State.QUEUED and mail.outbox == []  # nothing left before the commit
    for callback in callbacks:  # the commit
        callback()
    row.refresh_from_db()
    assert row.state == State.SENT and row.attempts == 1 and len(mail.outbox) == 1
    # A redelivered task (Celery acks late) finds nothing to send.
    assert outbox.send_outbound_mail.apply(args=[[row.pk]]).get() == 0
    assert len(mail.outbox) == 1


def test_a_rolled_back_change_sends_nothing(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            new_ticket(customer)
            raise RuntimeError("the request failed after intake")
    assert not OutboundEmail.objects.exists() and mail.outbox == []


def test_the_sender_refuses_to_run_inside_a_transaction(customer):
    ticket = new_ticket(customer)
    row = OutboundEmail.objects.get(ticket=ticket)
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.send_new([row.pk])
    assert mail.outbox == []
    row.refresh_from_db()
    assert row.state == State.QUEUED and row.attempts == 0


def test_a_temporary_failure_is_retried_later_with_backoff(customer, settings, time_machine):
    time_machine.move_to("2026-03-02 09:00:00+00:00", tick=False)
    ticket = new_ticket(customer)
    row = OutboundEmail.objects.get(ticket=ticket)
    settings.EMAIL_BACKEND = "tests.tickets.email.backends.BrokenServer"
    assert outbox.send_new([row.pk]).retrying == [row.pk]
    row.refresh_from_db()
    assert row.state == State.QUEUED and "connection lost" in row.last_error
    assert row.next_attempt_at == timezone.now() + timedelta(seconds=30)
    assert outbox.send_due().retrying == []  # not before its time
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.shift(timedelta(seconds=31))
    assert outbox.send_due().sent == [row.pk]
    row.refresh_from_db()
    assert row.state == State.SENT and row.attempts == 2 and row.last_error == ""
    assert len(mail.outbox) == 1


def test_a_refused_address_fails_at_once_and_shows_on_the_ticket_and_can_be_sent_again(
    customer, settings, admin_client
):
    ticket = new_ticket(customer)
    row = OutboundEmail.objects.get(ticket=ticket)
    settings.EMAIL_BACKEND = "tests.tickets.email.backends.RefusingRecipient"
    assert outbox.send_new([row.pk]).failed == [row.pk]
    row.refresh_from_db()
    assert row.state == State.FAILED and "No such user" in row.last_error
    event = TicketEvent.objects.get(ticket=ticket, action="mail.failed")
    assert event.new_value == customer.email and "ticket.acknowledgement" in event.note
    # Staff see it in the admin and send it again once the address is fixed.
    changelist = reverse("admin:tickets_outboundemail_changelist")
    page = admin_client.get(changelist + "?state__exact=failed").content.decode()
    assert customer.email in page and "No such user" in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    admin_client.post(changelist, {"action": "send_again", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.state == State.QUEUED and row.attempts == 0
    assert outbox.send_new([row.pk]).sent == [row.pk]


@pytest.mark.django_db(transaction=True)
def test_no_mail_is_sent_while_a_transaction_is_open(
    settings, customer, agent, access_team, celery_eager
):
    """Acknowledgement, reply and merge notice, sent for real right after
    their commits: the mail server is never contacted inside a transaction."""
    settings.EMAIL_BACKEND = "tests.tickets.email.backends.InTransactionDetector"
    InTransactionDetector.sends = []
    first = new_ticket(customer)
    second = new_ticket(customer)
    services.ticket_reply(ticket=first, author=agent, body="We are on it.")
    services.ticket_merge(source=second, target=first, actor=agent)
    assert InTransactionDetector.sends == [False, False, False, False]
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {State.SENT}


# Claims the given rows, announces it, and dies before talking to the mail
# server — as a worker killed at the worst moment would.
CLAIM_THEN_DIE = """
import os, signal, sys
import django
django.setup()
from tickets.email import outbox
claimed = outbox.claim_new([int(i) for i in sys.argv[1:]])
print("CLAIMED", len(claimed), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_between_claim_and_send_loses_nothing_and_sends_once(customer, agent):
    ticket = intake_ticket(
        requester=customer, subject="Login", description="Locked out", channel=Channel.PORTAL
    )
    services.ticket_reply(ticket=ticket, author=agent, body="Reset it for you.")
    ids = list(OutboundEmail.objects.order_by("id").values_list("pk", flat=True))
    assert len(ids) == 2  # the acknowledgement and the reply
    mail.outbox.clear()  # what the on-commit tasks could not send: no worker here
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url_of_test_db(),
        "PYTHONPATH": str(REPO_ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", CLAIM_THEN_DIE, *map(str, ids)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL and "CLAIMED 2" in done.stdout, done.stdout
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {State.SENDING}
    # Nobody else takes a claimed row while its lease runs, not even a
    # redelivered task; the sweep takes it over once the lease is out.
    assert outbox.send_new(ids).sent == []
    assert outbox.send_due().sent == []
    later = timezone.now() + outbox.LEASE + timedelta(seconds=1)
    assert sorted(outbox.send_due(now=later).sent) == ids
    assert outbox.send_due(now=later + outbox.LEASE * 2).sent == []
    assert len(mail.outbox) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [customer.email, customer.email]
    rows = OutboundEmail.objects.all()
    assert {(r.state, r.attempts) for r in rows} == {(State.SENT, 2)}


def test_managers_see_the_outbox_agents_do_not(client, manager, agent):
    changelist = reverse("admin:tickets_outboundemail_changelist")
    client.force_login(manager)
    assert client.get(changelist).status_code == 200
    client.force_login(agent)
    assert client.get(changelist).status_code in (302, 403)
