"""The help centre and its editor in a real browser: an anonymous visitor
reads an article and marks it helpful; an agent writes an article with the
live preview and submits it; a manager publishes it."""

import pytest

from knowledge_base import services
from knowledge_base.models import (
    Article,
    ArticleFeedback,
    ArticleStatus,
    Category,
    Section,
    Visibility,
)
from tests.conftest import wait_for
from tests.e2e.conftest import log_in
from tests.e2e.test_csp import assert_clean, csp_page, visit  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser

RESET_BODY = """If you forgot your password you can set a new one yourself.

## Steps

1. Open the **log-in page** and choose *Forgot your password?*
2. Enter the e-mail address of your account.
3. Open the link in the e-mail we send you (it works for one hour).
4. Choose a new password of at least 10 characters.

> The link did not arrive? Look in your spam folder, then ask us.

| Browser | Where to clear the cache |
| --- | --- |
| Chrome | Settings › Privacy |
| Firefox | Settings › Privacy & Security |
"""


@pytest.fixture
def help_centre(manager):
    account = Category.objects.create(
        name="Your account",
        slug="your-account",
        position=1,
        description="Signing in, passwords and account verification.",
    )
    billing = Category.objects.create(
        name="Billing", slug="billing", position=2, description="Invoices, plans and payments."
    )
    signing_in = Section.objects.create(category=account, name="Signing in", slug="signing-in")
    verification = Section.objects.create(
        category=account, name="Verification", slug="verification"
    )
    invoices = Section.objects.create(category=billing, name="Invoices", slug="invoices")

    def publish(title, body, section, **fields):
        version = services.article_save(
            actor=manager, title=title, body=body, section=section, **fields
        )
        return services.article_publish(article=version.article, actor=manager)

    verify = publish(
        "Verify your account step by step",
        "Confirm your e-mail address, then your phone number.",
        verification,
        summary="The two checks that unlock every feature.",
    )
    reset = publish(
        "Reset your password",
        RESET_BODY,
        signing_in,
        summary="Set a new password when you cannot log in.",
        tags="login, password",
        related=[verify],
    )
    publish("Two-step verification codes", "Use your authenticator app.", signing_in)
    publish("Download an invoice", "Billing › Invoices › Download.", invoices)
    publish(
        "Unlock an account (staff)",
        "Admin › Users.",
        signing_in,
        visibility=Visibility.INTERNAL,
    )
    return reset


def test_anonymous_visitor_reads_an_article_and_marks_it_helpful(page, help_centre, screenshot_dir):
    page.goto("/help/")
    page.get_by_role("heading", name="How can we help?").wait_for()
    assert page.get_by_role("link", name="Unlock an account (staff)").count() == 0
    page.screenshot(path=screenshot_dir / "help-home.png", full_page=True)

    page.get_by_role("link", name="Your account").first.click()
    page.get_by_role("heading", name="Your account", level=1).wait_for()
    page.get_by_role("link", name="Reset your password").click()
    page.get_by_role("heading", name="Reset your password", level=1).wait_for()
    assert page.title() == "Reset your password · Help centre · Helpdesk"
    assert page.get_by_role("link", name="Verify your account step by step").count() == 1
    page.screenshot(path=screenshot_dir / "help-article.png", full_page=True)

    page.get_by_role("button", name="Yes").click()
    page.get_by_text("Thanks! Glad it helped.").wait_for()
    page.get_by_label("Anything we could add? (optional)").fill("Clear steps, thank you.")
    page.get_by_role("button", name="Send comment").click()
    page.get_by_text("Thank you for your feedback!").wait_for()
    feedback = ArticleFeedback.objects.get()
    assert (feedback.article_id, feedback.helpful, feedback.user) == (help_centre.pk, True, None)
    assert feedback.comment == "Clear steps, thank you."
    help_centre.refresh_from_db()
    assert help_centre.helpful_count == 1

    # The answer is remembered on the next visit.
    page.reload()
    page.get_by_text("Thank you for your feedback!").wait_for()


def test_agent_writes_with_the_live_preview_and_a_manager_publishes(
    page, browser, live_server, agent, manager, password, help_centre, screenshot_dir
):
    log_in(page, agent, password)
    page.get_by_role("link", name="Knowledge base").click()
    page.get_by_role("heading", name="Articles").wait_for()
    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title").fill("Export a report to CSV")
    page.get_by_label("Summary").fill("Download any report as a spreadsheet.")
    page.get_by_label("Body (Markdown)").press_sequentially(
        "## Steps\n\n1. Open **Reports**\n2. Choose *Export*\n\n<script>alert(1)</script>",
        delay=5,
    )
    preview = page.locator("#kb-preview")
    preview.get_by_role("heading", name="Steps").wait_for()
    preview.locator("strong", has_text="Reports").wait_for()
    preview.get_by_text("<script>alert(1)</script>").wait_for()  # shown as text
    assert preview.locator("script").count() == 0
    page.get_by_label("Section").select_option(label="Your account › Signing in")
    page.get_by_label("Tags").fill("reports, export")
    page.screenshot(path=screenshot_dir / "help-editor.png", full_page=True)
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved as version 1.").wait_for()
    page.get_by_label("Body (Markdown)").fill(
        "## Steps\n\n1. Open **Reports**\n2. Choose *Export*, then *CSV*\n3. Open the file"
    )
    page.get_by_label("What changed").fill("Removed the script, added the CSV step")
    page.get_by_role("button", name="Save as a new version").click()
    page.get_by_text("Saved as version 2 (a draft).").wait_for()
    page.get_by_role("link", name="Versions (2)").click()
    page.get_by_role("button", name="Compare selected versions").click()
    page.locator(".kb-diff-add", has_text="+2. Choose *Export*, then *CSV*").wait_for()
    page.locator(".kb-diff-del", has_text="-<script>alert(1)</script>").wait_for()
    page.screenshot(path=screenshot_dir / "help-diff.png", full_page=True)
    page.get_by_role("link", name="Editor").click()
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted for review").wait_for()
    article = Article.objects.get(title="Export a report to CSV")
    assert article.status == ArticleStatus.REVIEW and article.author == agent
    assert page.get_by_role("button", name="Publish").count() == 0

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    reviewer = context.new_page()
    log_in(reviewer, manager, password, landing_heading="All open tickets")
    reviewer.get_by_role("link", name="Knowledge base").click()
    reviewer.get_by_label("Status").select_option("review")
    reviewer.get_by_role("button", name="Filter").click()
    reviewer.screenshot(path=screenshot_dir / "help-manage.png", full_page=True)
    reviewer.get_by_role("link", name="Export a report to CSV").click()
    reviewer.get_by_text("In review:").wait_for()
    reviewer.get_by_role("button", name="Publish").click()
    reviewer.get_by_text("Published: visitors now see this version.").wait_for()
    reviewer.screenshot(path=screenshot_dir / "help-editor-published.png", full_page=True)
    wait_for(lambda: Article.objects.get(pk=article.pk).status == ArticleStatus.PUBLISHED)
    reviewer.get_by_role("link", name="View in help centre").click()
    reviewer.get_by_role("heading", name="Export a report to CSV", level=1).wait_for()
    reviewer.screenshot(path=screenshot_dir / "help-published.png", full_page=True)
    context.close()


def test_anonymous_visitor_searches_from_the_home_page(page, help_centre, screenshot_dir):
    page.goto("/")  # anonymous: the help centre
    page.get_by_role("heading", name="How can we help?").wait_for()
    box = page.get_by_role("searchbox", name="Search the help centre")
    box.fill("reset password")
    box.press("Enter")
    page.get_by_role("heading", name="Results for “reset password”").wait_for()
    results = page.locator(".search-hit")
    assert results.first.get_by_role("link").inner_text() == "Reset your password"
    assert results.first.locator("mark").count() >= 1  # the matched words highlighted
    page.screenshot(path=screenshot_dir / "help-search.png", full_page=True)

    # An internal article is never found by an anonymous visitor.
    page.get_by_role("searchbox", name="Search the help centre").fill("unlock account staff")
    page.get_by_role("searchbox", name="Search the help centre").press("Enter")
    page.get_by_role("heading", name="Results for “unlock account staff”").wait_for()
    assert page.get_by_text("Unlock an account (staff)").count() == 0

    page.go_back()
    page.get_by_role("link", name="Reset your password").first.click()
    page.get_by_role("heading", name="Reset your password", level=1).wait_for()


def test_help_centre_and_editor_run_under_the_csp(
    csp_page,  # noqa: F811  (the fixture imported above)
    help_centre,
    manager,
    password,
):
    page = csp_page
    visit(page, "/help/", "How can we help?")
    visit(page, "/help/categories/your-account/", "Your account")
    visit(page, "/help/categories/your-account/signing-in/", "Signing in")
    visit(page, help_centre.get_absolute_url(), "Reset your password")
    page.get_by_role("button", name="No").click()  # htmx swaps the box
    page.get_by_text("Sorry it did not help").wait_for()
    assert_clean(page)

    log_in(page, manager, password, landing_heading="All open tickets")
    visit(page, "/help/manage/", "Articles")
    page.get_by_role("link", name="Reset your password").click()
    page.locator("#kb-preview").get_by_role("heading", name="Steps").wait_for()  # htmx, on load
    page.get_by_label("Body (Markdown)").fill("## Changed")
    page.locator("#kb-preview").get_by_role("heading", name="Changed").wait_for()
    page.get_by_role("button", name="Save as a new version").click()
    page.get_by_role("link", name="Versions (2)").click()
    page.get_by_role("button", name="Compare selected versions").click()
    page.get_by_role("heading", name="Changes from version 1 to version 2").wait_for()
    assert_clean(page)
