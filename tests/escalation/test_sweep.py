"""The SLA sweep with controlled time: warnings, breaches, every rule action,
and the exactly-once guarantee (two sweeps at once, a task run twice)."""

import smtplib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections, connection

from escalation.models import Escalation, EscalationRule, TicketSLA
from escalation.sweep import sweep
from escalation.tasks import route_escalated_tickets, sweep_sla
from tests.factories import make_user
from tickets.email import outbox
from tickets.models import Message, OutboundEmail, Priority, Role, Ticket, TicketEvent


def sla_mail():
    """The outbox rows the SLA rules wrote (not the tickets' acknowledgements)."""
    return OutboundEmail.objects.filter(kind__startswith="sla.")


MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture
def tier2_lead(access_team):
    lead = make_user(
        Role.AGENT,
        email="terry@helpdesk.test",
        full_name="Terry Tier2",
        tier=2,
        teams=[access_team],
    )
    access_team.lead = lead
    access_team.save()
    return lead


@pytest.fixture
def desk(customer, agent, tier2_lead, manager, access_team, open_ticket, time_machine):
    """A normal-priority ticket of a standard customer, opened Monday 10:00,
    routed to Alice (Tier 1) in Access, whose lead is Terry (Tier 2)."""
    time_machine.move_to(MONDAY_10, tick=False)
    ticket = open_ticket(customer, priority=Priority.NORMAL, team=access_team)
    # Classified (out of triage), and held by Alice rather than Terry.
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, tier=1, needs_triage=False)
    return ticket


def test_nothing_due_costs_one_query(desk, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # savepoint bookkeeping + the range scan
        result = sweep(now=MONDAY_10 + timedelta(minutes=1))
    assert result.claimed == 0


def test_warning_notifies_assignee_and_team_lead_once(desk, agent, tier2_lead):
    result = sweep(now=MONDAY_10 + timedelta(hours=3))  # 75 % of 4 h
    assert len(result.escalations) == 1
    escalation = Escalation.objects.get()
    assert (escalation.target, escalation.threshold) == ("first_response", "warning")
    notes = sla_mail().order_by("audience")
    assert [(n.audience, n.recipient) for n in notes] == [
        ("assignee", agent.email),
        ("team_lead", tier2_lead.email),
    ]
    assert "SLA warning" in notes[0].subject and notes[0].kind == "sla.warning"
    assert TicketEvent.objects.filter(ticket=desk, action="sla.warning").count() == 1
    # Sweeping again later finds nothing new for the warning.
    again = sweep(now=MONDAY_10 + timedelta(hours=3, minutes=30))
    assert again.escalations == []
    assert sla_mail().count() == 2


def test_breach_escalates_to_the_next_tier_with_a_handover(
    desk, customer, agent, tier2_lead, manager
):
    sweep(now=MONDAY_10 + timedelta(hours=3))
    result = sweep(now=MONDAY_10 + timedelta(hours=4, seconds=1))
    assert len(result.escalations) == 1
    # Routing to the new tier runs as a task of its own after the batch.
    assert result.to_route == [desk.pk]
    route_escalated_tickets.apply(args=[result.to_route])
    breach = Escalation.objects.get(threshold="breach")
    assert breach.target == "first_response" and breach.to_tier == 2
    ticket = Ticket.objects.get(pk=desk.pk)
    assert ticket.tier == 2
    assert ticket.assignee_id == tier2_lead.pk  # re-routed to someone with Tier 2
    handover = Message.objects.get(ticket=ticket, is_internal=True)
    assert "Escalated to Tier 2" in handover.body and "Printer on fire" in handover.body
    # The helpdesk's own note, in words: not signed by the assignee, no event codes.
    assert handover.author is None and handover.author_name == "Helpdesk (automatic)"
    assert "Carol Customer (Acme, Standard)" in handover.body
    assert "ticket." not in handover.body and "→" not in handover.body
    breach_mail = sla_mail().filter(kind="sla.breach")
    audiences = set(breach_mail.values_list("audience", flat=True))
    assert audiences == {"assignee", "team_lead", "manager", "customer"}
    customer_mail = breach_mail.get(audience="customer")
    assert customer_mail.recipient == customer.email and "escalated" in customer_mail.subject
    sla = TicketSLA.objects.get(ticket=ticket)
    assert sla.first_response_breached_at == MONDAY_10 + timedelta(hours=4, seconds=1)


def test_resolution_breach_raises_priority(desk, agent):
    from tickets import services

    services.ticket_reply(ticket=desk, author=agent, body="Looking into it.")
    # Resolution (24 business hours) is due Wednesday 14:00.
    result = sweep(now=datetime(2026, 11, 25, 14, 1, tzinfo=UTC))
    kinds = set(Escalation.objects.values_list("target", "threshold"))
    assert ("resolution", "breach") in kinds and result.escalations
    assert Ticket.objects.get(pk=desk.pk).priority == Priority.HIGH
    # The priority rose, so the clock follows the new (high) policy from the same start.
    assert TicketSLA.objects.get(ticket=desk).policy.priority == Priority.HIGH


def test_rules_filter_by_tier_priority_and_category(desk):
    EscalationRule.objects.update(is_active=False)
    vip_only = EscalationRule.objects.create(
        name="VIP only", target="first_response", threshold="warning", support_tiers=["vip"],
        notify_managers=True,
    )  # fmt: skip
    sweep(now=MONDAY_10 + timedelta(hours=3))
    escalation = Escalation.objects.get()  # recorded, but no rule matched
    assert escalation.actions == []
    assert sla_mail().count() == 0
    assert not vip_only.matches(desk, "first_response", "warning", set())


def test_a_sweep_task_run_twice_escalates_once(desk, celery_eager):
    import time_machine

    with time_machine.travel(MONDAY_10 + timedelta(hours=4, minutes=1), tick=False):
        sweep_sla.apply()
        sweep_sla.apply()
    assert Escalation.objects.filter(threshold="warning").count() == 1
    assert Escalation.objects.filter(threshold="breach").count() == 1
    assert Ticket.objects.get(pk=desk.pk).tier == 2


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_each_threshold_once(
    customer, agent, tier2_lead, manager, access_team, open_ticket, time_machine
):
    time_machine.move_to(MONDAY_10, tick=False)
    tickets = [open_ticket(customer, subject=f"Outage {i}", team=access_team) for i in range(12)]
    assert TicketSLA.objects.count() == 12
    later = MONDAY_10 + timedelta(hours=3)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(sweep(now=later, batch=5))
            results.append(sweep(now=later, batch=5))
            results.append(sweep(now=later, batch=5))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    fired = [pk for r in results for pk in r.escalations]
    assert len(fired) == len(set(fired)) == 12  # one warning per ticket, no duplicates
    assert Escalation.objects.count() == 12
    assert set(Escalation.objects.values_list("ticket_id", flat=True)) == {t.pk for t in tickets}


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server gone")

    def open(self):
        pass

    def close(self):
        pass


def test_a_notification_that_cannot_be_sent_is_retried_then_marked_failed(
    desk, settings, time_machine
):
    sweep(now=MONDAY_10 + timedelta(hours=3))
    note = sla_mail().filter(audience="assignee").get()
    settings.EMAIL_BACKEND = "tests.escalation.test_sweep.FailingBackend"
    # Each attempt is counted and its error kept on the row; the outbox sweep
    # tries again after a growing pause, and gives up after the last attempt.
    for _ in range(outbox.MAX_ATTEMPTS):
        time_machine.shift(timedelta(hours=2))
        outbox.send_due()
    note.refresh_from_db()
    assert note.state == OutboundEmail.State.FAILED
    assert note.attempts == outbox.MAX_ATTEMPTS
    assert "mail server gone" in note.last_error
    # Staff see it on the ticket, in its history.
    failed = TicketEvent.objects.filter(ticket=desk, action="mail.failed")
    assert note.recipient in [e.new_value for e in failed]


def test_a_notification_is_sent_once(desk, mailoutbox, send_queued_mail):
    send_queued_mail()  # the acknowledgement
    mailoutbox.clear()
    sweep(now=MONDAY_10 + timedelta(hours=3))
    assert len(send_queued_mail().sent) == 2  # assignee and team lead
    assert send_queued_mail().sent == []
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        sla_mail().values_list("recipient", flat=True)
    )
    assert set(sla_mail().values_list("state", flat=True)) == {OutboundEmail.State.SENT}


def test_customers_get_a_status_update_after_8_business_hours_without_reply(desk, customer, agent):
    from tickets import services
    from tickets.models import Status

    sla = TicketSLA.objects.get(ticket=desk)
    # Opened Monday 10:00 in office hours (08-18): an update is owed at 18:00.
    assert sla.update_due == datetime(2026, 11, 23, 18, tzinfo=UTC)
    sweep(now=datetime(2026, 11, 23, 18, 1, tzinfo=UTC))
    update = OutboundEmail.objects.get(ticket=desk, kind="sla.proactive_update")
    assert update.recipient == customer.email and "still being worked on" in update.body
    assert TicketEvent.objects.filter(ticket=desk, action="sla.proactive_update").count() == 1
    # The next one is owed 8 business hours later (Tuesday 16:00), not again now.
    assert TicketSLA.objects.get(ticket=desk).update_due == datetime(2026, 11, 24, 16, tzinfo=UTC)
    sweep(now=datetime(2026, 11, 23, 18, 2, tzinfo=UTC))
    assert OutboundEmail.objects.filter(kind="sla.proactive_update").count() == 1
    # On hold (waiting on us) keeps the updates coming; pending (waiting on the
    # customer) stops them; a public reply restarts the 8 hours.
    services.ticket_change_status(ticket=desk, status=Status.OPEN, actor=agent)
    services.ticket_change_status(
        ticket=Ticket.objects.get(pk=desk.pk), status=Status.ON_HOLD, actor=agent
    )
    assert TicketSLA.objects.get(ticket=desk).update_due is not None
    services.ticket_change_status(
        ticket=Ticket.objects.get(pk=desk.pk), status=Status.PENDING, actor=agent
    )
    assert TicketSLA.objects.get(ticket=desk).update_due is None
