"""The ticket page's history reads in words (tickets/templatetags/ticket_history.py):
labels instead of codes, people by name, no raw message ids; the raw action
stays in each entry's title. What is stored does not change."""

import html
import re

import pytest
from django.urls import reverse

from tests.factories import make_ticket
from tickets import services
from tickets.history import record_event
from tickets.models import Status


def history_entries(client, ticket) -> list[tuple[str, str]]:
    """(title, text) of every entry of the history panel, oldest first."""
    page = client.get(reverse("tickets:detail", args=[ticket.key]))
    assert page.status_code == 200
    panel = re.search(r'<ol class="history">(.*?)</ol>', page.content.decode(), re.S)
    assert panel is not None
    entries = re.findall(r'<li title="([^"]*)"[^>]*>(.*?)</li>', panel.group(1), re.S)
    entries = [(title, re.sub(r"<time.*?</time>", "", body, flags=re.S)) for title, body in entries]
    return [
        (html.unescape(title), " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split()))
        for title, body in reversed(entries)
    ]


@pytest.fixture
def worked_ticket(agent, other_agent, customer, access_team, login_category):
    ticket = make_ticket(requester=customer, subject="Locked out", team=access_team)
    services.ticket_update(
        ticket=ticket,
        actor=None,
        priority="high",
        note="Raised to high: very negative tone",
    )
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    services.ticket_assign(ticket=ticket, assignee=other_agent, actor=agent)
    services.ticket_change_status(ticket=ticket, status=Status.OPEN, actor=agent)
    services.ticket_set_tags(ticket=ticket, tags="vpn", actor=agent)
    services.ticket_reply(ticket=ticket, author=agent, body="Try again now.", channel="agent")
    services.ticket_reply(
        ticket=ticket, author=agent, body="Checked the logs.", is_internal=True, channel="agent"
    )
    record_event(
        ticket,
        actor=None,
        action="ticket.triage_needed",
        field="needs_triage",
        old=False,
        new=True,
        note="Category unclear (41 % confident)",
    )
    record_event(ticket, actor=None, action="ticket.tier_changed", field="tier", old=1, new=2)
    record_event(
        ticket,
        actor=None,
        action="sla.warning",
        field="first_response",
        new="2025-03-04 10:00 UTC",
        note="SLA First response warning, due 2025-03-04 10:00 UTC",
    )
    record_event(
        ticket,
        actor=None,
        action="mail.failed",
        field="email",
        new=customer.email,
        note="Not sent (ticket.reply, 8 attempts): 550 mailbox unavailable",
    )
    return ticket


def test_history_reads_in_words(client, agent, worked_ticket):
    client.force_login(agent)
    entries = history_entries(client, worked_ticket)
    texts = [text for _, text in entries]
    assert texts == [
        "Ticket opened via Customer portal by Carol Customer",
        "Priority changed from Normal to High \u2014 Raised to high: very negative tone "
        "by the system",
        "Assigned to Alice Agent by Alice Agent",
        "Reassigned from Alice Agent to Bob Agent by Alice Agent",
        "Status changed from New to Open by Alice Agent",
        "Tag \u201cvpn\u201d added by Alice Agent",
        "Reply added by Alice Agent",
        "First response sent by Alice Agent",
        "Internal note added by Alice Agent",
        "Sent to triage \u2014 Category unclear (41 % confident) by the system",
        "Support tier changed from Tier 1 (first line) to Tier 2 (technical) by the system",
        "SLA warning: first response due 2025-03-04 10:00 UTC by the system",
        "The reply e-mail to carol@acme.example could not be sent after 8 attempts: "
        "550 mailbox unavailable by the system",
    ]
    joined = " ".join(texts)
    # no codes, no staff e-mail addresses, no raw booleans or message ids
    for raw in ("ticket.", "needs_triage", "False", "True", "@helpdesk.test", "→"):
        assert raw not in joined


def test_history_keeps_the_raw_action_for_power_users(client, agent, worked_ticket):
    client.force_login(agent)
    titles = [title for title, _ in history_entries(client, worked_ticket)]
    assert titles[1] == "ticket.priority_changed priority: normal → high"
    assert titles[2] == "ticket.assigned assignee: — → alice@helpdesk.test"
    # what is stored is unchanged
    stored = worked_ticket.events.get(action="ticket.assigned", old_value="")
    assert stored.new_value == "alice@helpdesk.test"


def test_history_links_messages_and_tickets_instead_of_ids(
    client, agent, customer, access_team, worked_ticket
):
    duplicate = make_ticket(requester=customer, subject="Locked out again", team=access_team)
    services.ticket_merge(source=duplicate, target=worked_ticket, actor=agent)
    client.force_login(agent)
    page = client.get(reverse("tickets:detail", args=[worked_ticket.key])).content.decode()
    reply = worked_ticket.messages.get(body="Try again now.")
    assert f'<a href="#m{reply.pk}">Reply added</a>' in page
    assert f'id="m{reply.pk}"' in page
    merged = f'<a href="{duplicate.get_absolute_url()}">{duplicate.key}</a> merged into this ticket'
    assert merged in page
    texts = [text for _, text in history_entries(client, duplicate)]
    assert f"Merged into {worked_ticket.key} by Alice Agent" in texts
    assert (
        f"Status changed from New to Closed \u2014 Merged into {worked_ticket.key} by Alice Agent"
        in texts
    )


def test_a_person_no_longer_on_the_staff_list_shows_as_stored(client, agent, customer):
    ticket = make_ticket(requester=customer, subject="Old history")
    record_event(
        ticket,
        actor=None,
        action="ticket.unassigned",
        field="assignee",
        old="gone@helpdesk.test",
        new="",
    )
    client.force_login(agent)
    texts = [text for _, text in history_entries(client, ticket)]
    assert texts[-1] == "Unassigned (was gone@helpdesk.test) by the system"
