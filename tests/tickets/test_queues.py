from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_ticket
from tickets import queues, services
from tickets.models import Status, Ticket


@pytest.fixture
def board(agent, other_agent, customer, other_customer, access_team, billing_team):
    """A small board: what each of Alice's queues should hold."""
    mine = make_ticket(requester=customer, subject="mine", team=access_team)
    services.ticket_assign(ticket=mine, assignee=agent, actor=agent)
    unassigned = make_ticket(requester=customer, subject="unassigned", team=access_team)
    untriaged = make_ticket(requester=other_customer, subject="untriaged")
    waiting = make_ticket(requester=customer, subject="waiting", team=access_team)
    services.ticket_assign(ticket=waiting, assignee=agent, actor=agent)
    services.ticket_change_status(ticket=waiting, status=Status.PENDING, actor=agent)
    solved = make_ticket(requester=customer, subject="solved", team=access_team)
    services.ticket_change_status(ticket=solved, status=Status.SOLVED, actor=agent)
    billing = make_ticket(requester=other_customer, subject="billing", team=billing_team)
    services.ticket_assign(ticket=billing, assignee=other_agent, actor=other_agent)
    return {t.subject: t for t in (mine, unassigned, untriaged, waiting, solved, billing)}


def subjects(client, **params):
    response = client.get(reverse("tickets:list"), params)
    assert response.status_code == 200, response.content
    return {t.subject for t in response.context["tickets"]}


def test_each_queue_holds_the_right_tickets(client, agent, board):
    client.force_login(agent)
    assert subjects(client, queue="mine") == {"mine"}
    assert subjects(client, queue="unassigned") == {"unassigned", "untriaged"}
    assert subjects(client, queue="team") == {"mine", "unassigned", "waiting"}
    assert subjects(client, queue="waiting") == {"waiting"}
    assert subjects(client, queue="solved") == {"solved"}
    # "all open" is still limited by what Alice may see: not Billing's ticket
    assert subjects(client, queue="all") == {"mine", "unassigned", "untriaged", "waiting"}


def test_queue_counts_match_queues(client, agent, board):
    client.force_login(agent)
    response = client.get(reverse("tickets:list"))
    counts = {q.slug: n for q, n in response.context["queue_counts"]}
    assert counts == {
        "mine": 1,
        "breaching": 0,  # no SLA clocks here (tests/escalation covers them)
        "unassigned": 2,
        "team": 3,
        "waiting": 1,
        "solved": 1,
        "triage": 0,
        "all": 4,
    }


def test_manager_all_queue_sees_every_team(client, manager, board):
    client.force_login(manager)
    assert "billing" in subjects(client, queue="all")


def test_filters(client, agent, board, billing_category, login_category):
    client.force_login(agent)
    services.ticket_update(
        ticket=board["unassigned"], actor=agent, priority="urgent", category=login_category
    )
    assert subjects(client, queue="all", priority="urgent") == {"unassigned"}
    assert subjects(client, queue="all", category=login_category.pk) == {"unassigned"}
    assert subjects(client, queue="all", status=["pending", "new"]) == {
        "mine",
        "unassigned",
        "untriaged",
        "waiting",
    }
    assert subjects(client, queue="all", assignee="me") == {"mine", "waiting"}
    assert subjects(client, queue="all", assignee="none") == {"unassigned", "untriaged"}
    assert subjects(client, queue="all", assignee=str(agent.pk)) == {"mine", "waiting"}
    org = board["untriaged"].organization
    assert subjects(client, queue="all", organization=org.pk) == {"untriaged"}
    assert subjects(client, queue="all", channel="email") == set()
    today = timezone.localdate()
    assert len(subjects(client, queue="all", created_from=today.isoformat())) == 4
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert subjects(client, queue="all", updated_from=tomorrow) == set()


def test_bad_filters_are_reported(client, agent, board):
    client.force_login(agent)
    response = client.get(
        reverse("tickets:list"),
        {
            "queue": "all",
            "priority": "whenever",
            "created_from": "2026-02-30",
            "updated_from": "2026-03-05",
            "updated_to": "2026-03-01",
            "assignee": "bob",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice" in body
    assert "Enter a valid date" in body
    assert "The end date is before the start date" in body
    assert "Use &quot;me&quot;, &quot;none&quot; or an agent id" in body


def test_unknown_queue_is_404(client, agent):
    client.force_login(agent)
    assert client.get(reverse("tickets:list"), {"queue": "nope"}).status_code == 404


@pytest.mark.parametrize("sort", list(queues.SORTS))
def test_keyset_pages_cover_every_ticket_once(
    client, agent, customer, access_team, monkeypatch, sort
):
    monkeypatch.setattr("tickets.views.PAGE_SIZE", 4)
    client.force_login(agent)
    made = [make_ticket(requester=customer, subject=f"t{i}", team=access_team) for i in range(11)]
    # ties on updated_at must not lose or repeat rows at page edges
    same = timezone.now()
    Ticket.objects.filter(pk__in=[t.pk for t in made[3:8]]).update(updated_at=same)
    seen, cursor, pages = [], "", 0
    while True:
        params = {"queue": "team", "sort": sort}
        if cursor:
            params["cursor"] = cursor
        response = client.get(reverse("tickets:list"), params)
        seen += [t.pk for t in response.context["tickets"]]
        cursor = response.context["next_cursor"]
        pages += 1
        if not cursor:
            break
    assert pages == 3
    assert sorted(seen) == sorted(t.pk for t in made)
    field, descending = queues.SORTS[sort]
    values = [(getattr(Ticket.objects.get(pk=pk), field), pk) for pk in seen]
    assert values == sorted(values, reverse=descending)


def test_malformed_cursor_falls_back_to_first_page(client, agent, board):
    client.force_login(agent)
    response = client.get(
        reverse("tickets:list"), {"queue": "all", "sort": "updated", "cursor": "garbage"}
    )
    assert response.status_code == 400
    assert b"no longer valid" in response.content
    assert len(response.context["tickets"]) == 4


def test_counts_are_bounded(client, agent, customer, access_team, monkeypatch):
    monkeypatch.setattr(queues, "COUNT_BOUND", 3)
    client.force_login(agent)
    for i in range(5):
        make_ticket(requester=customer, subject=f"t{i}", team=access_team)
    response = client.get(reverse("tickets:list"), {"queue": "team"})
    counts = {q.slug: n for q, n in response.context["queue_counts"]}
    assert counts["team"] == 4  # stopped at bound + 1
    assert b'data-queue-count="team">3+' in response.content


def test_triage_queue(client, agent, board):
    from tickets.models import Ticket

    Ticket.objects.filter(pk=board["untriaged"].pk).update(needs_triage=True)
    client.force_login(agent)
    assert subjects(client, queue="triage") == {"untriaged"}


def test_breaching_soon_lists_nearest_due_first_and_due_sort_pages_through_nulls(
    client, agent, customer, access_team, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from tickets import views
    from tickets.models import Ticket

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    now = timezone.now()
    made = [make_ticket(requester=customer, subject=f"t{i}", team=access_team) for i in range(5)]
    dues = [
        now + timedelta(hours=3),
        now - timedelta(minutes=5),
        None,
        now + timedelta(hours=1),
        None,
    ]
    for ticket, due in zip(made, dues, strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
    client.force_login(agent)

    def keys(params):
        seen, cursor = [], ""
        while True:
            page = client.get(reverse("tickets:list"), {**params, "cursor": cursor})
            seen += [t.subject for t in page.context["tickets"]]
            cursor = page.context["next_cursor"]
            if not cursor:
                return seen

    # Breaching soon: only running targets, overdue first.
    assert keys({"queue": "breaching"}) == ["t1", "t3", "t0"]
    # Any queue sorted by due: the same order, then the tickets with no due time.
    assert keys({"queue": "team", "sort": "due"}) == ["t1", "t3", "t0", "t2", "t4"]


def test_breaching_soon_and_my_load_share_one_definition_of_due_soon(
    client, agent, customer, access_team
):
    """The queue and the "My load" figure count the same tickets, with the
    same words: overdue, or due within queues.DUE_SOON_WINDOW."""
    now = timezone.now()
    window = queues.DUE_SOON_WINDOW
    dues = {
        "overdue": now - timedelta(minutes=5),
        "in an hour": now + timedelta(hours=1),
        "just inside": now + window - timedelta(minutes=2),
        "tomorrow": now + timedelta(hours=20),
        "next week": now + timedelta(days=6),
    }
    for subject, due in dues.items():
        ticket = make_ticket(requester=customer, subject=subject, team=access_team)
        services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
    client.force_login(agent)

    due_soon = {"overdue", "in an hour", "just inside"}
    assert subjects(client, queue="breaching") == due_soon
    response = client.get(reverse("tickets:list"), {"queue": "mine"})
    counts = {q.slug: n for q, n in response.context["queue_counts"]}
    assert response.context["load"].breaching_soon == counts["breaching"] == len(due_soon)
    # The load's figure links to exactly those tickets, under the queue's name.
    page = response.content.decode()
    assert "Due today" not in page
    assert f'title="{queues.DUE_SOON_HELP}">{queues.DUE_SOON_TITLE}</dt>' in page
    assert subjects(client, queue="breaching", assignee="me") == due_soon


def test_managers_land_on_all_open_tickets_and_agents_on_their_own(client, agent, manager, board):
    client.force_login(manager)
    landing = client.get(reverse("tickets:list"))
    assert landing.context["queue"].title == "All open tickets"
    assert landing.context["tickets"]  # work to see, not an empty "My open tickets"
    client.force_login(agent)
    assert client.get(reverse("tickets:list")).context["queue"].title == "My open tickets"
