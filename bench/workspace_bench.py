"""Agent workspace benchmark: queue pages, deep pages, filtered lists, ticket
pages and search, served by gunicorn from a seeded PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        python bench/workspace_bench.py [--requests N] [--port P] [--max-seconds S]

What it does, in order (bench/README.md, "Agent workspace", has the figures):

1. starts gunicorn (2 sync workers) on 127.0.0.1:P and waits until it answers;
2. logs in over HTTP as the demo manager and the demo agent;
3. builds the URL of every page kind from the data (ORM, in-process);
4. per kind: a few warm-up requests, then N timed sequential requests spread
   over the kind's URLs; p50 / p95 / max of the server time (gunicorn's
   access log, %(D)s) against the targets: 50 ms for list pages, 25 ms for
   the ticket page, 100 ms for every kind of search;
5. counts the SQL queries of each kind in-process (django.test.Client);
6. creates a ticket in-process, polls the HTTP search until it is found, and
   deletes it;
7. checks that search lists every match of a term found in one ticket, and a
   page of a customer's tickets for their e-mail address;
8. prints EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the slowest kind
   (and of every kind that missed its target): top line, scans, time;
9. prints a summary (p50 / p95 / queries / PASS or FAIL per kind, with the
   load average) and writes bench/results/workspace.json; gunicorn is stopped
   after step 7, also on error or SIGTERM.

A kind whose requests time out (10 s statement timeout) or whose FAIL is
already certain stops early, so a run stays within minutes whatever the code
does; the note in the results says so.

Only 127.0.0.1 is ever contacted, over HTTP; the database must be local too,
because step 6 writes (and then deletes) one ticket.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import logging
import os
import platform
import random
import re
import signal
import socket
import statistics
import string
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"
REDIS_URL = "redis://127.0.0.1:6379/12"
# The environment both gunicorn and this process run Django with: plain-HTTP
# cookies (no TLS on loopback), and the Redis cache a production server has.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "DJANGO_SECRET_KEY": "bench-only",
    "HELPDESK_SECURE_COOKIES": "0",
    "DJANGO_ALLOWED_HOSTS": HOST,
    "REDIS_URL": REDIS_URL,
}
PAGE_TARGET_MS = 50.0
# The ticket page and every kind of search have their own, tighter targets.
TICKET_PAGE_TARGET_MS = 25.0
SEARCH_TARGET_MS = 100.0
SEARCHABLE_TARGET_S = 5.0
WORKERS = 2
HTTP_TIMEOUT_S = 30
WARMUP = 6  # > WORKERS: every worker has opened its DB connection before timing
MAX_REQUESTS = 2000
STATEMENT_TIMEOUT_MS = 10_000
# A kind already sure to fail stops when the rest would take longer than
# this (see run_kind).
KIND_SLOW_SECONDS = 120
# Loopback connect + read overhead of urllib, well above what it measures
# here (~1 ms): a client time over target + this is a server time over target.
CLIENT_OVERHEAD_MS = 5
# A word no seeded text contains: the extreme of "rare" (a typo, say).
NO_MATCH_WORD = "quokkaflux"


class BenchError(RuntimeError):
    pass


# --- Setup -------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=200, help="timed requests per page kind (default 200)"
    )
    parser.add_argument("--port", type=int, default=8765, help="gunicorn port on 127.0.0.1")
    parser.add_argument(
        "--max-seconds",
        type=int,
        default=1200,
        help="wall-clock budget for the timed requests; kinds not reached are skipped",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the URL sets")
    args = parser.parse_args()
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be between 1 and {MAX_REQUESTS}")
    if not 1 <= args.max_seconds <= 3600:
        parser.error("--max-seconds must be between 1 and 3600")
    return args


def check_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("DATABASE_URL must name the PostgreSQL bench database (postgres://...)")
    # Step 6 writes a ticket: refuse anything but a database on this machine.
    if parsed.hostname not in (None, "", "127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing a non-local database host {parsed.hostname!r}")
    return url


def setup_django():
    os.environ.update(BENCH_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        # Bounds every in-process query (URL building, counting, EXPLAIN).
        cursor.execute("SET statement_timeout = %s", [STATEMENT_TIMEOUT_MS])
    return connection


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As gunicorn binds: connections of an earlier run in TIME_WAIT do
        # not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


@dataclass
class Server:
    proc: subprocess.Popen
    access_log: Path
    error_log: Path


def start_gunicorn(port: int, database_url: str) -> Server:
    if not port_is_free(port):
        raise BenchError(f"port {port} on {HOST} is taken; pass --port")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    access_log = RESULTS_DIR / "workspace-gunicorn-access.log"
    error_log = RESULTS_DIR / "workspace-gunicorn-error.log"
    access_log.write_text("")
    env = {**os.environ, **BENCH_ENV, "DATABASE_URL": database_url}
    # A query still running after STATEMENT_TIMEOUT_MS has failed its target
    # 30 times over; ending it keeps the run short, and keeps it from slowing
    # later measurements after gunicorn gives up on the worker (libpq reads
    # PGOPTIONS).
    env["PGOPTIONS"] = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "helpdesk.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(WORKERS),
        "--graceful-timeout",
        "5",
        # %(D)s is the time gunicorn spent on the request, in microseconds:
        # the "server time" the targets are about, without client overhead.
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        '%(D)s %(s)s "%(r)s"',
        "--error-logfile",
        str(error_log),
    ]
    # Its own session (process group), so stop_gunicorn reaches the workers
    # through the master's id and nothing else.
    with error_log.open("ab") as log:
        # Django's own error output goes to the log too, not into the report.
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log
        )
    server = Server(proc, access_log, error_log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode}; see {error_log}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/accounts/login/", timeout=2) as r:  # noqa: S310 - fixed http://127.0.0.1 URL
                if r.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    stop_gunicorn(server)
    raise BenchError("gunicorn did not answer within 30 s")


def stop_gunicorn(server: Server | None) -> None:
    if server is None or server.proc.poll() is not None:
        return
    try:
        os.killpg(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=15)
    except ProcessLookupError:
        pass


# --- HTTP --------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect in a timed request means something is wrong (a lost session
    # sends to the log-in page): report it as the status, do not follow it.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Session:
    """One logged-in browser: a cookie jar over urllib, 127.0.0.1 only."""

    def __init__(self, port: int):
        self.base = f"http://{HOST}:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, path: str, data: bytes | None = None) -> tuple[int, bytes, float]:
        if not path.startswith("/"):
            raise BenchError(f"not a local path: {path!r}")
        req = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
            self.base + path, data=data, headers={"Referer": self.base + path}
        )
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT_S) as response:
                body, status = response.read(), response.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            # Status 0: no answer within HTTP_TIMEOUT_S (or the worker died).
            body, status = b"", 0
        return status, body, time.perf_counter() - started

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def login(self, email: str, password: str) -> None:
        self.request("/accounts/login/")
        token = self.cookie("csrftoken")
        if not token:
            raise BenchError("no CSRF cookie from /accounts/login/")
        form = {"username": email, "password": password, "csrfmiddlewaretoken": token}
        status, _, _ = self.request("/accounts/login/", urllib.parse.urlencode(form).encode())
        if status != 302 or not self.cookie("sessionid"):
            raise BenchError(f"log-in as {email} failed (HTTP {status}); is seed_demo run?")


# --- URL sets ------------------------------------------------------------------


@dataclass
class Kind:
    name: str
    target_ms: float
    # (user, path): "manager" or "agent", and the path to GET.
    urls: list[tuple[str, str]]
    note: str = ""
    result: dict = field(default_factory=dict)


def _list_url(**params) -> str:
    return "/tickets/?" + urllib.parse.urlencode(params, doseq=True)


def _deep_urls(user, slug: str, sorts: tuple[str, ...], fractions) -> list[str]:
    """Cursors at these fractions of a queue: the page a user reaches after
    paging that far. The queues hold open tickets only, so the OFFSET used here
    (in-process, once) walks at most the open tickets' index entries."""
    from tickets import queues, selectors

    scoped = queues.QUEUES[slug].scope(user, selectors.tickets_visible_to(user))
    size = scoped.count()
    urls = []
    for sort in sorts:
        ordered = queues.apply_sort(scoped, sort).only("id", "updated_at")
        for fraction in fractions:
            position = min(size - 1, int(size * fraction))
            if position < 1:
                continue
            ticket = ordered[position]
            cursor = queues.encode_cursor(ticket, sort)
            urls.append(_list_url(queue=slug, sort=sort, cursor=cursor))
    return urls


def _random_ticket_ids(qs, rng: random.Random, wanted: int) -> list[int]:
    """Random existing ids by probing the id range (ids have gaps: merges,
    deletions), instead of ORDER BY random() over a million rows."""
    from django.db.models import Max, Min

    bounds = qs.aggregate(lo=Min("id"), hi=Max("id"))
    found: list[int] = []
    for _ in range(20):
        probe = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(wanted * 4)]
        found += list(qs.filter(id__in=probe).values_list("id", flat=True))
        if len(set(found)) >= wanted:
            break
    ids = sorted(set(found))
    rng.shuffle(ids)
    return ids[:wanted]


@dataclass(frozen=True)
class SearchWord:
    word: str
    matches: int
    share: float


def pick_search_words(n_tickets: int) -> dict[str, list[SearchWord]]:
    """Search terms by how many tickets they match: words of the seeded texts
    matching about half of the tickets, 1-10 % of them, and the rarest ones;
    plus rare terms a person pastes (an error code found in one ticket) and a
    word nothing matches. Frequencies come from ts_stat over a ~50,000 ticket
    sample (cheap); the chosen terms are then counted exactly (a few seconds
    for the common words, once)."""
    from django.db import connection

    source = (ROOT / "demo" / "texts.py").read_text()
    words = sorted(set(re.findall(r"[a-z]{4,}", source.lower())))
    percent = min(100.0, 50_000 * 100.0 / max(n_tickets, 1))
    sample_sql = (
        f"SELECT search_vector FROM tickets_ticket TABLESAMPLE SYSTEM ({percent:.4f}) "  # noqa: S608 - a number
        "REPEATABLE (42) WHERE search_vector IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sample_sql}) s")  # noqa: S608 - constant
        sample_size = cursor.fetchone()[0]
        if not sample_size:
            raise BenchError("no search vectors: run manage.py rebuild_search_index")
        cursor.execute("SELECT word, ndoc FROM ts_stat(%s)", [sample_sql])
        ndoc = dict(cursor.fetchall())
        # The lexeme each template word becomes (stop words become nothing).
        cursor.execute(
            "SELECT w, plainto_tsquery('english', w)::text FROM unnest(%s::text[]) AS w", [words]
        )
        word_of: dict[str, str] = {}
        for word, query in cursor.fetchall():
            lexeme = query.strip("'")
            if query.count("'") == 2 and lexeme in ndoc and lexeme not in word_of:
                word_of[lexeme] = word
    share = {lexeme: ndoc[lexeme] / sample_size for lexeme in word_of}
    by_share = sorted(share, key=lambda lx: (share[lx], lx))

    def spread(candidates: list[str], k: int) -> list[str]:
        if len(candidates) <= k:
            return candidates
        step = (len(candidates) - 1) / (k - 1)
        return [candidates[round(i * step)] for i in range(k)]

    common = sorted(by_share, key=lambda lx: (abs(share[lx] - 0.5), lx))[:3]
    mid = spread([lx for lx in by_share if 0.01 <= share[lx] <= 0.10], 4)
    # Error codes ("E7713-627a36", slot {code} in texts.py) seen once.
    codes = sorted(
        lx for lx, n in ndoc.items() if n == 1 and re.fullmatch(r"e\d{4}-[0-9a-f]{6}", lx)
    )

    def counted(terms: list[str]) -> list[SearchWord]:
        out = []
        with connection.cursor() as cursor:
            for term in terms:
                cursor.execute(
                    "SELECT count(*) FROM tickets_ticket "
                    "WHERE search_vector @@ plainto_tsquery('english', %s)",
                    [term],
                )
                matches = cursor.fetchone()[0]
                out.append(SearchWord(term, matches, matches / max(n_tickets, 1)))
        return out

    return {
        "common": counted([word_of[lx] for lx in common]),
        "mid": counted([word_of[lx] for lx in mid]),
        "rare": counted([word_of[lx] for lx in by_share[:2]] + codes[:2])
        + [SearchWord(NO_MATCH_WORD, 0, 0.0)],
    }


def pick_other_team_words(agent, n_tickets: int, k: int = 4) -> list[SearchWord]:
    """Frequent words (in at least 5 % of the tickets) that none of the agent's
    visible tickets hold: ts_stat over a ~50,000-ticket sample split by
    visibility, then counted exactly (all matches, and the agent's)."""
    from django.db import connection
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from tickets import selectors

    percent = min(100.0, 50_000 * 100.0 / max(n_tickets, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM tickets_ticket TABLESAMPLE SYSTEM ({percent:.4f}) "  # noqa: S608 - a number
            "REPEATABLE (7) WHERE search_vector IS NOT NULL"
        )
        sample = [row[0] for row in cursor.fetchall()]
    visible = selectors.tickets_visible_to(agent)
    seen = set(visible.filter(id__in=sample).values_list("id", flat=True))
    hidden = [pk for pk in sample if pk not in seen]

    def document_counts(ids) -> dict[str, int]:
        if not ids:
            return {}
        listed = ",".join(str(int(pk)) for pk in ids)
        with connection.cursor() as cursor:
            cursor.execute(
                # Integer ids only, written into the SQL text ts_stat runs.
                "SELECT word, ndoc FROM ts_stat("  # noqa: S608
                "'SELECT search_vector FROM tickets_ticket WHERE id = ANY(''{" + listed + "}'')')"
            )
            return dict(cursor.fetchall())

    in_visible, in_hidden = document_counts(seen), document_counts(hidden)
    lexemes = sorted(
        (lx for lx, n in in_hidden.items() if n >= 0.05 * len(sample) and lx not in in_visible),
        key=lambda lx: (-in_hidden[lx], lx),
    )
    out = []
    with connection.cursor() as cursor:
        for lexeme in lexemes:
            # A lexeme is a stem ("duplic"); search with a word that makes it.
            cursor.execute(
                "SELECT count(*) FROM tickets_ticket "
                "WHERE search_vector @@ to_tsquery('english', %s)",
                [lexeme],
            )
            matches = cursor.fetchone()[0]
            mine = visible.filter(
                RawSQL(  # noqa: S611 - constant SQL, the lexeme is a parameter
                    "search_vector @@ to_tsquery('english', %s)",
                    [lexeme],
                    output_field=BooleanField(),
                )
            ).count()
            if mine == 0 and lexeme.isalpha():
                out.append(SearchWord(lexeme, matches, matches / max(n_tickets, 1)))
            if len(out) == k:
                break
    return out


def pick_requesters(agent, k: int = 3) -> list[SearchWord]:
    """The e-mail address and the name of the k customers with the most
    tickets the agent can see (so both users find some)."""
    from django.db.models import Count

    from tickets import selectors
    from tickets.models import Role, Ticket, User

    top = (
        selectors.tickets_visible_to(agent)
        .filter(requester__role=Role.CUSTOMER)
        .values("requester")
        .annotate(n=Count("id"))
        .order_by("-n")[:k]
    )
    out = []
    for row in top:
        person = User.objects.get(pk=row["requester"])
        total = person.requested_tickets.count()
        share = total / max(1, Ticket.objects.count())
        out.append(SearchWord(person.email, total, share))
        out.append(SearchWord(person.full_name, total, share))
    return out


def check_requester_search(session: Session, people: list[SearchWord]) -> list[dict]:
    """Does the search page list a page of the customer's own tickets for their
    e-mail address (the newest first among equals)? Manager's view."""
    from django.conf import settings

    from tickets.models import User, format_ticket_key

    key = re.compile(rf">({re.escape(settings.HELPDESK_TICKET_KEY_PREFIX)}-\d+)<")
    out = []
    for term in people:
        if "@" not in term.word:
            continue
        person = User.objects.get(email=term.word)
        theirs = {
            format_ticket_key(pk) for pk in person.requested_tickets.values_list("id", flat=True)
        }
        _, body, _ = session.request("/search/?" + urllib.parse.urlencode({"q": term.word}))
        listed = set(key.findall(body.decode("utf-8", "replace")))
        expected = min(50, len(theirs))
        ok = len(listed) == expected and listed <= theirs
        out.append({"term": term.word, "tickets": len(theirs), "listed": len(listed), "ok": ok})
    return out


def check_search_finds(session: Session, words: list[SearchWord]) -> list[dict]:
    """Does the search page list every match of a term with few matches (at
    most a page of 50)? Speed without this would not mean much."""
    from django.db import connection

    from tickets.models import format_ticket_key

    out = []
    for term in words:
        if not 0 < term.matches <= 50:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM tickets_ticket "
                "WHERE search_vector @@ plainto_tsquery('english', %s)",
                [term.word],
            )
            keys = [format_ticket_key(row[0]) for row in cursor.fetchall()]
        _, body, _ = session.request("/search/?" + urllib.parse.urlencode({"q": term.word}))
        text = body.decode("utf-8", "replace")
        found = [key for key in keys if re.search(re.escape(key) + r"\b", text)]
        out.append({"term": term.word, "matches": len(keys), "listed": len(found)})
    return out


def build_kinds(users: dict, rng: random.Random) -> tuple[list[Kind], dict]:
    from django.db.models import Max

    from tickets import queues, selectors
    from tickets.models import (
        OPEN_STATUSES,
        Category,
        Organization,
        Role,
        Tag,
        Team,
        Ticket,
        User,
    )

    manager, agent = users["manager"], users["agent"]
    n_tickets = Ticket.objects.count()
    kinds: list[Kind] = []

    def first_pages(user_name: str) -> list[tuple[str, str]]:
        return [
            (user_name, _list_url(queue=slug, sort=sort))
            for slug in queues.QUEUES
            for sort in queues.SORTS
        ]

    kinds.append(Kind("queue_first_manager", PAGE_TARGET_MS, first_pages("manager")))
    kinds.append(Kind("queue_first_agent", PAGE_TARGET_MS, first_pages("agent")))

    fractions = (0.5, 0.75, 0.9, 0.95, 0.99)
    for name, sorts in (
        ("deep_page_id_sorts", ("newest", "oldest")),
        ("deep_page_updated_sorts", ("updated", "least_updated")),
    ):
        urls = [("manager", u) for u in _deep_urls(manager, "all", sorts, fractions)]
        urls += [("agent", u) for u in _deep_urls(agent, "team", sorts, fractions)]
        kinds.append(Kind(name, PAGE_TARGET_MS, urls, "cursors at 50-99 % of the all/team queues"))

    # Filters over the largest queue ("all": every open ticket), with both sorts.
    last = Ticket.objects.aggregate(c=Max("created_at"), u=Max("updated_at"))
    newest_day, updated_day = last["c"].date(), last["u"].date()
    middle_day = newest_day - timedelta(days=45)
    categories = list(Category.objects.order_by("id").values_list("id", flat=True))
    teams = list(Team.objects.order_by("id").values_list("id", flat=True))
    some_agent = (
        User.objects.filter(role=Role.AGENT, is_active=True).exclude(pk=agent.pk).order_by("id")
    ).first()
    org = Organization.objects.order_by("id").values_list("id", flat=True).first()
    tag = Tag.objects.filter(tickets__isnull=False).values_list("name", flat=True).first()
    week = {
        "created_last_week": {
            "created_from": newest_day - timedelta(days=6),
            "created_to": newest_day,
        },
        "created_week_45_days_ago": {
            "created_from": middle_day - timedelta(days=6),
            "created_to": middle_day,
        },
        "updated_last_week": {
            "updated_from": updated_day - timedelta(days=6),
            "updated_to": updated_day,
        },
    }
    manager_filters: list[dict] = [
        {"priority": "urgent"},
        {"status": "pending"},
        {"status": ["new", "open"]},
        {"assignee": "me"},
        {"assignee": "none"},
        {"channel": "email"},
        {"tier": 2},
        *({"category": c} for c in categories[:3]),
        *({"team": t} for t in teams),
        *week.values(),
    ]
    if some_agent:
        manager_filters.append({"assignee": some_agent.pk})
    if org:
        manager_filters.append({"organization": org})
    if teams:
        manager_filters.append({"priority": "high", "team": teams[0]})
    if tag:
        manager_filters.append({"tag": tag})
    urls = [
        ("manager", _list_url(queue="all", sort=sort, **f))
        for f in manager_filters
        for sort in ("newest", "updated")
    ]
    kinds.append(Kind("filtered_manager", PAGE_TARGET_MS, urls, "queue=all + one filter"))
    agent_filters = [
        {"priority": "urgent"},
        {"status": "pending"},
        {"assignee": "me"},
        {"category": categories[0]} if categories else {},
        week["created_last_week"],
        week["created_week_45_days_ago"],
    ]
    urls = [
        ("agent", _list_url(queue=slug, sort=sort, **f))
        for f in agent_filters
        for slug in ("team", "all")
        for sort in ("newest", "updated")
    ]
    kinds.append(Kind("filtered_agent", PAGE_TARGET_MS, urls, "queue=team/all + one filter"))

    manager_ids = _random_ticket_ids(Ticket.objects.all(), rng, 150)
    agent_ids = _random_ticket_ids(selectors.tickets_visible_to(agent), rng, 50)
    urls = [("manager", Ticket(pk=pk).get_absolute_url()) for pk in manager_ids]
    urls += [("agent", Ticket(pk=pk).get_absolute_url()) for pk in agent_ids]
    rng.shuffle(urls)
    kinds.append(Kind("ticket_page", TICKET_PAGE_TARGET_MS, urls, "random tickets"))

    words = pick_search_words(n_tickets)

    def search_urls(user_name: str, group: str) -> list[tuple[str, str]]:
        return [
            (user_name, "/search/?" + urllib.parse.urlencode({"q": w.word})) for w in words[group]
        ]

    words["other_teams"] = pick_other_team_words(agent, n_tickets)
    words["requester"] = pick_requesters(agent)
    for name, user_name, group in (
        ("search_common", "manager", "common"),
        ("search_common_agent", "agent", "common"),
        ("search_mid", "manager", "mid"),
        # Words of one team's categories: an agent of another team sees few
        # or none of their matches, the worst case for "newest N matches".
        ("search_mid_agent", "agent", "mid"),
        # Frequent words that only other teams' tickets hold: the agent sees
        # none of their matches.
        ("search_other_teams_agent", "agent", "other_teams"),
        ("search_rare", "manager", "rare"),
        # Customers' e-mail addresses and names (those with the most tickets).
        ("search_requester", "manager", "requester"),
        ("search_requester_agent", "agent", "requester"),
    ):
        note = ", ".join(f"{w.word} {w.share:.2%}" for w in words[group])
        kinds.append(Kind(name, SEARCH_TARGET_MS, search_urls(user_name, group), note))
    open_count = Ticket.objects.filter(status__in=OPEN_STATUSES).count()
    data = {
        "tickets": n_tickets,
        "open_tickets": open_count,
        "search_words": {g: [w.__dict__ for w in ws] for g, ws in words.items()},
    }
    return kinds, data


# --- Timing --------------------------------------------------------------------


def percentile(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def _read_access_log(server: Server, offset: int) -> tuple[list[tuple[float, str]], int]:
    """(server ms, path) of the requests logged after `offset`."""
    with server.access_log.open("rb") as log:
        log.seek(offset)
        chunk = log.read()
    rows = []
    for line in chunk.decode("utf-8", "replace").splitlines():
        match = re.match(r'(\d+) \d+ "\S+ (\S+) ', line)
        if match:
            rows.append((int(match.group(1)) / 1000.0, match.group(2)))
    return rows, offset + len(chunk)


def _failed(status: int) -> bool:
    """No answer, or a server error (a statement timeout ends as a 500)."""
    return status == 0 or status >= 500


def run_kind(kind: Kind, sessions: dict, server: Server, n: int, deadline: float) -> None:
    order = list(kind.urls)
    random.Random(kind.name).shuffle(order)
    for i in range(WARMUP):
        user, path = order[i % len(order)]
        if _failed(sessions[user].request(path)[0]):
            break  # timed out: the timed loop will say so, no need to wait more
    # Gunicorn logs a request after sending it; let the warm-ups' lines land.
    time.sleep(0.3)
    offset = server.access_log.stat().st_size
    client_ms: list[float] = []
    errors: list[str] = []
    for i in range(n):
        if time.monotonic() > deadline:
            kind.note += " (stopped early: --max-seconds reached)"
            break
        user, path = order[i % len(order)]
        status, _, seconds = sessions[user].request(path)
        client_ms.append(seconds * 1000)
        if status != 200:
            errors.append(f"{status} {path}")
        if sum(_failed(int(e.split()[0])) for e in errors) >= 3:
            # Three requests without an answer (or a statement timeout): the
            # kind fails either way, and 200 more would take up to 200 x 10 s.
            kind.note += " (stopped early: 3 requests timed out or failed)"
            break
        over = sum(ms > kind.target_ms + CLIENT_OVERHEAD_MS for ms in client_ms)
        remaining_s = (n - len(client_ms)) * statistics.fmean(client_ms) / 1000
        if over > 0.05 * n and remaining_s > KIND_SLOW_SECONDS:
            # More than 5 % of the n requests over target: the p95 fails
            # whatever the rest do, and the rest would cost minutes.
            kind.note += f" (stopped early after {len(client_ms)}: FAIL certain)"
            break
    time.sleep(0.3)
    logged, _ = _read_access_log(server, offset)
    # Sequential requests from this process only, so the log holds exactly
    # ours; if not (a line lost), fall back to the client's clock.
    if len(logged) == len(client_ms):
        times, source = [ms for ms, _ in logged], "server"
    else:
        times, source = client_ms, "client"
        logged = [(ms, path) for ms, (_, path) in zip(client_ms, order, strict=False)]
    per_url: dict[str, list[float]] = {}
    for ms, path in logged:
        per_url.setdefault(path, []).append(ms)
    slowest = sorted(per_url.items(), key=lambda kv: -statistics.median(kv[1]))[:3]
    kind.result = {
        "requests": len(times),
        "distinct_urls": len(kind.urls),
        "timing": source,
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(percentile(times, 95), 1) if times else None,
        "max_ms": round(max(times), 1) if times else None,
        "client_p95_ms": round(percentile(client_ms, 95), 1) if client_ms else None,
        "target_ms": kind.target_ms,
        "errors": errors[:10],
        "error_count": len(errors),
        "slowest_urls": [
            {"path": path, "median_ms": round(statistics.median(v), 1), "max_ms": round(max(v), 1)}
            for path, v in slowest
        ],
        "note": kind.note.strip(),
    }
    kind.result["pass"] = bool(
        times and not errors and kind.result["p95_ms"] < kind.target_ms and len(times) == n
    )


# --- In-process checks ------------------------------------------------------------


def count_queries(kinds: list[Kind], users: dict) -> tuple[dict, dict]:
    """SQL queries per request, per kind, through the same views in-process;
    also returns the logged-in test clients for explain_slowest."""
    from django.db import DatabaseError, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # Timed-out searches are expected here and reported in the counts; keep
    # Django's traceback of each out of the output.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    clients = {}
    for name, user in users.items():
        client = Client(HTTP_HOST=HOST)
        client.force_login(user)
        clients[name] = client
    counts = {}
    for kind in kinds:
        sample = kind.urls[:: max(1, len(kind.urls) // 6)][:6]
        per_url = []
        for user, path in sample:
            try:
                clients[user].get(path)  # warm: caches, like the HTTP warm-ups
                with CaptureQueriesContext(connection) as ctx:
                    response = clients[user].get(path)
            except DatabaseError as exc:  # a statement timeout: no count to give
                per_url.append({"path": path, "queries": None, "error": str(exc).strip()})
                continue
            per_url.append({"path": path, "queries": len(ctx), "status": response.status_code})
        numbers = [u["queries"] for u in per_url if u["queries"] is not None]
        counts[kind.name] = {
            "min": min(numbers, default=None),
            "max": max(numbers, default=None),
            "failed": len(per_url) - len(numbers),
            "urls": per_url,
        }
    return counts, clients


def _plan_summary(plan: list[str]) -> list[str]:
    """The plan's scans (which table, which index) and what each threw away;
    the joins of select_related in between are left out."""
    out = []
    for line in plan:
        text = line.strip().removeprefix("->").strip()
        text = re.sub(r"\s+\(cost=[^)]*\)", "", text)
        if re.search(r"_pkey on tickets_(?!ticket)|Seq Scan on tickets_(?!ticket)", text):
            continue  # the select_related look-ups of users, teams, ...: cheap, and many
        if re.search(r"Scan|SubPlan|Sort Method|One-Time Filter", text):
            out.append(text)
        elif text.startswith("Rows Removed by Filter") and out:
            out[-1] += f"  [{text}]"
    return out


def explain_slowest(kind: Kind, clients: dict) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest query behind the kind's
    slowest URL: the plan's top line, its scans (which index), the time."""
    from django.db import DatabaseError, connection
    from django.test.utils import CaptureQueriesContext

    slow_path = (kind.result.get("slowest_urls") or [{"path": kind.urls[0][1]}])[0]["path"]
    user = next((u for u, p in kind.urls if p == slow_path), kind.urls[0][0])
    with CaptureQueriesContext(connection) as ctx:
        try:
            clients[user].get(slow_path)
        except DatabaseError as exc:
            # The timed-out query is captured all the same; keep why it failed.
            kind.result["explain_error"] = str(exc).splitlines()[0]
    selects = [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    query = max(selects, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        # The captured SQL is what psycopg2 sent, parameters inlined; run it
        # without params so no "%" in it is taken for a placeholder.
        try:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
        except DatabaseError:
            # Too slow to run to the end: the estimated plan still shows which
            # scans the planner chose.
            cursor.execute("EXPLAIN " + query["sql"])
        plan = [row[0] for row in cursor.fetchall()]
    execution = next(
        (line for line in plan if line.startswith("Execution Time")),
        f"Execution Time: > {STATEMENT_TIMEOUT_MS} ms (statement timeout; plan estimated)",
    )
    return {
        "path": slow_path,
        "queries_in_request": len(ctx.captured_queries),
        "sql": query["sql"],
        "top": re.sub(r"\s+\(cost=[^)]*\)", "", plan[0]),
        "scans": _plan_summary(plan)[:8],
        "execution": execution,
        "plan": plan,
    }


def measure_searchable(session: Session, requester) -> dict:
    """Seconds from a new ticket's commit until the HTTP search finds it."""
    from django.db import transaction

    from tickets import services
    from tickets.models import Ticket

    word = "benchprobe" + "".join(random.choices(string.ascii_lowercase, k=10))
    # Stored without the intake steps: no mail is queued, nothing is enqueued
    # for a worker that does not run here.
    started = time.perf_counter()
    with transaction.atomic():
        ticket = services.ticket_create(
            requester=requester,
            subject=f"Benchmark probe {word}",
            description=f"Created by bench/workspace_bench.py to time search ({word}).",
        )
    committed = time.perf_counter()
    path = "/search/?" + urllib.parse.urlencode({"q": word})
    found_after = None
    polls = 0
    try:
        while time.perf_counter() - committed < 2 * SEARCHABLE_TARGET_S:
            polls += 1
            status, body, _ = session.request(path)
            if status == 200 and ticket.key.encode() in body:
                found_after = time.perf_counter() - committed
                break
            time.sleep(0.05)
    finally:
        # Leave the seeded data as it was, so runs stay comparable.
        Ticket.objects.filter(pk=ticket.pk).delete()
    return {
        "create_ms": round((committed - started) * 1000, 1),
        "searchable_after_s": None if found_after is None else round(found_after, 3),
        "polls": polls,
        "target_s": SEARCHABLE_TARGET_S,
        "pass": found_after is not None and found_after < SEARCHABLE_TARGET_S,
    }


# --- Main -----------------------------------------------------------------------------


def source_revision() -> str:
    """The code measured: BENCH_REVISION when set (a snapshot made with
    `git archive` has no .git), else the git commit, marked when the code
    outside bench/ has uncommitted changes."""
    if os.environ.get("BENCH_REVISION"):
        return os.environ["BENCH_REVISION"]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            # bench/ itself (this script, results) is not the code measured.
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' + uncommitted changes' if dirty else ''}" if head else "unknown"


def _raise_exit(signum, frame):
    # SIGTERM/SIGHUP go through the same `finally` as an error: gunicorn stops.
    raise SystemExit(128 + signum)


def main() -> int:
    args = parse_args()
    database_url = check_database_url()
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    connection = setup_django()

    from demo import catalog
    from demo.people import DEMO_PASSWORD
    from tickets.models import User

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    users = {
        "manager": User.objects.get(email=catalog.MANAGER.email),
        "agent": User.objects.get(email=catalog.AGENT_LOGIN.email),
    }
    customer = User.objects.get(email=catalog.DEMO_CUSTOMER.email)
    rng = random.Random(args.seed)
    load_before = os.getloadavg()
    print(f"load average (1 min) before: {load_before[0]:.2f} on {os.cpu_count()} cores")

    t0 = time.monotonic()
    print("building URL sets from the data ...", flush=True)
    kinds, data = build_kinds(users, rng)
    print(f"  {time.monotonic() - t0:.1f} s; {data['tickets']:,} tickets", flush=True)
    for group, words in data["search_words"].items():
        listed = ", ".join(f"{w['word']} ({w['matches']:,} = {w['share']:.1%})" for w in words)
        print(f"  search {group}: {listed}")

    server = None
    try:
        server = start_gunicorn(args.port, database_url)
        sessions = {name: Session(args.port) for name in users}
        sessions["manager"].login(catalog.MANAGER.email, DEMO_PASSWORD)
        sessions["agent"].login(catalog.AGENT_LOGIN.email, DEMO_PASSWORD)

        deadline = time.monotonic() + args.max_seconds
        header = f"{'kind':26} {'n':>5} {'p50':>7} {'p95':>7} {'max':>7} {'target':>7}  result"
        print(f"\nserver time in ms, {args.requests} timed requests per kind\n{header}")
        for kind in kinds:
            if time.monotonic() > deadline:
                print(f"{kind.name:26} skipped: --max-seconds reached")
                continue
            run_kind(kind, sessions, server, args.requests, deadline)
            r = kind.result
            verdict = "PASS" if r["pass"] else "FAIL"
            extra = f" errors={r['error_count']}" if r["error_count"] else ""
            extra += " (client clock)" if r["timing"] == "client" else ""
            print(
                f"{kind.name:26} {r['requests']:>5} {r['p50_ms']!s:>7} {r['p95_ms']!s:>7} "
                f"{r['max_ms']!s:>7} {kind.target_ms:>7.0f}  {verdict}{extra}",
                flush=True,
            )

        terms = [SearchWord(**w) for ws in data["search_words"].values() for w in ws]
        search_check = check_search_finds(sessions["manager"], terms)
        print("\nsearch lists every match of a rare term (as manager)")
        for check in search_check:
            ok = "ok" if check["listed"] == check["matches"] else "MISSING"
            print(f"  {check['term']:16} {check['listed']}/{check['matches']} listed  {ok}")

        people = [SearchWord(**w) for w in data["search_words"]["requester"]]
        requester_check = check_requester_search(sessions["manager"], people)
        print("\nsearch by a customer's e-mail lists a page of their tickets (as manager)")
        for check in requester_check:
            ok = "ok" if check["ok"] else "WRONG"
            print(
                f"  {check['term']:36} {check['listed']} listed of "
                f"{check['tickets']:,} tickets  {ok}"
            )

        print("\nnew ticket searchable ...", flush=True)
        searchable = measure_searchable(sessions["manager"], customer)
        print(
            f"  created in {searchable['create_ms']} ms; found by HTTP search after "
            f"{searchable['searchable_after_s']} s ({searchable['polls']} polls)  "
            f"{'PASS' if searchable['pass'] else 'FAIL'}"
        )
    finally:
        stop_gunicorn(server)

    print("\nSQL queries per request (in-process, same database)")
    counts, clients = count_queries(kinds, users)
    for name, c in counts.items():
        shown = str(c["min"]) if c["min"] == c["max"] else f"{c['min']}-{c['max']}"
        if c["failed"]:
            shown = (
                f"{shown if c['min'] is not None else '-'} ({c['failed']} of the URLs timed out)"
            )
        print(f"  {name:26} {shown}")

    def load(kind: Kind) -> float:
        return (kind.result.get("p95_ms") or 0) / kind.target_ms

    timed = [k for k in kinds if k.result]
    to_explain = [max(timed, key=load)] + [k for k in timed if not k.result["pass"]]
    explains = {}
    for kind in {k.name: k for k in to_explain}.values():
        print(f"\nEXPLAIN (ANALYZE, BUFFERS), {kind.name} (p95 {kind.result['p95_ms']} ms)")
        entry = explains[kind.name] = explain_slowest(kind, clients)
        print(f"  {entry['path']}\n    {entry['top']}")
        for scan in entry["scans"]:
            print(f"      {scan}")
        print(f"    {entry['execution']}")

    load_after = os.getloadavg()
    print(
        f"\nsummary (server time in ms; load average 1 min {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after)"
    )
    print(f"  {'kind':26} {'p50':>7} {'p95':>7} {'target':>7} {'queries':>8}  result")
    for kind in kinds:
        r, c = kind.result, counts.get(kind.name, {})
        queries = (
            str(c.get("min")) if c.get("min") == c.get("max") else f"{c.get('min')}-{c.get('max')}"
        )
        if not r:
            print(
                f"  {kind.name:26} {'-':>7} {'-':>7} {kind.target_ms:>7.0f} {queries:>8}  skipped"
            )
            continue
        verdict = "PASS" if r["pass"] else "FAIL"
        print(
            f"  {kind.name:26} {r['p50_ms']!s:>7} {r['p95_ms']!s:>7} {kind.target_ms:>7.0f} "
            f"{queries:>8}  {verdict}"
        )
    passed = (
        all(k.result.get("pass") for k in kinds)
        and searchable["pass"]
        and all(c["listed"] == c["matches"] for c in search_check)
        and all(c["ok"] for c in requester_check)
    )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": pg_version,
            "gunicorn_workers": WORKERS,
            # Other work on a 2-core machine shows in the figures: say so.
            "load_average_1m_before": round(load_before[0], 2),
            "load_average_1m_after": round(load_after[0], 2),
        },
        "revision": source_revision(),
        "requests_per_kind": args.requests,
        "data": data,
        "kinds": {k.name: {"note": k.note, **k.result} for k in kinds},
        "query_counts": counts,
        "searchable": searchable,
        "search_lists_rare_matches": search_check,
        "search_lists_requesters_tickets": requester_check,
        "explain": explains,
        "pass": passed,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / "workspace.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nload average (1 min) after: {load_after[0]:.2f}")
    print(f"{'PASS' if passed else 'FAIL'}; results in {out.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
