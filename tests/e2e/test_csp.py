"""The Content-Security-Policy in a real browser: the main pages load under it
with no violation reported, and htmx still works under it."""

import pytest

from tests.e2e.conftest import REPORT_VIOLATIONS, log_in
from tests.factories import make_ticket, make_user
from tickets.models import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def csp_page(page):
    """The page fixture, recording every CSP violation (the event, and
    Chromium's console message) and every page answered without the policy."""
    page.violations = []
    page.uncovered = []
    page.expose_function("__cspViolation", lambda text: page.violations.append(text))
    page.add_init_script(REPORT_VIOLATIONS)

    def on_console(message):
        if "Content Security Policy" in message.text:
            page.violations.append(f"console: {message.text}")

    def on_response(response):
        is_page = response.request.resource_type == "document"
        if is_page and "content-security-policy" not in response.headers:
            page.uncovered.append(response.url)

    page.on("console", on_console)
    page.on("response", on_response)
    return page


def visit(page, path, heading):
    page.goto(path)
    page.get_by_role("heading", name=heading).first.wait_for()


def assert_clean(page):
    # Reports arrive asynchronously: let the page settle first.
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)
    assert page.violations == []
    assert page.uncovered == []


def test_the_detector_sees_an_inline_script_refused(csp_page, live_server):
    """The check below can fail: a page under our policy with an inline script
    and an inline handler is reported."""
    policy = "script-src 'self'; style-src 'self'"
    html = "<h1>Bad</h1><script>document.title='x'</script><button onclick='1'>b</button>"
    csp_page.route(
        f"{live_server.url}/bad-page/",
        lambda route: route.fulfill(
            status=200,
            body=html,
            headers={"Content-Type": "text/html", "Content-Security-Policy": policy},
        ),
    )
    csp_page.goto("/bad-page/")
    csp_page.wait_for_timeout(300)
    assert any("script-src" in v for v in csp_page.violations)


def test_main_pages_load_under_the_csp_and_htmx_works(
    csp_page, agent, customer, access_team, login_category, password, settings
):
    page = csp_page
    settings.HELPDESK_SUGGESTION_PROVIDERS = ["tests.tickets.suggestion_provider.provider"]
    ticket = make_ticket(
        requester=customer, subject="Locked out again", team=access_team, priority="normal"
    )
    admin_user = make_user(Role.ADMIN, email="root@helpdesk.test")

    visit(page, "/accounts/login/", "Log in")
    visit(page, "/accounts/password_reset/", "Reset your password")
    page.goto("/admin/login/")
    page.locator("#id_username").fill(admin_user.email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Site administration").wait_for()
    assert_clean(page)
    page.context.clear_cookies()

    # The agent: queue, ticket page, the properties panel saving in place (htmx).
    log_in(page, agent, password)
    visit(page, "/tickets/", "My open tickets")
    page.goto(ticket.get_absolute_url())
    page.get_by_role("heading", name=ticket.subject).wait_for()
    with page.expect_response(lambda r: "/properties/" in r.url) as response:
        page.locator("#properties").get_by_label("Priority", exact=True).select_option("high")
    assert response.value.status == 200
    page.locator("#properties .saved").wait_for()
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    # The presence poll (htmx, every 5 s) reports too.
    with page.expect_response(lambda r: "/presence/" in r.url, timeout=10_000):
        pass
    page.keyboard.press("?")  # the shortcuts dialog (static/helpdesk/workspace.js)
    page.get_by_role("dialog").wait_for()
    assert_clean(page)
    page.context.clear_cookies()

    # The customer: portal list, new request with suggestions while typing (htmx).
    log_in(page, customer, password, landing_heading="My tickets")
    visit(page, "/tickets/new/", "Submit a request")
    page.get_by_label("Subject").press_sequentially("I forgot my password", delay=20)
    page.get_by_text("How to reset your password").wait_for()
    assert_clean(page)


def test_api_docs_render_under_their_policy(csp_page, agent, password):
    page = csp_page
    log_in(page, agent, password)
    page.goto("/api/docs/")
    page.get_by_text("Helpdesk API").first.wait_for()
    page.locator(".opblock").first.wait_for()
    assert_clean(page)
