"""The demo company's help centre (Brightdesk, the product the demo's
customers use): its articles, their history and 90 days of what visitors did.

The articles are Markdown files with YAML front matter in demo/articles/,
brought in by the product's own importer (knowledge_base.importing, as
`manage.py import_articles demo/articles` would) as if the company had moved
its old help centre over 88 days ago. Then, through the services, a few
articles are revised by agents and approved by the manager, one waits in
review, one is approved to go live in a few days; and, as rows written in
bulk (like the ticket history), visitors' views and "Was this helpful?"
answers, portal deflections, the articles submitted requests were shown, and
the help centre's search log with some searches that found nothing.

Seeded once: a database that already has articles keeps its help centre.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.db.models import Max, Min
from django.utils import timezone

from demo.catalog import AGENT_LOGIN, MANAGER
from knowledge_base import embeddings, import_files, importing, services, suggestions
from knowledge_base.models import (
    Article,
    ArticleEvent,
    ArticleFeedback,
    ArticleStatus,
    ArticleVersion,
    SearchTerm,
    Visibility,
)
from tickets.models import Channel, Deflection, Role, ShownArticle, Ticket, User

ARTICLES_DIR = Path(__file__).resolve().parent / "articles"

# Journey 1: "can't log in" finds it; the login canned response links it.
RESET_ARTICLE_SLUG = "reset-your-password"
# Journey 7: "verify my account" must find it by meaning alone, so it never
# uses either word (tests/demo/test_help_centre.py holds it to that).
CONFIRMATION_SLUG = "confirming-your-email-address"
# Approved by the manager to go live a few days after the seed.
SCHEDULED_SLUG = "scheduled-pdf-delivery"
SCHEDULED_IN = timedelta(days=4)
# A published article whose next version waits for the manager's review.
PENDING_REVIEW_SLUG = "change-or-cancel-plan"

# The old help centre was imported this long ago.
IMPORTED_DAYS_AGO = 88


@dataclass(frozen=True)
class Revision:
    """A later edit of an imported article: a section added by an agent."""

    slug: str
    days_ago: int
    editor: str  # an agent's e-mail address
    note: str
    addition: str


_EDITORS = (AGENT_LOGIN.email, "priya.raman@demo.helpdesk.test", "sofia.marin@demo.helpdesk.test")

REVISIONS: tuple[Revision, ...] = (
    Revision(
        RESET_ARTICLE_SLUG,
        61,
        AGENT_LOGIN.email,
        "Added what to do when the reset link has expired",
        "## The link says it has expired\n\n"
        "Each reset link works once, for three hours, and asking for a new link cancels "
        "the older ones. Use the newest message only; if several arrived, delete the "
        "others first.",
    ),
    Revision(
        RESET_ARTICLE_SLUG,
        19,
        "priya.raman@demo.helpdesk.test",
        "Password managers that fill in the old password",
        "## Your password manager keeps the old password\n\n"
        "After a reset, update the password saved in your browser or password manager. "
        "Otherwise it fills in the old one, and five tries later sign-in is paused for "
        "15 minutes.",
    ),
    Revision(
        "fix-import-errors",
        44,
        "sofia.marin@demo.helpdesk.test",
        "Semicolon-separated files",
        "## Every line is refused with *Unknown column*\n\n"
        "Spreadsheets set to a European language save CSV files with **semicolons**. "
        "Choose *Separator: semicolon* in the import's first step, or save the file again "
        "as *CSV UTF-8 (Comma delimited)*.",
    ),
    Revision(
        "app-is-slow",
        27,
        "leila.haddad@demo.helpdesk.test",
        "Data-sync delays as a cause of slowness",
        "## Changes appear late\n\n"
        "If pages are fast but colleagues' changes take minutes to appear, it is a sync "
        "delay rather than slowness: see *Changes take long to appear on other devices*.",
    ),
    Revision(
        "api-rate-limits",
        52,
        "ravi.patel@demo.helpdesk.test",
        "Example of a back-off loop",
        "## Backing off, in code\n\n"
        "```python\nwhile True:\n    response = session.get(url)\n"
        "    if response.status_code != 429:\n        break\n"
        '    time.sleep(int(response.headers["Retry-After"]))\n```',
    ),
    Revision(
        "api-rate-limits",
        9,
        "ravi.patel@demo.helpdesk.test",
        "Higher limits on Enterprise",
        "Enterprise plans can ask for up to **3,000 requests per minute** per key: open a "
        "request with the integration's name and its expected volume.",
    ),
    Revision(
        "download-invoices",
        33,
        "sofia.marin@demo.helpdesk.test",
        "Purchase-order numbers",
        "## A purchase-order number on every invoice\n\n"
        "Type it under **Settings → Billing → Company details → PO number**; it is printed "
        "on every invoice from the next one.",
    ),
)

# The pending edit of PENDING_REVIEW_SLUG (submitted, not yet approved).
PENDING_ADDITION = (
    "## Pausing instead of cancelling\n\n"
    "Yearly plans can be **paused** for up to three months once a year: the workspace is "
    "read-only meanwhile and you pay nothing."
)

# How many times more often than an ordinary article each one is read, and how
# often readers find it helpful (ordinary: 1.0 and 0.85). Two articles are
# rated poorly, so the content-gaps list has something to show.
POPULARITY = {
    RESET_ARTICLE_SLUG: 9.0,
    CONFIRMATION_SLUG: 7.0,
    "company-documents-check": 4.0,
    "prepare-a-csv-import": 5.0,
    "fix-import-errors": 4.5,
    "download-invoices": 4.0,
    "card-declined": 3.0,
    "locked-out-too-many-attempts": 3.5,
    "create-and-rotate-api-keys": 2.5,
    "app-is-slow": 2.5,
    "build-and-schedule-a-report": 2.0,
}
HELPFUL_RATE = {
    RESET_ARTICLE_SLUG: 0.9,
    CONFIRMATION_SLUG: 0.92,
    "large-imports": 0.35,
    "report-totals-differ": 0.5,
}
UNHELPFUL_COMMENTS = {
    "large-imports": (
        "Doesn't say what to do when an import is stuck at 99 %.",
        "My import of 300k rows took two hours, not six minutes.",
        "Still waiting, nothing in the history.",
    ),
    "report-totals-differ": (
        "Checked all four, totals still differ.",
        "What about refunds? They are counted differently.",
    ),
}
HELPFUL_COMMENTS = (
    "Clear, thanks!",
    "Worked first time.",
    "Exactly what I needed.",
    "",
    "",
    "",
)

# What customers typed in the portal before a suggested article answered them.
DEFLECTED_QUERIES = {
    RESET_ARTICLE_SLUG: (
        "can't log in",
        "forgot my password",
        "password reset",
        "locked out of my login",
        "cannot sign in since this morning",
    ),
    CONFIRMATION_SLUG: (
        "verify my account",
        "how do I verify my account",
        "account not verified",
        "didn't get the confirmation email",
        "confirm email address",
    ),
    "company-documents-check": (
        "which documents for company verification",
        "sms code not arriving",
    ),
    "fix-import-errors": ("import failed invalid date", "csv import error unknown column"),
    "prepare-a-csv-import": ("csv format for import", "how to import customers"),
    "download-invoices": ("where are my invoices", "download invoice pdf"),
    "card-declined": ("card declined", "payment failed"),
    "create-and-rotate-api-keys": ("new api key", "rotate api token"),
    "api-rate-limits": ("429 too many requests",),
    "export-reports": ("export report to excel",),
    "app-is-slow": ("app very slow", "pages take forever to load"),
    "data-sync-delays": ("changes not showing for colleagues",),
}

# The help centre's search log: (term, searches on a typical day, found nothing).
SEARCHES: tuple[tuple[str, float, bool], ...] = (
    ("password", 6.0, False),
    ("can't log in", 4.0, False),
    ("reset password", 3.0, False),
    ("verify my account", 3.5, False),
    ("confirmation email", 2.0, False),
    ("invoice", 3.0, False),
    ("refund", 1.5, False),
    ("csv import", 2.5, False),
    ("import error", 2.0, False),
    ("api key", 1.5, False),
    ("rate limit", 0.8, False),
    ("report", 1.5, False),
    ("slow", 1.2, False),
    ("two-step", 0.7, False),
    # Content gaps: nothing in the help centre answers these.
    ("dark mode", 0.6, True),
    ("gdpr", 0.4, True),
    ("zapier", 0.5, True),
    ("quickbooks", 0.3, True),
    ("scim", 0.2, True),
)

# Which articles the portal suggests for a ticket category (ShownArticle rows
# of seeded portal requests).
SUGGESTED_FOR = {
    "login": (RESET_ARTICLE_SLUG, "locked-out-too-many-attempts", "two-step-sign-in"),
    "account-verification": (
        CONFIRMATION_SLUG,
        "company-documents-check",
        "confirmation-email-not-arriving",
    ),
    "billing": ("download-invoices", "card-declined", "refunds-and-credits"),
    "data-import": ("fix-import-errors", "prepare-a-csv-import", "large-imports"),
    "report-generation": ("report-totals-differ", "build-and-schedule-a-report"),
    "api": ("api-401-errors", "api-rate-limits", "create-and-rotate-api-keys"),
    "performance": ("app-is-slow", "data-sync-delays"),
    "ui-bug": ("report-a-bug", "supported-browsers"),
    "feature-request": ("feature-requests",),
}
# Portal requests at most that get the suggestions they were shown (the newest).
MAX_SHOWN_TICKETS = 5_000


@dataclass(frozen=True)
class HelpCentreResult:
    articles: int
    feedback: int
    deflections: int
    embedded: int | None  # None: semantic search is off


def article_ref(article: Article) -> str:
    """The ref the portal's suggestions give an article: Deflection and
    ShownArticle keep it, not a foreign key."""
    return suggestions.article_ref(article.pk)


@contextmanager
def _dated(when: datetime) -> Iterator[None]:
    """Give the versions and history events written inside the block the
    time `when` (the services stamp them with the real clock)."""
    last_version = ArticleVersion.objects.aggregate(n=Max("id"))["n"] or 0
    last_event = ArticleEvent.objects.aggregate(n=Max("id"))["n"] or 0
    yield
    ArticleVersion.objects.filter(id__gt=last_version).update(created_at=when)
    ArticleEvent.objects.filter(id__gt=last_event).update(created_at=when)


def seed_help_centre(*, seed: int, tickets_seeded: int) -> HelpCentreResult | None:
    """Write the demo help centre; None when the database has articles already."""
    if Article.objects.exists():
        return None
    rng = random.Random(f"help-centre-{seed}")
    now = timezone.now()
    manager = User.objects.get(email=MANAGER.email)
    editors = {u.email: u for u in User.objects.filter(role=Role.AGENT)}

    imported_at = now - timedelta(days=IMPORTED_DAYS_AGO)
    with _dated(imported_at):
        tally = importing.run_import(import_files.open_source(ARTICLES_DIR), actor=manager)
    if tally.rejected or tally.warnings:
        problems = [f"{r.where}: {r.field}: {r.message}" for r in tally.rejected + tally.warnings]
        raise ValueError("The demo articles do not import cleanly: " + "; ".join(problems))
    articles = {a.slug: a for a in Article.objects.all()}

    for revision in sorted(REVISIONS, key=lambda r: -r.days_ago):
        article = Article.objects.get(slug=revision.slug)
        newest = article.versions.get(number=article.version)
        with _dated(now - timedelta(days=revision.days_ago, hours=rng.randint(1, 8))):
            services.article_save(
                actor=editors[revision.editor],
                article=article,
                title=newest.title,
                body=f"{newest.body}\n\n{revision.addition}",
                summary=newest.summary,
                section=newest.section,
                tags=newest.tags,
                visibility=newest.visibility,
                note=revision.note,
            )
            services.article_submit(article=article, actor=editors[revision.editor])
            services.article_publish(article=article, actor=manager)

    pending = articles[PENDING_REVIEW_SLUG]
    newest = pending.versions.get(number=pending.version)
    with _dated(now - timedelta(days=2)):
        services.article_save(
            actor=editors[_EDITORS[2]],
            article=pending,
            title=newest.title,
            body=f"{newest.body}\n\n{PENDING_ADDITION}",
            summary=newest.summary,
            section=newest.section,
            tags=newest.tags,
            visibility=newest.visibility,
            note="Pausing a yearly plan (from the pricing change)",
        )
        services.article_submit(article=pending, actor=editors[_EDITORS[2]])
    with _dated(now - timedelta(days=1)):
        services.article_publish(
            article=articles[SCHEDULED_SLUG], actor=manager, publish_at=now + SCHEDULED_IN
        )
    _date_articles()

    live = list(
        Article.objects.filter(live_version__gt=0)
        .exclude(status=ArticleStatus.ARCHIVED)
        .exclude(visibility=Visibility.INTERNAL)
        .order_by("id")
    )
    feedback = _seed_views_and_feedback(live, rng, now)
    deflections = _seed_deflections(live, rng, now, tickets_seeded, feedback)
    _seed_shown_articles(live, rng)
    _seed_search_terms(rng, now)
    embedded = None
    if embeddings.enabled():
        stale = sorted(embeddings.stale_articles().values_list("pk", flat=True))
        embedded = embeddings.embed_articles(stale, batch_size=32)
    return HelpCentreResult(
        articles=Article.objects.count(),
        feedback=len(feedback),
        deflections=deflections,
        embedded=embedded,
    )


def _date_articles() -> None:
    """The articles' own dates from their (back-dated) versions and events."""
    versions = {
        row["article"]: row
        for row in ArticleVersion.objects.values("article").annotate(
            first=Min("created_at"), last=Max("created_at")
        )
    }
    published = dict(
        ArticleEvent.objects.filter(action="article.published")
        .values("article")
        .annotate(last=Max("created_at"))
        .values_list("article", "last")
    )
    for article in Article.objects.all():
        dates = versions[article.pk]
        article.created_at = dates["first"]
        article.updated_at = dates["last"]
        if article.published_at is not None and article.pk in published:
            article.published_at = published[article.pk]
        article.save(update_fields=["created_at", "updated_at", "published_at"])


def _when(rng: random.Random, now: datetime, *, recent_bias: float = 1.0) -> datetime:
    """A moment since the import; recent_bias > 1 makes recent days likelier."""
    span = (IMPORTED_DAYS_AGO - 1) * 86_400
    return now - timedelta(seconds=span * (1 - rng.random() ** (1 / recent_bias)))


def _seed_views_and_feedback(
    live: list[Article], rng: random.Random, now: datetime
) -> list[ArticleFeedback]:
    customers = list(User.objects.filter(role=Role.CUSTOMER).order_by("id"))
    rows: list[ArticleFeedback] = []
    for article in live:
        weight = POPULARITY.get(article.slug, 1.0)
        views = int(weight * rng.uniform(50, 60) * IMPORTED_DAYS_AGO / 30)
        answers = max(2, int(views * rng.uniform(0.04, 0.07)))
        helpful_rate = HELPFUL_RATE.get(article.slug, 0.85)
        if article.visibility == Visibility.PUBLIC:
            # Half the answers from anonymous visitors (one per browser session).
            signed_in = rng.sample(customers, min(len(customers), answers // 2))
        else:  # customers-only: signed-in customers alone can read it
            answers = min(answers, len(customers))
            signed_in = rng.sample(customers, answers)
        helpful_count = unhelpful_count = 0
        for n in range(answers):
            helpful = rng.random() < helpful_rate
            comments = (
                HELPFUL_COMMENTS
                if helpful
                else UNHELPFUL_COMMENTS.get(article.slug, ("", "Not what I was looking for."))
            )
            user = signed_in[n] if n < len(signed_in) else None
            visitor = (
                ""
                if user is not None
                else hashlib.sha256(f"demo-visitor-{article.pk}-{n}".encode()).hexdigest()
            )
            rows.append(
                ArticleFeedback(
                    article=article,
                    user=user,
                    visitor=visitor,
                    helpful=helpful,
                    comment=rng.choice(comments),
                    created_at=_when(rng, now),
                )
            )
            helpful_count += helpful
            unhelpful_count += not helpful
        Article.objects.filter(pk=article.pk).update(
            view_count=views, helpful_count=helpful_count, unhelpful_count=unhelpful_count
        )
    ArticleFeedback.objects.bulk_create(rows, batch_size=1_000)
    return rows


def _seed_deflections(
    live: list[Article],
    rng: random.Random,
    now: datetime,
    tickets_seeded: int,
    feedback: list[ArticleFeedback],
) -> int:
    """Customers whom a suggested article answered in the portal, more of them
    in recent weeks (the help centre improves, as the ticket history does);
    and, as the help centre records them (knowledge_base.suggestions.
    feedback_with_deflection), signed-in customers who said an article helped."""
    customers = list(User.objects.filter(role=Role.CUSTOMER).order_by("id"))
    by_slug = {a.slug: a for a in live}
    choices = [(by_slug[s], queries) for s, queries in DEFLECTED_QUERIES.items() if s in by_slug]
    weights = [POPULARITY.get(a.slug, 1.0) for a, _ in choices]
    if not customers or not choices:
        return 0
    count = min(max(40, tickets_seeded // 10), 2_000)
    rows = []
    for _ in range(count):
        article, queries = rng.choices(choices, weights=weights)[0]
        rows.append(
            Deflection(
                user=rng.choice(customers),
                query=rng.choice(queries),
                article_ref=article_ref(article),
                article_title=article.title,
                created_at=_when(rng, now, recent_bias=1.8),
            )
        )
    rows.extend(
        Deflection(
            user=answer.user,
            query="",
            article_ref=article_ref(answer.article),
            article_title=answer.article.title,
            created_at=answer.created_at,
        )
        for answer in feedback
        if answer.helpful and answer.user is not None
    )
    Deflection.objects.bulk_create(rows, batch_size=1_000)
    return len(rows)


def _seed_shown_articles(live: list[Article], rng: random.Random) -> int:
    """The suggestions a share of the seeded portal requests were shown before
    the customer sent them anyway."""
    by_slug = {a.slug: a for a in live}
    recent = (
        Ticket.objects.filter(channel=Channel.PORTAL, category__slug__in=list(SUGGESTED_FOR))
        .order_by("-id")
        .values_list("id", "category__slug", "created_at")[:MAX_SHOWN_TICKETS]
    )
    rows = []
    for ticket_id, category, created_at in recent:
        if rng.random() > 0.45:
            continue  # typed too little for a suggestion, or none matched
        slugs = [s for s in SUGGESTED_FOR[category] if s in by_slug]
        for position, slug in enumerate(rng.sample(slugs, rng.randint(1, len(slugs))), start=1):
            article = by_slug[slug]
            rows.append(
                ShownArticle(
                    ticket_id=ticket_id,
                    article_ref=article_ref(article),
                    article_title=article.title,
                    position=position,
                    shown_at=created_at - timedelta(seconds=rng.randint(20, 400)),
                )
            )
    ShownArticle.objects.bulk_create(rows, batch_size=1_000)
    return len(rows)


def _seed_search_terms(rng: random.Random, now: datetime) -> int:
    rows = []
    today = timezone.localdate(now)
    for days_ago in range(IMPORTED_DAYS_AGO):
        day = today - timedelta(days=days_ago)
        weekend = day.weekday() >= 5
        for term, per_day, empty in SEARCHES:
            searches = max(0, round(rng.gauss(per_day, per_day**0.5)))
            if weekend:
                searches //= 3
            if searches:
                rows.append(
                    SearchTerm(
                        term=term,
                        day=day,
                        searches=searches,
                        without_results=searches if empty else 0,
                    )
                )
    SearchTerm.objects.bulk_create(rows, batch_size=1_000, ignore_conflicts=True)
    return len(rows)
