"""The Django admin writes articles through the services: a save is a
version, publishing is an action for reviewers."""

from django.urls import reverse

from knowledge_base.models import Article, ArticleStatus


def _form(section, **overrides):
    data = {
        "title": "Reset your password",
        "slug": "",
        "section": section.pk,
        "summary": "Locked out? Start here.",
        "body": "1. Click **Forgot password**",
        "tags_text": "login, password",
        "visibility": "public",
        "note": "",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_admin_saves_versions_and_publishes(client, manager, kb_section):
    client.force_login(manager)
    response = client.post(reverse("admin:knowledge_base_article_add"), _form(kb_section))
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get()
    assert (article.version, article.status) == (1, ArticleStatus.DRAFT)

    change = reverse("admin:knowledge_base_article_change", args=[article.pk])
    page = client.get(change)
    assert page.status_code == 200 and b"Forgot password" in page.content
    response = client.post(change, _form(kb_section, body="Shorter", note="Shorter"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.version == 2 and article.versions.get(number=2).note == "Shorter"

    client.post(
        reverse("admin:knowledge_base_article_changelist"),
        {"action": "publish_now", "_selected_action": [article.pk]},
    )
    article.refresh_from_db()
    assert (article.status, article.live_version, article.body) == ("published", 2, "Shorter")


def test_admin_shows_errors_by_field(client, manager, kb_section):
    client.force_login(manager)
    response = client.post(
        reverse("admin:knowledge_base_article_add"), _form(kb_section, body="   ")
    )
    assert response.status_code == 200
    assert b"This field is required" in response.content or b"needs a body" in response.content
    assert not Article.objects.exists()
