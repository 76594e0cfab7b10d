"""Fixtures of the survey tests: the survey URLs routed, the clock frozen on
a Monday morning, a ticket of Carol's worked by Alice of the Access team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import SurveyInvite
from analytics.surveys import sending
from tests.factories import make_ticket
from tickets import services as ticket_services
from tickets.models import Status, Ticket, User

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def survey_settings(settings):
    settings.HELPDESK_CSAT_DELAY_MINUTES = 60
    settings.HELPDESK_CSAT_LINK_DAYS = 14
    settings.HELPDESK_CSAT_CHANGE_HOURS = 24
    settings.HELPDESK_NPS_CADENCE_DAYS = 90
    settings.HELPDESK_SITE_URL = "https://help.example"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def ticket(clock, customer, agent, access_team) -> Ticket:
    ticket = make_ticket(requester=customer, team=access_team)
    return ticket_services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)


def solve(ticket: Ticket, actor: User) -> Ticket:
    return ticket_services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=actor)


def reopen(ticket: Ticket, actor: User) -> Ticket:
    return ticket_services.ticket_change_status(ticket=ticket, status=Status.OPEN, actor=actor)


@pytest.fixture
def sent_invite(clock, ticket, agent) -> SurveyInvite:
    """The ticket solved and its survey e-mailed an hour later."""
    solve(ticket, agent)
    clock.shift(timedelta(minutes=61))
    assert sending.send_due_csat() == 1
    return SurveyInvite.objects.get(ticket=ticket)
