"""Knowledge base at 100,000 published articles: search, portal suggestions,
help-centre pages and the KB API, timed in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_kb_bench \\
        python bench/kb_bench.py [--articles N] [--requests N] [--embed N] [--force]

What it does, in order (bench/README.md, "Knowledge base at 100,000
articles", has the figures):

1. migrates the database and checks that it is this bench's own: empty, or
   holding only what an earlier run of it wrote (then the missing articles
   are added and the rest reused). Anything else (tickets, people, other
   articles) is refused unless --force;
2. writes the articles in bulk (title, summary, Markdown body rendered to
   sanitised HTML by the product's renderer, tags, sections, a first
   version, view and feedback counts; the search vector and the typo
   words are PostgreSQL's own work: a generated column and a trigger). The
   text is varied and realistic: steps and explanations from the Bitext
   customer-support answers (../shared/data/bitext, read in place, never
   copied) mixed with a product vocabulary, in 8 categories, 40 sections and
   150 tags; 70 % public, 20 % for customers, 10 % internal;
3. with --embed N, computes the real sentence embeddings of N articles
   (knowledge_base.embeddings, the CPU model) so the hybrid path searches a
   real matrix of that size; the others have none (never made-up vectors);
4. per kind: a few warm-up requests, then --requests timed requests through
   Django's test client (the whole middleware stack, in this process: the
   server's time without the network), spread over the kind's URLs; the
   query vector cache is emptied before each search, so every query pays
   for its embedding as a new one would;
5. counts the SQL queries of each kind's URLs, prints EXPLAIN (ANALYZE,
   BUFFERS) of the slowest statement of every kind that missed its target;
6. prints a summary (p50 / p95 / max / queries / PASS or FAIL per kind,
   and this process's CPU time per request, which tells slow code from a
   request that waited for a core on a busy machine, with the load average)
   and writes bench/results/kb_bench.json. --only times the kinds whose
   name holds a word; --max-seconds-per-kind bounds a slow kind.

Targets (issue 11): search p95 <= 50 ms, suggestions p95 <= 100 ms,
help-centre pages (and the API's other reads) p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import statistics
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "kb_bench.json"
BITEXT = (
    ROOT.parent
    / "shared"
    / "data"
    / "bitext"
    / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
)
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "DJANGO_SECRET_KEY": "bench-only",
    "HELPDESK_SECURE_COOKIES": "0",
    "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1",
    # The bench is one client sending thousands of requests on purpose.
    "HELPDESK_KB_SEARCH_ANON_RATE": "1000000/min",
    "HELPDESK_API_RATE": "1000000/min",
    "HELPDESK_API_ANON_RATE": "1000000/min",
}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
# Every bench article's slug starts with this: what an earlier run wrote.
SLUG_PREFIX = "kbb-"
BENCH_EMAIL_DOMAIN = "kb-bench.test"
SEARCH_TARGET_MS = 50.0
SUGGESTIONS_TARGET_MS = 100.0
PAGE_TARGET_MS = 50.0
WARMUP = 5
STATEMENT_TIMEOUT_MS = 10_000
BATCH = 1000

# --- the text -----------------------------------------------------------------------------

CATEGORIES = {
    "Your account": [
        "Signing in",
        "Profile and settings",
        "Security",
        "Teams and roles",
        "Closing an account",
    ],
    "Billing": ["Invoices", "Payment methods", "Refunds", "Plans and pricing", "Taxes"],
    "Orders": ["Placing an order", "Changing an order", "Cancellations", "Order status", "Returns"],
    "Shipping": ["Delivery options", "Tracking", "Addresses", "International shipping", "Delays"],
    "Reports": ["Dashboards", "Exports", "Scheduled reports", "Filters", "Sharing"],
    "Integrations": ["API keys", "Webhooks", "Single sign-on", "Data import", "Zapier and friends"],
    "Mobile app": ["Installing", "Notifications", "Offline use", "Sync problems", "Accessibility"],
    "Performance": ["Slow pages", "Outages", "Limits", "Large accounts", "Browser support"],
}
ACTIONS = [
    "How to change", "Reset", "Troubleshoot", "Set up", "Cancel", "Update", "Export",
    "Import", "Understand", "Fix errors with", "Verify", "Delete", "Recover", "Share",
    "Schedule", "Download", "Turn on", "Turn off", "Review", "Move",
]  # fmt: skip
OBJECTS = [
    "your password", "two-factor authentication", "your e-mail address", "an invoice",
    "a refund", "your payment card", "your subscription", "a delivery address",
    "an order", "a return label", "tracking numbers", "a dashboard", "a CSV export",
    "scheduled reports", "API keys", "webhooks", "single sign-on", "a data import",
    "push notifications", "offline mode", "team permissions", "your profile photo",
    "billing contacts", "VAT numbers", "a gift card", "a discount code", "shipping rates",
    "the mobile app", "report filters", "user roles", "audit logs", "session timeouts",
    "a purchase order", "a credit note", "the newsletter", "account verification",
    "a backup", "data retention", "a custom domain", "browser extensions",
]  # fmt: skip
CONTEXTS = [
    "on Android", "on iPhone", "in the web app", "for a team", "for an organisation",
    "after a migration", "with SSO", "in the EU", "in the United States", "for resellers",
    "on a shared computer", "when travelling", "for new users", "for administrators",
    "in bulk", "with the API", "on the free plan", "on the business plan",
    "during an outage", "after a price change",
]  # fmt: skip
PRODUCT_WORDS = [
    "workspace", "dashboard", "settings page", "admin console", "billing page",
    "order history", "account menu", "notification centre", "export wizard",
    "integration list", "security tab", "profile page",
]  # fmt: skip
SENTENCES = [
    "Open the {place} and choose {obj}.",
    "Changes to {obj} take effect within a few minutes {ctx}.",
    "If {obj} does not work {ctx}, sign out, clear the browser cache and try again.",
    "Administrators can restrict who manages {obj} from the {place}.",
    "You will receive a confirmation e-mail once {obj} has been updated.",
    "Some plans limit {obj}; the {place} shows what yours includes.",
    "Keep a copy of the details of {obj} before you make changes {ctx}.",
    "Our support team can help with {obj} if the steps above do not solve it.",
]
TAGS = sorted(
    {w for o in OBJECTS for w in re.findall(r"[a-z][a-z-]{3,}", o.lower())}
    | {w.lower().replace(" ", "-") for s in CATEGORIES.values() for w in s}
    | {"how-to", "faq", "troubleshooting", "getting-started", "admin", "mobile", "billing"}
)[:150]
_PLACEHOLDER = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")


def load_responses() -> list[str]:
    """The Bitext answers (distinct), their {{Placeholders}} as plain words."""
    if not BITEXT.exists():
        return []
    with BITEXT.open(newline="", encoding="utf-8") as handle:
        seen = {row["response"] for row in csv.DictReader(handle)}
    return [_PLACEHOLDER.sub(lambda m: m.group(1).lower(), text) for text in sorted(seen)]


@dataclass
class Generated:
    title: str
    slug: str
    summary: str
    body: str
    tags: list[str]
    visibility: str
    section_index: int
    published_at: datetime
    views: int
    helpful: int
    unhelpful: int


def generate(i: int, responses: list[str], n_sections: int, now: datetime) -> Generated:
    """Article number i: the same text on every run (resumable)."""
    rng = random.Random(i * 7919 + 17)
    action, obj, ctx = rng.choice(ACTIONS), rng.choice(OBJECTS), rng.choice(CONTEXTS)
    title = f"{action} {obj} {ctx}"
    place = rng.choice(PRODUCT_WORDS)

    def sentence() -> str:
        return rng.choice(SENTENCES).format(place=place, obj=obj, ctx=ctx)

    paragraphs = [" ".join(sentence() for _ in range(rng.randint(2, 4)))]
    for _ in range(rng.randint(1, 3)):
        if responses:
            paragraphs.append(rng.choice(responses))
        paragraphs.append(" ".join(sentence() for _ in range(rng.randint(1, 3))))
    steps = "\n".join(f"{n}. {sentence()}" for n in range(1, rng.randint(3, 6)))
    body = f"{paragraphs[0]}\n\n## Steps\n\n{steps}\n\n" + "\n\n".join(paragraphs[1:])
    roll = rng.random()
    visibility = "public" if roll < 0.7 else "customers" if roll < 0.9 else "internal"
    return Generated(
        title=title[:200],
        slug=f"{SLUG_PREFIX}{i}-{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}"[:200],
        summary=f"{action} {obj} {ctx}: what it does, the steps, and what to check if it fails."[
            :300
        ],
        body=body,
        tags=rng.sample(TAGS, rng.randint(1, 3)),
        visibility=visibility,
        section_index=rng.randrange(n_sections),
        published_at=now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60), seconds=i % 60),
        views=int(rng.paretovariate(1.2) * 10),
        helpful=rng.randint(0, 40),
        unhelpful=rng.randint(0, 8),
    )


# --- setup ----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--articles", type=int, default=100_000, help="published articles (100,000)"
    )
    parser.add_argument("--requests", type=int, default=300, help="timed requests per kind (300)")
    parser.add_argument(
        "--embed",
        type=int,
        default=0,
        help="compute real embeddings for this many articles (0; at most 100,000: "
        "about 20 ms each on 2 cores)",
    )
    parser.add_argument("--force", action="store_true", help="use a database holding other data")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the URL sets")
    parser.add_argument(
        "--max-seconds-per-kind",
        type=float,
        default=120,
        help="stop a kind's timed requests after this long (at least 20 are made)",
    )
    parser.add_argument("--only", default="", help="time only the kinds whose name has this")
    parser.add_argument(
        "--write-only", action="store_true", help="write (and embed) the articles, time nothing"
    )
    args = parser.parse_args()
    if not 1 <= args.articles <= 1_000_000:
        parser.error("--articles must be between 1 and 1,000,000")
    if not 20 <= args.requests <= 5000:
        parser.error("--requests must be between 20 and 5,000")
    if not 0 <= args.embed <= min(args.articles, 100_000):
        parser.error("--embed must be between 0 and min(--articles, 100,000)")
    return args


def check_database_url() -> None:
    parsed = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", ""))
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("DATABASE_URL must name a dedicated PostgreSQL database (postgres://...)")
    if parsed.hostname not in (None, "", "127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing a non-local database host {parsed.hostname!r}")


def setup_django() -> None:
    """Django set up as in a web worker: through helpdesk/wsgi.py (which also
    sets the worker's BLAS threads before numpy loads)."""
    os.environ.update(BENCH_ENV)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    sys.path.insert(0, str(ROOT))
    import helpdesk.wsgi  # noqa: F401  (django.setup() and the worker's environment)


def check_database_is_ours(force: bool) -> None:
    from knowledge_base.models import Article
    from tickets.models import Ticket, User

    others = {
        "tickets": Ticket.objects.count(),
        "people": User.objects.exclude(email__endswith="@" + BENCH_EMAIL_DOMAIN).count(),
        "articles": Article.objects.exclude(slug__startswith=SLUG_PREFIX).count(),
    }
    found = {what: n for what, n in others.items() if n}
    if found and not force:
        sys.exit(
            f"refusing: the database holds data this bench did not write ({found}); "
            "give it a dedicated database, or --force"
        )
    if found:
        print(f"--force: the database also holds {found}")


def bench_people() -> dict:
    from tickets import services
    from tickets.models import Organization, Role, User

    people = {}
    org, _ = Organization.objects.get_or_create(
        name="KB bench customers", defaults={"domain": BENCH_EMAIL_DOMAIN}
    )
    for role, name in ((Role.CUSTOMER, "customer"), (Role.AGENT, "agent")):
        email = f"{name}@{BENCH_EMAIL_DOMAIN}"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = services.user_create(
                email=email,
                password=None,  # signed in by force_login
                full_name=f"Bench {name}",
                role=role,
                organization=org if role == Role.CUSTOMER else None,
                tier=None if role == Role.CUSTOMER else 1,
                capacity=0 if role == Role.CUSTOMER else 10,
            )
        people[name] = user
    return people


def structure() -> list:
    """The categories and sections (created once), sections in a fixed order."""
    from knowledge_base.models import Category, Section, Tag

    sections = []
    for position, (name, section_names) in enumerate(CATEGORIES.items()):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        category, _ = Category.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "position": position,
                "description": f"All about {name.lower()}.",
            },
        )
        for sub_position, section_name in enumerate(section_names):
            section_slug = re.sub(r"[^a-z0-9]+", "-", section_name.lower()).strip("-")
            section, _ = Section.objects.get_or_create(
                category=category,
                slug=section_slug,
                defaults={"name": section_name, "position": sub_position},
            )
            sections.append(section)
    Tag.objects.bulk_create([Tag(name=name) for name in TAGS], ignore_conflicts=True)
    return sections


def write_articles(total: int, author) -> float:
    """Adds the articles an earlier run did not write; returns the seconds spent."""
    from django.db import connection, transaction
    from tqdm import tqdm

    from knowledge_base.markdown import render_markdown
    from knowledge_base.models import Article, ArticleVersion, Tag

    sections = structure()
    have = Article.objects.filter(slug__startswith=SLUG_PREFIX).count()
    if have >= total:
        print(f"{have:,} bench articles already written: reused")
        return 0.0
    done = set(
        int(s.split("-")[1])
        for s in Article.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True)
    )
    todo = [i for i in range(total) if i not in done]
    responses = load_responses()
    print(f"writing {len(todo):,} articles ({len(responses):,} Bitext answers as text)")
    tag_ids = dict(Tag.objects.values_list("name", "id"))
    through = Article.tags.through
    now = datetime.now(UTC)
    started = time.perf_counter()
    with tqdm(total=len(todo), unit="article", desc="Articles") as bar:
        for start in range(0, len(todo), BATCH):
            made = [generate(i, responses, len(sections), now) for i in todo[start : start + BATCH]]
            rows = [
                Article(
                    title=g.title,
                    slug=g.slug,
                    summary=g.summary,
                    body=g.body,
                    body_html=render_markdown(g.body),
                    tag_names=", ".join(g.tags),
                    section=sections[g.section_index],
                    visibility=g.visibility,
                    status="published",
                    version=1,
                    live_version=1,
                    author=author,
                    published_at=g.published_at,
                    created_at=g.published_at,
                    updated_at=g.published_at,
                    view_count=g.views,
                    helpful_count=g.helpful,
                    unhelpful_count=g.unhelpful,
                )
                for g in made
            ]
            with transaction.atomic():
                Article.objects.bulk_create(rows)
                ArticleVersion.objects.bulk_create(
                    [
                        ArticleVersion(
                            article=a,
                            number=1,
                            title=a.title,
                            slug=a.slug,
                            summary=a.summary,
                            body=a.body,
                            tags=a.tag_names,
                            visibility=a.visibility,
                            section=a.section,
                            author=author,
                            note="Created",
                            created_at=a.created_at,
                        )
                        for a in rows
                    ]
                )
                through.objects.bulk_create(
                    [
                        through(article_id=a.pk, tag_id=tag_ids[name])
                        for a, g in zip(rows, made, strict=True)
                        for name in g.tags
                    ]
                )
            bar.update(len(rows))
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in (
            "knowledge_base_article",
            "knowledge_base_articleversion",
            "knowledge_base_article_tags",
            "knowledge_base_searchword",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return seconds


def embed(n: int) -> dict:
    from knowledge_base import embeddings
    from knowledge_base.models import Article

    if not embeddings.enabled():
        return {"enabled": False}
    live = Article.objects.filter(slug__startswith=SLUG_PREFIX)
    # Vectors of another model or scheme are stale: the search ignores them,
    # so they are computed again (the first n articles by id).
    stale = embeddings.stale_articles().filter(slug__startswith=SLUG_PREFIX)
    have = live.count() - stale.count()
    ids = list(stale.order_by("id").values_list("id", flat=True)[: max(0, n - have)])
    started = time.perf_counter()
    stored = embeddings.embed_articles(ids, progress=True) if ids else 0
    seconds = time.perf_counter() - started
    return {
        "enabled": True,
        "embedded": have + stored,
        "computed_now": stored,
        "ms_per_article": round(1000 * seconds / stored, 1) if stored else None,
    }


# --- the timed requests -----------------------------------------------------------------------


@dataclass
class Kind:
    name: str
    group: str  # search / suggestions / page / api
    who: str  # anonymous / customer / agent
    urls: list[str]
    target_ms: float
    times: list[float] = field(default_factory=list)
    # This process's CPU time per request (Python, not PostgreSQL's): on a busy
    # machine it tells code that is slow from a request that waited for a core.
    cpu: list[float] = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    queries: int = 0
    slowest: tuple[float, str] = (0.0, "")


SEARCHES = {
    "one word": [
        "password",
        "invoice",
        "refund",
        "webhooks",
        "tracking",
        "dashboard",
        "verify",
        "export",
    ],
    "two words": [
        "reset password",
        "cancel order",
        "delivery address",
        "payment card",
        "api keys",
        "scheduled reports",
        "refund policy",
        "team permissions",
    ],  # fmt: skip
    "phrase": [
        '"delivery address"',
        '"two-factor authentication"',
        '"credit note"',
        '"order history"',
        '"session timeouts"',
        '"gift card"',
    ],  # fmt: skip
    "typo": ["pasword", "invocie", "refnud", "deliverry adress", "webhoks", "subscribtion"],
    "paraphrase": [
        "can't get into my account",
        "I was charged twice",
        "where is my parcel",
        "money back for a purchase",
        "my reports are not arriving",
        "stop getting e-mails",
    ],  # fmt: skip
}
SUGGESTION_TEXTS = [
    ("Cannot log in", "I reset my password twice but the sign-in page refuses it on my iPhone."),
    ("Invoice is wrong", "Last month's invoice shows the wrong VAT number for our organisation."),
    ("Where is my order?", "I placed an order a week ago and the tracking number does not work."),
    ("Refund", "I returned the item but I have not received the refund to my payment card yet."),
    ("Export fails", "The CSV export of the dashboard stops halfway and I get an error message."),
    ("Webhooks stopped", "Since yesterday our webhooks are not called after the API key change."),
]  # fmt: skip


def _q(path: str, **params) -> str:
    return f"{path}?{urllib.parse.urlencode(params)}"


def build_kinds(rng: random.Random) -> list[Kind]:
    from django.urls import NoReverseMatch, reverse

    from knowledge_base.models import Article, Section

    kinds = []
    for name, queries in SEARCHES.items():
        urls = [_q("/api/v1/kb/search/", q=q) for q in queries]
        kinds.append(Kind(f"API search: {name}", "search", "anonymous", urls, SEARCH_TARGET_MS))
    kinds.append(
        Kind(
            "API search: customer, mixed",
            "search",
            "customer",
            [_q("/api/v1/kb/search/", q=q) for qs in SEARCHES.values() for q in qs[:2]],
            SEARCH_TARGET_MS,
        )
    )
    try:
        suggestions = reverse("tickets:suggestions")
        kinds.append(
            Kind(
                "Portal suggestions (customer)",
                "suggestions",
                "customer",
                [_q(suggestions, subject=s, description=d) for s, d in SUGGESTION_TEXTS],
                SUGGESTIONS_TARGET_MS,
            )
        )
    except NoReverseMatch:
        print("no tickets:suggestions route: suggestions not timed")
    public = Article.objects.filter(slug__startswith=SLUG_PREFIX, visibility="public")
    last_id = public.order_by("-id").values_list("id", flat=True).first() or 0
    slugs = []
    for _ in range(40):
        found = (
            public.filter(id__gte=rng.randint(1, last_id))
            .order_by("id")
            .values_list("slug", flat=True)
            .first()
        )
        if found:
            slugs.append(found)
    sections = list(Section.objects.select_related("category"))
    pages: dict[str, list[Any]] = {
        "Help centre: home": ["kb:home"],
        "Help centre: category": [
            ("kb:category", {"slug": s.category.slug}) for s in sections[::5]
        ],
        "Help centre: section": [
            ("kb:section", {"category": s.category.slug, "slug": s.slug}) for s in sections
        ],
        "Help centre: article": [("kb:article", {"slug": slug}) for slug in slugs],
        "Help centre: search page": [
            ("kb:search", {}, {"q": q}) for qs in SEARCHES.values() for q in qs[:2]
        ],
    }
    for name, specs in pages.items():
        urls = []
        try:
            for spec in specs:
                if isinstance(spec, str):
                    urls.append(reverse(spec))
                elif len(spec) == 2:
                    urls.append(reverse(spec[0], kwargs=spec[1]))
                else:
                    urls.append(_q(reverse(spec[0], kwargs=spec[1]), **spec[2]))
        except NoReverseMatch:
            print(f"no route for {name}: not timed")
            continue
        kinds.append(Kind(name, "page", "anonymous", urls, PAGE_TARGET_MS))
    kinds += [
        Kind(
            "API: articles list",
            "api",
            "anonymous",
            ["/api/v1/kb/articles/"]
            + [_q("/api/v1/kb/articles/", section=s.pk) for s in sections[::4]]
            + [_q("/api/v1/kb/articles/", tag=t) for t in TAGS[::15]],
            PAGE_TARGET_MS,
        ),
        Kind(
            "API: article",
            "api",
            "anonymous",
            [f"/api/v1/kb/articles/{slug}/" for slug in slugs],
            PAGE_TARGET_MS,
        ),
        Kind("API: categories", "api", "customer", ["/api/v1/kb/categories/"], PAGE_TARGET_MS),
    ]
    return kinds


def _forget_query_vectors() -> None:
    """Each search pays for its query's embedding, as a new query would."""
    try:
        from knowledge_base import embeddings
    except ImportError:
        return
    cached = getattr(embeddings, "_query_vector", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()


def run_kind(kind: Kind, client, n: int, budget_s: float) -> None:
    """n timed requests, or as many as `budget_s` seconds allow (a kind that
    slow has failed its target anyway; the summary shows how many ran)."""
    from tqdm import tqdm

    for url in kind.urls[:WARMUP]:
        client.get(url)
    order = [kind.urls[i % len(kind.urls)] for i in range(n)]
    deadline = time.monotonic() + budget_s
    for url in tqdm(order, desc=kind.name[:34].ljust(34), unit="req", leave=False):
        if time.monotonic() > deadline and len(kind.times) >= 20:
            break
        _forget_query_vectors()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        ms = (time.perf_counter() - started) * 1000
        kind.cpu.append((time.process_time() - cpu_started) * 1000)
        kind.times.append(ms)
        kind.statuses[response.status_code] = kind.statuses.get(response.status_code, 0) + 1
        if ms > kind.slowest[0]:
            kind.slowest = (ms, url)


def count_queries(kind: Kind, client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    most = 0
    for url in kind.urls[:8]:
        client.get(url)  # the day's first search of a term adds its log row
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        most = max(most, len(captured.captured_queries))
    kind.queries = most


def explain_slowest(kind: Kind, client) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the kind's
    slowest URL, under the planner settings (SET ... / RESET) the request
    had in force when it ran that statement."""
    from django.db import connection

    statements: list[tuple[float, str, Any, tuple[str, ...]]] = []
    in_force: list[str] = []

    def timed(execute, sql, params, many, context):
        head = sql.lstrip().upper()
        if head.startswith("SET "):
            in_force.append(sql)
        elif head.startswith("RESET "):
            in_force.clear()
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            statements.append((elapsed, sql, params, tuple(in_force)))

    _forget_query_vectors()
    with connection.execute_wrapper(timed):
        client.get(kind.slowest[1])
    if not statements:
        return {}
    ms, sql, params, settings_used = max(statements, key=lambda s: s[0])
    if not sql.lstrip().upper().startswith("SELECT"):
        return {"statement_ms": round(ms, 1), "sql": sql[:300]}
    with connection.cursor() as cursor:
        for setting in settings_used:
            cursor.execute(setting)
        try:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
        finally:
            cursor.execute("RESET ALL")
    return {"url": kind.slowest[1], "statement_ms": round(ms, 1), "sql": sql[:600], "plan": plan}


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def blas_threads() -> list[dict]:
    """numpy's BLAS and its threads in this process (helpdesk/wsgi.py sets one)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: info.get(k) for k in ("internal_api", "num_threads")} for info in threadpool_info()]


def uncommitted() -> list[str]:
    """Files the run used that differ from the revision (the working tree is shared)."""
    import subprocess

    result = subprocess.run(
        ["git", "status", "--porcelain", "--", "knowledge_base", "tickets", "helpdesk"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return [line[3:] for line in result.stdout.splitlines() if line.endswith(".py")]


def source_revision() -> str:
    try:
        head = (ROOT / ".git" / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            return (ROOT / ".git" / head[5:]).read_text().strip()[:12]
        return head[:12]
    except OSError:
        return "unknown"


def main() -> int:
    args = parse_args()
    check_database_url()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    check_database_is_ours(args.force)
    people = bench_people()
    write_seconds = write_articles(args.articles, people["agent"])
    embedded = embed(args.embed)
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        cursor.execute("SELECT count(*) FROM knowledge_base_article WHERE live_version > 0")
        live = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('knowledge_base_article'))")
        size = cursor.fetchone()[0]
    print(f"{live:,} live articles ({size} with indexes); embeddings: {embedded}")
    if args.write_only:
        return 0

    # A view's error is an answer (500) to count, not an exception to stop at.
    clients = {"anonymous": Client(raise_request_exception=False)}
    for who in ("customer", "agent"):
        clients[who] = Client(raise_request_exception=False)
        clients[who].force_login(people[who])
    rng = random.Random(args.seed)
    kinds = [k for k in build_kinds(rng) if not args.only or args.only.lower() in k.name.lower()]
    load_before = os.getloadavg()
    started = time.perf_counter()
    for kind in kinds:
        run_kind(kind, clients[kind.who], args.requests, args.max_seconds_per_kind)
        count_queries(kind, clients[kind.who])
    seconds = time.perf_counter() - started
    load_after = os.getloadavg()

    rows: list[dict[str, Any]] = []
    for kind in kinds:
        p95 = percentile(kind.times, 95)
        ok = p95 <= kind.target_ms and set(kind.statuses) <= {200, 204}
        row: dict[str, Any] = {
            "kind": kind.name,
            "who": kind.who,
            "requests": len(kind.times),
            "p50_ms": round(statistics.median(kind.times), 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(max(kind.times), 1),
            "python_cpu_p50_ms": round(statistics.median(kind.cpu), 1),
            "python_cpu_p95_ms": round(percentile(kind.cpu, 95), 1),
            "target_ms": kind.target_ms,
            "queries": kind.queries,
            "statuses": kind.statuses,
            "result": "PASS" if ok else "FAIL",
        }
        if not ok:
            row["explain"] = explain_slowest(kind, clients[kind.who])
        rows.append(row)

    for row in rows:
        if "explain" in row and row["explain"].get("plan"):
            print(
                f"\n== {row['kind']}: slowest statement {row['explain']['statement_ms']} ms "
                f"({row['explain']['url']})\n{row['explain']['sql'][:400]}"
            )
            for line in row["explain"]["plan"][:25]:
                print("   ", line)
    print(
        f"\nKnowledge base: {live:,} live articles, {args.requests} requests per kind, "
        f"in-process (Django test client), {seconds:.0f} s; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; {os.cpu_count()} CPUs; "
        f"BLAS threads {blas_threads()}"
    )
    header = (
        f"{'kind':36} {'who':9} {'n':>4} {'p50':>7} {'p95':>7} {'max':>7} {'target':>6} "
        f"{'SQL':>4} {'cpu50':>6} {'cpu95':>6}  result"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        statuses = "" if set(row["statuses"]) <= {200, 204} else f"  statuses {row['statuses']}"
        print(
            f"{row['kind']:36} {row['who']:9} {row['requests']:4d} {row['p50_ms']:7.1f} "
            f"{row['p95_ms']:7.1f} "
            f"{row['max_ms']:7.1f} {row['target_ms']:6.0f} {row['queries']:4d} "
            f"{row['python_cpu_p50_ms']:6.1f} {row['python_cpu_p95_ms']:6.1f}  "
            f"{row['result']}{statuses}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "revision": source_revision(),
                "uncommitted": uncommitted(),
                "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
                "python": platform.python_version(),
                "articles": live,
                "write_seconds": round(write_seconds, 1),
                "embeddings": embedded,
                "load_average": {"before": load_before, "after": load_after},
                "blas_threads": blas_threads(),
                "kinds": rows,
            },
            indent=2,
            default=str,
        )
    )
    print(f"revision {source_revision()}; uncommitted files used: {uncommitted() or 'none'}")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0 if all(row["result"] == "PASS" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
