"""The peer's ticket page: django-helpdesk's staff view of one ticket, timed
the way bench/workspace_bench.py times ours (random existing tickets, p50 /
p95 / SQL queries), for the side-by-side figures in bench/README.md.

Runs in the peer's throwaway environment (../shared/peer/README.md: setup.sh,
load.py), not in ours:

    cd /tmp/peer-site && DJANGO_SETTINGS_MODULE=peersite.settings \\
        /tmp/peer-venv/bin/python /path/to/bench/peer_ticket_page.py [--requests 200]

Requests go through django.test.Client (middleware, view, templates; no
network), logged in as the peer's staff agent (agent01), like the peer's own
measure.py. Nothing is written.
"""

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.environ.get("PEER_DIR") or os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--user", default="agent01")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    bounds = Ticket.objects.aggregate(lo=Min("id"), hi=Max("id"))
    rng = random.Random(args.seed)
    probe = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(400)]
    ids = list(Ticket.objects.filter(id__in=probe).values_list("id", flat=True))[:200]
    client = Client()
    client.force_login(User.objects.get(username=args.user))
    for pk in ids[:6]:  # warm-up
        client.get(f"/tickets/{pk}/")
    times, queries = [], []
    load_before = os.getloadavg()[0]
    for i in range(args.requests):
        pk = ids[i % len(ids)]
        started = time.perf_counter()
        response = client.get(f"/tickets/{pk}/")
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"/tickets/{pk}/: HTTP {response.status_code}")
    for pk in ids[:6]:
        with CaptureQueriesContext(connection) as ctx:
            client.get(f"/tickets/{pk}/")
        queries.append(len(ctx.captured_queries))
    print(
        f"django-helpdesk ticket page, {Ticket.objects.count():,} tickets, "
        f"{len(times)} requests over {len(ids)} tickets: p50 {statistics.median(times):.1f} ms, "
        f"p95 {percentile(times, 95):.1f} ms, max {max(times):.1f} ms, "
        f"queries {min(queries)}-{max(queries)}; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )


if __name__ == "__main__":
    main()
