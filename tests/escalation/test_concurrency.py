"""What two transactions do to each other on real PostgreSQL: a customer's
reply and the incident detector locking the reply's category must both
commit, and a service writes its ticket row once."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from escalation.models import Incident
from tests.conftest import wait_for
from tickets import services
from tickets.intake import intake_ticket
from tickets.models import Category, Channel, Status, Ticket

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_reply_and_an_incident_opening_on_its_category_both_commit(
    settings, customer, other_customer, colleague, agent, access_team, manager
):
    """Regression: the detector locked the category FOR UPDATE while a
    customer's reply updated its ticket twice, so at commit PostgreSQL
    re-checked the ticket's foreign keys with FOR KEY SHARE on that category:
    a deadlock, and a 500 for one of them."""
    settings.HELPDESK_INCIDENT_THRESHOLD = 2
    slow = Category.objects.create(name="Performance", slug="performance", default_team=access_team)
    first = intake_ticket(
        requester=customer, subject="Slow", description="Very slow", channel=Channel.PORTAL,
        category=slow,
    )  # fmt: skip
    services.ticket_change_status(ticket=first, status=Status.PENDING, actor=agent)
    replied, release, errors = threading.Event(), threading.Event(), []

    def customer_replies() -> None:
        try:
            from django.db import transaction

            with transaction.atomic():
                # Pending -> open: the ticket row is written in this transaction.
                services.ticket_reply(ticket=first, author=customer, body="Still slow!")
                replied.set()
                release.wait(20)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def second_report() -> None:
        try:
            replied.wait(20)
            # Reaches the threshold: locks the category, then links the first
            # report, whose row the reply holds.
            intake_ticket(
                requester=other_customer, subject="Slow too", description="Slow",
                channel=Channel.PORTAL, category=slow,
            )  # fmt: skip
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=customer_replies), threading.Thread(target=second_report)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: _lock_waiters() >= 1, timeout=20)  # the detector waits on the reply
    finally:
        release.set()
        for thread in threads:
            thread.join(30)
    assert errors == []
    incident = Incident.objects.get(category=slow)
    first.refresh_from_db()
    assert first.status == Status.OPEN and first.parent_id == incident.parent_id
    assert first.messages.filter(body="Still slow!").exists()


def test_a_customer_reply_writes_its_ticket_row_once(customer, agent, access_team):
    """The reply, the reopening, the SLA bookkeeping and the search vector
    are one UPDATE of the ticket row: a second write in the transaction would
    make PostgreSQL re-check the row's foreign keys at commit."""
    ticket = intake_ticket(
        requester=customer, subject="Login", description="Locked out", channel=Channel.PORTAL,
        team=access_team,
    )  # fmt: skip
    services.ticket_reply(ticket=ticket, author=agent, body="Try now", status=Status.PENDING)
    with CaptureQueriesContext(connection) as captured:
        services.ticket_reply(ticket=ticket, author=customer, body="Still locked out")
    writes = [
        q["sql"]
        for q in captured
        if q["sql"].startswith(('UPDATE "tickets_ticket"', "UPDATE tickets_ticket"))
    ]
    assert len(writes) == 1, writes
    assert '"status"' in writes[0] and '"sla_due_at"' in writes[0]
    assert "search_vector" in writes[0]
    # ... and the new words are searchable.
    from tickets.search import search_tickets

    assert [t.pk for t in search_tickets(Ticket.objects.all(), "locked")] == [ticket.pk]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
