import pytest
from django.http import Http404

from tests.factories import make_ticket, make_user
from tickets.models import Role
from tickets.selectors import messages_visible_to, ticket_get_for_user, tickets_visible_to


@pytest.fixture
def tickets(customer, colleague, other_customer, access_team, billing_team):
    return {
        "carol": make_ticket(requester=customer, team=access_team),
        "chris": make_ticket(requester=colleague, team=billing_team),
        "dave": make_ticket(requester=other_customer, team=billing_team),
        "untriaged": make_ticket(requester=other_customer),
    }


def visible(user):
    return set(tickets_visible_to(user).values_list("pk", flat=True))


def test_customer_sees_only_own_tickets(customer, tickets):
    assert visible(customer) == {tickets["carol"].pk}


def test_customer_with_org_flag_sees_organisation_tickets(customer, tickets):
    customer.sees_organization_tickets = True
    customer.save()
    assert visible(customer) == {tickets["carol"].pk, tickets["chris"].pk}


def test_customer_of_other_org_gets_404_never_data(other_customer, tickets):
    with pytest.raises(Http404):
        ticket_get_for_user(other_customer, tickets["carol"].key)
    # the same answer for a key that does not exist at all
    with pytest.raises(Http404):
        ticket_get_for_user(other_customer, "HD-999999999")


def test_agent_sees_own_teams_untriaged_and_assigned(agent, tickets):
    assert visible(agent) == {tickets["carol"].pk, tickets["untriaged"].pk}
    from tickets import services

    services.ticket_assign(ticket=tickets["dave"], assignee=agent, actor=agent)
    assert tickets["dave"].pk in visible(agent)


def test_agent_of_other_team_gets_404(other_agent, tickets):
    with pytest.raises(Http404):
        ticket_get_for_user(other_agent, tickets["carol"].key)
    assert ticket_get_for_user(other_agent, tickets["chris"].key) == tickets["chris"]


def test_manager_sees_everything(manager, tickets):
    assert visible(manager) == {t.pk for t in tickets.values()}


def test_inactive_user_sees_nothing(customer, tickets):
    customer.is_active = False
    customer.save()
    assert visible(customer) == set()


def test_admin_role_sees_everything(tickets):
    admin = make_user(Role.ADMIN)
    assert visible(admin) == {t.pk for t in tickets.values()}


def test_customers_never_see_internal_notes(customer, agent, tickets):
    from tickets import services

    ticket = tickets["carol"]
    services.ticket_reply(ticket=ticket, author=agent, body="secret note", is_internal=True)
    services.ticket_reply(ticket=ticket, author=agent, body="public reply")
    assert [m.body for m in messages_visible_to(customer, ticket)][-1] == "public reply"
    assert "secret note" not in [m.body for m in messages_visible_to(customer, ticket)]
    assert "secret note" in [m.body for m in messages_visible_to(agent, ticket)]
