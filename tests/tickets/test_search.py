import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import make_ticket
from tickets import services
from tickets.search import SEARCH_CANDIDATES, search_index_rebuild, search_tickets
from tickets.selectors import tickets_visible_to


def found(user, text):
    return [t.subject for t in search_tickets(tickets_visible_to(user), text)]


def test_subject_and_conversation_are_searchable_ranked(agent, customer, access_team):
    in_body = make_ticket(
        requester=customer,
        subject="Problem",
        team=access_team,
        description="The invoice export crashes",
    )
    in_subject = make_ticket(
        requester=customer,
        subject="Invoice export crashes",
        team=access_team,
        description="see title",
    )
    assert found(agent, "invoice") == [in_subject.subject, in_body.subject]
    # stemming: "crashing" finds "crashes"
    assert set(found(agent, "crashing")) == {"Problem", "Invoice export crashes"}


def test_replies_are_searchable_at_once_notes_never(agent, customer, access_team):
    ticket = make_ticket(requester=customer, subject="VPN", team=access_team)
    services.ticket_reply(ticket=ticket, author=customer, body="The firewall blocks port 4443")
    services.ticket_reply(
        ticket=ticket, author=agent, body="kerberos misconfigured", is_internal=True
    )
    assert found(agent, "firewall") == ["VPN"]
    assert found(agent, "kerberos") == []
    assert found(customer, "kerberos") == []


def test_search_respects_access(customer, other_customer):
    make_ticket(requester=other_customer, subject="Globex payroll secret")
    assert found(customer, "payroll") == []
    assert found(other_customer, "payroll") == ["Globex payroll secret"]


def test_subject_change_reindexes(agent, customer, access_team):
    ticket = make_ticket(requester=customer, subject="Old words", team=access_team)
    services.ticket_update(ticket=ticket, actor=agent, subject="Shiny subject")
    assert found(agent, "shiny") == ["Shiny subject"]


def test_merge_moves_searchable_text(agent, customer, access_team):
    target = make_ticket(requester=customer, subject="Target", team=access_team)
    source = make_ticket(
        requester=customer, subject="Source", team=access_team, description="unique-zebra words"
    )
    services.ticket_merge(source=source, target=target, actor=agent)
    assert "Target" in found(agent, "zebra")


def test_web_search_syntax_and_odd_input_are_safe(agent, customer, access_team):
    make_ticket(requester=customer, subject="Password reset link expired", team=access_team)
    assert found(agent, '"reset link"') == ["Password reset link expired"]
    assert found(agent, "password -expired") == []
    for odd in ["'; DROP TABLE tickets_ticket; --", "&&&", "\\", "a" * 500, "):*"]:
        search_tickets(tickets_visible_to(agent), odd)
    assert found(agent, "   ") == []


def test_candidates_are_bounded(agent, customer, access_team, monkeypatch):
    monkeypatch.setattr("tickets.search.SEARCH_CANDIDATES", 3)
    made = [
        make_ticket(requester=customer, subject=f"printer {i}", team=access_team) for i in range(6)
    ]
    results = search_tickets(tickets_visible_to(agent), "printer")
    # only the newest three matches are ranked
    assert {t.pk for t in results} == {t.pk for t in made[3:]}
    assert SEARCH_CANDIDATES >= 500


def test_rebuild_fills_missing_vectors(agent, customer, access_team):
    ticket = make_ticket(requester=customer, subject="Forgotten", team=access_team)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticket SET search_vector = NULL")
    assert found(agent, "forgotten") == []
    search_index_rebuild(only_missing=True)
    assert found(agent, "forgotten") == [ticket.subject]


def test_search_page(client, agent, customer, other_customer, access_team):
    ticket = make_ticket(requester=customer, subject="Dashboard slow", team=access_team)
    hidden = make_ticket(requester=other_customer, subject="Dashboard other org")
    client.force_login(customer)
    response = client.get(reverse("tickets:search"), {"q": "dashboard"})
    assert response.status_code == 200
    assert ticket.key.encode() in response.content
    assert hidden.key.encode() not in response.content
    # a key jumps to the ticket; another organisation's key does not
    assert client.get(reverse("tickets:search"), {"q": ticket.key}).url == (
        ticket.get_absolute_url()
    )
    assert client.get(reverse("tickets:search"), {"q": hidden.key}).status_code == 200


@pytest.mark.parametrize("n", [3, 30])
def test_search_page_constant_queries(
    client, agent, customer, access_team, n, django_assert_num_queries, warm_caches
):
    for i in range(n):
        make_ticket(requester=customer, subject=f"Laptop {i}", team=access_team)
    client.force_login(agent)
    warm_caches(agent)
    # user, teams (access helper), search (session and permissions: cached)
    with django_assert_num_queries(3):
        client.get(reverse("tickets:search"), {"q": "laptop"})


def test_old_match_outside_the_newest_tickets_is_found(agent, customer, access_team, monkeypatch):
    """Regression: the candidate bound applies to matches, not to all tickets."""
    monkeypatch.setattr("tickets.search.SEARCH_CANDIDATES", 2)
    old = make_ticket(requester=customer, subject="Error E1011 on export", team=access_team)
    for i in range(3):
        make_ticket(requester=customer, subject=f"Unrelated {i}", team=access_team)
    assert [t.pk for t in search_tickets(tickets_visible_to(agent), "E1011")] == [old.pk]


def test_search_reaches_past_the_recent_window(agent, customer, access_team, monkeypatch):
    """The newest ids are walked first, older tickets come from the GIN index,
    and the candidate bound holds across both."""
    monkeypatch.setattr("tickets.search.SEARCH_RECENT_WINDOW", 2)
    monkeypatch.setattr("tickets.search.SEARCH_CANDIDATES", 3)
    made = [
        make_ticket(requester=customer, subject=f"Printer jam {i}", team=access_team)
        for i in range(5)
    ]
    make_ticket(requester=customer, subject="Unrelated", team=access_team)
    found = {t.pk for t in search_tickets(tickets_visible_to(agent), "printer")}
    # The newest three matches: one inside the window, two only in the index.
    assert found == {made[4].pk, made[3].pk, made[2].pk}
    rare = {t.pk for t in search_tickets(tickets_visible_to(agent), "jam 0")}
    assert made[0].pk in rare
