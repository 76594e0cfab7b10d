"""Knowledge-base fixtures: a category with a section, and articles made and
published through the services (as the product makes them)."""

from __future__ import annotations

import pytest

from knowledge_base import services
from knowledge_base.models import Article, Category, Section, Visibility


@pytest.fixture
def kb_section(db):
    category = Category.objects.create(name="Your account", slug="your-account", position=1)
    return Section.objects.create(category=category, name="Signing in", slug="signing-in")


@pytest.fixture
def make_article(manager, kb_section):
    """make_article(title, body, visibility=..., publish=True, **fields) -> Article"""

    def make(
        title: str,
        body: str = "Some words about it.",
        *,
        visibility: str = Visibility.PUBLIC,
        publish: bool = True,
        section: Section | None = None,
        **fields,
    ) -> Article:
        version = services.article_save(
            actor=manager,
            title=title,
            body=body,
            visibility=visibility,
            section=section or kb_section,
            **fields,
        )
        article = version.article
        if publish:
            article = services.article_publish(article=article, actor=manager)
        article.refresh_from_db()
        return article

    return make
