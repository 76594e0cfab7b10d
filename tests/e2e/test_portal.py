"""The customer portal in a real browser: suggestions while typing, a
deflection, then a request submitted with an attachment and routed."""

import pytest

from tests.e2e.conftest import log_in
from tickets.models import Deflection, Ticket

pytestmark = pytest.mark.browser


def test_customer_is_helped_by_an_article_then_submits_a_request(
    page, customer, agent, login_category, password, settings, tmp_path, screenshot_dir
):
    settings.HELPDESK_SUGGESTION_PROVIDERS = ["tests.tickets.suggestion_provider.provider"]
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]
    log_in(page, customer, password, landing_heading="My tickets")

    page.get_by_role("link", name="Submit a request").first.click()
    page.get_by_label("Subject").press_sequentially("I forgot my password", delay=20)
    page.get_by_text("How to reset your password").wait_for()
    page.screenshot(path=screenshot_dir / "portal-suggestions.png", full_page=True)
    page.get_by_role("button", name="This solved my problem").click()
    page.get_by_text("No request was opened").wait_for()
    assert Deflection.objects.filter(user=customer, article_ref="kb-1").count() == 1
    assert Ticket.objects.count() == 0

    page.get_by_role("link", name="Submit a request").first.click()
    page.get_by_label("Subject").fill("Export to CSV stops at 50%")
    page.get_by_label("Description").fill("Every export of the activity report stops halfway.")
    screenshot = tmp_path / "export.txt"
    screenshot.write_text("progress bar stuck at 50%")
    page.get_by_label("Attachments").set_input_files(str(screenshot))
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("We'll be in touch soon").wait_for()
    ticket = Ticket.objects.get()
    assert ticket.channel == "portal" and ticket.requester == customer
    assert ticket.messages.get().attachments.get().filename == "export.txt"
