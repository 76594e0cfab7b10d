"""Analytics benchmark: the manager dashboard, its API and CSV, and the agent's
view, timed in-process over a seeded PostgreSQL database; optionally the
ticket facts' full rebuild and catch-up.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        python bench/analytics_bench.py [--requests N] [--rebuild | --rollups] [--catch-up N]

The database must hold a seeded demo (bench/seed_demo.sh), whose seed builds
the ticket facts the dashboard reads. What it does (bench/README.md,
"Analytics", has the figures):

1. per kind (page 30 / 365 days, filtered pages, the API, the CSV, the
   agent's view): two warm-up requests, then N timed sequential requests
   through django.test.Client (server time: the whole Django handler, no
   network); p50 / p95 / max, against the targets (365 days <= 200 ms p95,
   30 days <= 100 ms p95);
2. counts each kind's SQL queries (the tests assert they are constant
   whatever the range and filters);
3. streams the CSV of a year under tracemalloc and prints the peak of
   Python memory it allocated;
4. with --rebuild: recomputes every ticket's facts (analytics.rollups.facts.
   rebuild_facts) and sums the rollup blocks from them, with progress bars,
   and prints tickets/s, the facts and blocks found different and the peak
   resident memory; with --rollups: sums the blocks only (what an upgrade
   runs once: manage.py rebuild_analytics --rollups);
5. with --catch-up N: changes the priority of N tickets (as a service does:
   stamping updated_at), times the catch-up job that refreshes their facts
   and adds the differences to the rollup blocks, then changes them back
   and times that catch-up too; the blocks then equal a rebuild (checked
   with --rollups after it).

Everything runs in this process against the database in DATABASE_URL; steps
4 and 5 write (facts, rollups, and the priority and updated_at of N
tickets, put back), so only ever point it at a bench database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "analytics.json"
PAGE = "/analytics/dashboard/"
CSV = "/analytics/dashboard/dashboard.csv"
API = "/api/v1/analytics/dashboard/"
MANAGER = "manager@demo.helpdesk.test"
AGENT = "agent@demo.helpdesk.test"


@dataclass
class Kind:
    name: str
    url: str
    params: dict
    who: str = MANAGER
    target_ms: float | None = None


@dataclass
class Result:
    name: str
    p50_ms: float
    p95_ms: float
    max_ms: float
    queries: int
    target_ms: float | None
    verdict: str


def kinds() -> list[Kind]:
    from tickets.models import Category, Team

    team = Team.objects.order_by("pk").values_list("slug", flat=True).first()
    category = Category.objects.order_by("pk").values_list("slug", flat=True).first()
    return [
        Kind("page, last 30 days", PAGE, {"range": "30"}, target_ms=100),
        Kind("page, last 365 days", PAGE, {"range": "365"}, target_ms=200),
        Kind("page, 365 days, priority high", PAGE, {"range": "365", "priority": "high"}),
        Kind(
            "page, 90 days, team + category + tier",
            PAGE,
            {"range": "90", "team": team, "category": category, "tier": "standard"},
        ),
        Kind("API, last 365 days", API, {"range": "365"}),
        Kind("CSV, last 365 days", CSV, {"range": "365"}),
        Kind("agent's view, last 30 days", PAGE, {"range": "30"}, who=AGENT),
    ]


def _get(client, kind: Kind) -> int:
    from django.http import StreamingHttpResponse

    response = client.get(kind.url, kind.params)
    if response.status_code != 200:
        raise SystemExit(f"{kind.name}: HTTP {response.status_code}")
    if isinstance(response, StreamingHttpResponse):
        return sum(len(part) for part in response.streaming_content)
    return len(response.content)


def time_kind(kind: Kind, requests: int) -> Result:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.models import User

    client = Client()
    client.force_login(User.objects.get(email=kind.who))
    for _ in range(2):
        _get(client, kind)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        _get(client, kind)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        _get(client, kind)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    verdict = "" if kind.target_ms is None else ("PASS" if p95 <= kind.target_ms else "FAIL")
    return Result(
        name=kind.name,
        p50_ms=round(statistics.median(times), 1),
        p95_ms=round(p95, 1),
        max_ms=round(times[-1], 1),
        queries=len(captured),
        target_ms=kind.target_ms,
        verdict=verdict,
    )


def csv_memory() -> float:
    """Peak Python memory (MB) allocated while streaming a year's CSV."""
    from django.test import Client

    from tickets.models import User

    client = Client()
    client.force_login(User.objects.get(email=MANAGER))
    _get(client, Kind("warm", CSV, {"range": "365"}))
    tracemalloc.start()
    _get(client, Kind("CSV", CSV, {"range": "365"}))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return round(peak / 1e6, 2)


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def rebuild() -> dict:
    from analytics.rollups.facts import rebuild_facts

    started = time.perf_counter()
    rebuilt = rebuild_facts(datetime.now(UTC), progress=True)
    seconds = time.perf_counter() - started
    return {
        "tickets": rebuilt.tickets,
        "seconds": round(seconds, 1),
        "tickets_per_s": round(rebuilt.tickets / seconds),
        "differing": rebuilt.differing,
        "rollup_rows": rebuilt.rollup_rows,
        "rollups_differing": rebuilt.rollups_differing,
        "peak_rss_mb": _peak_rss_mb(),
    }


def rollups() -> dict:
    from analytics.rollups.facts import rebuild_rollups

    started = time.perf_counter()
    summed = rebuild_rollups(datetime.now(UTC), progress=True)
    return {
        "rows": summed.rows,
        "differing": summed.differing,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": _peak_rss_mb(),
    }


def catch_up(count: int) -> dict:
    from django.utils import timezone

    from analytics.models import RollupRun
    from analytics.rollups.facts import CATCH_UP
    from analytics.rollups.facts import catch_up as run_catch_up
    from tickets.models import Priority, Ticket

    ids = list(Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:count])
    before = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "priority"))
    changed = {pk: Priority.LOW if p != Priority.LOW else Priority.HIGH for pk, p in before.items()}
    found = {}
    for name, priorities in (("changed", changed), ("put back", before)):
        now = timezone.now()
        RollupRun.objects.update_or_create(
            name=CATCH_UP, defaults={"ran_at": now, "tickets": 0, "differing": 0}
        )
        for priority in set(priorities.values()):
            Ticket.objects.filter(
                pk__in=[pk for pk, p in priorities.items() if p == priority]
            ).update(priority=priority, updated_at=now)
        started = time.perf_counter()
        refreshed = run_catch_up(timezone.now())
        found[name] = {"refreshed": refreshed, "seconds": round(time.perf_counter() - started, 2)}
    return {"stamped": count, **found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per kind")
    parser.add_argument("--rebuild", action="store_true", help="time the full facts rebuild")
    parser.add_argument("--rollups", action="store_true", help="time summing the rollups only")
    parser.add_argument("--catch-up", type=int, default=0, metavar="N", help="time a catch-up of N")
    args = parser.parse_args()
    if not 1 <= args.requests <= 500:
        parser.error("--requests takes 1..500")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a seeded PostgreSQL bench database")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("HELPDESK_SECURE_COOKIES", "0")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from analytics.models import TicketFact
    from tickets.models import Ticket

    tickets, facts = Ticket.objects.count(), TicketFact.objects.count()
    print(f"analytics benchmark: {tickets:,} tickets, {facts:,} ticket facts")
    if facts < tickets:
        print("  (fewer facts than tickets: run with --rebuild, or manage.py rebuild_analytics)")
    report: dict = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{os.cpu_count()} cores, CPython {platform.python_version()}, "
        f"PostgreSQL {connection.cursor().connection.info.server_version}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "tickets": tickets,
    }
    if args.rebuild:
        report["rebuild"] = rebuild()
        line = "  rebuild     {tickets:,} tickets in {seconds} s ({tickets_per_s:,}/s), "
        line += "{differing:,} differing; {rollup_rows:,} rollup blocks, "
        line += "{rollups_differing:,} differing; peak RSS {peak_rss_mb} MB"
        print(line.format(**report["rebuild"]))
    elif args.rollups:
        report["rollups"] = rollups()
        line = "  rollups     {rows:,} blocks summed in {seconds} s, {differing:,} differing, "
        line += "peak RSS {peak_rss_mb} MB"
        print(line.format(**report["rollups"]))
    if args.catch_up:
        report["catch_up"] = catch_up(args.catch_up)
        for name in ("changed", "put back"):
            line = f"  catch-up    {{refreshed:,}} tickets {name} refreshed in {{seconds}} s"
            print(line.format(**report["catch_up"][name]))
    results = [time_kind(kind, args.requests) for kind in kinds()]
    print(f"  {'kind':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}  target")
    for r in results:
        target = "" if r.target_ms is None else f"<= {r.target_ms:g} ms {r.verdict}"
        figures = f"{r.p50_ms:8.1f} {r.p95_ms:8.1f} {r.max_ms:8.1f} {r.queries:8d}"
        print(f"  {r.name:40} {figures}  {target}")
    print("  (a team, category, channel, priority or agent filter skips NPS: two queries fewer)")
    report["csv_peak_python_mb"] = csv_memory()
    print(
        f"  CSV of a year streamed with a peak of {report['csv_peak_python_mb']} MB Python memory"
    )
    report["kinds"] = [asdict(r) for r in results]
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"  load average before {report['load_average']}, after {report['load_average_after']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
