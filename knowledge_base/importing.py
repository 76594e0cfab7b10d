"""Bring a knowledge base over from another system (`manage.py import_articles`).

The file is read by knowledge_base/import_files.py (CSV, JSON or a folder of
Markdown files; checked whole before anything is written). `run_import`
saves each row through the services in a transaction of its own
(`import_row`): a refused row leaves nothing behind (not even the category it
would have created), the good rows still land. An article is found again by
its slug (the row's, else the title's), so a second run updates instead of
duplicating, and saves a new version only when the content changed. Rows are
published unless their `status` says otherwise.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Max
from django.utils.text import slugify

from knowledge_base import embeddings, services
from knowledge_base.import_files import REQUIRED, ImportFileError, RowError, Source
from knowledge_base.models import (
    Article,
    ArticleSlug,
    ArticleStatus,
    ArticleVersion,
    Category,
    Section,
    Visibility,
)
from knowledge_base.selectors import can_edit
from tickets.errors import DomainError
from tickets.models import User

# The section an article goes to when its row names only a category.
DEFAULT_SECTION = "General"


# --- one row -----------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleRow:
    """A row's fields, checked and normalised."""

    title: str
    body: str
    slug: str
    summary: str
    category: str
    section: str
    tags: list[str]
    visibility: str
    status: str
    # Slugs of related articles (anywhere in the file or already imported).
    related: list[str] = field(default_factory=list)


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise RowError(name, f"Must be text, not {type(value).__name__}.")
    text = str(value).strip()
    if "\x00" in text:
        raise RowError(name, "Contains a NUL character.")
    return text


def _items(data: dict[str, Any], name: str) -> list[str]:
    """A list field: a list, or text separated by commas."""
    raw = data.get(name)
    if isinstance(raw, list):
        if not all(isinstance(t, str | int | float) and not isinstance(t, bool) for t in raw):
            raise RowError(name, f"The {name} must be text.")
        values = [str(t) for t in raw]
    else:
        values = _text(data, name).split(",")
    return [v.strip() for v in values if v.strip()]


def parse_row(
    data: dict[str, Any],
    *,
    default_status: str = ArticleStatus.PUBLISHED,
    default_visibility: str = Visibility.PUBLIC,
) -> ArticleRow:
    """The row's fields checked (RowError names the first bad one)."""
    for name in REQUIRED:
        if not _text(data, name):
            raise RowError(name, f"The {name} is empty.")
    title, body = _text(data, "title"), _text(data, "body")
    wanted_slug = _text(data, "slug")
    slug = slugify(wanted_slug or title)[:190]
    if not slug:
        raise RowError("slug" if wanted_slug else "title", "No letters or digits to make a slug.")
    visibility = (_text(data, "visibility") or default_visibility).lower()
    if visibility not in Visibility.values:
        raise RowError(
            "visibility", f"Unknown visibility {visibility!r} (public, customers or internal)."
        )
    status = (_text(data, "status") or default_status).lower()
    if status not in ArticleStatus.values:
        raise RowError(
            "status", f"Unknown status {status!r} (draft, review, published or archived)."
        )
    category, section = _text(data, "category"), _text(data, "section")
    if section and not category:
        raise RowError("section", "A section needs its category.")
    for name, value in (("category", category), ("section", section)):
        if len(value) > 100:
            raise RowError(name, f"The {name} name is longer than 100 characters.")
    related = [s for s in (slugify(r)[:190] for r in _items(data, "related")) if s != slug]
    return ArticleRow(
        title=title,
        body=body,
        slug=slug,
        summary=_text(data, "summary"),
        category=category,
        section=section or (DEFAULT_SECTION if category else ""),
        tags=services._tag_names(_items(data, "tags")),
        visibility=visibility,
        status=status,
        related=list(dict.fromkeys(related)),
    )


def _unique_slug(model: type[Category] | type[Section], name: str, **scope: Any) -> str:
    base = slugify(name)[:90] or "general"
    slug, n = base, 1
    while model.objects.filter(slug=slug, **scope).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def section_for(category_name: str, section_name: str) -> Section | None:
    """The section of that name in the category of that name or slug (names
    compared without regard to case), created with the category as needed."""
    if not category_name:
        return None
    category = (
        Category.objects.filter(name__iexact=category_name).first()
        or Category.objects.filter(slug=slugify(category_name)).first()
    )
    if category is None:
        last = Category.objects.aggregate(n=Max("position"))["n"] or 0
        category = Category.objects.create(
            name=category_name,
            slug=_unique_slug(Category, category_name),
            position=min(last + 1, 32767),
        )
    section = (
        Section.objects.filter(category=category, name__iexact=section_name).first()
        or Section.objects.filter(category=category, slug=slugify(section_name)).first()
    )
    if section is None:
        last = category.sections.aggregate(n=Max("position"))["n"] or 0
        section = Section.objects.create(
            category=category,
            name=section_name,
            slug=_unique_slug(Section, section_name, category=category),
            position=min(last + 1, 32767),
        )
    return section


def find_article(slug: str) -> tuple[Article | None, bool]:
    """The article with this slug, or the one that had it before a rename
    (then its current slug is kept: the second value is False)."""
    article = Article.objects.filter(slug=slug).first()
    if article is not None:
        return article, True
    old = ArticleSlug.objects.filter(slug=slug).select_related("article").first()
    return (old.article, False) if old is not None else (None, True)


def _same_content(version: ArticleVersion, row: ArticleRow, section: Section | None) -> bool:
    title, body = services.article_validate(row.title, row.body, row.visibility)
    return (
        version.title == title
        and version.body == body
        and version.summary == " ".join(row.summary.split())[:300]
        and version.tags == ", ".join(row.tags)
        and version.visibility == row.visibility
        and version.section_id == (section.pk if section else None)
    )


# What happened to a row.
CREATED, UPDATED, STATUS_CHANGED, UNCHANGED = "created", "updated", "status changed", "unchanged"


def import_row(row: ArticleRow, *, actor: User | None) -> tuple[str, Article]:
    """Create or update the row's article through the services and bring it
    to the row's status. Call it inside a transaction (one per row): a
    DomainError or RowError leaves the caller to roll the row back."""
    section = section_for(row.category, row.section)
    article, keeps_slug = find_article(row.slug)
    fields: dict[str, Any] = {
        "title": row.title,
        "body": row.body,
        "summary": row.summary,
        "section": section,
        "tags": row.tags,
        "visibility": row.visibility,
        "note": "Imported",
    }
    if article is None:
        article = services.article_save(actor=actor, slug=row.slug, **fields).article
        outcome = CREATED
    else:
        outcome = UNCHANGED
        if article.status == ArticleStatus.ARCHIVED and row.status != ArticleStatus.ARCHIVED:
            # Back from the archive: the newest version again, as a draft.
            services.article_restore(article=article, actor=actor, number=article.version)
            outcome = STATUS_CHANGED
        article.refresh_from_db()
        newest = article.versions.get(number=article.version)
        if not _same_content(newest, row, section) or (keeps_slug and newest.slug != row.slug):
            services.article_save(
                actor=actor, article=article, slug=row.slug if keeps_slug else "", **fields
            )
            outcome = UPDATED
    article.refresh_from_db()
    if _apply_status(article, row.status, actor) and outcome == UNCHANGED:
        outcome = STATUS_CHANGED
    article.refresh_from_db()
    return outcome, article


def _apply_status(article: Article, status: str, actor: User | None) -> bool:
    """Bring the article's newest version to `status`; True if anything changed.
    A draft or review row never takes a published version off the help centre:
    the row's new content waits as the newest version while the live one stays."""
    if status == ArticleStatus.PUBLISHED:
        if article.status == ArticleStatus.PUBLISHED and article.live_version == article.version:
            return False
        services.article_publish(article=article, actor=actor, note="Imported")
        return True
    if status == ArticleStatus.ARCHIVED:
        if article.status == ArticleStatus.ARCHIVED:
            return False
        services.article_archive(article=article, actor=actor, note="Imported as archived")
        return True
    if status == ArticleStatus.REVIEW and article.status == ArticleStatus.DRAFT:
        services.article_submit(article=article, actor=actor, note="Imported for review")
        return True
    return False


def _relate(article_id: int, slugs: list[str]) -> list[str]:
    """Link the article to the articles of these slugs (both ways; links made
    in the editor are kept). Returns the slugs no article has."""
    found: list[Article] = []
    missing: list[str] = []
    for slug in slugs:
        other, _ = find_article(slug)
        if other is None or other.pk == article_id:
            missing.append(slug)
        else:
            found.append(other)
    if found:
        Article.objects.get(pk=article_id).related.add(*found)
    return missing


# --- the whole file ----------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    where: str
    field: str
    message: str


@dataclass
class ImportTally:
    counts: dict[str, int] = field(
        default_factory=lambda: {CREATED: 0, UPDATED: 0, STATUS_CHANGED: 0, UNCHANGED: 0}
    )
    rejected: list[Rejection] = field(default_factory=list)
    # Imported rows that did not stop the import: related slugs not found.
    warnings: list[Rejection] = field(default_factory=list)
    # Every imported article: id -> what happened to it.
    outcomes: dict[int, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values()) + len(self.rejected)

    def reject(self, where: str, exc: Exception) -> None:
        if isinstance(exc, RowError | DomainError):
            self.rejected.append(Rejection(where, exc.field or "", exc.message))
        else:
            self.rejected.append(Rejection(where, "", " ".join(str(exc).split())[:300]))


def run_import(
    source: Source,
    *,
    actor: User | None,
    progress: Callable[[int], object] | None = None,
) -> ImportTally:
    """Import every row of `source`, each in a transaction of its own; then
    link the related articles the rows name (they may come later in the file)."""
    tally = ImportTally()
    seen: dict[str, str] = {}  # slug -> the row that had it first
    relations: list[tuple[str, int, list[str]]] = []
    for source_row in source.rows():
        try:
            if source_row.error is not None:
                raise source_row.error
            row = parse_row(source_row.data)
            if row.slug in seen:
                raise RowError(
                    "slug",
                    f"The slug {row.slug!r} is already used by {seen[row.slug]}.",
                )
            seen[row.slug] = source_row.where
            with transaction.atomic():
                outcome, article = import_row(row, actor=actor)
        except (RowError, DomainError, DatabaseError) as exc:
            tally.reject(source_row.where, exc)
        else:
            tally.counts[outcome] += 1
            tally.outcomes[article.pk] = outcome
            if row.related:
                relations.append((source_row.where, article.pk, row.related))
        finally:
            if progress is not None:
                progress(1)
    for where, article_id, slugs in relations:
        with transaction.atomic():
            missing = _relate(article_id, slugs)
        for slug in missing:
            tally.warnings.append(Rejection(where, "related", f"No article has the slug {slug!r}."))
    return tally


def resolve_actor(email: str) -> User:
    """The person an import is done as (`--as`): an editor. Publishing rows
    also needs the approve permission; without it those rows are refused."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise ImportFileError(f"No active user has the e-mail address {email!r}.")
    if not can_edit(user):
        raise ImportFileError(
            f"{user.email} may not edit knowledge-base articles (the edit_articles permission)."
        )
    return user


def write_report(rejected: list[Rejection], path: Path) -> None:
    """The rejected rows as CSV: where, field, message."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["where", "field", "message"])
        writer.writerows((r.where, r.field, r.message) for r in rejected)


def embed_imported(tally: ImportTally, *, batch_size: int, progress: bool) -> int | None:
    """Compute now, in batches, the embeddings of the imported articles
    visitors can read that have none for their live version (created,
    changed, or never embedded), so semantic search finds them when the
    import returns rather than when a worker gets to them. None when
    semantic search is off."""
    if not embeddings.enabled():
        return None
    stale = embeddings.stale_articles().filter(pk__in=list(tally.outcomes))
    ids = sorted(stale.values_list("pk", flat=True))
    return embeddings.embed_articles(ids, batch_size=batch_size, progress=progress)
