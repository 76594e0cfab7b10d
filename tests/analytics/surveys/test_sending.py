"""Survey rounds and their e-mails: the hook opens a round per solve, the
sweep mails it once after the delay, through the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from analytics.models import CSATResponse, NPSInvite, SurveyInvite
from analytics.surveys import sending, services
from analytics.surveys.tasks import send_due_csat, send_due_nps
from tests.analytics.surveys.conftest import reopen, solve
from tests.factories import make_ticket, make_user
from tickets import services as ticket_services
from tickets.models import OutboundEmail, Role, Status

pytestmark = pytest.mark.django_db

State = SurveyInvite.State


def csat_mails():
    return list(OutboundEmail.objects.filter(kind=sending.KIND_CSAT).order_by("id"))


def test_a_solve_opens_a_round_that_is_mailed_once_after_the_delay(
    clock, ticket, agent, access_team, django_capture_on_commit_callbacks
):
    solve(ticket, agent)
    invite = SurveyInvite.objects.get(ticket=ticket)
    assert (invite.round, invite.state) == (1, State.PENDING)
    assert invite.agent == agent and invite.team == access_team
    assert invite.due_at == invite.solved_at + timedelta(minutes=60)

    clock.shift(timedelta(minutes=59))
    assert sending.send_due_csat() == 0
    assert csat_mails() == []

    clock.shift(timedelta(minutes=2))
    with django_capture_on_commit_callbacks() as callbacks:
        assert sending.send_due_csat() == 1
    assert len(callbacks) == 1  # the outbox's send task, after the commit
    invite.refresh_from_db()
    assert invite.state == State.SENT and invite.sent_at is not None
    [mail] = csat_mails()
    assert mail.recipient == "carol@acme.example" and mail.ticket == ticket
    assert mail.audience == "customer" and mail.state == OutboundEmail.State.QUEUED
    assert "How did we do?" in mail.subject
    links = re.findall(r"https://help\.example/survey/csat/\S+/rate/(\d)/", mail.body)
    assert links == ["5", "4", "3", "2", "1"]
    # A second sweep (or a retry of the first) writes nothing more.
    clock.shift(timedelta(hours=1))
    assert sending.send_due_csat() == 0
    assert len(csat_mails()) == 1


def test_zero_delay_sends_with_the_next_sweep(clock, ticket, agent, settings):
    settings.HELPDESK_CSAT_DELAY_MINUTES = 0
    solve(ticket, agent)
    assert sending.send_due_csat() == 1


def test_reopened_before_the_delay_gets_no_survey(clock, ticket, agent, customer):
    solve(ticket, agent)
    clock.shift(timedelta(minutes=30))
    reopen(ticket, customer)
    assert SurveyInvite.objects.get(ticket=ticket).state == State.CANCELLED
    clock.shift(timedelta(hours=2))
    assert sending.send_due_csat() == 0
    assert csat_mails() == []


def test_reopen_and_solve_again_asks_again(clock, ticket, agent, customer):
    solve(ticket, agent)
    clock.shift(timedelta(minutes=61))
    assert sending.send_due_csat() == 1
    clock.shift(timedelta(hours=1))
    reopen(ticket, customer)
    # A sent round stays sent (its answer is about that solve).
    assert SurveyInvite.objects.get(ticket=ticket, round=1).state == State.SENT
    solve(ticket, agent)
    second = SurveyInvite.objects.get(ticket=ticket, round=2)
    assert second.state == State.PENDING
    clock.shift(timedelta(minutes=61))
    assert sending.send_due_csat() == 1
    assert len(csat_mails()) == 2
    # A round cancelled by a reopen still counts as a solve.
    reopen(ticket, customer)
    solve(ticket, agent)
    reopen(ticket, customer)
    solve(ticket, agent)
    rounds = dict(SurveyInvite.objects.filter(ticket=ticket).values_list("round", "state"))
    assert rounds == {1: State.SENT, 2: State.SENT, 3: State.CANCELLED, 4: State.PENDING}


def test_a_ticket_that_is_closed_after_its_solve_is_still_asked(clock, ticket, agent):
    solve(ticket, agent)
    ticket_services.ticket_change_status(ticket=ticket, status=Status.CLOSED, actor=agent)
    clock.shift(timedelta(minutes=61))
    assert sending.send_due_csat() == 1


def test_staff_requesters_and_merged_tickets_get_no_survey(clock, agent, other_agent, customer):
    internal = make_ticket(requester=other_agent, subject="Printer on fire")
    solve(internal, agent)
    duplicate = make_ticket(requester=customer, subject="Cannot log in (again)")
    target = make_ticket(requester=customer, subject="Cannot log in")
    ticket_services.ticket_merge(source=duplicate, target=target, actor=agent)
    # A merge closes without solving: no round at all.
    assert not SurveyInvite.objects.filter(ticket=duplicate).exists()
    clock.shift(timedelta(minutes=61))
    assert sending.send_due_csat() == 0
    assert SurveyInvite.objects.get(ticket=internal).state == State.SKIPPED
    assert csat_mails() == []


def test_answered_on_the_portal_before_the_delay_sends_nothing(clock, ticket, agent, customer):
    solve(ticket, agent)
    invite = SurveyInvite.objects.get(ticket=ticket)
    services.csat_answer(invite=invite, customer=customer, rating=5, source="portal")
    clock.shift(timedelta(minutes=61))
    assert sending.send_due_csat() == 0
    assert SurveyInvite.objects.get(ticket=ticket).state == State.SKIPPED
    assert CSATResponse.objects.get().source == "portal"


def test_the_beat_tasks_send_csat_and_nps(clock, ticket, agent, customer):
    solve(ticket, agent)
    clock.shift(timedelta(minutes=61))
    assert send_due_csat.apply().get() == 1
    assert send_due_csat.apply().get() == 0
    # The NPS question of a customer with a ticket solved this period.
    assert send_due_nps.apply().get() == 1
    assert send_due_nps.apply().get() == 0
    assert SurveyInvite.objects.get().customer == customer


# --- NPS -----------------------------------------------------------------------------


def test_nps_period_is_the_same_for_every_day_in_it(clock):
    from django.utils import timezone

    start = sending.nps_period_start(timezone.now(), 90)
    assert (timezone.localdate() - start).days < 90
    assert sending.nps_period_start(timezone.now() + timedelta(days=89), 90) in (
        start,
        start + timedelta(days=90),
    )
    assert (
        sending.nps_period_start(
            timezone.make_aware(timezone.datetime.combine(start, timezone.datetime.min.time())), 90
        )
        == start
    )


def test_nps_asks_each_customer_once_per_period(clock, ticket, agent, customer, acme):
    solve(ticket, agent)
    colleague = make_user(Role.CUSTOMER, email="chris@acme.example", organization=acme)
    never_solved = make_user(Role.CUSTOMER, email="nina@acme.example", organization=acme)
    second = make_ticket(requester=colleague, subject="Export fails")
    solve(second, agent)
    assert sending.send_due_nps() == 2
    assert set(NPSInvite.objects.values_list("customer_id", flat=True)) == {
        customer.pk,
        colleague.pk,
    }
    mails = OutboundEmail.objects.filter(kind=sending.KIND_NPS)
    assert {m.recipient for m in mails} == {customer.email, colleague.email}
    assert never_solved.email not in {m.recipient for m in mails}
    body = mails[0].body
    assert len(re.findall(r"/survey/nps/\S+/score/(\d+)/", body)) == 11
    # More solves in the same period ask nobody again.
    third = make_ticket(requester=customer, subject="Another one")
    solve(third, agent)
    assert sending.send_due_nps() == 0
    # The next period asks again, those solved in it.
    clock.shift(timedelta(days=90))
    fourth = make_ticket(requester=customer, subject="Next quarter")
    solve(fourth, agent)
    assert sending.send_due_nps() == 1
    assert NPSInvite.objects.filter(customer=customer).count() == 2


def test_nps_cadence_zero_asks_nobody(clock, ticket, agent, settings):
    settings.HELPDESK_NPS_CADENCE_DAYS = 0
    solve(ticket, agent)
    assert sending.send_due_nps() == 0
