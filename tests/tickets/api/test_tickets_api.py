"""The REST API: authentication, opening tickets (also on behalf of a
customer), listing with filters and keyset pages, reading, changing, the
conversation, reference lists, throttling and the api_token command."""

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import make_ticket, make_user
from tickets import queues, services
from tickets.errors import DomainError
from tickets.models import (
    Attachment,
    Message,
    Role,
    Status,
    Ticket,
    TicketEvent,
    parse_ticket_key,
)

pytestmark = [pytest.mark.urls("tests.tickets.api.urls"), pytest.mark.django_db]

NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def tickets_url() -> str:
    return reverse("api:tickets")


def ticket_url(ticket) -> str:
    return reverse("api:ticket", kwargs={"key": ticket.key})


def messages_url(ticket) -> str:
    return reverse("api:ticket-messages", kwargs={"key": ticket.key})


def rows_written() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Ticket, Message, TicketEvent, Attachment)}


def upload(name="notes.txt", content=b"line one\n", content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def keys(response) -> list[str]:
    return [row["key"] for row in response.json()["results"]]


def refusing_step(intakes):
    """An intake step that refuses, as a rule or a broken classifier might."""
    raise DomainError("No team takes this kind of request.", field="category")


# --- authentication ----------------------------------------------------------------


def test_token_authentication(api_as, customer):
    ticket = make_ticket(requester=customer)
    response = api_as(customer).get(tickets_url())
    assert response.status_code == 200
    assert keys(response) == [ticket.key]


def test_session_authentication(customer, password):
    ticket = make_ticket(requester=customer)
    client = APIClient()
    assert client.login(username=customer.email, password=password)
    response = client.get(ticket_url(ticket))
    assert response.status_code == 200
    assert response.json()["key"] == ticket.key


def test_session_writes_need_the_csrf_token(customer, password):
    # A logged-in browser must not be made to open tickets by another site.
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=customer.email, password=password)
    before = rows_written()
    response = client.post(tickets_url(), {"subject": "s", "description": "d"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]
    assert rows_written() == before


def test_no_credentials_is_401_json(db):
    response = APIClient().get(tickets_url())
    assert response.status_code == 401
    # Token first: clients are told which scheme to use.
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"error": "Authentication credentials were not provided."}


def test_an_unknown_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get(tickets_url())
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token."}


# --- opening tickets --------------------------------------------------------------


def test_customer_opens_a_ticket(api_as, customer, login_category):
    response = api_as(customer).post(
        tickets_url(),
        {
            "subject": "Cannot log in",
            "description": "It says my password is wrong.",
            "priority": "high",
            "category": "login",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["url"].endswith(reverse("api:ticket", kwargs={"key": body["key"]}))
    ticket = Ticket.objects.get(pk=parse_ticket_key(body["key"]))
    assert (ticket.requester, ticket.channel, ticket.priority) == (customer, "api", "high")
    assert ticket.category == login_category
    assert ticket.organization == customer.organization
    first = ticket.messages.get()
    assert (first.author, first.body) == (customer, "It says my password is wrong.")
    created = ticket.events.get(action="ticket.created")
    assert created.actor == customer
    assert body["requester"] == {
        "id": customer.pk,
        "name": customer.full_name,
        "email": customer.email,
    }
    assert body["status"] == "new"


def test_opening_with_attachments(api_as, customer, other_customer):
    response = api_as(customer).post(
        tickets_url(),
        {
            "subject": "Error on export",
            "description": "Screenshot and log attached.",
            "attachments": [
                upload("export.log"),
                upload("shot.png", b"\x89PNG\r\n", "image/png"),
            ],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(pk=parse_ticket_key(response.json()["key"]))
    stored = Attachment.objects.filter(message__ticket=ticket).order_by("filename")
    assert [(a.filename, a.content_type, a.size) for a in stored] == [
        ("export.log", "text/plain", 9),
        ("shot.png", "image/png", 6),
    ]
    conversation = api_as(customer).get(messages_url(ticket)).json()["results"]
    listed = {a["filename"]: a for a in conversation[0]["attachments"]}
    assert listed["export.log"]["size"] == 9
    download = api_as(customer).get(listed["export.log"]["url"], HTTP_ACCEPT="text/plain")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"line one\n"
    # Somebody who cannot see the ticket cannot fetch its files either.
    assert api_as(other_customer).get(listed["export.log"]["url"]).status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"description": "No subject given."}, "subject"),
        ({"subject": "Help"}, "description"),
        ({"subject": "x" * 251, "description": "Long subject."}, "subject"),
        ({"subject": "Help", "description": "Soon!", "priority": "whenever"}, "priority"),
        ({"subject": "Help", "description": "Which?", "category": "no-such"}, "category"),
        ({"subject": "Help", "description": "Which?", "team": 987654}, "team"),
    ],
)
def test_invalid_input_is_400_naming_the_field(api_as, customer, payload, field):
    before = rows_written()
    response = api_as(customer).post(tickets_url(), payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Invalid input."
    assert list(body["fields"]) == [field]
    assert rows_written() == before


def test_an_oversize_attachment_refuses_the_whole_ticket(api_as, customer, settings):
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 1024
    before = rows_written()
    response = api_as(customer).post(
        tickets_url(),
        {
            "subject": "Logs",
            "description": "Attached.",
            "attachments": [upload("small.txt"), upload("big.txt", b"x" * 2048)],
        },
        format="multipart",
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["field"], body["code"]) == ("attachments", "invalid")
    assert "big.txt is too large" in body["error"]
    assert rows_written() == before


def test_a_refusing_intake_step_leaves_no_ticket(api_as, customer, settings):
    settings.HELPDESK_INTAKE_STEPS = [
        "tickets.routing.route_step",
        "tests.tickets.api.test_tickets_api.refusing_step",
    ]
    before = rows_written()
    response = api_as(customer).post(
        tickets_url(), {"subject": "Odd request", "description": "Details."}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "No team takes this kind of request.",
        "field": "category",
        "code": "invalid",
    }
    assert rows_written() == before


@pytest.mark.parametrize("named_by", ["email", "id"])
def test_agent_opens_a_ticket_for_a_customer(api_as, agent, customer, named_by):
    requester = customer.email.upper() if named_by == "email" else str(customer.pk)
    response = api_as(agent).post(
        tickets_url(),
        {
            "subject": "Phoned in",
            "description": "Cannot reach the dashboard.",
            "requester": requester,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(pk=parse_ticket_key(response.json()["key"]))
    assert (ticket.requester, ticket.organization) == (customer, customer.organization)
    assert ticket.channel == "agent"
    assert ticket.messages.get().author == customer
    # The history says who really typed it.
    assert ticket.events.get(action="ticket.created").actor == agent


@pytest.mark.parametrize("requester", ["nobody@example.test", "424242", "bob@helpdesk.test"])
def test_agent_naming_no_customer_is_400(api_as, agent, other_agent, requester):
    before = rows_written()
    response = api_as(agent).post(
        tickets_url(), {"subject": "s", "description": "d", "requester": requester}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "requester"
    assert rows_written() == before


def test_customer_cannot_open_a_ticket_for_someone_else(api_as, customer, colleague):
    before = rows_written()
    response = api_as(customer).post(
        tickets_url(),
        {"subject": "s", "description": "d", "requester": colleague.email},
        format="json",
    )
    assert response.status_code == 403
    body = response.json()
    assert (body["field"], body["code"]) == ("requester", "permission_denied")
    assert rows_written() == before
    # Naming themselves is harmless.
    response = api_as(customer).post(
        tickets_url(),
        {"subject": "s", "description": "d", "requester": customer.email},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["channel"] == "api"


# --- listing ------------------------------------------------------------------------


def test_customers_list_only_what_they_may_see(api_as, customer, colleague, other_customer):
    mine = make_ticket(requester=customer)
    make_ticket(requester=colleague)
    make_ticket(requester=other_customer)
    assert keys(api_as(customer).get(tickets_url())) == [mine.key]


@time_machine.travel(NOON, tick=False)
def test_list_filters(api_as, agent, customer, access_team, login_category, billing_category):
    login = make_ticket(
        requester=customer, category=login_category, team=access_team, priority="urgent"
    )
    invoice = make_ticket(requester=customer, category=billing_category, team=access_team)
    refund = make_ticket(requester=customer, subject="Refund please", team=access_team)
    services.ticket_assign(ticket=refund, assignee=agent, actor=agent)
    services.ticket_set_tags(ticket=refund, tags=["refund"], actor=agent)
    services.ticket_change_status(ticket=refund, status=Status.PENDING, actor=agent)
    client = api_as(agent)
    expected = [
        ({"priority": "urgent"}, [login]),
        ({"category": "login"}, [login]),
        ({"category": str(billing_category.pk)}, [invoice]),
        ({"assignee": "me"}, [refund]),
        ({"assignee": str(agent.pk)}, [refund]),
        ({"assignee": "none"}, [invoice, login]),
        ({"tag": "Refund"}, [refund]),
        ({"status": "pending"}, [refund]),
        ({"status": "new,pending"}, [refund, invoice, login]),
        ({"status": ["new", "pending"]}, [refund, invoice, login]),
        ({"team": "access", "tier": "1", "channel": "portal"}, [refund, invoice, login]),
        ({"created_from": "2026-03-10", "created_to": "2026-03-10"}, [refund, invoice, login]),
        ({"created_to": "2026-03-09"}, []),
        ({"sort": "oldest"}, [login, invoice, refund]),
        ({"status": "", "q": ""}, [refund, invoice, login]),  # empty means no filter
        ({"q": "refund"}, [refund]),
        ({"q": login.key}, [login]),
    ]
    for params, tickets in expected:
        response = client.get(tickets_url(), params)
        assert response.status_code == 200, (params, response.json())
        assert keys(response) == [t.key for t in tickets], params


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"status": "bogus"}, "status"),
        ({"status": "new,bogus"}, "status"),
        ({"priority": "soon"}, "priority"),
        ({"category": "no-such"}, "category"),
        ({"team": "99999999"}, "team"),
        ({"assignee": "bob"}, "assignee"),
        ({"organization": "acme"}, "organization"),
        ({"tier": "9"}, "tier"),
        ({"channel": "fax"}, "channel"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_from": "2026-03-10", "created_to": "2026-03-01"}, "created_to"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"sort": "random"}, "sort"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "123_"}, "cursor"),
        ({"cursor": "²"}, "cursor"),
        ({"assignee": "²"}, "assignee"),
        ({"category": "\x00"}, "category"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(api_as, agent, params, bad):
    response = api_as(agent).get(tickets_url(), params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Invalid input."
    assert list(body["fields"]) == [bad]


@pytest.mark.parametrize("sort", list(queues.SORTS))
def test_pages_cover_every_ticket_exactly_once(api_as, agent, customer, access_team, sort):
    # One frozen instant: every ticket has the same updated_at, so the pages of
    # the "updated" sorts hold only because of the id tie-break.
    with time_machine.travel(NOON, tick=False):
        made = [
            make_ticket(requester=customer, subject=f"t{i}", team=access_team) for i in range(11)
        ]
    client = api_as(agent)
    seen, pages = [], 0
    url, params = tickets_url(), {"page_size": 4, "sort": sort}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        seen += keys(response)
        url, params = response.json()["next"], None
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 11
    assert set(seen) == {t.key for t in made}
    newest_first = sort in ("newest", "updated")
    assert seen == [t.key for t in sorted(made, key=lambda t: t.pk, reverse=newest_first)]


def test_ticket_list_runs_constant_queries(
    api_as, agent, customer, access_team, django_assert_num_queries, warm_caches
):
    def make_tickets(n):
        for i in range(n):
            ticket = make_ticket(requester=customer, subject=f"t{i}", team=access_team)
            services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
            services.ticket_set_tags(ticket=ticket, tags=["x", f"t{i}"], actor=agent)

    client = api_as(agent)
    make_tickets(3)
    warm_caches(agent)
    # token + user, the agent's teams (access helper), the page with its
    # related rows, the page's tags (permissions come from the cache)
    with django_assert_num_queries(4):
        small = client.get(tickets_url(), {"page_size": 100})
    make_tickets(27)
    with django_assert_num_queries(4):
        large = client.get(tickets_url(), {"page_size": 100})
    assert len(small.json()["results"]) == 3
    assert len(large.json()["results"]) == 30


def test_customer_list_runs_constant_queries(
    api_as, customer, django_assert_num_queries, warm_caches
):
    client = api_as(customer)
    make_ticket(requester=customer)
    warm_caches(customer)
    # token + user, the page, its tags (permissions come from the cache)
    with django_assert_num_queries(3):
        client.get(tickets_url())
    for i in range(29):
        make_ticket(requester=customer, subject=f"u{i}")
    with django_assert_num_queries(3):
        response = client.get(tickets_url(), {"page_size": 30})
    assert len(response.json()["results"]) == 30


# --- reading one ticket ---------------------------------------------------------


def test_another_organisations_ticket_is_404(api_as, customer, other_customer):
    theirs = make_ticket(requester=other_customer)
    client = api_as(customer)
    before = rows_written()
    for response in (
        client.get(ticket_url(theirs)),
        client.patch(ticket_url(theirs), {"status": "solved"}, format="json"),
        client.get(messages_url(theirs)),
        client.post(messages_url(theirs), {"body": "Hello?"}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "Not found."}
    assert rows_written() == before
    # The same answer as for a key that does not exist.
    missing = client.get(reverse("api:ticket", kwargs={"key": "HD-987654321"}))
    assert (missing.status_code, missing.json()) == (404, {"error": "Not found."})


def test_staff_only_fields_are_left_out_for_customers(api_as, customer, agent, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    staff_view = api_as(agent).get(ticket_url(ticket)).json()
    customer_view = api_as(customer).get(ticket_url(ticket)).json()
    staff_only = {"needs_triage", "category_confidence", "sentiment"}
    assert set(staff_view) == {
        "key", "subject", "status", "priority", "category", "team", "assignee",
        "requester", "organization", "channel", "tier", "tags", "created_at",
        "updated_at", "first_response_at", "solved_at", "version", "url", *staff_only,
    }  # fmt: skip
    assert set(customer_view) == set(staff_view) - staff_only
    assert staff_view["team"] == {"id": access_team.pk, "slug": "access", "name": "Access"}


# --- changing a ticket -------------------------------------------------------------


def test_agent_changes_status_assignee_priority_and_tags(api_as, agent, customer, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    response = api_as(agent).patch(
        ticket_url(ticket),
        {"status": "open", "assignee": agent.pk, "priority": "high", "tags": ["VIP", "login"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "open"
    assert body["assignee"] == {"id": agent.pk, "name": agent.full_name}
    assert (body["priority"], body["tags"]) == ("high", ["login", "vip"])
    actions = set(ticket.events.filter(actor=agent).values_list("action", flat=True))
    assert actions >= {
        "ticket.assigned",
        "ticket.status_changed",
        "ticket.priority_changed",
        "ticket.tags_changed",
    }


def test_agent_unassigns_and_moves_category(api_as, agent, customer, access_team, billing_category):
    ticket = make_ticket(requester=customer, team=access_team)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    response = api_as(agent).patch(
        ticket_url(ticket), {"assignee": None, "category": "billing"}, format="json"
    )
    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.category) == (None, billing_category)


def test_customer_cannot_assign(api_as, customer, agent, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    before = rows_written()
    response = api_as(customer).patch(ticket_url(ticket), {"assignee": agent.pk}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert rows_written() == before


def test_customer_solves_but_cannot_park_their_ticket(api_as, customer):
    ticket = make_ticket(requester=customer)
    client = api_as(customer)
    refused = client.patch(ticket_url(ticket), {"status": "pending"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["field"] == "status"
    solved = client.patch(ticket_url(ticket), {"status": "solved"}, format="json")
    assert solved.status_code == 200
    assert solved.json()["status"] == "solved"
    assert solved.json()["solved_at"] is not None


def test_a_refused_change_writes_nothing(api_as, agent, customer, access_team):
    # Assigning would succeed; the impossible status refuses it all.
    ticket = make_ticket(requester=customer, team=access_team)
    before = rows_written()
    response = api_as(agent).patch(
        ticket_url(ticket), {"assignee": agent.pk, "status": "closed"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "status"
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, "new")
    assert rows_written() == before


def test_a_change_based_on_an_old_version_is_409(api_as, agent, manager, customer, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    client = api_as(agent)
    version = client.get(ticket_url(ticket)).json()["version"]
    services.ticket_update(ticket=ticket, actor=manager, priority="urgent")
    response = client.patch(
        ticket_url(ticket), {"priority": "low", "version": version}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert "Maggie Manager" in response.json()["error"]
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"


@pytest.mark.parametrize(
    ("payload", "bad"),
    [
        ({"status": "done"}, "status"),
        ({"assignee": "alice"}, "assignee"),
        ({"team": "nowhere"}, "team"),
        ({"tags": "not-a-list"}, "tags"),
    ],
)
def test_invalid_changes_are_400_naming_the_field(api_as, agent, customer, payload, bad):
    ticket = make_ticket(requester=customer)
    response = api_as(agent).patch(ticket_url(ticket), payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [bad]


def test_a_customer_is_not_an_assignee(api_as, agent, customer, colleague):
    ticket = make_ticket(requester=customer)
    response = api_as(agent).patch(ticket_url(ticket), {"assignee": colleague.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["assignee"]


# --- the conversation ---------------------------------------------------------------


def test_customer_reply_reopens_a_pending_ticket(api_as, customer, agent, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    services.ticket_reply(ticket=ticket, author=agent, body="Does it work now?", status="pending")
    response = api_as(customer).post(messages_url(ticket), {"body": "Still broken."}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["body"], body["is_internal"], body["channel"]) == ("Still broken.", False, "api")
    assert body["author"] == {"id": customer.pk, "name": customer.full_name}
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_agent_replies_with_an_attachment_and_a_status(api_as, agent, customer, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    response = api_as(agent).post(
        messages_url(ticket),
        {"body": "Here is the guide.", "status": "pending", "attachments": [upload("guide.txt")]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert [a["filename"] for a in response.json()["attachments"]] == ["guide.txt"]
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.first_response_at is not None


def test_customer_cannot_write_internal_notes(api_as, customer):
    ticket = make_ticket(requester=customer)
    before = rows_written()
    response = api_as(customer).post(
        messages_url(ticket), {"body": "psst", "is_internal": True}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["field"] == "is_internal"
    assert rows_written() == before


def test_customers_never_see_internal_notes(api_as, customer, agent, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    services.ticket_reply(ticket=ticket, author=agent, body="We are on it.")
    note = services.ticket_reply(
        ticket=ticket,
        author=agent,
        body="Customer is on the legacy plan.",
        is_internal=True,
        attachments=[upload("plan.txt")],
    )
    staff_view = api_as(agent).get(messages_url(ticket)).json()["results"]
    customer_view = api_as(customer).get(messages_url(ticket)).json()["results"]
    assert [m["is_internal"] for m in staff_view] == [False, False, True]
    assert [m["body"] for m in customer_view] == [
        "It says my password is wrong.",
        "We are on it.",
    ]
    # Nor the files attached to them.
    note_file = reverse("api:attachment", kwargs={"pk": note.attachments.get().pk})
    assert api_as(customer).get(note_file).status_code == 404
    download = api_as(agent).get(note_file)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"line one\n"


def test_conversation_pages_and_constant_queries(
    api_as, customer, agent, access_team, django_assert_num_queries, warm_caches
):
    ticket = make_ticket(requester=customer, team=access_team)
    client = api_as(agent)
    warm_caches(agent)
    # token + user, the agent's teams, the ticket, the page of messages with
    # their authors, their attachments (permissions come from the cache)
    with django_assert_num_queries(5):
        client.get(messages_url(ticket))
    with time_machine.travel(NOON, tick=False):
        # Same instant for all: the id must order messages written together.
        for i in range(20):
            services.ticket_reply(
                ticket=ticket, author=agent, body=f"m{i}", attachments=[upload(f"{i}.txt")]
            )
    with django_assert_num_queries(5):
        everything = client.get(messages_url(ticket), {"page_size": 100}).json()
    assert len(everything["results"]) == 21 and everything["next"] is None
    seen, url, params = [], messages_url(ticket), {"page_size": 6}
    while url:
        page = client.get(url, params).json()
        seen += [m["id"] for m in page["results"]]
        url, params = page["next"], None
    assert seen == [m["id"] for m in everything["results"]]


def test_a_reply_to_a_closed_ticket_is_refused(api_as, customer, agent, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    services.ticket_change_status(ticket=ticket, status=Status.CLOSED, actor=agent)
    response = api_as(customer).post(messages_url(ticket), {"body": "Hello?"}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "body"


# --- categories, teams, agents ---------------------------------------------------------


def test_categories_and_teams_are_listed_for_everyone(
    api_as, customer, login_category, billing_category, django_assert_num_queries
):
    client = api_as(customer)
    # token + user, the categories with their default teams
    with django_assert_num_queries(2):
        categories = client.get(reverse("api:categories"))
    assert categories.status_code == 200
    assert [c["slug"] for c in categories.json()] == ["billing", "login"]
    assert categories.json()[1]["default_team"]["slug"] == "access"
    teams = client.get(reverse("api:teams"))
    assert [t["slug"] for t in teams.json()] == ["access", "billing"]


def test_agents_are_listed_for_staff_only(
    api_as, customer, agent, other_agent, manager, django_assert_num_queries, warm_caches
):
    refused = api_as(customer).get(reverse("api:agents"))
    assert refused.status_code == 403
    assert refused.json() == {"error": "Only helpdesk staff can see this."}
    client = api_as(agent)
    warm_caches(agent)
    # token + user, the agents, their teams (permissions come from the cache)
    with django_assert_num_queries(3):
        response = client.get(reverse("api:agents"))
    listed = {a["email"]: a for a in response.json()}
    assert set(listed) == {agent.email, other_agent.email, manager.email}
    assert [t["slug"] for t in listed[agent.email]["teams"]] == ["access"]
    assert listed[other_agent.email]["tier"] == 1


# --- rate limits -------------------------------------------------------------------


def test_requests_over_the_rate_are_429(api_as, customer, colleague, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "2/min"},
    }
    client = api_as(customer)
    assert [client.get(tickets_url()).status_code for _ in range(2)] == [200, 200]
    response = client.get(tickets_url())
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"].startswith("Request was throttled")
    # The limit is per person.
    assert api_as(colleague).get(tickets_url()).status_code == 200


# --- the api_token command ----------------------------------------------------------


def _token(*args) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_api_token_prints_the_same_token_until_rotated(customer):
    first = _token(customer.email.upper())
    assert Token.objects.get(user=customer).key == first
    assert _token(customer.email) == first
    rotated = _token(customer.email, "--rotate")
    assert rotated != first
    old, new = APIClient(), APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    new.credentials(HTTP_AUTHORIZATION=f"Token {rotated}")
    assert old.get(tickets_url()).status_code == 401
    assert new.get(tickets_url()).status_code == 200


def test_api_token_refuses_unknown_and_disabled_people(db):
    with pytest.raises(CommandError, match="No user"):
        _token("nobody@example.test")
    gone = make_user(Role.CUSTOMER, email="gone@example.test")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="disabled"):
        _token("gone@example.test")
    assert not Token.objects.exists()


# --- bad input and the schema's promises ----------------------------------------------


@pytest.mark.parametrize("sort", list(queues.SORTS))
@pytest.mark.parametrize("cursor", ["5", "n_5", "1773144000000000_5"])
def test_every_cursor_the_schema_allows_is_read_in_every_sort(
    api_as, agent, customer, access_team, sort, cursor
):
    """The schema documents the cursors' shape (queues.CURSOR_PATTERN); any
    cursor of that shape is a position in any sort, never a 400."""
    make_ticket(requester=customer, team=access_team)
    response = api_as(agent).get(tickets_url(), {"sort": sort, "cursor": cursor})
    assert response.status_code == 200, response.json()


@time_machine.travel(NOON, tick=False)
def test_search_takes_a_sort_and_a_cursor(api_as, agent, customer, access_team):
    """The issue: `q` with `cursor` was refused although the schema allows it.
    The matches come in one page (sorted as asked); the page after it is empty."""
    first = make_ticket(requester=customer, subject="Refund twice", team=access_team)
    second = make_ticket(requester=customer, subject="Refund again", team=access_team)
    client = api_as(agent)
    oldest = client.get(tickets_url(), {"q": "refund", "sort": "oldest"})
    assert oldest.status_code == 200, oldest.json()
    assert keys(oldest) == [first.key, second.key]
    assert oldest.json()["next"] is None
    after = client.get(tickets_url(), {"q": "refund", "cursor": str(second.pk)})
    assert after.status_code == 200, after.json()
    assert after.json() == {"next": None, "results": []}


def test_an_empty_change_answers_the_ticket_as_it_is(api_as, agent, customer, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    before = rows_written()
    response = api_as(agent).patch(ticket_url(ticket), {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["key"] == ticket.key
    assert rows_written() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"version": "1000000000000000000"}, "version"),  # OverflowError in check_version
        ({"version": "²"}, "version"),
        ({"subject": 5}, "subject"),  # the schema says string
        ({"category": "\x00"}, "category"),  # a NUL reached PostgreSQL
        ({"team": "²"}, "team"),
        ({"subject": "\ud800"}, "subject"),  # JSON can spell a lone surrogate
        ({"tags": ["ok", "\x00"]}, "tags"),
    ],
)
def test_bad_changes_are_400_naming_the_field(api_as, agent, customer, access_team, payload, field):
    ticket = make_ticket(requester=customer, team=access_team)
    # json.dumps spells a lone surrogate as "\ud800", as a client's JSON would.
    response = api_as(agent).patch(
        ticket_url(ticket), json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [field]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "Hi", "version": "1000000000000000000"}, "version"),
        ({"body": "Hi", "is_internal": "yes"}, "is_internal"),  # the schema says boolean
        ({"body": "\ud800"}, "body"),
    ],
)
def test_bad_replies_are_400_naming_the_field(api_as, agent, customer, access_team, payload, field):
    ticket = make_ticket(requester=customer, team=access_team)
    response = api_as(agent).post(
        messages_url(ticket), json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [field]


@pytest.mark.parametrize("requester", ["²", "①", "99999999999999999999999"])
def test_a_requester_in_unicode_digits_names_no_customer(api_as, agent, requester):
    response = api_as(agent).post(
        tickets_url(), {"subject": "s", "description": "d", "requester": requester}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "requester"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/attachments/null,null/", "/api/v1/nothing/", "/api/v2/tickets/", "/api/"],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_url_is_a_json_404(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found."}


def test_an_attachment_is_served_with_a_type_the_schema_lists(api_as, agent, customer, client):
    ticket = make_ticket(requester=customer)
    message = services.ticket_reply(
        ticket=ticket,
        author=agent,
        body="See attached.",
        attachments=[SimpleUploadedFile("a.csv", b"a,b\n", content_type="text/csv")],
    )
    response = api_as(customer).get(
        reverse("api:attachment", kwargs={"pk": message.attachments.get().pk})
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)
    operation = client.get(reverse("api:schema"), {"format": "json"}).json()["paths"][
        "/api/v1/attachments/{id}/"
    ]["get"]
    assert response["Content-Type"] in operation["responses"]["200"]["content"]


def test_a_body_past_the_size_limit_is_a_json_413(api_as, agent, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_as(agent).post(
        tickets_url(), {"subject": "s", "description": "d" * 2000}, format="json"
    )
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["error"]


def test_the_api_answers_json_only(api_as, agent):
    """The schema documents JSON; DRF's browsable HTML is not offered."""
    response = api_as(agent).get(tickets_url(), HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["error"]


@pytest.mark.parametrize("field", ["status", "is_internal"])
def test_an_empty_choice_in_a_form_body_is_refused_not_left_out(
    api_as, agent, customer, access_team, field
):
    """The schema (one for JSON and multipart) has no empty choice or boolean;
    DRF would read an empty form field as left out and accept it."""
    ticket = make_ticket(requester=customer, team=access_team)
    response = api_as(agent).post(messages_url(ticket), {"body": "Hi", field: ""})
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [field]
