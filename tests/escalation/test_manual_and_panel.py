"""Manual escalation from the ticket page, and the SLA panel agents see."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from escalation.models import Escalation
from tests.factories import make_user
from tickets.models import Message, Priority, Role, Ticket

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture
def ticket(customer, agent, access_team, open_ticket, time_machine):
    time_machine.move_to(MONDAY_10, tick=False)
    opened = open_ticket(customer, priority=Priority.HIGH, team=access_team)
    Ticket.objects.filter(pk=opened.pk).update(assignee=agent, needs_triage=False)
    return Ticket.objects.get(pk=opened.pk)


def test_panel_shows_policy_and_countdowns(client, agent, ticket):
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Standard / High policy" in page
    assert 'data-sla-target="running"' in page and "data-countdown" in page
    assert "Escalate to a higher tier" in page


def test_agent_escalates_to_tier_2_with_a_reason(
    client, agent, ticket, access_team, celery_eager, django_capture_on_commit_callbacks
):
    senior = make_user(Role.AGENT, full_name="Sam Senior", tier=2, teams=[access_team])
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):  # routing runs after the commit
        response = client.post(
            reverse("escalation:escalate", args=[ticket.key]),
            {"to_tier": 2, "reason": "Needs a database fix; tried the usual reset."},
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.tier == 2 and ticket.assignee_id == senior.pk
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.kind == "manual" and escalation.actor == agent and escalation.to_tier == 2
    note = Message.objects.get(ticket=ticket, is_internal=True)
    assert note.author == agent and "tried the usual reset" in note.body
    assert ticket.events.filter(action="ticket.tier_changed").exists()


def test_bad_escalations_are_refused_with_a_message(client, agent, ticket):
    client.force_login(agent)
    response = client.post(reverse("escalation:escalate", args=[ticket.key]), {"to_tier": 2})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    # The form's own panel shows its errors; the other apps' panels still show.
    assert 'id="kb-panel-heading"' in response.content.decode()
    response = client.post(
        reverse("escalation:escalate", args=[ticket.key]), {"to_tier": 1, "reason": "down?"}
    )
    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).tier == 1
    assert not Escalation.objects.exists()


def test_customers_and_other_teams_cannot_escalate(client, customer, other_agent, ticket):
    url = reverse("escalation:escalate", args=[ticket.key])
    client.force_login(other_agent)  # Billing: cannot see an Access ticket
    assert client.post(url, {"to_tier": 2, "reason": "x"}).status_code == 404
    client.force_login(customer)  # sees their ticket, may not escalate it
    assert client.post(url, {"to_tier": 2, "reason": "x"}).status_code == 403
    assert not Escalation.objects.exists()


def test_a_ticket_without_a_team_escalated_on_hold_gets_a_team_and_an_agent(
    client, customer, agent, access_team, open_ticket, time_machine
):
    """Regression: a manually escalated ticket with no team, on hold, stayed
    unassigned and teamless (no queue showed it to anyone)."""
    time_machine.move_to(MONDAY_10, tick=False)
    senior = make_user(Role.AGENT, full_name="Sam Senior", tier=2, teams=[access_team])
    opened = open_ticket(customer, subject="Odd thing")
    Ticket.objects.filter(pk=opened.pk).update(
        team=None, assignee=agent, status="on_hold", needs_triage=False
    )
    client.force_login(agent)
    response = client.post(
        reverse("escalation:escalate", args=[opened.key]),
        {"to_tier": 2, "reason": "Beyond first line."},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=opened.pk)
    assert (ticket.tier, ticket.team, ticket.assignee) == (2, access_team, senior)
    escalation = Escalation.objects.get(ticket=ticket)
    assert "team \u2192 Access" in escalation.actions
    assert "routed to Sam Senior" in escalation.actions
