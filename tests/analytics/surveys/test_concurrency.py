"""Two survey sweeps at once on real PostgreSQL: a round claimed by one is
skipped by the other (FOR UPDATE SKIP LOCKED), so it is mailed exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction

from analytics.models import SurveyInvite
from analytics.surveys import sending
from tests.analytics.surveys.conftest import solve
from tickets.models import OutboundEmail


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_mail_a_round_once(clock, ticket, agent):
    solve(ticket, agent)
    clock.shift(timedelta(minutes=61))
    claimed, release, results, errors = threading.Event(), threading.Event(), [], []

    def first_sweep() -> None:
        try:
            # The sweep's own transaction stays open (a savepoint of this one)
            # until released, holding the row lock as a slow sweep would.
            with transaction.atomic():
                results.append(sending.send_due_csat())
                claimed.set()
                release.wait(20)
        except Exception as error:  # reported below
            errors.append(error)
            claimed.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_sweep)
    thread.start()
    assert claimed.wait(20)
    # The second sweep neither waits for the lock (a wait would fail at the
    # lock timeout) nor takes the round.
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '3s'")
    try:
        assert sending.send_due_csat() == 0
    finally:
        release.set()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    thread.join(20)
    assert not errors and results == [1]
    assert sending.send_due_csat() == 0
    assert SurveyInvite.objects.get().state == SurveyInvite.State.SENT
    assert OutboundEmail.objects.filter(kind=sending.KIND_CSAT).count() == 1
