"""Intake throughput through the REST API, served by gunicorn, with a real
Celery worker sending the acknowledgements.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_intake \\
    REDIS_URL=redis://127.0.0.1:6379/8 python bench/intake_bench.py

1. prepares the database: migrate, seed a small demo helpdesk (the cast and
   2,000 tickets) when empty, and train the classifier on its resolved tickets;
2. starts gunicorn and a Celery worker (loopback only) and makes an API token
   for the demo customer;
3. sustained load: CONCURRENCY keep-alive connections post tickets for at most
   SUSTAIN_SECONDS or SUSTAIN_REQUESTS, whichever comes first; prints tickets/s
   and latency percentiles;
4. burst: BURST tickets posted as fast as possible, then waits (at most
   BURST_DEADLINE seconds) until every one is acknowledged by the worker
   (its e-mail sent), and prints how long that took.

Everything targets 127.0.0.1, is bounded in count and time, and stops the
servers it started, also on error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
os.environ.setdefault("HELPDESK_SECURE_COOKIES", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

SUBJECTS = [
    ("Cannot log in after password reset", "The log-in page says my password is wrong."),
    ("Invoice shows the wrong VAT number", "Our March invoice has last year's VAT id."),
    ("CSV import fails at row 120", "The import stops with 'invalid date' at row 120."),
    ("Dashboard is extremely slow", "Loading the dashboard takes a minute since Monday."),
    ("API returns 500 on /orders", "Every call to the orders endpoint fails since 9:00."),
    ("Please add dark mode", "It would help our night shift a lot."),
]


def prepare_database() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from tickets.models import Ticket

    call_command("migrate", verbosity=0)
    if not Ticket.objects.exists():
        call_command("seed_demo", tickets=2000, seed=7, verbosity=0)
    call_command("train_classifier", verbosity=0)


def api_token(email: str) -> str:
    from rest_framework.authtoken.models import Token

    from tickets.models import User

    return Token.objects.get_or_create(user=User.objects.get(email=email))[0].key


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


async def post_tickets(port: int, token: str, count: int, seconds: float, concurrency: int):
    """Post up to `count` tickets within `seconds` over `concurrency` keep-alive
    connections; returns (latencies in ms, elapsed s, statuses)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent = 0
    deadline = time.monotonic() + seconds

    async def connection_loop(worker: int) -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while sent < count and time.monotonic() < deadline:
                sent += 1
                subject, text = SUBJECTS[sent % len(SUBJECTS)]
                body = json.dumps({"subject": f"{subject} #{sent}", "description": text}).encode()
                request = (
                    f"POST /api/v1/tickets/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
                ).encode() + body
                started = time.perf_counter()
                writer.write(request)
                await writer.drain()
                status_line = await reader.readline()
                if not status_line:
                    # The server closed the keep-alive connection before
                    # answering (idle timeout): count it and reconnect.
                    statuses[0] = statuses.get(0, 0) + 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                length = 0
                close = False
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    lower = line.lower()
                    if lower.startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                    if lower.startswith(b"connection:") and b"close" in lower:
                        close = True
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - started) * 1000)
                status = int(status_line.split()[1])
                statuses[status] = statuses.get(status, 0) + 1
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    began = time.monotonic()
    await asyncio.gather(*(connection_loop(i) for i in range(concurrency)))
    return latencies, time.monotonic() - began, statuses


def report(name: str, latencies: list[float], elapsed: float, statuses: dict) -> dict:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if ordered else float("nan")
    figures = {
        "requests": len(ordered),
        "seconds": round(elapsed, 2),
        "tickets_per_second": round(len(ordered) / elapsed, 1) if elapsed else 0,
        "p50_ms": round(statistics.median(ordered), 1) if ordered else None,
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1) if ordered else None,
        "statuses": statuses,
    }
    print(f"{name}: {json.dumps(figures)}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per worker (gthread: keeps connections alive)",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sustain-seconds", type=float, default=30)
    parser.add_argument("--sustain-requests", type=int, default=6000)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--burst-deadline", type=float, default=180)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("Set DATABASE_URL to a PostgreSQL bench database.")
        return 2
    if not os.environ.get("REDIS_URL"):
        print("Set REDIS_URL (the Celery broker for the worker).")
        return 2

    prepare_database()
    from demo.catalog import DEMO_CUSTOMER
    from tickets.models import Ticket

    token = api_token(DEMO_CUSTOMER.email)
    env = {**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "HELPDESK_API_RATE": "1000000/min"}
    logs = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    web = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "helpdesk.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            *(
                ["--worker-class", "gthread", "--threads", str(args.threads)]
                if args.threads > 1
                else []
            ),
            "--log-level",
            "warning",
        ],
        env,
        logs / "gunicorn.log",
    )
    worker = start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        logs / "worker.log",
    )
    results = {}
    try:
        time.sleep(4)
        asyncio.run(post_tickets(args.port, token, 50, 30, 4))  # warm-up
        results["sustained"] = report(
            "sustained",
            *asyncio.run(
                post_tickets(
                    args.port, token, args.sustain_requests, args.sustain_seconds, args.concurrency
                )
            ),
        )

        first_id = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
        burst_started = time.monotonic()
        results["burst_post"] = report(
            "burst post",
            *asyncio.run(
                post_tickets(args.port, token, args.burst, args.burst_deadline, args.concurrency)
            ),
        )
        pending = None
        while time.monotonic() - burst_started < args.burst_deadline + 60:
            pending = Ticket.objects.filter(id__gt=first_id, acknowledged_at__isnull=True).count()
            if pending == 0:
                break
            time.sleep(1)
        processed = time.monotonic() - burst_started
        results["burst_processed_seconds"] = round(processed, 1)
        results["burst_unprocessed"] = pending
        print(
            f"burst of {args.burst}: all acknowledged after {processed:.1f} s "
            f"(still pending: {pending})"
        )
    finally:
        for proc in (web, worker):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "intake.json").write_text(json.dumps(results, indent=2))
    print(f"logs in {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
