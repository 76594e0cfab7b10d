"""The knowledge base in a real browser, where customers and agents meet it
outside the help centre: a suggestion on the portal's request form that
solves the problem (a deflection), one the customer read before submitting
anyway (kept with the ticket), and the ticket page's panel: an article's link
inserted into a reply and sent, and a draft article made from the ticket."""

from __future__ import annotations

import re

import pytest

from knowledge_base import embeddings
from knowledge_base import services as kb_services
from knowledge_base.models import Article, ArticleStatus, Visibility
from tests.e2e.conftest import log_in
from tests.factories import make_ticket
from tickets import services as ticket_services
from tickets.models import Deflection, Message, ShownArticle, Ticket

pytestmark = pytest.mark.browser


def publish(manager, title, body, visibility=Visibility.PUBLIC):
    version = kb_services.article_save(actor=manager, title=title, body=body, visibility=visibility)
    return kb_services.article_publish(article=version.article, actor=manager)


@pytest.fixture
def reset_article(manager):
    return publish(
        manager,
        "Reset your password",
        "On the sign-in page choose **Forgot password**; the reset link arrives by e-mail "
        "within two minutes.",
    )


def test_a_suggestion_solves_the_customers_problem(
    page, customer, manager, reset_article, password, settings, screenshot_dir
):
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]
    publish(manager, "Unlock an account (staff)", "Password lockouts.", Visibility.INTERNAL)
    log_in(page, customer, password, landing_heading="My tickets")
    page.get_by_role("link", name="Submit a request").first.click()
    page.get_by_label("Subject").press_sequentially("I forgot my password", delay=20)
    suggestions = page.get_by_role("region", name="These articles may answer your question")
    suggestions.get_by_role("link", name="Reset your password").wait_for()
    assert suggestions.get_by_text("Unlock an account").count() == 0
    page.screenshot(path=screenshot_dir / "kb-portal-suggestion.png", full_page=True)
    suggestions.get_by_role("button", name="This solved my problem").first.click()
    page.get_by_text("No request was opened").wait_for()
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article_ref) == (customer, f"kb-{reset_article.pk}")
    assert deflection.article_title == "Reset your password"
    assert not Ticket.objects.exists()

    # Another time the article does not help: the request keeps what it was shown.
    page.get_by_role("link", name="Submit a request").first.click()
    page.get_by_label("Subject").press_sequentially("Password reset e-mail", delay=20)
    page.get_by_role("link", name="Reset your password").wait_for()
    page.get_by_label("Description").fill("The reset e-mail never arrives.")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.get_by_text("We'll be in touch soon").wait_for()
    ticket = Ticket.objects.get()
    assert list(ShownArticle.objects.filter(ticket=ticket).values_list("article_ref", flat=True))[
        :1
    ] == [f"kb-{reset_article.pk}"]


def test_agent_inserts_an_article_link_and_drafts_an_article(
    page, agent, customer, access_team, reset_article, password, screenshot_dir
):
    ticket = make_ticket(
        requester=customer,
        subject="Cannot reset my password",
        description="I asked for a password reset twice and nothing came.",
        team=access_team,
    )
    log_in(page, agent, password)
    page.goto(ticket.get_absolute_url())
    panel = page.get_by_role("region", name="Knowledge base")
    panel.get_by_role("link", name="Reset your password").first.wait_for()

    reply = page.get_by_label("Message")
    reply.fill("Hi, this should help: ")
    reply.press("End")
    panel.get_by_role("button", name="Insert link").first.click()
    url = f"{page.url.split('/tickets/')[0]}/help/articles/{reset_article.slug}/"
    assert reply.input_value() == f"Hi, this should help: Reset your password: {url}"
    page.screenshot(path=screenshot_dir / "kb-ticket-panel.png", full_page=True)
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Reply sent.").wait_for()
    sent = Message.objects.filter(ticket=ticket, author=agent).get()
    assert f"Reset your password: {url}" in sent.body and not sent.is_internal
    # On the ticket page the address is a link (the customer sees the same).
    page.locator(f'.body a[href="{url}"]').wait_for()
    # The article's history says it was used in an answer.
    assert reset_article.events.filter(action="article.linked", actor=agent).count() == 1

    # The answer becomes a draft article, opened in the editor.
    ticket_services.ticket_reply(
        ticket=ticket, author=agent, body="Check your spam folder; the mail comes from us."
    )
    page.reload()
    page.get_by_role("button", name="Create article from this ticket").click()
    page.wait_for_url(re.compile(r"/help/manage/\d+/$"))
    assert page.get_by_label("Title").input_value() == "Cannot reset my password"
    body = page.get_by_label("Body (Markdown)").input_value()
    assert body.startswith("## Question\n\nI asked for a password reset twice and nothing came.")
    assert "## Answer\n\nCheck your spam folder; the mail comes from us." in body
    assert page.get_by_label("Visibility").input_value() == Visibility.INTERNAL
    page.screenshot(path=screenshot_dir / "kb-draft-from-ticket.png", full_page=True)
    article = Article.objects.get(title="Cannot reset my password")
    assert article.status == ArticleStatus.DRAFT and article.live_version == 0


def test_a_customer_helped_by_the_help_centre_is_a_deflection(
    page, customer, manager, password, screenshot_dir
):
    """Journey 7: a paraphrase finds the article, "Yes" counts a deflection."""
    article = publish(
        manager,
        "Confirm your identity with a photo ID",
        "1. Open **Settings › Security**.\n2. Choose *Confirm identity* and upload a photo ID.\n"
        "3. We check it within one business day.",
    )
    # What the embed_article task does after the commit (no worker runs here).
    assert embeddings.enabled()
    embeddings.embed_articles([article.pk])
    log_in(page, customer, password, landing_heading="My tickets")
    page.goto("/help/")
    page.get_by_label("Search the help centre").fill("how do I verify my account")
    page.get_by_label("Search the help centre").press("Enter")
    page.get_by_role("link", name=article.title).first.click()
    page.get_by_role("heading", name=article.title, level=1).wait_for()
    page.get_by_role("button", name="Yes").click()
    page.get_by_text("Glad it helped").wait_for()
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article_ref) == (customer, f"kb-{article.pk}")
    assert not Ticket.objects.exists()
