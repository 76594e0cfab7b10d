"""The knowledge-base editor: who may open it, writing (every save a
version), the live preview's sanitising, review and publishing by reviewers
only (now or at a time), versions, diff and restore, archive; the list's
filters and its fixed number of queries."""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from knowledge_base import services
from knowledge_base.models import Article, ArticleStatus, ArticleVersion, Visibility

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("UTC"))


def url(name: str, **kwargs) -> str:
    return reverse(f"kb:{name}", kwargs=kwargs)


def form_data(**overrides) -> dict:
    data = {
        "title": "Reset your password",
        "summary": "Get back in.",
        "body": "## Steps\n\n1. Open **Forgot password**",
        "section": "",
        "visibility": Visibility.PUBLIC,
        "tags": "login, password",
        "related": "",
        "slug": "",
        "note": "",
    }
    data.update(overrides)
    return data


def test_customers_and_anonymous_visitors_cannot_open_the_editor(client, customer, make_article):
    article = make_article("Reset your password")
    pages = [
        ("get", url("manage")),
        ("get", url("new")),
        ("get", url("edit", pk=article.pk)),
        ("get", url("versions", pk=article.pk)),
        ("get", url("diff", pk=article.pk)),
        ("post", url("preview")),
        ("post", url("submit", pk=article.pk)),
        ("post", url("publish", pk=article.pk)),
        ("post", url("archive", pk=article.pk)),
        ("post", url("restore", pk=article.pk)),
    ]
    for method, page in pages:
        response = getattr(client, method)(page)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], page
    client.force_login(customer)
    for method, page in pages:
        assert getattr(client, method)(page).status_code == 403, page
    assert Article.objects.get().status == ArticleStatus.PUBLISHED


def test_an_agent_writes_edits_and_submits_but_cannot_publish_or_archive(client, agent, kb_section):
    client.force_login(agent)
    response = client.post(url("new"), form_data(section=kb_section.pk))
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == url("edit", pk=article.pk)
    assert (article.version, article.status, article.author) == (1, ArticleStatus.DRAFT, agent)

    page = client.get(url("edit", pk=article.pk)).content.decode()
    assert "Submit for review" in page and "Publish" not in page.split("kb-editor")[0]
    client.post(url("edit", pk=article.pk), form_data(body="Shorter.", note="Trimmed"))
    newest = article.versions.get(number=2)
    assert (newest.body, newest.note, newest.author, newest.tags) == (
        "Shorter.",
        "Trimmed",
        agent,
        "login, password",
    )

    client.post(url("submit", pk=article.pk))
    article.refresh_from_db()
    assert article.status == ArticleStatus.REVIEW
    assert client.post(url("publish", pk=article.pk)).status_code == 403
    assert client.post(url("archive", pk=article.pk)).status_code == 403
    article.refresh_from_db()
    assert (article.status, article.live_version) == (ArticleStatus.REVIEW, 0)


def test_a_manager_publishes_now(client, agent, manager):
    version = services.article_save(actor=agent, title="Reset", body="Words.")
    services.article_submit(article=version.article, actor=agent)
    client.force_login(manager)
    response = client.post(url("publish", pk=version.article_id), {"publish_at": ""})
    assert response.status_code == 302
    article = Article.objects.get()
    assert (article.status, article.live_version) == (ArticleStatus.PUBLISHED, 1)
    page = client.get(url("edit", pk=article.pk)).content.decode()
    assert "Published: visitors now see this version." in page


@time_machine.travel(NOW, tick=False)
def test_a_manager_schedules_a_publish_and_the_beat_job_does_it(client, agent, manager, settings):
    settings.TIME_ZONE = "UTC"
    version = services.article_save(actor=agent, title="Reset", body="Words.")
    client.force_login(manager)
    client.post(url("publish", pk=version.article_id), {"publish_at": "2026-03-02T14:30"})
    article = Article.objects.get()
    assert article.status == ArticleStatus.REVIEW and article.live_version == 0
    assert article.publish_at == datetime(2026, 3, 2, 14, 30, tzinfo=ZoneInfo("UTC"))
    assert "Approved</strong> to be published 2 Mar 2026 at 14:30" in (
        client.get(url("edit", pk=article.pk)).content.decode()
    )
    assert services.publish_due(now=NOW) == 0
    assert services.publish_due(now=datetime(2026, 3, 2, 14, 31, tzinfo=ZoneInfo("UTC"))) == 1
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED


def test_a_bad_publish_time_is_refused(client, agent, manager):
    version = services.article_save(actor=agent, title="Reset", body="Words.")
    client.force_login(manager)
    response = client.post(url("publish", pk=version.article_id), {"publish_at": "tomorrow"})
    assert response.status_code == 302
    assert "Enter a valid date/time" in client.get(response["Location"]).content.decode()
    assert Article.objects.get().status == ArticleStatus.DRAFT


def test_errors_show_on_the_form(client, agent, make_article):
    client.force_login(agent)
    response = client.post(url("new"), form_data(title="   "))
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    response = client.post(url("new"), form_data(body="  \n "))
    assert response.status_code == 400 and Article.objects.count() == 0
    response = client.post(url("new"), form_data(related="no-such-article"))
    assert "No article has the slug no-such-article." in response.content.decode()
    # A refusal of the service shows on its field (the title, once whitespace is folded).
    response = client.post(url("new"), form_data(title="x" * 199 + " \u00a0 "))
    assert response.status_code in (302, 400)


def test_new_article_is_prefilled_from_the_address(client, agent):
    client.force_login(agent)
    page = client.get(
        url("new"), {"title": "Export stops at 50%", "body": "Q: why?\n\nA: <b>because</b>"}
    ).content.decode()
    assert 'value="Export stops at 50%"' in page
    assert "A: &lt;b&gt;because&lt;/b&gt;" in page


def test_editing_related_articles_slug_and_visibility(client, manager, make_article):
    other = make_article("Change your e-mail address")
    article = make_article("Reset your password")
    client.force_login(manager)
    client.post(
        url("edit", pk=article.pk),
        form_data(
            related=f"{other.slug}, /help/articles/{other.slug}/",
            slug="forgot-password",
            visibility=Visibility.CUSTOMERS,
        ),
    )
    client.post(url("publish", pk=article.pk))
    article.refresh_from_db()
    assert list(article.related.all()) == [other]
    assert (article.slug, article.visibility) == ("forgot-password", Visibility.CUSTOMERS)
    page = client.get(url("edit", pk=article.pk)).content.decode()
    assert f'value="{other.slug}"' in page
    assert f'Now: <a href="{url("edit", pk=other.pk)}">Change your e-mail address</a>' in page


class _Dangers(HTMLParser):
    """What could run in a browser: script elements, event-handler
    attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "style"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(name)
            if name in ("href", "src") and "javascript:" in (value or "").lower().replace(" ", ""):
                self.found.append(f"{name}={value}")


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert('x')</script>",
        "[click](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        '<img src="x" onerror="alert(1)">',
        '<a href="#" onclick="alert(1)">x</a>',
        '![x](https://example.com/a.png "t" onerror=alert(1))',
        "[x](&#106;avascript:alert(1))",
        '<a href="javascript:alert(1)">raw</a>',
    ],
)
def test_the_preview_is_the_sanitised_rendering(client, agent, markdown):
    client.force_login(agent)
    response = client.post(
        url("preview"),
        {"title": "T", "body": f"## Hello\n\n{markdown}\n\n[ok](https://example.com)"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<h2>Hello</h2>" in html
    assert 'href="https://example.com"' in html
    checker = _Dangers()
    checker.feed(html)
    assert checker.found == []


def test_the_preview_needs_the_csrf_token(agent):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(url("preview"), {"body": "x"}).status_code == 403


def test_versions_diff_and_restore(client, agent, manager):
    v1 = services.article_save(actor=agent, title="Reset", body="Line one\nLine two")
    article = v1.article
    services.article_save(
        actor=agent, article=article, title="Reset", body="Line one\nLine 2", note="Fix"
    )
    client.force_login(agent)
    page = client.get(url("versions", pk=article.pk)).content.decode()
    assert "Alice Agent" in page and "Fix" in page and "Restore" in page

    diff = client.get(url("diff", pk=article.pk), {"from": 1, "to": 2}).content.decode()
    assert '<span class="kb-diff-del">-Line two</span>' in diff
    assert '<span class="kb-diff-add">+Line 2</span>' in diff
    assert client.get(url("diff", pk=article.pk), {"from": 1, "to": 9}).status_code == 404

    response = client.post(url("restore", pk=article.pk), {"number": 1})
    assert response.status_code == 302
    newest = ArticleVersion.objects.get(article=article, number=3)
    assert (newest.body, newest.note) == ("Line one\nLine two", "Restored version 1")
    response = client.post(url("restore", pk=article.pk), {"number": 7}, follow=True)
    assert "There is no version 7." in response.content.decode()


def test_a_manager_archives_and_an_agent_restores_the_work(client, agent, manager, make_article):
    article = make_article("Reset your password")
    client.force_login(manager)
    client.post(url("archive", pk=article.pk))
    article.refresh_from_db()
    assert article.status == ArticleStatus.ARCHIVED
    assert Client().get(article.get_absolute_url()).status_code == 404
    client.force_login(agent)
    client.post(url("restore", pk=article.pk), {"number": 1})
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


def test_the_list_filters_and_shows_the_newest_title(client, agent, manager, make_article):
    live = make_article("Reset your password")
    services.article_save(actor=agent, article=live, title="Reset a password", body="New.")
    make_article("Billing cycles", visibility=Visibility.CUSTOMERS)
    services.article_save(actor=agent, title="Draft by Alice", body="Words.")
    client.force_login(agent)
    page = client.get(url("manage")).content.decode()
    assert "Reset a password" in page and "Live: Reset your password" in page
    assert "Billing cycles" in page and "Draft by Alice" in page

    def titles(**params) -> set[str]:
        html = client.get(url("manage"), params).content.decode()
        return {t for t in ("Reset a password", "Billing cycles", "Draft by Alice") if t in html}

    assert titles(status="draft") == {"Reset a password", "Draft by Alice"}
    assert titles(status="published") == {"Billing cycles"}
    assert titles(visibility="customers") == {"Billing cycles"}
    assert titles(author=agent.pk) == {"Reset a password", "Draft by Alice"}
    assert titles(q="billing") == {"Billing cycles"}
    assert titles(updated="old") == set()
    assert titles(updated="7") == {"Reset a password", "Billing cycles", "Draft by Alice"}


def test_the_list_costs_the_same_queries_with_more_articles(
    client, agent, manager, django_assert_num_queries
):
    client.force_login(agent)

    def write(n: int) -> None:
        for i in range(n):
            v = services.article_save(actor=agent, title=f"Article {i}", body="x", tags="a, b")
            services.article_publish(article=v.article, actor=manager)
            services.article_save(actor=manager, article=v.article, title=f"Article {i}!", body="y")

    write(2)
    client.get(url("manage"))  # the session and permissions cached
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(url("manage"))
    write(30)
    with django_assert_num_queries(len(small)):
        response = client.get(url("manage"))
    assert response.context["page"].paginator.count == 32
