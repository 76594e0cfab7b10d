"""Journey 1's last step in a real browser: the customer rates 5 from the
survey e-mail (the link taken from the outbox row), adds a comment and how
easy it was, and the agent sees the rating on the ticket page."""

from __future__ import annotations

import re

import pytest

from analytics.models import CSATResponse
from analytics.surveys import sending
from tests.e2e.conftest import log_in
from tests.factories import make_ticket
from tickets import services as ticket_services
from tickets.models import OutboundEmail, Status

pytestmark = pytest.mark.browser


def test_customer_rates_5_from_the_survey_email(
    page, live_server, customer, agent, access_team, password, settings, screenshot_dir
):
    settings.HELPDESK_SITE_URL = live_server.url
    settings.HELPDESK_CSAT_DELAY_MINUTES = 0
    ticket = make_ticket(requester=customer, subject="I can't log in", team=access_team)
    ticket_services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    ticket_services.ticket_reply(
        ticket=ticket, author=agent, body="I reset your password: try the link we sent."
    )
    ticket_services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    assert sending.send_due_csat() == 1

    mail = OutboundEmail.objects.get(kind=sending.KIND_CSAT, ticket=ticket)
    assert mail.recipient == customer.email
    [five] = re.findall(r"5 - Excellent: (\S+)", mail.body)
    assert five.startswith(live_server.url)

    # Not logged in: the link alone answers; survey.js sends the clicked rating.
    page.goto(five)
    page.get_by_text("We recorded your rating of 5 out of 5").wait_for()
    assert CSATResponse.objects.get(ticket=ticket).rating == 5
    page.get_by_label("Anything you would like to tell us?").fill("Back in within minutes, thanks!")
    page.get_by_label("How easy was it to get help?").select_option("7")
    page.get_by_role("button", name="Update my answer").click()
    page.get_by_text("We recorded your rating of 5 out of 5").wait_for()
    page.screenshot(path=screenshot_dir / "survey-answered.png", full_page=True)
    answer = CSATResponse.objects.get(ticket=ticket)
    assert (answer.rating, answer.effort, answer.comment) == (
        5,
        7,
        "Back in within minutes, thanks!",
    )

    log_in(page, agent, password)
    page.goto(ticket.get_absolute_url())
    panel = page.locator(".survey-panel")
    panel.locator('[data-csat-rating="5"]').wait_for()
    assert "5 / 5" in panel.inner_text()
    assert "Back in within minutes, thanks!" in panel.inner_text()
    page.screenshot(path=screenshot_dir / "survey-ticket-panel.png", full_page=True)
