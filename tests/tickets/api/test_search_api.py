"""The API's search (`GET /api/tickets/?q=`): what it finds, and a constant
number of SQL queries per page like the plain list."""

import pytest
from django.urls import reverse

from tests.factories import make_ticket
from tickets import services

pytestmark = [pytest.mark.urls("tests.tickets.api.urls"), pytest.mark.django_db]


def search(client, text, **params):
    response = client.get(reverse("api:tickets"), {"q": text, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def make_tickets(n, *, customer, agent, team, category, start=0):
    for i in range(start, start + n):
        ticket = make_ticket(
            requester=customer, subject=f"Printer {i}", team=team, category=category
        )
        services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
        services.ticket_set_tags(ticket=ticket, tags=["x", f"t{i}"], actor=agent)


def test_search_runs_constant_queries(
    api_as, agent, customer, access_team, login_category, django_assert_num_queries, warm_caches
):
    """Regression: each row's team and category were loaded one by one (53
    queries for a page of 25), while the plain list runs a constant few."""
    client = api_as(agent)
    make_tickets(3, customer=customer, agent=agent, team=access_team, category=login_category)
    warm_caches(agent)
    # token + user, the agent's teams (access helper), the search with the
    # page's related rows, the page's tags (permissions come from the cache)
    with django_assert_num_queries(4):
        small = search(client, "printer", page_size=100)
    make_tickets(
        27, customer=customer, agent=agent, team=access_team, category=login_category, start=3
    )
    with django_assert_num_queries(4):
        large = search(client, "printer", page_size=100)
    assert len(small) == 3
    assert len(large) == 30
    row = large[0]
    assert row["team"]["slug"] == access_team.slug
    assert row["category"]["slug"] == login_category.slug
    assert row["assignee"]["name"] == agent.full_name
    assert row["requester"]["email"] == customer.email
    assert "x" in row["tags"]


def test_search_by_the_requesters_address(api_as, agent, customer, other_customer, access_team):
    theirs = make_ticket(requester=customer, subject="Printer", team=access_team)
    make_ticket(requester=other_customer, subject="Printer", team=access_team)
    results = search(api_as(agent), customer.email)
    assert [r["key"] for r in results] == [theirs.key]
