"""Cached select lists and the names list rows take from them."""

from tests.factories import make_ticket
from tickets import services
from tickets.models import Ticket
from tickets.reference import attach_named_relations, workspace_reference


def test_rows_get_names_without_queries(agent, customer, access_team, django_assert_num_queries):
    services.ticket_assign(
        ticket=make_ticket(requester=customer, subject="s", team=access_team),
        assignee=agent,
        actor=agent,
    )
    access_team.lead = agent
    access_team.save()
    workspace_reference()
    rows = list(Ticket.objects.all())
    with django_assert_num_queries(1):  # the cache read is not SQL; the lead is
        attach_named_relations(rows)
        assert rows[0].team.name == access_team.name
        assert rows[0].assignee.full_name == agent.full_name
        assert rows[0].assignee.email == agent.email  # history shows the e-mail
        # Fields the cached list lacks are loaded on demand, never left empty.
        assert rows[0].team.lead_id == agent.pk


def test_unknown_ids_fall_back_to_a_lookup(agent, customer, access_team):
    ticket = make_ticket(requester=customer, subject="s", team=access_team)
    workspace_reference()
    # A team created after the lists were cached (signals clear the cache; a
    # raw SQL insert would not).
    row = Ticket.objects.get(pk=ticket.pk)
    from django.core.cache import cache

    from tickets.reference import CACHE_KEY

    reference = cache.get(CACHE_KEY)
    cache.set(CACHE_KEY, reference.__class__(categories=[], teams=[], agents=[]))
    attach_named_relations([row])
    assert row.team.name == access_team.name
