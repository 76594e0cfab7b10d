"""SLA sweep benchmark on a seeded PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
    REDIS_URL=redis://127.0.0.1:6379/9 python bench/sla_bench.py [--open 100000]

1. makes sure OPEN tickets are open: reopens the newest solved/closed ones if
   there are fewer (this changes the bench database; point it at one);
2. starts their SLA clocks (`sla_backfill`), timed;
3. sweep with nothing due: 50 runs, p50/p95 and the SQL it ran;
4. a sweep that escalates 1,000 due tickets (their first response made due a
   second ago; the default rules: notify assignee, team lead and managers,
   hand over to the next tier and re-route, tell the customer), timed;
5. the delay from a due time to its escalation being recorded, with a real
   Celery worker and beat (default schedule) running for about 40 s against
   20 tickets falling due one second apart.

Bounded in time and count; only 127.0.0.1 is contacted; the worker is stopped
at the end, also on error. Results: bench/results/sla.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def ensure_open(target: int) -> dict:
    from django.db import connection

    from tickets.models import OPEN_STATUSES, Ticket

    open_now = Ticket.objects.filter(status__in=OPEN_STATUSES).count()
    reopened = 0
    if open_now < target:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tickets_ticket SET status = 'open', solved_at = NULL, closed_at = NULL "
                "WHERE id IN (SELECT id FROM tickets_ticket WHERE status IN ('solved', 'closed') "
                "ORDER BY id DESC LIMIT %s)",
                [target - open_now],
            )
            reopened = cursor.rowcount
    return {"open_before": open_now, "reopened": reopened}


def backfill() -> dict:
    from django.db import connection

    from escalation.backfill import backfill_open_tickets

    started = time.perf_counter()
    done = backfill_open_tickets()
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE escalation_ticketsla")
        cursor.execute("ANALYZE tickets_ticket")
    return {"clocks_started": done, "seconds": round(seconds, 1)}


def sweep_idle(runs: int = 50) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from escalation.models import TicketSLA
    from escalation.sweep import sweep

    now = timezone.now()
    due = TicketSLA.objects.filter(next_check_at__lte=now).count()
    if due:
        # Whatever came due since the backfill: sweep it first.
        while sweep(now=now).claimed:
            pass
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = sweep(now=now)
        times.append((time.perf_counter() - started) * 1000)
        assert result.claimed == 0
    with CaptureQueriesContext(connection) as queries:
        sweep(now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE) SELECT 1 FROM escalation_ticketsla WHERE next_check_at <= %s "
            "ORDER BY next_check_at LIMIT 200 FOR UPDATE SKIP LOCKED",
            [now],
        )
        plan = [row[0] for row in cursor.fetchall()]
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(pct(times, 95), 2),
        "max_ms": round(max(times), 2),
        "queries": [q["sql"][:160] for q in queries.captured_queries],
        "plan": plan,
        "target_ms": 20,
    }


def make_due(count: int, at, threshold: str = "breach") -> list[int]:
    """Make the running first-response target of `count` clocks reach a
    threshold at `at`: its breach (the warning marked done), or its warning
    (the start moved back so that 75 % of the target has passed, the breach
    still ahead)."""
    from escalation.models import Escalation, TicketSLA
    from tickets.models import Ticket

    # Any open, running clocks will do: the bench resets their first-response
    # target (and forgets earlier runs' escalations of them) so every run
    # measures the same work.
    ids = list(
        TicketSLA.objects.filter(paused_since__isnull=True, policy__isnull=False)
        .order_by("-ticket_id")
        .values_list("ticket_id", flat=True)[:count]
    )
    Escalation.objects.filter(ticket_id__in=ids).delete()
    TicketSLA.objects.filter(ticket_id__in=ids).update(
        first_response_met_at=None, first_response_warned_at=None, first_response_breached_at=None
    )
    # Back at Tier 1, so the breach rule's hand-over to Tier 2 has work to do.
    Ticket.objects.filter(pk__in=ids).update(tier=1)
    if threshold == "breach":
        TicketSLA.objects.filter(ticket_id__in=ids).update(
            first_response_warned_at=at - timedelta(hours=1),
            first_response_due=at,
            next_check_at=at,
        )
        return ids
    from escalation import clock
    from escalation.business_hours import add_business_time
    from escalation.calendars import hours_for

    for sla in TicketSLA.objects.filter(ticket_id__in=ids).select_related("policy"):
        # Start so far back that the warning (75 %) is at `at`: find it by
        # stepping back in business time from `at`.
        hours = hours_for(sla.policy.calendar_id)
        target = timedelta(minutes=sla.policy.first_response_minutes)
        share = target * sla.policy.warning_percent / 100
        start = at - share
        while add_business_time(hours, start, share + timedelta(seconds=sla.paused_seconds)) > at:
            start -= timedelta(hours=1)
        sla.started_at = start
        sla.first_response_warned_at = None
        clock.recompute(sla, sla.ticket)
        sla.next_check_at = min(sla.next_check_at or at, at)
        sla.save()
    return ids


def sweep_due(count: int = 1000, threshold: str = "breach") -> dict:
    from django.utils import timezone

    from escalation.models import Escalation
    from escalation.sweep import sweep_until_done

    now = timezone.now()
    ids = make_due(count, now - timedelta(seconds=1), threshold)
    before = Escalation.objects.count()
    started = time.perf_counter()
    result = sweep_until_done(max_batches=100)
    seconds = time.perf_counter() - started
    return {
        "threshold": threshold,
        "due": len(ids),
        "escalations": len(result.escalations),
        "recorded": Escalation.objects.count() - before,
        "seconds": round(seconds, 2),
        "per_ticket_ms": round(seconds * 1000 / max(1, len(ids)), 1),
        "target_seconds": 5,
    }


def delay_with_worker(tickets: int = 20, spacing: float = 1.0, run_for: float = 45.0) -> dict:
    from django.utils import timezone

    from escalation.models import Escalation, TicketSLA

    start = timezone.now() + timedelta(seconds=8)  # the worker needs a few seconds to start
    chosen = list(
        TicketSLA.objects.filter(paused_since__isnull=True, policy__isnull=False)
        .order_by("ticket_id")
        .values_list("ticket_id", flat=True)[:tickets]
    )
    Escalation.objects.filter(ticket_id__in=chosen).delete()
    TicketSLA.objects.filter(ticket_id__in=chosen).update(
        first_response_met_at=None, first_response_breached_at=None
    )
    for i, ticket_id in enumerate(chosen):
        due = start + timedelta(seconds=i * spacing)
        TicketSLA.objects.filter(ticket_id=ticket_id).update(
            first_response_warned_at=due - timedelta(hours=1),
            first_response_due=due,
            next_check_at=due,
        )
    # As in production: the sweep on a queue and worker of its own (with
    # beat), everything else (mail, routing) on the default queue's worker,
    # so the backlog the 1,000-ticket sweep left behind cannot delay it.
    env = {**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "HELPDESK_SLA_QUEUE": "sla-bench"}
    log = open(REPO / "bench" / "results" / "sla-worker.log", "w")  # noqa: SIM115
    celery = [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--loglevel", "WARNING",
              "--without-gossip", "--without-mingle"]  # fmt: skip
    sla_worker = subprocess.Popen(
        [*celery, "-B", "-Q", "sla-bench", "--concurrency", "1", "-n", "sla@%h",
         "--schedule", str(REPO / "var" / "bench-celerybeat-schedule")],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [*celery, "--concurrency", "1", "-n", "general@%h"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + run_for
        while time.monotonic() < deadline:
            done = Escalation.objects.filter(
                ticket_id__in=chosen, target="first_response", threshold="breach"
            ).count()
            if done == len(chosen):
                break
            time.sleep(1)
    finally:
        for proc in (sla_worker, worker):
            proc.terminate()
        for proc in (sla_worker, worker):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
    rows = Escalation.objects.filter(
        ticket_id__in=chosen, target="first_response", threshold="breach"
    ).values_list("created_at", "due_at")
    delays = [(created - due).total_seconds() for created, due in rows]
    return {
        "tickets": len(chosen),
        "escalated": len(delays),
        "delay_p50_s": round(statistics.median(delays), 2) if delays else None,
        "delay_max_s": round(max(delays), 2) if delays else None,
        "target_s": 15,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=100_000, dest="open_tickets")
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("Set DATABASE_URL to a seeded PostgreSQL bench database.")
        return 2
    if not os.environ.get("REDIS_URL"):
        print("Set REDIS_URL (broker for the notification tasks and the worker).")
        return 2
    import django

    django.setup()
    from tickets.models import Ticket

    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "var").mkdir(exist_ok=True)
    results = {"tickets": Ticket.objects.count()}
    results["open"] = ensure_open(args.open_tickets)
    print("open tickets:", results["open"])
    results["backfill"] = backfill()
    print("backfill:", results["backfill"])
    results["sweep_idle"] = sweep_idle()
    print("sweep, nothing due:", {k: v for k, v in results["sweep_idle"].items() if k != "plan"})
    results["sweep_due_warnings"] = sweep_due(args.due, threshold="warning")
    print("sweep, 1,000 warnings due:", results["sweep_due_warnings"])
    results["sweep_due_breaches"] = sweep_due(args.due, threshold="breach")
    print("sweep, 1,000 breaches due:", results["sweep_due_breaches"])
    results["delay"] = delay_with_worker()
    print("due -> escalation recorded, real worker + beat:", results["delay"])
    (REPO / "bench" / "results" / "sla.json").write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
