import pytest

from tests.e2e.conftest import log_in
from tests.factories import make_ticket

pytestmark = pytest.mark.browser


def test_customer_logs_in_and_sees_own_tickets(
    page, customer, other_customer, password, screenshot_dir
):
    mine = make_ticket(requester=customer, subject="Cannot log in after reset")
    make_ticket(requester=other_customer, subject="Globex invoice question")

    # An anonymous visitor of / lands in the help centre, which links the log-in page.
    page.goto("/")
    page.get_by_role("heading", name="How can we help?").wait_for()
    page.get_by_role("banner").get_by_role("link", name="Log in").click()
    page.get_by_label("E-mail").fill(customer.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("heading", name="My tickets").wait_for()
    assert page.get_by_role("link", name=mine.key).is_visible()
    assert "Globex invoice question" not in page.content()
    page.screenshot(path=screenshot_dir / "landing-customer.png", full_page=True)

    page.get_by_role("link", name=mine.key).click()
    page.get_by_role("heading", name=mine.subject).wait_for()
    page.get_by_label("Message").fill("I tried again, still locked out.")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Reply sent.").wait_for()
    assert mine.messages.count() == 2


def test_agent_logs_in_and_sees_team_queue(
    page, agent, customer, access_team, password, screenshot_dir
):
    ticket = make_ticket(
        requester=customer, subject="Password reset mail never arrives", team=access_team
    )
    log_in(page, agent, password)
    page.get_by_role("link", name="Unassigned in my teams").click()
    page.get_by_role("heading", name="Unassigned in my teams").wait_for()
    assert page.get_by_role("link", name=ticket.key).is_visible()
    page.get_by_text("Filters and sort").click()
    page.get_by_label("Priority", exact=True).select_option("normal")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**priority=normal**")
    assert page.get_by_role("link", name=ticket.key).is_visible()
    page.screenshot(path=screenshot_dir / "landing-agent.png", full_page=True)


def test_wrong_password_is_shown(page, customer):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(customer.email)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").first.wait_for()
    assert "Please enter a correct" in page.content()


def test_agent_works_a_ticket_page(page, agent, customer, access_team, password, screenshot_dir):
    ticket = make_ticket(
        requester=customer,
        subject="Locked out after password change",
        description="Since I changed my password this morning the login page says "
        "'invalid credentials'.",
        team=access_team,
    )
    log_in(page, agent, password)
    page.goto(ticket.get_absolute_url())

    page.get_by_label("Message").fill("Checked the auth logs: 5 failed attempts, account locked.")
    page.get_by_label("Internal note (staff only)").check()
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Note added.").wait_for()

    page.get_by_label("Message").fill("I have unlocked your account; please try again.")
    page.get_by_label("Then set status").select_option("pending")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Reply sent.").wait_for()

    page.get_by_label("Assignee").select_option(label=agent.full_name)
    page.get_by_role("button", name="Assign").click()
    page.get_by_text("Assignee updated.").wait_for()

    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert ticket.assignee == agent
    assert ticket.first_response_at is not None
    assert page.locator(".msg-note").count() == 1
    page.screenshot(path=screenshot_dir / "ticket-agent-desktop.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=screenshot_dir / "ticket-agent-laptop.png", full_page=True)
