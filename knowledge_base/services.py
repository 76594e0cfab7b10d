"""Every write of the knowledge base. Views, the API, management commands and
Celery tasks call these; each is keyword-only and atomic and leaves a trace:
a version for every save, a history event (ArticleEvent, dotted actions such
as `article.published`) for every step of the workflow.

The workflow: editors (the `edit_articles` permission: agents and managers)
save versions and submit them; reviewers (`approve_articles`: managers)
publish a version now or at a later time (the beat job `publish_due` does it
then). Publishing copies the version into the article's own fields — what
visitors see — and renders its Markdown to sanitised HTML; a published
article that is being edited stays visible with its live version.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from redis import Redis
from redis.exceptions import RedisError

from knowledge_base import embeddings
from knowledge_base.embeddings.tasks import embed_article
from knowledge_base.markdown import render_markdown
from knowledge_base.models import (
    Article,
    ArticleEvent,
    ArticleFeedback,
    ArticleSlug,
    ArticleStatus,
    ArticleVersion,
    SearchTerm,
    Section,
    Tag,
    Visibility,
)
from knowledge_base.selectors import can_approve, can_edit
from tickets.errors import DomainError
from tickets.models import User

if TYPE_CHECKING:
    from core.tasks import OnCommitTask

MAX_BODY_CHARS = 200_000


def _require_editor(actor: User | None) -> None:
    if actor is not None and not can_edit(actor):
        raise DomainError("Only knowledge-base editors can do this.", code="permission_denied")


def _require_reviewer(actor: User | None) -> None:
    if actor is not None and not can_approve(actor):
        raise DomainError(
            "Publishing needs a reviewer (the approve permission).", code="permission_denied"
        )


def _event(article: Article, actor: User | None, action: str, note: str = "") -> None:
    ArticleEvent.objects.create(article=article, actor=actor, action=action, note=note[:500])


def _tag_names(tags: str | Iterable[str]) -> list[str]:
    items = tags.split(",") if isinstance(tags, str) else tags
    names: list[str] = []
    for item in items:
        name = " ".join(str(item).strip().lower().split())[:50]
        if name and name not in names:
            names.append(name)
    return names


def _free_slug(wanted: str, *, article: Article | None) -> str:
    """`wanted` (or the title's slug) made unique among articles and old slugs."""
    base = slugify(wanted)[:190] or "article"
    slug, n = base, 1
    own = article.pk if article is not None and article.pk else 0  # 0: no article
    while (
        Article.objects.filter(slug=slug).exclude(pk=own).exists()
        or ArticleSlug.objects.filter(slug=slug).exclude(article_id=own).exists()
    ):
        n += 1
        slug = f"{base}-{n}"
    return slug


def article_validate(title: str, body: str, visibility: str) -> tuple[str, str]:
    """The title and body as they will be saved, or the DomainError that
    `article_save` would raise (forms call it to show errors by their fields)."""
    title = " ".join((title or "").split())
    body = (body or "").strip()
    if not title:
        raise DomainError("An article needs a title.", field="title")
    if len(title) > 200:
        raise DomainError("The title is longer than 200 characters.", field="title")
    if not body:
        raise DomainError("An article needs a body.", field="body")
    if len(body) > MAX_BODY_CHARS:
        raise DomainError(f"The body is longer than {MAX_BODY_CHARS:,} characters.", field="body")
    if visibility not in Visibility.values:
        raise DomainError(f"Unknown visibility {visibility!r}.", field="visibility")
    return title, body


@transaction.atomic
def article_save(
    *,
    actor: User | None,
    title: str,
    body: str,
    article: Article | None = None,
    summary: str = "",
    section: Section | None = None,
    tags: str | Iterable[str] = (),
    visibility: str = Visibility.PUBLIC,
    slug: str = "",
    related: Sequence[Article] | None = None,
    note: str = "",
) -> ArticleVersion:
    """Save a new version of `article` (a new article when None). The newest
    version becomes a draft again (a published article stays live with its
    published version until a reviewer publishes the new one)."""
    _require_editor(actor)
    title, body = article_validate(title, body, visibility)
    summary = " ".join((summary or "").split())[:300]
    if article is None:
        article = Article(
            title=title,
            slug=_free_slug(slug or title, article=None),
            summary=summary,
            body=body,
            section=section,
            visibility=visibility,
            author=actor,
        )
        article.save()
        _event(article, actor, "article.created")
    else:
        article = Article.objects.select_for_update().get(pk=article.pk)
    wanted_slug = _free_slug(slug, article=article) if slug else None
    number = article.version + 1
    version = ArticleVersion.objects.create(
        article=article,
        number=number,
        title=title,
        slug=wanted_slug or article.slug,
        summary=summary,
        body=body,
        tags=", ".join(_tag_names(tags)),
        visibility=visibility,
        section=section,
        author=actor,
        note=(note or ("Created" if number == 1 else "Edited"))[:300],
    )
    article.version = number
    if article.status != ArticleStatus.ARCHIVED:
        article.status = ArticleStatus.DRAFT
    article.updated_at = version.created_at
    article.save(update_fields=["version", "status", "updated_at"])
    if related is not None:
        article.related.set([r for r in related if r.pk != article.pk])
    return version


@transaction.atomic
def article_submit(*, article: Article, actor: User | None, note: str = "") -> Article:
    """Ask a reviewer to publish the newest version."""
    _require_editor(actor)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status != ArticleStatus.DRAFT:
        raise DomainError("Only a draft can be submitted for review.", field="status")
    article.status = ArticleStatus.REVIEW
    article.publish_at = None
    article.save(update_fields=["status", "publish_at"])
    _event(article, actor, "article.submitted", note)
    return article


@transaction.atomic
def article_publish(
    *,
    article: Article,
    actor: User | None,
    publish_at: datetime | None = None,
    note: str = "",
) -> Article:
    """Publish the newest version now, or approve it to go live at
    `publish_at` (the beat job does it then). Reviewers only."""
    _require_reviewer(actor)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.ARCHIVED:
        raise DomainError("An archived article must be restored first.", field="status")
    if article.version == 0:
        raise DomainError("There is no version to publish.", field="status")
    now = timezone.now()
    if publish_at is not None and publish_at > now:
        article.status = ArticleStatus.REVIEW
        article.publish_at = publish_at
        article.save(update_fields=["status", "publish_at"])
        _event(
            article,
            actor,
            "article.scheduled",
            note or f"To be published {timezone.localtime(publish_at):%Y-%m-%d %H:%M %Z}",
        )
        return article
    _make_live(article, article.versions.get(number=article.version), now)
    _event(article, actor, "article.published", note or f"Version {article.version}")
    return article


def _make_live(article: Article, version: ArticleVersion, now: datetime) -> None:
    """Copy `version` into the article's own fields (what visitors see)."""
    old_slug = article.slug if article.live_version else ""
    article.title = version.title
    article.summary = version.summary
    article.body = version.body
    article.body_html = render_markdown(version.body)
    article.section = version.section
    article.visibility = version.visibility
    if version.slug != article.slug:
        if old_slug:
            # Links to the old address keep working (the article page redirects).
            ArticleSlug.objects.get_or_create(slug=old_slug, defaults={"article": article})
        ArticleSlug.objects.filter(slug=version.slug).delete()
        article.slug = version.slug
    article.live_version = version.number
    article.status = (
        ArticleStatus.PUBLISHED if version.number == article.version else ArticleStatus.DRAFT
    )
    article.publish_at = None
    article.published_at = now
    article.updated_at = now
    names = _tag_names(version.tags)
    article.tag_names = ", ".join(names)
    article.save()
    article.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])
    # Its sentence embedding (semantic search), by a worker once this commits.
    if embeddings.enabled():
        cast("OnCommitTask[[int], int]", embed_article).delay_on_commit(article.pk)


@transaction.atomic
def publish_due(*, now: datetime | None = None) -> int:
    """Publish the approved articles whose time has come (beat, every minute).
    Each is claimed under a row lock, so two runs publish it once."""
    now = now or timezone.now()
    due = list(
        Article.objects.select_for_update(skip_locked=True)
        .filter(status=ArticleStatus.REVIEW, publish_at__lte=now)
        .order_by("publish_at")[:200]
    )
    for article in due:
        _make_live(article, article.versions.get(number=article.version), now)
        _event(article, None, "article.published", "Scheduled publish")
    return len(due)


@transaction.atomic
def article_archive(*, article: Article, actor: User | None, note: str = "") -> Article:
    """Withdraw an article from the help centre (reviewers only)."""
    _require_reviewer(actor)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.ARCHIVED:
        return article
    article.status = ArticleStatus.ARCHIVED
    article.publish_at = None
    article.save(update_fields=["status", "publish_at"])
    _event(article, actor, "article.archived", note)
    return article


@transaction.atomic
def article_restore(*, article: Article, actor: User | None, number: int) -> ArticleVersion:
    """Make an old version the newest again (a new version with its content,
    a draft to be published like any other)."""
    _require_editor(actor)
    article = Article.objects.select_for_update().get(pk=article.pk)
    old = ArticleVersion.objects.filter(article=article, number=number).first()
    if old is None:
        raise DomainError(f"There is no version {number}.", field="version")
    if article.status == ArticleStatus.ARCHIVED:
        # Back to work: the restored version is a draft to be published again.
        Article.objects.filter(pk=article.pk).update(status=ArticleStatus.DRAFT)
        article.status = ArticleStatus.DRAFT
    version = article_save(
        actor=actor,
        article=article,
        title=old.title,
        body=old.body,
        summary=old.summary,
        section=old.section,
        tags=old.tags,
        visibility=old.visibility,
        slug=old.slug if old.slug != article.slug else "",
        note=f"Restored version {number}",
    )
    _event(article, actor, "article.restored", f"Version {number} as version {version.number}")
    return version


def version_diff(article: Article, older: int, newer: int) -> list[str]:
    """A unified diff of two versions' title, summary and body (lines)."""
    versions = {
        v.number: v
        for v in ArticleVersion.objects.filter(article=article, number__in=[older, newer])
    }
    if older not in versions or newer not in versions:
        raise DomainError("No such version.", field="version")

    def text(v: ArticleVersion) -> list[str]:
        return [f"# {v.title}", "", v.summary, "", *v.body.splitlines()]

    return list(
        difflib.unified_diff(
            text(versions[older]),
            text(versions[newer]),
            fromfile=f"version {older}",
            tofile=f"version {newer}",
            lineterm="",
        )
    )


# --- what visitors do --------------------------------------------------------------


def _visitor_key(session_key: str) -> str:
    # Only a digest of the session is kept with the feedback.
    return hashlib.sha256(session_key.encode()).hexdigest()[:64] if session_key else ""


@transaction.atomic
def feedback_record(
    *,
    article: Article,
    helpful: bool,
    user: User | None = None,
    session_key: str = "",
    comment: str = "",
) -> ArticleFeedback:
    """ "Was this helpful?": one answer per person (or browser session) and
    article; answering again changes it. The article's counts follow."""
    visitor = "" if user is not None else _visitor_key(session_key)
    if user is None and not visitor:
        raise DomainError("Your browser did not keep a session; please try again.")
    lookup: dict[str, Any] = (
        {"user": user} if user is not None else {"user": None, "visitor": visitor}
    )
    existing = ArticleFeedback.objects.select_for_update().filter(article=article, **lookup).first()
    comment = (comment or "").strip()[:1000]
    if existing is None:
        try:
            with transaction.atomic():
                feedback = ArticleFeedback.objects.create(
                    article=article, helpful=helpful, comment=comment, **lookup
                )
        except IntegrityError:  # the same person's other tab, just now
            existing = ArticleFeedback.objects.select_for_update().get(article=article, **lookup)
        else:
            field = "helpful_count" if helpful else "unhelpful_count"
            Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})
            return feedback
    if existing.helpful != helpful:
        was, now_ = (
            ("helpful_count", "unhelpful_count")
            if existing.helpful
            else ("unhelpful_count", "helpful_count")
        )
        Article.objects.filter(pk=article.pk).update(**{was: F(was) - 1, now_: F(now_) + 1})
    existing.helpful = helpful
    if comment:
        existing.comment = comment
    existing.created_at = timezone.now()
    existing.save(update_fields=["helpful", "comment", "created_at"])
    return existing


# Page views are counted in Redis (a hash of article id -> views) and added to
# the articles in batches by the beat job `flush_views`: never a database write
# per page view. Without Redis (the SQLite demo, or Redis not answering) a
# view is written straight away instead, so none is lost.
_VIEWS_HASH = "kb:views"


def _redis() -> Redis | None:
    backend = caches["default"]  # the backend itself (`cache` is a proxy)
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True)  # type: ignore[attr-defined]


def view_count(article_id: int) -> None:
    """Count one view of an article."""
    client = _redis()
    if client is not None:
        try:
            client.hincrby(cache.make_key(_VIEWS_HASH), str(article_id), 1)
            return
        except RedisError:
            pass
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)


def flush_views() -> int:
    """Add the views counted in Redis to the articles (beat, every minute).
    The hash is renamed before it is read, so views counted meanwhile go to a
    new hash and are flushed next time, none twice."""
    client = _redis()
    if client is None:
        return 0
    key = cache.make_key(_VIEWS_HASH)
    flushing = f"{key}:flushing"
    try:
        # A previous flush that died after the rename left its hash: take it too.
        if not client.exists(flushing):
            if not client.exists(key):
                return 0
            client.rename(key, flushing)
        counts = client.hgetall(flushing)
    except RedisError:
        return 0
    added = 0
    with transaction.atomic():
        for raw_id, raw_count in sorted(counts.items()):
            count = int(raw_count)
            Article.objects.filter(pk=int(raw_id)).update(view_count=F("view_count") + count)
            added += count
    client.delete(flushing)
    return added


def search_term_record(*, term: str, results: int) -> None:
    """Count a search of the help centre for the content-gaps list (a
    normalised term per day; the ones that found nothing are the gaps).
    One statement (an upsert), as every search pays for it: PostgreSQL and
    SQLite both take INSERT ... ON CONFLICT DO UPDATE."""
    normalised = " ".join((term or "").lower().split())[:200]
    if not normalised:
        return
    table = SearchTerm._meta.db_table
    missed = 0 if results else 1
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (term, day, searches, without_results) "  # noqa: S608 - the model's own table
            "VALUES (%s, %s, 1, %s) ON CONFLICT (term, day) DO UPDATE SET "
            f"searches = {table}.searches + 1, "
            f"without_results = {table}.without_results + EXCLUDED.without_results",
            [normalised, timezone.localdate(), missed],
        )
