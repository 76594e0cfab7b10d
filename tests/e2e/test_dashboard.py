"""Journey 5 ("Manager's Monday") in a real browser on demo data: the manager
opens the dashboard, changes a filter, drills from a count into the ticket
list and exports the CSV; the demo agent sees only their own view; a customer
gets a 404. The charts are drawn by the vendored Chart.js with no CSP
violation, and a screenshot is saved for a person to look at."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps

from analytics.models import BAD_RATING_MAX, CSATResponse
from demo.catalog import AGENT_LOGIN, DEMO_CUSTOMER, MANAGER
from demo.people import DEMO_PASSWORD
from demo.runner import seed_demo
from tests.e2e.conftest import log_in, watch_csp
from tickets.models import User

pytestmark = pytest.mark.browser

DASHBOARD = "/analytics/dashboard/"


@pytest.fixture
def demo(live_server, settings):
    settings.HELPDESK_KB_EMBEDDING_MODEL = ""  # seeding stays fast
    # A transactional test starts from empty tables, migration data included.
    importlib.import_module("escalation.migrations.0002_default_policies").create_defaults(
        apps, None
    )
    seed_demo(tickets=600, seed=1, progress=False)


def _chart_drawn(page, canvas_id: str) -> bool:
    return page.evaluate(
        "(id) => !!(window.Chart && window.Chart.getChart(document.getElementById(id)))",
        canvas_id,
    )


def test_managers_monday(page, demo, browser, live_server, screenshot_dir):
    violations = watch_csp(page)
    manager = User.objects.get(email=MANAGER.email)
    log_in(page, manager, DEMO_PASSWORD, landing_heading="All open tickets")

    page.goto(DASHBOARD + "?range=90")
    page.get_by_role("heading", name="Support dashboard").wait_for()
    page.wait_for_function("() => window.Chart !== undefined")
    for chart in ("chart-trend", "chart-categories", "chart-backlog", "chart-agents"):
        assert _chart_drawn(page, chart), chart
    # The demo's history has SLA clocks and breaches (demo/sla.py).
    assert _chart_drawn(page, "chart-sla")
    assert page.locator(".dash-card").count() == 11
    # Satisfaction: the CSAT card against its target, NPS and CES beside it,
    # CSAT by month and the agents' scatter of resolution time vs CSAT.
    assert "Target ≥ 85 %" in page.locator("#card-csat").inner_text()
    for card in ("#card-nps", "#card-ces"):
        assert "No target set" in page.locator(card).inner_text()
    if CSATResponse.objects.exists():
        assert _chart_drawn(page, "chart-csat-month")
        points = page.evaluate(
            "() => window.Chart.getChart(document.getElementById('chart-agents'))"
            ".data.datasets[0].data.length"
        )
        assert points >= 1
    for card in ("#card-first_response", "#card-resolution_standard", "#card-sla"):
        assert "no data" not in page.locator(card).inner_text(), card
    page.screenshot(path=screenshot_dir / "dashboard.png", full_page=True)
    # The scatter at its real size, to check its labels can be read.
    page.locator("#chart-agents").screenshot(path=screenshot_dir / "dashboard-agents.png")

    # The bad ratings nobody followed up yet: the count links to the list.
    waiting = CSATResponse.objects.filter(
        rating__lte=BAD_RATING_MAX, followed_up_at__isnull=True
    ).count()
    follow_up = page.locator("#follow-up-link")
    assert follow_up.inner_text().startswith(f"{waiting} bad rating")
    follow_up.click()
    page.wait_for_url("**/survey/follow-up/")
    page.go_back()
    page.get_by_role("heading", name="Support dashboard").wait_for()

    # Drill down from a breached-SLA count: those tickets, in the ticket list.
    sla = page.locator(
        "section", has=page.get_by_role("heading", name="SLA compliance by customer tier")
    )
    sla.get_by_text("Table").click()
    breached = sla.locator("a[href*='sla_breached=']").first
    expected_breaches = int(breached.inner_text())
    breached.click()
    page.wait_for_url("**sla_breached=**")
    if expected_breaches:
        assert page.locator("table.tickets tbody tr").count() >= 1
    page.go_back()
    page.get_by_role("heading", name="Support dashboard").wait_for()

    # A filter: urgent and high tickets only.
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**priority=high**")
    page.get_by_role("heading", name="Support dashboard").wait_for()
    assert page.get_by_label("Priority").input_value() == "high"

    # Drill down: the oldest open tickets of the backlog, in the ticket list.
    backlog = page.locator("section", has=page.get_by_role("heading", name="Backlog by age, now"))
    backlog.get_by_text("Table").click()
    link = backlog.get_by_role("row", name="7-30d").get_by_role("link")
    expected = int(link.inner_text())
    link.click()
    page.wait_for_url("**/tickets/?**")
    assert "priority=high" in page.url and "created_from=" in page.url
    page.get_by_role("heading", name="All open tickets").wait_for()
    if expected:
        assert page.locator("table.tickets tbody tr").count() >= 1

    # Export the CSV of the filtered dashboard.
    page.go_back()
    page.get_by_role("heading", name="Support dashboard").wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("dashboard_")
    assert download.suggested_filename.endswith(".csv")
    content = Path(download.path()).read_text()
    assert content.startswith("section,field,value")
    assert "\nagents,agent,tickets_solved," in content
    assert "\nsatisfaction,csat_rated_4_5," in content
    assert "\ncsat_by_month,month,answers," in content
    assert violations == []

    # The demo agent sees their own view only.
    agent_context = browser.new_context(base_url=live_server.url)
    agent_page = agent_context.new_page()
    agent = User.objects.get(email=AGENT_LOGIN.email)
    log_in(agent_page, agent, DEMO_PASSWORD)
    agent_page.goto(DASHBOARD + "?range=90")
    agent_page.get_by_role("heading", name="My dashboard").wait_for()
    rows = agent_page.locator(
        "section", has=agent_page.get_by_role("heading", name="My resolution time")
    ).locator("tbody tr")
    assert rows.count() == 1 and agent.full_name in rows.first.inner_text()
    assert agent_page.locator("#follow-up-link").count() == 0
    agent_page.screenshot(path=screenshot_dir / "dashboard-agent.png", full_page=True)
    agent_context.close()

    # A customer: no such page.
    customer_context = browser.new_context(base_url=live_server.url)
    customer_page = customer_context.new_page()
    customer = User.objects.get(email=DEMO_CUSTOMER.email)
    log_in(customer_page, customer, DEMO_PASSWORD, landing_heading="My tickets")
    response = customer_page.goto(DASHBOARD)
    assert response is not None and response.status == 404
    customer_context.close()
