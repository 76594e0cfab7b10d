import pytest

from tests.factories import make_ticket

pytestmark = pytest.mark.browser


def test_customer_logs_in_and_sees_own_tickets(
    page, customer, other_customer, password, screenshot_dir
):
    mine = make_ticket(requester=customer, subject="Cannot log in after reset")
    make_ticket(requester=other_customer, subject="Globex invoice question")

    page.goto("/")
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
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(agent.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My teams' tickets").wait_for()
    assert page.get_by_role("link", name=ticket.key).is_visible()
    page.screenshot(path=screenshot_dir / "landing-agent.png", full_page=True)


def test_wrong_password_is_shown(page, customer):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(customer.email)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").first.wait_for()
    assert "Please enter a correct" in page.content()
