"""SLA clocks with controlled time: due times in business hours, pauses,
next-response rounds, priority changes."""

from datetime import UTC, datetime, timedelta

import pytest

from escalation.models import SLAPolicy, TicketSLA
from tickets import services
from tickets.models import Priority, Status, Ticket

# Monday 23 November 2026, 10:00 UTC: inside the default office hours
# (Mon–Fri 08:00–18:00 UTC) of basic and standard customers.
MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def sla_of(ticket) -> TicketSLA:
    return TicketSLA.objects.get(ticket_id=ticket.pk)


@pytest.fixture
def monday(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)
    return time_machine


def test_intake_starts_the_clock_with_the_policy_of_tier_and_priority(
    customer, open_ticket, monday
):
    ticket = open_ticket(customer, priority=Priority.NORMAL)
    sla = sla_of(ticket)
    assert sla.policy == SLAPolicy.objects.get(support_tier="standard", priority="normal")
    # First response 4 business hours -> 14:00; resolution 24 business hours
    # (10 h a day) -> Wednesday 14:00.
    assert sla.first_response_due == datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert sla.resolution_due == datetime(2026, 11, 25, 14, tzinfo=UTC)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == sla.first_response_due
    # Warned at 75 % of four hours: 13:00.
    assert sla.next_check_at == datetime(2026, 11, 23, 13, tzinfo=UTC)


def test_vip_runs_24x7_with_tighter_targets(other_customer, open_ticket, time_machine):
    saturday_night = datetime(2026, 11, 28, 23, tzinfo=UTC)
    time_machine.move_to(saturday_night, tick=False)
    ticket = open_ticket(other_customer, priority=Priority.URGENT)
    sla = sla_of(ticket)
    assert sla.first_response_due == saturday_night + timedelta(minutes=15)
    assert sla.resolution_due == saturday_night + timedelta(hours=2)


def test_pending_pauses_and_resuming_moves_due_times_by_the_open_time_spent(
    customer, agent, open_ticket, monday
):
    ticket = open_ticket(customer, priority=Priority.NORMAL)
    services.ticket_reply(ticket=ticket, author=agent, body="Which printer?")  # first response
    monday.move_to(MONDAY_10 + timedelta(hours=1))
    services.ticket_change_status(ticket=ticket, status=Status.PENDING, actor=agent)
    sla = sla_of(ticket)
    assert sla.paused_since == MONDAY_10 + timedelta(hours=1)
    assert sla.resolution_due is None and sla.next_check_at is None
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at is None
    # Waiting from Monday 11:00 to Tuesday 09:00 spends 7 + 1 open hours.
    monday.move_to(datetime(2026, 11, 24, 9, tzinfo=UTC))
    services.ticket_change_status(
        ticket=Ticket.objects.get(pk=ticket.pk), status=Status.OPEN, actor=agent
    )
    sla = sla_of(ticket)
    assert sla.paused_since is None
    assert sla.paused_seconds == 8 * 3600
    # Resolution: Wednesday 14:00 plus 8 open hours -> Thursday 12:00.
    assert sla.resolution_due == datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_on_hold_pauses_too(customer, agent, open_ticket, monday):
    ticket = open_ticket(customer)
    services.ticket_change_status(ticket=ticket, status=Status.OPEN, actor=agent)
    services.ticket_change_status(
        ticket=Ticket.objects.get(pk=ticket.pk), status=Status.ON_HOLD, actor=agent
    )
    assert sla_of(ticket).paused_since == MONDAY_10


def test_first_response_is_met_by_a_public_staff_reply_not_a_note(
    customer, agent, open_ticket, monday
):
    ticket = open_ticket(customer)
    services.ticket_reply(ticket=ticket, author=agent, body="internal", is_internal=True)
    assert sla_of(ticket).first_response_met_at is None
    monday.move_to(MONDAY_10 + timedelta(minutes=30))
    services.ticket_reply(ticket=Ticket.objects.get(pk=ticket.pk), author=agent, body="On it.")
    sla = sla_of(ticket)
    assert sla.first_response_met_at == MONDAY_10 + timedelta(minutes=30)
    assert sla.first_response_due is None  # met: no longer running
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at == sla.resolution_due


def test_every_customer_message_after_a_reply_restarts_next_response(
    customer, agent, open_ticket, monday
):
    ticket = open_ticket(customer)
    services.ticket_reply(ticket=ticket, author=agent, body="Try turning it off.")
    monday.move_to(MONDAY_10 + timedelta(hours=1))
    services.ticket_reply(
        ticket=Ticket.objects.get(pk=ticket.pk), author=customer, body="Still broken."
    )
    sla = sla_of(ticket)
    assert sla.next_response_cycle == 1
    assert sla.next_response_started_at == MONDAY_10 + timedelta(hours=1)
    assert sla.next_response_due == MONDAY_10 + timedelta(hours=5)
    # A second customer message before we answer does not move the deadline.
    monday.move_to(MONDAY_10 + timedelta(hours=2))
    services.ticket_reply(ticket=Ticket.objects.get(pk=ticket.pk), author=customer, body="Hello?")
    assert sla_of(ticket).next_response_due == MONDAY_10 + timedelta(hours=5)
    # Our answer ends the round; the customer's next message starts round 2.
    services.ticket_reply(
        ticket=Ticket.objects.get(pk=ticket.pk), author=agent, body="Sent a tech."
    )
    assert sla_of(ticket).next_response_due is None
    monday.move_to(MONDAY_10 + timedelta(hours=3))
    services.ticket_reply(
        ticket=Ticket.objects.get(pk=ticket.pk), author=customer, body="Thanks, but..."
    )
    sla = sla_of(ticket)
    assert sla.next_response_cycle == 2
    assert sla.next_response_due == MONDAY_10 + timedelta(hours=7)


def test_priority_change_recomputes_from_the_same_start(customer, agent, open_ticket, monday):
    ticket = open_ticket(customer, priority=Priority.NORMAL)
    assert sla_of(ticket).resolution_due == datetime(2026, 11, 25, 14, tzinfo=UTC)
    monday.move_to(MONDAY_10 + timedelta(hours=3))
    services.ticket_update(ticket=ticket, actor=agent, priority=Priority.URGENT)
    sla = sla_of(ticket)
    assert sla.policy.priority == Priority.URGENT
    # 12 business hours from Monday 10:00 (not from 13:00): Tuesday 12:00.
    assert sla.resolution_due == datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_solving_stops_the_clock_and_reopening_resumes_it(customer, agent, open_ticket, monday):
    ticket = open_ticket(customer)
    services.ticket_reply(ticket=ticket, author=agent, body="Fixed.", status=Status.SOLVED)
    sla = sla_of(ticket)
    assert sla.resolution_met_at == MONDAY_10
    assert sla.resolution_due is None and sla.next_check_at is None
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at is None
    services.ticket_change_status(
        ticket=Ticket.objects.get(pk=ticket.pk), status=Status.OPEN, actor=agent
    )
    sla = sla_of(ticket)
    assert sla.resolution_met_at is None
    assert sla.resolution_due == datetime(2026, 11, 25, 14, tzinfo=UTC)


def test_backfill_starts_clocks_without_escalating_the_past(customer, agent, monday, manager):
    from escalation.backfill import backfill_open_tickets
    from escalation.models import Escalation
    from escalation.sweep import sweep
    from tests.factories import make_ticket

    # Opened (without intake, as bulk-loaded data is) last Monday: long overdue.
    monday.move_to(MONDAY_10 - timedelta(days=7))
    old = make_ticket(requester=customer, subject="Old")
    monday.move_to(MONDAY_10)
    fresh = make_ticket(requester=customer, subject="Fresh")
    services.ticket_change_status(ticket=fresh, status=Status.PENDING, actor=agent)
    assert backfill_open_tickets() == 2
    assert backfill_open_tickets() == 0  # only tickets without a clock
    old_sla = sla_of(old)
    assert old_sla.first_response_breached_at == old_sla.first_response_due  # recorded...
    assert sweep(now=MONDAY_10).escalations == []  # ...not escalated
    assert not Escalation.objects.exists()
    assert Ticket.objects.get(pk=old.pk).sla_due_at == old_sla.first_response_due
    assert sla_of(fresh).paused_since is not None


def test_a_customer_tier_change_moves_its_open_tickets_to_the_new_policy(
    customer, open_ticket, monday
):
    ticket = open_ticket(customer, priority=Priority.URGENT)
    assert sla_of(ticket).policy.support_tier == "standard"
    monday.move_to(MONDAY_10 + timedelta(minutes=5))
    services.organization_set_tier(
        organization=customer.organization, support_tier="vip", actor=None
    )
    sla = sla_of(ticket)
    assert sla.policy.support_tier == "vip"
    # VIP urgent: 15 minutes from the same start (10:00), 24x7.
    assert sla.first_response_due == MONDAY_10 + timedelta(minutes=15)
