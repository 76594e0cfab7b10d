"""The agent's day in a real browser: queue, filter, ticket, canned reply,
note, properties, merge, and the collision warning seen from two sessions."""

import pytest

from tests.conftest import wait_for
from tests.e2e.conftest import log_in
from tests.factories import make_ticket, make_user
from tickets.models import CannedResponse, Role, Ticket

pytestmark = pytest.mark.browser


def test_agent_works_queue_ticket_and_merge(
    page, agent, customer, colleague, access_team, login_category, password, screenshot_dir
):
    CannedResponse.objects.create(
        title="Password reset steps",
        team=access_team,
        body="Hi {requester_first_name}, use the reset link on the login page ({ticket_key}).",
    )
    ticket = make_ticket(
        requester=customer,
        subject="Locked out of my account",
        team=access_team,
        description="Login says my account is locked.",
    )
    duplicate = make_ticket(
        requester=colleague,
        subject="Account locked too",
        team=access_team,
        description="Same lock message here.",
    )
    make_ticket(requester=customer, subject="Invoice copy", team=access_team, priority="low")

    log_in(page, agent, password)
    page.get_by_role("link", name="Unassigned in my teams").click()
    page.get_by_text("Filters and sort").click()
    page.get_by_label("Priority", exact=True).select_option("normal")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**priority=normal**")
    assert page.get_by_role("link", name="Invoice copy").count() == 0
    page.screenshot(path=screenshot_dir / "queue-desktop.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=screenshot_dir / "queue-laptop.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.get_by_role("link", name=ticket.subject).click()
    page.get_by_role("heading", name=ticket.subject).wait_for()
    # The heading shows while the page is still parsed: ticket.js (deferred),
    # which inserts canned responses, runs only when it is complete.
    page.wait_for_load_state()

    # public reply from a canned response
    page.get_by_label("Canned response").select_option(label="Password reset steps")
    assert f"({ticket.key})" in page.get_by_label("Message").input_value()
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Reply sent.").wait_for()

    # internal note
    page.get_by_label("Message").fill("Account was locked by 5 failed attempts.")
    page.get_by_label("Internal note (staff only)").check()
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Note added.").wait_for()

    # properties edited in place (htmx saves on change)
    def saved_after(field, **option):
        with page.expect_response(lambda r: "/properties/" in r.url) as response:
            page.locator("#properties").get_by_label(field, exact=True).select_option(**option)
        assert response.value.status == 200
        page.locator("#properties .saved").wait_for()
        # the fields were swapped in place: the form is still the one on the page
        assert page.locator("form#properties").count() == 1

    saved_after("Status", value="pending")
    saved_after("Assignee", label=agent.full_name)
    saved_after("Category", label=login_category.name)
    page.screenshot(path=screenshot_dir / "ticket-desktop.png", full_page=True)

    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert ticket.assignee == agent
    assert ticket.category == login_category
    assert ticket.first_response_at is not None
    bodies = list(ticket.messages.values_list("is_internal", "body"))
    assert (False, f"Hi Carol, use the reset link on the login page ({ticket.key}).") in bodies
    assert (True, "Account was locked by 5 failed attempts.") in bodies

    # merge the duplicate into the ticket
    page.goto(duplicate.get_absolute_url())
    page.get_by_label("Merge this ticket into").fill(ticket.key)
    page.get_by_role("button", name="Merge into").click()
    page.get_by_text(f"{duplicate.key} was merged into {ticket.key}.").wait_for()
    assert page.get_by_text("Same lock message here.").is_visible()
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == ticket.pk and duplicate.status == "closed"


def test_collision_warning_in_two_sessions(
    browser, live_server, agent, customer, access_team, password
):
    bob = make_user(
        Role.AGENT, email="ben@helpdesk.test", full_name="Ben Second", teams=[access_team]
    )
    ticket = make_ticket(requester=customer, subject="Printer offline", team=access_team)
    contexts = []
    pages = []
    for user in (agent, bob):
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(20_000)
        contexts.append(context)
        pg = context.new_page()
        log_in(pg, user, password)
        pg.goto(ticket.get_absolute_url())
        pages.append(pg)
    alice_page, ben_page = pages
    try:
        # Ben starts typing: Alice is told he is replying, Ben sees Alice viewing.
        ben_page.get_by_label("Message").fill("Restarting the print spooler now")
        alice_page.get_by_text("Ben Second is replying to this ticket now").wait_for()
        ben_page.get_by_text("Alice Agent is viewing this ticket").wait_for()

        # Alice types on her (now stale) page while Ben sends his reply.
        alice_page.get_by_label("Message").fill("Please power-cycle the printer")
        ben_page.get_by_role("button", name="Send").click()
        ben_page.get_by_text("Reply sent.").wait_for()
        alice_page.get_by_role("button", name="Send").click()
        alice_page.get_by_text("changed while you were working on it").wait_for()
        assert alice_page.get_by_label("Message").input_value() == "Please power-cycle the printer"
        assert Ticket.objects.get(pk=ticket.pk).messages.count() == 2
        alice_page.get_by_role("button", name="Send anyway").click()
        alice_page.get_by_text("Reply sent.").wait_for()
        assert Ticket.objects.get(pk=ticket.pk).messages.count() == 3
    finally:
        for context in contexts:
            context.close()


def test_quick_property_changes_one_after_another_are_all_kept(
    page, agent, customer, access_team, password
):
    """Regression: changing status, priority and assignee quickly on the
    ticket page kept only the first change (the first save's answer replaced
    the fields, and the next changes were lost without a word)."""
    import time

    ticket = make_ticket(requester=customer, subject="Quick changes", team=access_team)
    log_in(page, agent, password)
    saves = []

    def slow_save(route):
        # Each save takes a while, so the next changes happen during it.
        saves.append(route.request.url)
        time.sleep(0.6)
        route.continue_()

    page.route("**/properties/", slow_save)
    page.goto(ticket.get_absolute_url())
    page.locator("#prop_status").select_option("pending")
    page.locator("#prop_priority").select_option("urgent")
    page.locator("#prop_assignee").select_option(str(agent.pk))
    expected = ("pending", "urgent", agent.pk)

    def stored():
        page.wait_for_timeout(100)  # lets the browser's saves run meanwhile
        saved = Ticket.objects.get(pk=ticket.pk)
        return (saved.status, saved.priority, saved.assignee_id) == expected

    wait_for(stored, timeout=15)
    assert len(saves) >= 2
