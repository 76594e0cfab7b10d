"""The agent workspace's writes: tags, properties in place, links, merges,
optimistic concurrency, canned responses, presence, bulk actions, saved views."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_ticket, make_user
from tickets import canned, presence, services
from tickets.errors import DomainError
from tickets.models import CannedResponse, Role, SavedView, Status, Ticket


@pytest.fixture
def ticket(customer, access_team):
    return make_ticket(requester=customer, subject="Cannot log in", team=access_team)


# --- tags -------------------------------------------------------------------


def test_tags_are_normalised_and_recorded(ticket, agent):
    services.ticket_set_tags(ticket=ticket, tags="VPN,  Login issue , vpn", actor=agent)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["login issue", "vpn"]
    services.ticket_set_tags(ticket=ticket, tags="vpn", actor=agent)
    assert list(ticket.tags.values_list("name", flat=True)) == ["vpn"]
    rows = list(ticket.events.filter(field="tags").values_list("action", "old_value", "new_value"))
    # One event per edit, with the tags before and after (not one per tag
    # with an empty "before").
    assert rows == [
        ("ticket.tags_changed", "", "login issue, vpn"),
        ("ticket.tags_changed", "login issue, vpn", "vpn"),
    ]


def test_customers_cannot_tag(ticket, customer):
    with pytest.raises(DomainError):
        services.ticket_set_tags(ticket=ticket, tags="x", actor=customer)


# --- properties and optimistic concurrency ----------------------------------------


def test_properties_apply_together(ticket, agent, login_category):
    version = services.ticket_version(ticket)
    services.ticket_set_properties(
        ticket=ticket,
        actor=agent,
        expected_version=version,
        status=Status.OPEN,
        priority="high",
        category=login_category,
        team=ticket.team,
        assignee=agent,
        tags="vip",
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.category, ticket.assignee) == (
        "open",
        "high",
        login_category,
        agent,
    )


def test_stale_properties_from_another_agent_are_refused(ticket, agent, manager):
    version = services.ticket_version(ticket)
    services.ticket_update(ticket=ticket, actor=manager, priority="urgent")
    with pytest.raises(services.StaleTicket, match="Maggie Manager"):
        services.ticket_set_properties(
            ticket=ticket, actor=agent, expected_version=version, priority="low"
        )
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"


def test_own_changes_and_system_changes_are_not_conflicts(ticket, agent, send_queued_mail):
    version = services.ticket_version(ticket)
    services.mail_queue([services.acknowledgement(ticket)])
    send_queued_mail()  # acknowledged: a change by the system
    services.ticket_update(ticket=ticket, actor=agent, priority="high")
    services.ticket_reply(ticket=ticket, author=agent, body="On it", expected_version=version)


def test_stale_reply_is_refused_then_sent_when_confirmed(client, ticket, agent, manager):
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url())
    version = page.context["reply_form"]["version"].value()
    services.ticket_reply(ticket=ticket, author=manager, body="I answered already")
    url = reverse("tickets:reply", args=[ticket.key])
    response = client.post(url, {"body": "My answer", "version": version})
    assert response.status_code == 400
    assert b"changed while you were working on it" in response.content
    assert b"My answer" in response.content  # nothing typed is lost
    assert b"Send anyway" in response.content
    form = response.context["reply_form"]
    assert form["confirm_stale"].value() in (True, "1")
    client.post(
        url, {"body": "My answer", "version": form["version"].value(), "confirm_stale": "1"}
    )
    assert ticket.messages.filter(body="My answer").count() == 1


def test_properties_view_in_place_returns_fragment(client, ticket, agent):
    client.force_login(agent)
    data = {
        "version": services.ticket_version(ticket),
        "status": "open",
        "priority": "urgent",
        "category": "",
        "team": ticket.team_id,
        "assignee": agent.pk,
        "tags": "vpn",
    }
    response = client.post(
        reverse("tickets:properties", args=[ticket.key]), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b'name="priority"' in response.content and b"Saved" in response.content
    assert b"<html" not in response.content
    # the header badges are refreshed out of band
    assert b'id="ticket-badges" hx-swap-oob="true"' in response.content
    ticket.refresh_from_db()
    assert ticket.priority == "urgent" and ticket.assignee == agent


def test_properties_view_refuses_bad_input(client, ticket, agent):
    client.force_login(agent)
    data = {
        "version": services.ticket_version(ticket),
        "status": "closed",
        "priority": "urgent",
        "team": ticket.team_id,
    }
    response = client.post(
        reverse("tickets:properties", args=[ticket.key]), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert b"cannot become closed" in response.content
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_properties_view_forbidden_to_customers(client, ticket, customer):
    client.force_login(customer)
    response = client.post(reverse("tickets:properties", args=[ticket.key]), {})
    assert response.status_code == 403


# --- links and merges -------------------------------------------------------------


def test_link_child_to_parent_and_refuse_cycles(ticket, customer, agent, access_team):
    parent = make_ticket(requester=customer, subject="Outage", team=access_team)
    services.ticket_link(child=ticket, parent=parent, actor=agent)
    ticket.refresh_from_db()
    assert ticket.parent == parent
    with pytest.raises(DomainError, match="already below"):
        services.ticket_link(child=parent, parent=ticket, actor=agent)
    with pytest.raises(DomainError):
        services.ticket_link(child=ticket, parent=ticket, actor=agent)
    services.ticket_link(child=ticket, parent=None, actor=agent)
    ticket.refresh_from_db()
    assert ticket.parent is None
    assert {"ticket.linked", "ticket.unlinked"} <= set(
        ticket.events.values_list("action", flat=True)
    )


def test_merge_moves_messages_closes_source_and_tells_requester(
    ticket, colleague, agent, access_team, django_capture_on_commit_callbacks, celery_eager
):
    duplicate = make_ticket(
        requester=colleague,
        subject="Login broken",
        team=access_team,
        description="Same problem here",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_merge(source=duplicate, target=ticket, actor=agent)
    duplicate.refresh_from_db()
    assert duplicate.status == Status.CLOSED and duplicate.merged_into == ticket
    bodies = list(ticket.messages.values_list("body", flat=True))
    assert "Same problem here" in bodies
    assert any("was merged into this ticket" in b for b in bodies)
    notice = duplicate.messages.get()
    assert not notice.is_internal and ticket.key in notice.body
    # the source's requester is e-mailed the notice
    assert [m.to for m in mail.outbox] == [[colleague.email]]
    assert ticket.key in mail.outbox[0].body
    with pytest.raises(DomainError, match="already merged"):
        services.ticket_merge(source=duplicate, target=ticket, actor=agent)


def test_merge_refusals(ticket, agent, customer):
    with pytest.raises(DomainError):
        services.ticket_merge(source=ticket, target=ticket, actor=agent)
    with pytest.raises(DomainError):
        other = make_ticket(requester=customer)
        services.ticket_merge(source=other, target=ticket, actor=customer)


def test_merge_view_needs_a_visible_target(client, ticket, agent, other_customer, billing_team):
    hidden = make_ticket(requester=other_customer, team=billing_team)
    client.force_login(agent)
    response = client.post(reverse("tickets:merge", args=[ticket.key]), {"key": hidden.key})
    assert response.status_code == 400
    assert f"No ticket {hidden.key} that you can see".encode() in response.content
    ticket.refresh_from_db()
    assert ticket.merged_into is None


def test_staff_public_reply_is_emailed_once(
    ticket, agent, django_capture_on_commit_callbacks, celery_eager, send_queued_mail
):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.ticket_reply(ticket=ticket, author=agent, body="Try again now")
        services.ticket_reply(ticket=ticket, author=agent, body="note", is_internal=True)
    assert len(mail.outbox) == 1 and "Try again now" in mail.outbox[0].body
    message.refresh_from_db()
    assert message.emailed_at is not None
    assert send_queued_mail().sent == []  # nothing owed any more


# --- canned responses ---------------------------------------------------------------


def test_canned_responses_personal_and_team(ticket, agent, other_agent, access_team):
    team_reply = CannedResponse.objects.create(
        title="Reset",
        team=access_team,
        body="Hi {requester_first_name}, about {ticket_key}: reset via the link. {unknown} "
        "-- {agent_name}",
    )
    CannedResponse.objects.create(title="Mine", owner=agent, body="x")
    CannedResponse.objects.create(title="Bob's", owner=other_agent, body="y")
    assert [c.title for c in canned.canned_responses_for(agent)] == ["Mine", "Reset"]
    text = canned.render_canned(team_reply.body, ticket=ticket, agent=agent)
    assert text == f"Hi Carol, about {ticket.key}: reset via the link. {{unknown}} -- Alice Agent"


def test_canned_response_must_be_team_or_personal(access_team, agent):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CannedResponse.objects.create(title="both", body="x", team=access_team, owner=agent)


# --- presence -----------------------------------------------------------------------


def test_presence_shows_the_other_agents(ticket, agent, manager):
    assert presence.presence_report(ticket_id=ticket.pk, user=agent, state="viewing") == []
    others = presence.presence_report(ticket_id=ticket.pk, user=manager, state="replying")
    assert [(o["name"], o["state"]) for o in others] == [("Alice Agent", "viewing")]
    others = presence.presence_report(ticket_id=ticket.pk, user=agent, state="viewing")
    assert [(o["name"], o["state"]) for o in others] == [("Maggie Manager", "replying")]
    presence.presence_leave(ticket_id=ticket.pk, user=manager)
    assert presence.presence_report(ticket_id=ticket.pk, user=agent, state="viewing") == []


def test_presence_view_warns_and_reports_changes(client, ticket, agent, manager):
    client.force_login(manager)
    client.post(reverse("tickets:presence", args=[ticket.key]), {"state": "replying"})
    client.force_login(agent)
    version = services.ticket_version(ticket)
    response = client.post(
        reverse("tickets:presence", args=[ticket.key]), {"state": "viewing", "version": version}
    )
    assert b"Maggie Manager</strong> is replying" in response.content
    assert b"was updated since" not in response.content
    services.ticket_update(ticket=ticket, actor=manager, priority="high")
    response = client.post(
        reverse("tickets:presence", args=[ticket.key]), {"state": "viewing", "version": version}
    )
    assert b"was updated since you opened it" in response.content


# --- bulk actions and saved views -------------------------------------------------------


def test_bulk_actions(client, agent, customer, access_team):
    tickets = [make_ticket(requester=customer, subject=f"t{i}", team=access_team) for i in range(3)]
    ids = [t.pk for t in tickets]
    client.force_login(agent)
    url = reverse("tickets:bulk")
    client.post(url, {"action": "assign", "assign": "me", "ticket": ids})
    client.post(url, {"action": "priority", "priority": "high", "ticket": ids})
    client.post(url, {"action": "tag", "tag": "Outage", "ticket": ids})
    client.post(url, {"action": "status", "status": "pending", "ticket": ids[:2]})
    rows = Ticket.objects.filter(pk__in=ids).order_by("id")
    assert {(t.assignee_id, t.priority) for t in rows} == {(agent.pk, "high")}
    assert [t.status for t in rows] == ["pending", "pending", "new"]
    assert all(t.tags.filter(name="outage").exists() for t in rows)
    response = client.post(url, {"action": "merge", "ticket": ids}, follow=True)
    assert b"2 ticket(s) updated" in response.content or b"3 ticket(s) updated" in response.content
    assert set(Ticket.objects.filter(merged_into=tickets[0]).values_list("pk", flat=True)) == set(
        ids[1:]
    )


def test_bulk_reports_refusals_and_ignores_invisible(
    client, agent, customer, other_customer, access_team, billing_team
):
    mine = make_ticket(requester=customer, team=access_team)
    solved = make_ticket(requester=customer, team=access_team)
    services.ticket_change_status(ticket=solved, status="solved", actor=agent)
    hidden = make_ticket(requester=other_customer, team=billing_team)
    client.force_login(agent)
    response = client.post(
        reverse("tickets:bulk"),
        {"action": "assign", "assign": "me", "ticket": [mine.pk, solved.pk, hidden.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert "1 ticket(s) updated" in body
    assert f"{solved.key}: Solved and closed tickets cannot be reassigned." in body
    hidden.refresh_from_db()
    assert hidden.assignee is None
    bad = client.post(
        reverse("tickets:bulk"),
        {"action": "status", "status": "x", "ticket": [mine.pk]},
        follow=True,
    )
    assert b"Choose a status." in bad.content


def test_bulk_forbidden_to_customers(client, customer):
    client.force_login(customer)
    assert client.post(reverse("tickets:bulk"), {"action": "status"}).status_code == 403


def test_saved_views_are_personal(client, agent, other_agent):
    client.force_login(agent)
    client.post(
        reverse("tickets:view_create"), {"name": "Urgent", "query": "queue=team&priority=urgent"}
    )
    view = SavedView.objects.get(owner=agent)
    page = client.get(reverse("tickets:list"))
    assert b"?queue=team&amp;priority=urgent" in page.content
    client.force_login(other_agent)
    assert b"queue=team&amp;priority=urgent" not in client.get(reverse("tickets:list")).content
    assert client.post(reverse("tickets:view_delete", args=[view.pk])).status_code == 404
    client.force_login(agent)
    client.post(reverse("tickets:view_delete", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_agent_load(client, agent, customer, access_team):
    for status in ("new", "pending", "pending"):
        t = make_ticket(requester=customer, team=access_team)
        services.ticket_assign(ticket=t, assignee=agent, actor=agent)
        if status != "new":
            services.ticket_change_status(ticket=t, status=status, actor=agent)
    client.force_login(agent)
    load = client.get(reverse("tickets:list")).context["load"]
    assert (load.open, load.pending, load.on_hold, load.capacity) == (1, 2, 0, 10)


def test_tag_filter(client, agent, customer, access_team):
    a = make_ticket(requester=customer, team=access_team, subject="a")
    make_ticket(requester=customer, team=access_team, subject="b")
    services.ticket_set_tags(ticket=a, tags="vpn", actor=agent)
    client.force_login(agent)
    response = client.get(reverse("tickets:list"), {"queue": "team", "tag": "VPN"})
    assert [t.subject for t in response.context["tickets"]] == ["a"]


def test_make_user_manager_for_bulk(db):
    assert make_user(Role.MANAGER).has_perm("tickets.work_tickets")


WORKSPACE_URLS = ("tickets:properties", "tickets:link", "tickets:merge", "tickets:presence")


@pytest.mark.parametrize("name", WORKSPACE_URLS)
def test_workspace_urls_are_404_for_other_team_and_other_org(
    client, ticket, other_agent, other_customer, name
):
    for intruder in (other_agent, other_customer):
        client.force_login(intruder)
        response = client.post(reverse(name, args=[ticket.key]), {"key": ticket.key})
        assert response.status_code == 404, (intruder, name)


@pytest.mark.parametrize("name", WORKSPACE_URLS)
def test_workspace_urls_are_403_for_the_requester(client, ticket, customer, name):
    client.force_login(customer)
    assert client.post(reverse(name, args=[ticket.key]), {}).status_code == 403


# --- the ticket page ---------------------------------------------------------


def test_ticket_page_runs_constant_queries(
    client, ticket, agent, customer, access_team, django_assert_num_queries, warm_caches
):
    client.force_login(agent)
    url = ticket.get_absolute_url()
    warm_caches(agent)
    # user, teams (access helper), the ticket, its messages, the requester's
    # other tickets with the linked reports (one statement), the tags, the
    # canned responses, the SLA clock, the escalations, the history (session,
    # permissions and names come from the cache; attachments and the incident
    # are read only for a ticket that has them).
    with django_assert_num_queries(10):
        assert client.get(url).status_code == 200
    for i in range(20):
        services.ticket_reply(ticket=ticket, author=customer, body=f"more {i}")
    for i in range(5):
        other = make_ticket(requester=customer, subject=f"other {i}", team=access_team)
        if i < 3:
            services.ticket_link(child=other, parent=ticket, actor=agent)
    with django_assert_num_queries(10):
        page = client.get(url)
    assert page.content.count(b'class="msg ') == 21
    assert len(page.context["children"]) == 3
    assert len(page.context["requester_open"]) == 5
    # Messages with files: their attachments, in one query.
    for name in ("a.txt", "b.txt"):
        upload = SimpleUploadedFile(name, b"log line\n", content_type="text/plain")
        services.ticket_reply(ticket=ticket, author=customer, body="log", attachments=[upload])
    with django_assert_num_queries(11):
        page = client.get(url)
    assert b"a.txt" in page.content and b"b.txt" in page.content
