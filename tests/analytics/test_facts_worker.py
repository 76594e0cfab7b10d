"""End to end on the running system: a real Celery worker on the real Redis
runs the facts' catch-up, and the dashboard (which reads the facts) shows a
ticket solved through the services."""

from __future__ import annotations

from analytics.models import RollupRun, TicketFact
from analytics.rollups.facts import CATCH_UP
from analytics.rollups.tasks import catch_up_ticket_facts
from tests.conftest import wait_for
from tickets import services
from tickets.intake import intake_ticket
from tickets.models import Channel, Status, Ticket

PAGE = "/analytics/dashboard/"


def card(figures, key):
    return next(c for c in figures.cards if c.key == key)


def test_the_worker_brings_a_solved_ticket_into_the_dashboard(
    celery_worker_process, client, customer, agent, manager, access_team
):
    client.force_login(manager)
    before = client.get(PAGE, {"range": "7"}).context["figures"]
    ticket = intake_ticket(
        requester=customer,
        subject="Export stops at 80 %",
        description="The CSV export never finishes.",
        channel=Channel.PORTAL,
        team=access_team,
    )
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    services.ticket_reply(
        ticket=Ticket.objects.get(pk=ticket.pk), author=agent, body="Fixed: try again."
    )
    services.ticket_change_status(
        ticket=Ticket.objects.get(pk=ticket.pk), status=Status.SOLVED, actor=agent
    )
    # Not in the facts until the catch-up has run (the beat job, every minute).
    assert not TicketFact.objects.filter(ticket=ticket).exists()

    catch_up_ticket_facts.delay()
    fact = wait_for(
        lambda: TicketFact.objects.filter(ticket=ticket, solved_at__isnull=False).first(),
        timeout=40,
    )
    assert fact.public_staff_replies == 1 and fact.agent_id == agent.pk
    assert RollupRun.objects.get(name=CATCH_UP).tickets >= 1

    after = client.get(PAGE, {"range": "7"}).context["figures"]
    assert sum(row.created for row in after.trend) == sum(row.created for row in before.trend) + 1
    assert card(after, "fcr").sample == card(before, "fcr").sample + 1
    assert agent.pk in {row.agent_id for row in after.agents}
