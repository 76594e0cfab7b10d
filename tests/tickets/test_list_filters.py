"""The ticket list's drill-down filters: the queue of every status, solve
days, customer tier, SLA breach per target, escalation, reopening; their
access rule, bad input, keyset pages and constant query counts."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from tests.factories import make_ticket, make_user
from tickets import queues, services, views
from tickets.history import record_event
from tickets.models import Role, Status, SupportTier, Ticket, TicketEvent

LIST = reverse("tickets:list")


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def board(agent, customer, other_customer, access_team, billing_team):
    """Access-team tickets with known histories (Carol's Acme is standard,
    Dave's Globex VIP, Gina has no organisation), and one Billing ticket
    that has every outcome but that Alice may not see."""
    guest = make_user(Role.CUSTOMER, email="gina@example.test", organization=None)
    made = {}

    def ticket(name, requester, day, team=access_team):
        with time_machine.travel(_at(day), tick=False):
            made[name] = make_ticket(requester=requester, subject=name, team=team)
        return made[name]

    def status(name, value, day):
        with time_machine.travel(_at(day, 15), tick=False):
            services.ticket_change_status(ticket=made[name], status=value, actor=agent)

    def event(name, action, field="", day=20):
        record_event(made[name], actor=None, action=action, field=field, at=_at(day))

    ticket("solved_early", customer, 2)
    status("solved_early", Status.SOLVED, 3)
    ticket("closed", customer, 4)
    status("closed", Status.SOLVED, 20)
    status("closed", Status.CLOSED, 21)
    ticket("reopened", customer, 5)
    status("reopened", Status.SOLVED, 6)
    status("reopened", Status.OPEN, 7)  # solved -> open records ticket.reopened
    event("reopened", "ticket.customer_escalation", day=5)
    ticket("guest", guest, 10)
    ticket("vip_breached", other_customer, 10)
    event("vip_breached", "sla.breach", "first_response", day=11)
    event("vip_breached", "sla.warning", "resolution", day=11)  # a warning is no breach
    ticket("handed_up", customer, 12)
    event("handed_up", "sla.breach", "resolution", day=14)
    event("handed_up", "ticket.tier_changed", "tier", day=14)
    Ticket.objects.filter(pk=made["handed_up"].pk).update(tier=2)
    other = ticket("billing", other_customer, 10, team=billing_team)
    for action, field in (("sla.breach", "first_response"), ("ticket.reopened", "")):
        record_event(other, actor=None, action=action, field=field, at=_at(11))
    return made


def subjects(client, **params):
    response = client.get(LIST, params)
    assert response.status_code == 200, response.content
    return {t.subject for t in response.context["tickets"]}


ACCESS_TEAM = {"solved_early", "closed", "reopened", "guest", "vip_breached", "handed_up"}


def test_any_status_queue_holds_every_status_the_viewer_may_see(client, agent, manager, board):
    client.force_login(agent)
    assert subjects(client, queue="any") == ACCESS_TEAM
    # the open queue, as before
    assert subjects(client, queue="all") == {"reopened", "guest", "vip_breached", "handed_up"}
    client.force_login(manager)
    assert subjects(client, queue="any") == ACCESS_TEAM | {"billing"}


def test_any_status_queue_is_linked_but_not_counted(client, agent, board):
    client.force_login(agent)
    response = client.get(LIST, {"queue": "any"})
    assert response.context["queue"].title == "All tickets, any status"
    assert "any" not in {q.slug for q, _ in response.context["queue_counts"]}
    assert b'href="?queue=any" class="active" aria-current="page"' in response.content


def test_created_and_solved_day_ranges(client, agent, board):
    client.force_login(agent)
    created = {"created_from": "2026-11-04", "created_to": "2026-11-10"}
    assert subjects(client, queue="any", **created) == {
        "closed",
        "reopened",
        "guest",
        "vip_breached",
    }
    # Final solve: "reopened" was solved on the 6th and reopened, so it has none.
    assert subjects(client, queue="any", solved_from="2026-11-03", solved_to="2026-11-20") == {
        "solved_early",
        "closed",
    }
    assert subjects(client, queue="any", solved_from="2026-11-04") == {"closed"}
    assert subjects(client, queue="any", solved_to="2026-11-03") == {"solved_early"}
    # the open queue never shows a solved ticket, whatever the range
    assert subjects(client, queue="all", solved_from="2026-11-01") == set()


def test_customer_tier_counts_no_organisation_as_basic(client, agent, board):
    client.force_login(agent)
    assert subjects(client, queue="any", customer_tier=SupportTier.BASIC) == {"guest"}
    assert subjects(client, queue="any", customer_tier=SupportTier.VIP) == {"vip_breached"}
    assert subjects(client, queue="any", customer_tier=SupportTier.STANDARD) == {
        "solved_early",
        "closed",
        "reopened",
        "handed_up",
    }


def test_sla_breached_per_target(client, agent, board):
    client.force_login(agent)
    assert subjects(client, queue="any", sla_breached="first_response") == {"vip_breached"}
    assert subjects(client, queue="any", sla_breached="resolution") == {"handed_up"}
    assert subjects(client, queue="any", sla_breached="next_response") == set()
    assert subjects(client, queue="any", sla_breached="any") == {"vip_breached", "handed_up"}


def test_escalated_and_its_kind(client, agent, board):
    client.force_login(agent)
    escalated = {"reopened", "vip_breached", "handed_up"}
    assert subjects(client, queue="any", escalated="yes") == escalated
    assert subjects(client, queue="any", escalated="no") == ACCESS_TEAM - escalated
    assert subjects(client, queue="any", escalation_kind="sla") == {"vip_breached", "handed_up"}
    assert subjects(client, queue="any", escalation_kind="tier") == {"handed_up"}
    assert subjects(client, queue="any", escalated="yes", escalation_kind="customer") == {
        "reopened"
    }


def test_reopened_and_tier(client, agent, board):
    client.force_login(agent)
    assert subjects(client, queue="any", reopened="yes") == {"reopened"}
    assert subjects(client, queue="any", reopened="no") == ACCESS_TEAM - {"reopened"}
    assert subjects(client, queue="any", tier="2") == {"handed_up"}
    assert subjects(client, queue="any", tier="2", escalated="yes", reopened="yes") == set()


def test_filters_never_widen_what_an_agent_or_a_customer_sees(
    client, agent, customer, other_customer, board
):
    client.force_login(agent)
    everything = {"sla_breached": "first_response", "reopened": "yes"}
    assert subjects(client, queue="any", **everything) == set()  # Billing's ticket stays hidden
    assert subjects(client, queue="any", customer_tier="vip") == {"vip_breached"}
    # Customers get their own list; the workspace's parameters give them nothing more.
    client.force_login(other_customer)
    response = client.get(LIST, {"queue": "any", "sla_breached": "any", "customer_tier": "vip"})
    assert response.status_code == 200
    assert {t.subject for t in response.context["tickets"]} == {"vip_breached", "billing"}
    client.force_login(customer)
    seen = {t.subject for t in client.get(LIST, {"queue": "any"}).context["tickets"]}
    assert seen == {"reopened", "handed_up"}  # Carol's open ones; nothing of Globex


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"solved_from": "yesterday"}, "solved_from", b"Enter a valid date."),
        ({"solved_from": "2026-11-10", "solved_to": "2026-11-01"}, "solved_to", b"end date"),
        ({"customer_tier": "gold"}, "customer_tier", b"Select a valid choice."),
        ({"sla_breached": "acknowledge"}, "sla_breached", b"Select a valid choice."),
        ({"escalated": "maybe"}, "escalated", b"Select a valid choice."),
        ({"escalation_kind": "incident"}, "escalation_kind", b"Select a valid choice."),
        ({"escalated": "no", "escalation_kind": "sla"}, "escalation_kind", b"needs escalated"),
        ({"reopened": "1"}, "reopened", b"Select a valid choice."),
    ],
)
def test_bad_filters_are_form_errors(client, agent, board, params, field, message):
    client.force_login(agent)
    response = client.get(LIST, {"queue": "any", **params})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in response.content
    # the page still lists the queue, unfiltered
    assert {t.subject for t in response.context["tickets"]} == ACCESS_TEAM


def test_keyset_pages_with_filters_cover_every_match_once(
    client, agent, customer, access_team, monkeypatch
):
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    client.force_login(agent)
    matching = set()
    for i in range(10):
        with time_machine.travel(_at(1 + i), tick=False):
            ticket = make_ticket(requester=customer, subject=f"t{i}", team=access_team)
            services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=agent)
        if i % 3:
            record_event(ticket, actor=None, action="sla.breach", field="resolution", at=_at(20))
            matching.add(ticket.pk)
    # some with a due time (the "due" sort pages through them, then the rest)
    Ticket.objects.filter(pk__in=sorted(matching)[:3]).update(sla_due_at=_at(25))
    for sort in ("newest", "oldest", "updated", "due"):
        seen, cursor = [], ""
        while True:
            params = {"queue": "any", "sort": sort, "sla_breached": "resolution"}
            params |= {"solved_from": "2026-11-01", "customer_tier": "standard"}
            response = client.get(LIST, {**params, **({"cursor": cursor} if cursor else {})})
            seen += [t.pk for t in response.context["tickets"]]
            cursor = response.context["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(matching), sort


def test_filtered_list_runs_constant_queries(
    client, agent, customer, access_team, django_assert_num_queries, warm_caches
):
    client.force_login(agent)
    params = {
        "queue": "any",
        "created_from": "2026-11-01",
        "solved_to": "2026-12-31",
        "customer_tier": "standard",
        "sla_breached": "any",
        "escalated": "yes",
        "escalation_kind": "sla",
        "reopened": "no",
        "tier": "1",
    }

    def add(count):
        for i in range(count):
            with time_machine.travel(_at(2 + i % 20), tick=False):
                ticket = make_ticket(requester=customer, subject=f"t{i}", team=access_team)
                services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=agent)
            record_event(
                ticket, actor=None, action="sla.breach", field="first_response", at=_at(22)
            )

    add(2)
    warm_caches(agent)
    client.get(LIST, params)  # fills the cached queue counts
    # user, teams, the page, saved views, my load: as the unfiltered queue
    with django_assert_num_queries(5):
        small = client.get(LIST, params)
    add(30)
    with django_assert_num_queries(5):
        large = client.get(LIST, params)
    assert len(small.context["tickets"]) == 2
    assert len(large.context["tickets"]) == views.PAGE_SIZE


def test_the_outcome_index_holds_every_action_the_filters_read():
    index = next(i for i in TicketEvent._meta.indexes if i.name == "event_outcome")
    (lookup, actions), *_ = index.condition.children
    assert lookup == "action__in"
    assert sorted(actions) == sorted(queues.OUTCOME_ACTIONS)
