"""Keyboard shortcuts and reply drafts in the agent workspace (static/helpdesk/workspace.js),
driven in a real browser."""

import pytest

from tests.e2e.conftest import log_in
from tests.factories import make_ticket

pytestmark = pytest.mark.browser

ROWS = "table.tickets tr[data-row]"


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def _draft(page, ticket, user):
    return page.evaluate("key => window.localStorage.getItem(key)", f"draft:{ticket.key}:{user.pk}")


def _wait_for_draft_saved(page, ticket, user):
    # The save is debounced: wait for it instead of sleeping.
    page.wait_for_function(
        "key => window.localStorage.getItem(key) !== null", arg=f"draft:{ticket.key}:{user.pk}"
    )


def test_question_mark_opens_the_help_and_escape_closes_it(
    page, live_server, agent, password, screenshot_dir
):
    # No CDN at run time: every request stays on the live server.
    elsewhere = []

    def note_foreign(request):
        if not request.url.startswith(live_server.url):
            elsewhere.append(request.url)

    page.on("request", note_foreign)
    log_in(page, agent, password)
    # The vendored htmx is the one that runs.
    assert page.evaluate("window.htmx && window.htmx.version").startswith("2.0.")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    assert not dialog.is_visible()

    page.keyboard.press("?")
    dialog.wait_for(state="visible")
    assert dialog.get_attribute("aria-modal") == "true"
    assert dialog.get_by_text("Add an internal note").is_visible()
    page.screenshot(path=screenshot_dir / "shortcuts-help.png")

    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # "?" toggles, and the close button closes too.
    page.keyboard.press("?")
    dialog.wait_for(state="visible")
    page.keyboard.press("?")
    dialog.wait_for(state="hidden")
    page.keyboard.press("?")
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    assert elsewhere == []


def test_customer_gets_no_help_overlay(page, customer, password):
    log_in(page, customer, password, landing_heading="My tickets")
    page.keyboard.press("?")
    assert page.get_by_role("dialog").count() == 0


def test_walking_a_queue_with_the_keyboard(
    page, agent, customer, access_team, password, screenshot_dir
):
    for subject in ("VPN drops every hour", "Cannot reset MFA", "Locked out of SSO"):
        make_ticket(requester=customer, subject=subject, team=access_team)
    log_in(page, agent, password)
    page.goto("/tickets/?queue=team")
    hrefs = page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.href)")
    assert len(hrefs) == 3

    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator(f"{ROWS}.is-selected").get_attribute("data-href") == hrefs[1]
    page.screenshot(path=screenshot_dir / "queue-keyboard-selection.png")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{hrefs[1]}")

    # On the ticket page j/k follow the queue the agent came from.
    page.keyboard.press("j")
    page.wait_for_url(f"**{hrefs[2]}")
    page.keyboard.press("k")
    page.wait_for_url(f"**{hrefs[1]}")

    # Back to that queue, with the ticket just left still highlighted.
    page.keyboard.press("g")
    page.keyboard.press("q")
    page.wait_for_url("**/tickets/?queue=team")
    assert page.locator(f"{ROWS}.is-selected").get_attribute("data-href") == hrefs[1]
    page.keyboard.press("k")
    page.keyboard.press("o")
    page.wait_for_url(f"**{hrefs[0]}")
    page.keyboard.press("u")
    page.wait_for_url("**/tickets/?queue=team")


def test_n_and_r_choose_note_or_reply(page, agent, customer, access_team, password):
    ticket = make_ticket(requester=customer, subject="Printer offline", team=access_team)
    log_in(page, agent, password)
    page.goto(ticket.get_absolute_url())
    internal = page.locator("#reply_is_internal")

    page.keyboard.press("n")
    assert _focused_id(page) == "reply_body"
    assert internal.is_checked()

    # Letters go into the text while typing; Escape leaves the field.
    page.keyboard.type("jk")
    assert page.locator("#reply_body").input_value() == "jk"
    page.keyboard.press("Escape")
    assert _focused_id(page) != "reply_body"

    page.keyboard.press("r")
    assert _focused_id(page) == "reply_body"
    assert not internal.is_checked()

    page.keyboard.press("Escape")
    page.keyboard.press("s")
    # The ticket's own status select (not the reply form's "then set status").
    assert _focused_id(page) in {"id_status", "prop_status"}

    # "/" jumps to the header search box without typing the slash into it.
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search tickets")
    assert search.evaluate("el => el === document.activeElement")
    assert search.input_value() == ""


def test_draft_survives_leaving_the_page_and_goes_once_sent(
    page, agent, customer, access_team, password, screenshot_dir
):
    ticket = make_ticket(requester=customer, subject="Shared drive is read-only", team=access_team)
    log_in(page, agent, password)
    page.goto(ticket.get_absolute_url())

    page.keyboard.press("n")
    page.keyboard.type("Checked the ACLs: the group lost write access on Friday.")
    _wait_for_draft_saved(page, ticket, agent)

    page.goto("/tickets/")
    page.goto(ticket.get_absolute_url())
    assert page.get_by_text("Draft restored").is_visible()
    body = page.locator("#reply_body")
    assert body.input_value() == "Checked the ACLs: the group lost write access on Friday."
    assert page.locator("#reply_is_internal").is_checked()
    page.locator("#reply-form").screenshot(path=screenshot_dir / "reply-draft-restored.png")

    # Ctrl+Enter sends it; the draft is gone afterwards.
    body.focus()
    page.keyboard.press("Control+Enter")
    page.get_by_text("Note added.").wait_for()
    assert ticket.messages.filter(is_internal=True).count() == 1
    assert _draft(page, ticket, agent) is None

    page.goto("/tickets/")
    page.goto(ticket.get_absolute_url())
    assert page.locator("#reply_body").input_value() == ""
    assert page.get_by_text("Draft restored").count() == 0


def test_draft_typed_just_before_leaving_is_kept(page, agent, customer, access_team, password):
    ticket = make_ticket(requester=customer, subject="Laptop will not boot", team=access_team)
    log_in(page, agent, password)
    page.goto(ticket.get_absolute_url())
    page.locator("#reply_body").fill("Please hold the power button for 10 s.")
    # No wait for the debounced save: leaving the page saves what is pending.
    page.goto("/tickets/")
    page.goto(ticket.get_absolute_url())
    assert page.locator("#reply_body").input_value() == "Please hold the power button for 10 s."

    page.get_by_role("button", name="Discard draft").click()
    assert page.locator("#reply_body").input_value() == ""
    assert _draft(page, ticket, agent) is None
    assert page.get_by_text("Draft restored").count() == 0


def test_a_assigns_the_ticket_to_me(page, agent, customer, access_team, password):
    ticket = make_ticket(requester=customer, subject="New starter needs access", team=access_team)
    assert ticket.assignee is None
    log_in(page, agent, password)
    page.goto(ticket.get_absolute_url())

    page.keyboard.press("a")
    page.get_by_text("Assignee updated.").wait_for()
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    # Assigned to the viewer now: the button is gone and "a" does nothing.
    assert page.locator('[data-shortcut="assign-me"]').count() == 0
    page.keyboard.press("a")
    assert page.get_by_text("Assignee updated.").is_visible()
