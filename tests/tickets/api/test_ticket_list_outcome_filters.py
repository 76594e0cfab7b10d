"""The API's ticket list takes the workspace list's drill-down filters (solve
days, customer tier, SLA breach per target, escalation and its kind,
reopening) with the same meaning: each narrows to the right tickets, agrees
with the web list, never widens what the caller may see, refuses bad values
(400 naming the parameter) and a customer's use of the staff-only ones (403),
is in the schema, and keeps the list's query count constant."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from tests.factories import make_ticket, make_user
from tickets import queues, services
from tickets.history import record_event
from tickets.models import Role, Status, SupportTier, Ticket

pytestmark = [pytest.mark.urls("tests.tickets.api.urls"), pytest.mark.django_db]

STAFF_ONLY = ("customer_tier", "sla_breached", "escalated", "escalation_kind", "reopened")


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def tickets_url() -> str:
    return reverse("api:tickets")


def subjects(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["subject"] for row in response.json()["results"]}


@pytest.fixture
def board(agent, manager, customer, other_customer, access_team, billing_team):
    """Access-team tickets with known histories (Carol's Acme is standard,
    Dave's Globex VIP, Gina has no organisation), and a Billing ticket with
    every outcome that Alice may not see."""
    guest = make_user(Role.CUSTOMER, email="gina@example.test", organization=None)
    made = {}

    def ticket(name, requester, day, team=access_team):
        with time_machine.travel(_at(day), tick=False):
            made[name] = make_ticket(requester=requester, subject=name, team=team)

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
    ticket("billing", other_customer, 10, team=billing_team)
    for action, field in (
        ("sla.breach", "first_response"),
        ("ticket.reopened", ""),
        ("ticket.tier_changed", "tier"),
    ):
        event("billing", action, field, day=11)
    with time_machine.travel(_at(12, 15), tick=False):
        services.ticket_change_status(ticket=made["billing"], status=Status.SOLVED, actor=manager)
    return made


ACCESS_TEAM = {"solved_early", "closed", "reopened", "guest", "vip_breached", "handed_up"}
ESCALATED = {"reopened", "vip_breached", "handed_up"}

FILTERED = [
    # Final solve day: "reopened" was solved on the 6th and reopened, so it has none.
    ({"solved_from": "2026-11-03", "solved_to": "2026-11-20"}, {"solved_early", "closed"}),
    ({"solved_from": "2026-11-04"}, {"closed"}),
    ({"solved_to": "2026-11-03"}, {"solved_early"}),
    ({"solved_from": "2026-11-03", "solved_to": "2026-11-03"}, {"solved_early"}),
    ({"solved_from": "2026-11-21"}, set()),
    ({"solved_from": "2026-11-01", "status": "closed"}, {"closed"}),
    ({"customer_tier": SupportTier.BASIC}, {"guest"}),  # no organisation counts as basic
    ({"customer_tier": SupportTier.VIP}, {"vip_breached"}),
    (
        {"customer_tier": SupportTier.STANDARD},
        {"solved_early", "closed", "reopened", "handed_up"},
    ),
    ({"sla_breached": "first_response"}, {"vip_breached"}),
    ({"sla_breached": "resolution"}, {"handed_up"}),  # vip_breached's is a warning
    ({"sla_breached": "next_response"}, set()),
    ({"sla_breached": "any"}, {"vip_breached", "handed_up"}),
    ({"escalated": "yes"}, ESCALATED),
    ({"escalated": "no"}, ACCESS_TEAM - ESCALATED),
    ({"escalation_kind": "sla"}, {"vip_breached", "handed_up"}),
    ({"escalation_kind": "tier"}, {"handed_up"}),
    ({"escalation_kind": "customer"}, {"reopened"}),
    ({"escalated": "yes", "escalation_kind": "customer"}, {"reopened"}),
    ({"reopened": "yes"}, {"reopened"}),
    ({"reopened": "no"}, ACCESS_TEAM - {"reopened"}),
    ({"customer_tier": "standard", "sla_breached": "any"}, {"handed_up"}),
    ({"escalated": "yes", "reopened": "no", "customer_tier": "vip"}, {"vip_breached"}),
    ({"escalated": "", "reopened": ""}, ACCESS_TEAM),  # empty means no filter
]


@pytest.mark.parametrize(("params", "expected"), FILTERED)
def test_each_filter_narrows_to_the_right_tickets(api_as, agent, board, params, expected):
    assert subjects(api_as(agent).get(tickets_url(), params)) == expected


@pytest.mark.parametrize(("params", "expected"), FILTERED)
def test_the_api_and_the_web_list_agree(api_as, client, agent, board, params, expected):
    """The same parameters give the same tickets as the workspace's list of
    every status (the queue the managers' dashboard drills down to)."""
    client.force_login(agent)
    page = client.get(reverse("tickets:list"), {"queue": "any", **params})
    assert page.status_code == 200
    web = {t.subject for t in page.context["tickets"]}
    assert subjects(api_as(agent).get(tickets_url(), params)) == web == expected


def test_filters_never_widen_what_the_caller_sees(api_as, agent, manager, customer, board):
    everything = {"sla_breached": "first_response", "reopened": "yes"}
    assert subjects(api_as(agent).get(tickets_url(), everything)) == set()
    assert subjects(api_as(manager).get(tickets_url(), everything)) == {"billing"}
    assert subjects(api_as(manager).get(tickets_url(), {"escalation_kind": "tier"})) == {
        "handed_up",
        "billing",
    }
    assert subjects(api_as(manager).get(tickets_url(), {"solved_from": "2026-11-12"})) == {
        "closed",
        "billing",
    }
    # Customers may filter their own tickets by solve day (solved_at is theirs to see).
    carol = api_as(customer)
    assert subjects(carol.get(tickets_url(), {"solved_to": "2026-11-30"})) == {
        "solved_early",
        "closed",
    }


@pytest.mark.parametrize("name", STAFF_ONLY)
def test_a_customer_cannot_filter_by_what_only_staff_see(api_as, customer, board, name):
    value = {
        "customer_tier": "standard",
        "sla_breached": "any",
        "escalated": "no",
        "escalation_kind": "sla",
        "reopened": "no",
    }[name]
    response = api_as(customer).get(tickets_url(), {name: value})
    assert response.status_code == 403
    assert response.json() == {
        "error": f"Only helpdesk staff can filter by {name}.",
        "field": name,
        "code": "permission_denied",
    }
    # A blank one is no filter, as for every parameter.
    assert api_as(customer).get(tickets_url(), {name: ""}).status_code == 200


@pytest.mark.parametrize(
    ("params", "bad", "message"),
    [
        ({"solved_from": "yesterday"}, "solved_from", "Date has wrong format"),
        ({"solved_to": "2026-11-31"}, "solved_to", "Date has wrong format"),
        (
            {"solved_from": "2026-11-10", "solved_to": "2026-11-01"},
            "solved_to",
            queues.RANGE_ENDS_EARLY,
        ),
        ({"customer_tier": "gold"}, "customer_tier", "not a valid choice"),
        ({"customer_tier": "basic,vip"}, "customer_tier", "not a valid choice"),
        ({"sla_breached": "acknowledge"}, "sla_breached", "not a valid choice"),
        ({"sla_breached": "yes"}, "sla_breached", "not a valid choice"),
        ({"escalated": "maybe"}, "escalated", "not a valid choice"),
        ({"escalated": "true"}, "escalated", "not a valid choice"),
        ({"escalation_kind": "incident"}, "escalation_kind", "not a valid choice"),
        (
            {"escalated": "no", "escalation_kind": "sla"},
            "escalation_kind",
            queues.KIND_NEEDS_ESCALATED,
        ),
        ({"reopened": "1"}, "reopened", "not a valid choice"),
        ({"reopened": "\x00"}, "reopened", "not a valid choice"),
    ],
)
def test_bad_filter_values_are_400_naming_them(api_as, agent, params, bad, message):
    response = api_as(agent).get(tickets_url(), params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "Invalid input."
    assert list(body["fields"]) == [bad]
    assert message in body["fields"][bad][0]


def test_every_contradiction_is_named_at_once(api_as, manager):
    params = {
        "solved_from": "2026-11-10",
        "solved_to": "2026-11-01",
        "created_from": "2026-11-10",
        "created_to": "2026-11-01",
        "escalated": "no",
        "escalation_kind": "tier",
    }
    response = api_as(manager).get(tickets_url(), params)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"solved_to", "created_to", "escalation_kind"}


@pytest.mark.parametrize("sort", list(queues.SORTS))
def test_filtered_pages_cover_every_match_once(api_as, agent, customer, access_team, sort):
    matching = set()
    for i in range(9):
        with time_machine.travel(_at(1 + i), tick=False):
            ticket = make_ticket(requester=customer, subject=f"t{i}", team=access_team)
            services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=agent)
        if i % 3:
            record_event(ticket, actor=None, action="sla.breach", field="resolution", at=_at(20))
            matching.add(ticket.key)
    # some with a due time (the "due" sort pages through them, then the rest)
    Ticket.objects.filter(subject__in=["t1", "t2", "t4"]).update(sla_due_at=_at(25))
    client = api_as(agent)
    params = {"sort": sort, "page_size": 2, "sla_breached": "resolution"}
    params |= {"solved_from": "2026-11-01", "customer_tier": "standard", "reopened": "no"}
    seen, url = [], tickets_url()
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        seen += [row["key"] for row in response.json()["results"]]
        url, params = response.json()["next"], None
    assert len(seen) == len(set(seen))
    assert set(seen) == matching


def test_filtered_list_runs_constant_queries(
    api_as, agent, customer, access_team, django_assert_num_queries, warm_caches
):
    params = {
        "page_size": 100,
        "solved_from": "2026-11-01",
        "solved_to": "2026-11-30",
        "customer_tier": "standard",
        "sla_breached": "any",
        "escalated": "yes",
        "escalation_kind": "sla",
        "reopened": "no",
    }

    def make_tickets(n):
        for i in range(n):
            with time_machine.travel(_at(2 + i % 20), tick=False):
                ticket = make_ticket(requester=customer, subject=f"t{i}", team=access_team)
                services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
                services.ticket_set_tags(ticket=ticket, tags=["x", f"t{i}"], actor=agent)
                services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=agent)
            record_event(
                ticket, actor=None, action="sla.breach", field="first_response", at=_at(22)
            )

    client = api_as(agent)
    make_tickets(3)
    warm_caches(agent)
    # token + user, the agent's teams (access helper), the page with its
    # related rows (the filters are EXISTS subqueries in it), the page's tags:
    # as the unfiltered list
    with django_assert_num_queries(4):
        small = client.get(tickets_url(), params)
    make_tickets(27)
    with django_assert_num_queries(4):
        large = client.get(tickets_url(), params)
    assert len(small.json()["results"]) == 3
    assert len(large.json()["results"]) == 30


def test_the_schema_documents_the_filters(client):
    operation = client.get(reverse("api:schema"), {"format": "json"}).json()["paths"][
        "/api/v1/tickets/"
    ]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    for name in ("solved_from", "solved_to"):
        assert params[name]["schema"] == {"type": "string", "format": "date"}
    enums = {
        "customer_tier": {"basic", "standard", "vip"},
        "sla_breached": {"any", "first_response", "next_response", "resolution"},
        "escalated": {"yes", "no"},
        "escalation_kind": {"sla", "tier", "customer"},
        "reopened": {"yes", "no"},
    }
    for name, values in enums.items():
        assert set(params[name]["schema"]["enum"]) == values, name
        assert params[name]["description"].startswith("Staff only."), name
    # A customer's staff-only filter is refused with a 403.
    assert "403" in operation["responses"]
