"""Routing: tier and team from the category, then the agent with the skill and
the most spare capacity, round-robin among equals, VIP to the higher tier, and
never over capacity even when tickets arrive at once."""

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from tests.factories import CategoryFactory, make_user
from tickets import routing, services
from tickets.intake import intake_ticket
from tickets.models import Role, Ticket


@pytest.fixture(autouse=True)
def _routing_only(settings):
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]


def agent_in(team, *, name, tier=1, capacity=3, skills=(), available=True):
    return make_user(
        Role.AGENT,
        full_name=name,
        tier=tier,
        capacity=capacity,
        teams=[team],
        skills=list(skills),
        is_available=available,
    )


def new_ticket(requester, category=None, **kw):
    return intake_ticket(
        requester=requester,
        subject="Locked out",
        description="help",
        channel="portal",
        category=category,
        **kw,
    )


def test_category_places_tier_and_team_and_skilled_agent_gets_it(
    customer, login, frontline, login_skill
):
    agent_in(frontline, name="No Skill")
    skilled = agent_in(frontline, name="Has Skill", skills=[login_skill])
    ticket = new_ticket(customer, login)
    assert (ticket.team, ticket.tier, ticket.assignee) == (frontline, 1, skilled)
    routed = ticket.events.get(action="ticket.assigned")
    assert routed.actor is None and "Routed to Has Skill" in routed.note
    placed = ticket.events.get(action="ticket.team_changed")
    assert "Category Login" in placed.note


def test_least_loaded_then_round_robin(customer, login, frontline, login_skill):
    a = agent_in(frontline, name="A", skills=[login_skill], capacity=4)
    b = agent_in(frontline, name="B", skills=[login_skill], capacity=2)
    got = [new_ticket(customer, login).assignee.full_name for _ in range(6)]
    # equal spare capacity alternates; then B (capacity 2) fills up before A
    assert got.count("A") == 4 and got.count("B") == 2
    assert got[0] != got[1]  # round-robin among equals
    assert Ticket.objects.filter(assignee=a).count() == 4
    assert Ticket.objects.filter(assignee=b).count() == 2


def test_nobody_fits_waits_unassigned_then_job_assigns(
    customer, login, frontline, login_skill, agent
):
    busy = agent_in(frontline, name="Busy", skills=[login_skill], capacity=1)
    first = new_ticket(customer, login)
    waiting = new_ticket(customer, login)
    assert first.assignee == busy and waiting.assignee is None
    assert waiting.team == frontline  # waits in the team queue, not dropped
    assert routing.assign_waiting_tickets() == 0
    services.ticket_change_status(ticket=first, status="solved", actor=agent)
    assert routing.assign_waiting_tickets() == 1
    waiting.refresh_from_db()
    assert waiting.assignee == busy


def test_unavailable_inactive_and_low_tier_agents_are_skipped(customer, frontline, login_skill):
    tier2 = CategoryFactory(
        name="API", slug="api", skill=login_skill, default_team=frontline, required_tier=2
    )
    agent_in(frontline, name="Off shift", tier=2, skills=[login_skill], available=False)
    agent_in(frontline, name="Tier one", tier=1, skills=[login_skill])
    gone = agent_in(frontline, name="Gone", tier=2, skills=[login_skill])
    gone.is_active = False
    gone.save()
    ticket = new_ticket(customer, tier2)
    assert ticket.tier == 2 and ticket.assignee is None


def test_vip_prefers_higher_tier(other_customer, login, frontline, login_skill, customer):
    agent_in(frontline, name="Tier one", tier=1, skills=[login_skill])
    senior = agent_in(frontline, name="Tier three", tier=3, skills=[login_skill])
    vip_ticket = new_ticket(other_customer, login)  # Globex is VIP
    assert vip_ticket.assignee == senior
    assert "VIP" in vip_ticket.events.get(action="ticket.assigned").note
    assert new_ticket(customer, login).assignee.full_name == "Tier one"


def test_triage_tickets_are_not_auto_assigned(customer, login, frontline, login_skill):
    agent_in(frontline, name="A", skills=[login_skill])
    ticket = services.ticket_create(
        requester=customer, subject="?", description="?", team=frontline
    )
    Ticket.objects.filter(pk=ticket.pk).update(needs_triage=True)
    assert routing.route_ticket(ticket) is None
    assert routing.assign_waiting_tickets() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_never_exceeds_capacity(customer, login, frontline, login_skill):
    """Eight tickets arrive at once from eight connections for two agents with
    room for three each: six are assigned, never four to one agent."""
    agents = [agent_in(frontline, name=f"A{i}", skills=[login_skill], capacity=3) for i in range(2)]
    barrier = threading.Barrier(8)
    errors = []

    def arrive():
        try:
            barrier.wait(timeout=10)
            new_ticket(customer, login)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=arrive) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    loads = [Ticket.objects.filter(assignee=a).count() for a in agents]
    assert loads == [3, 3]
    assert Ticket.objects.filter(assignee__isnull=True).count() == 2
    assert connection.vendor == "postgresql"


def test_routing_reason_is_shown_on_the_ticket_page(
    client, customer, login, frontline, login_skill, manager
):
    agent_in(frontline, name="Has Skill", skills=[login_skill])
    ticket = new_ticket(customer, login)
    client.force_login(manager)
    page = client.get(ticket.get_absolute_url())
    assert b"Routed to Has Skill" in page.content


def test_an_agent_categorising_a_triaged_ticket_routes_it(
    customer, login, frontline, login_skill, agent
):
    """Regression: setting a category on a ticket in Triage left it there
    (needs_triage stayed, nobody was assigned)."""
    alice = agent_in(frontline, name="Alice Login", skills=[login_skill])
    ticket = new_ticket(customer)
    Ticket.objects.filter(pk=ticket.pk).update(needs_triage=True)
    triager = make_user(Role.MANAGER, full_name="Tess Triage")
    services.ticket_update(ticket=Ticket.objects.get(pk=ticket.pk), actor=triager, category=login)
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert not ticket.needs_triage
    assert (ticket.team, ticket.assignee) == (frontline, alice)
    actions = list(ticket.events.order_by("id").values_list("action", flat=True))
    assert actions[-4:] == [
        "ticket.category_changed",
        "ticket.triaged",
        "ticket.team_changed",
        "ticket.assigned",
    ]


def test_an_agent_opening_a_ticket_routed_to_another_team_is_told_where_it_went(
    client, customer, login, frontline, other_agent
):
    """Regression: the agent who opened a ticket for a customer landed on a
    404 when routing gave it to a team they do not work."""
    client.force_login(other_agent)  # Billing
    response = client.post(
        reverse("tickets:new"),
        {
            "requester": customer.email,
            "subject": "Locked out",
            "description": "Called in: cannot log in.",
            "category": login.pk,
        },
        follow=True,
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get(subject="Locked out")
    assert ticket.team == frontline
    assert f"{ticket.key} opened for Carol Customer and routed to Frontline" in (
        response.content.decode()
    )
