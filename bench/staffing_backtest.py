"""Backtest of the staffing forecast on the demo history (or any database).

    python bench/staffing_backtest.py --sqlite /tmp/staffing/demo.sqlite3 --tickets 3000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_staffing_bench \\
        python bench/staffing_backtest.py --tickets 20000

With --sqlite the database is that SQLite file (as `make run` uses); otherwise
DATABASE_URL. It is migrated, and seeded with the demo (`seed_demo --tickets N
--seed 42`, 90 days of history) when it has no tickets. Then, for all tickets
and for each team, the hourly arrivals of the last HISTORY_WEEKS weeks go
through analytics.staffing.forecast.backtest: rolling origins one week apart,
each fitting on the history before it and forecasting the next two weeks. It
prints WAPE (sum |error| / sum actual) of every model, overall and per horizon
day, the model the page would choose, and how long the backtest took.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", type=Path, help="Use (and create) this SQLite file.")
    parser.add_argument("--tickets", type=int, default=3000, help="Demo tickets when empty.")
    parser.add_argument("--weeks", type=int, default=12, help="Weeks of history (default 12).")
    args = parser.parse_args()
    if args.sqlite:
        folder = args.sqlite.resolve().parent
        os.environ["DATABASE_URL"] = f"sqlite:///{args.sqlite.resolve()}"
        os.environ["HELPDESK_DEMO"] = "1"
        # The demo enqueues a few tasks through the filesystem broker: give it
        # its folders beside the database, not in the repository's var/.
        os.environ["HELPDESK_VAR_DIR"] = str(folder)
        for sub in ("queue", "processed", "control"):
            (folder / "celery-broker" / sub).mkdir(parents=True, exist_ok=True)

    import django

    django.setup()
    from datetime import UTC, timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from analytics.staffing import forecast
    from analytics.staffing.selectors import Filters, hourly_arrivals
    from tickets.models import Team, Ticket

    call_command("migrate", verbosity=0)
    if not Ticket.objects.exists():
        started = time.perf_counter()
        call_command("seed_demo", tickets=args.tickets, seed=42, verbosity=0)
        print(f"seeded {args.tickets:,} demo tickets in {time.perf_counter() - started:.1f} s")
    zone = timezone.get_current_timezone()
    until = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    since = until - timedelta(weeks=args.weeks)
    print(
        f"database: {connection.vendor}, {Ticket.objects.count():,} tickets; "
        f"history {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC, zone {zone}"
    )
    scopes: list[tuple[str, list[int] | None]] = [("all tickets", None)]
    scopes += [(team.name, [team.pk]) for team in Team.objects.order_by("name")]
    for name, team_ids in scopes:
        started = time.perf_counter()
        start, counts = hourly_arrivals(
            filters=Filters(team_ids=team_ids), since=since, until=until
        )
        queried = time.perf_counter() - started
        how = forecast.hours_of_week(start, len(counts), zone)
        started = time.perf_counter()
        tested = forecast.backtest(counts, how)
        elapsed = time.perf_counter() - started
        print(f"\n## {name}: {int(counts.sum()):,} tickets over {len(counts) / 168:.1f} weeks")
        print(f"   arrivals query {queried * 1000:.0f} ms, backtest {elapsed * 1000:.0f} ms")
        if tested is None:
            print("   too short for a backtest (needs 4 weeks)")
            continue
        print(f"   {tested.folds} folds; chosen: {tested.chosen}")
        header = "   model            overall  " + " ".join(f"d{d:<3d}" for d in range(1, 15))
        print(header)
        for model, overall in tested.wape.items():
            days = " ".join(_pct(v) for v in tested.wape_by_day[model])
            print(f"   {model:<16s} {_pct(overall):>7s}  {days}")
        floor = _poisson_noise_floor(counts, how, tested.folds, tested.chosen)
        print(f"   Poisson noise floor of the chosen forecast: {_pct(floor)}")
    _time_plan(zone)
    return 0


def _time_plan(zone) -> None:
    """Server time of the whole plan (what the page, CSV and API compute):
    cold (nothing cached: queries, forecast with its backtest, Erlang C for
    336 hours) and warm (the forecast and handling time cached, as for every
    request after the first in an hour). The bench's own in-memory cache, so
    it neither reads nor clears the site's."""
    import statistics

    from django.core.cache.backends.dummy import DummyCache
    from django.core.cache.backends.locmem import LocMemCache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from analytics.staffing import plan as plan_module
    from analytics.staffing.selectors import Filters
    from tickets.models import Team

    print("\n## staffing plan, server time (median of 5 after one warm-up)")
    team = Team.objects.order_by("name").first()
    scopes = [("all tickets", None), (getattr(team, "name", "-"), [team.pk] if team else [])]
    for state, backend in (
        ("cold", DummyCache("staffing-bench", {})),
        ("warm", LocMemCache("staffing-bench", {})),
    ):
        plan_module.cache = backend
        for name, team_ids in scopes:
            runs = []
            for _ in range(6):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    plan_module.staffing_plan(
                        filters=Filters(team_ids=team_ids),
                        what_if_percent=20,
                        now=timezone.now(),
                        zone=zone,
                    )
                    runs.append(time.perf_counter() - started)
            median = statistics.median(runs[1:]) * 1000
            print(f"   {state} {name}: {median:.0f} ms, {len(queries)} queries")


def _poisson_noise_floor(counts, how, folds: int, model: str) -> float:
    """The WAPE even a perfect forecast of the hourly *rate* would have: with
    tickets arriving at random at rate f, the count in an hour misses f by
    E|X - f| on average (X ~ Poisson(f)). Computed for the chosen model's
    forecasts over the backtest's folds: the part of the error no model can
    remove at this volume."""
    import numpy as np
    from scipy.stats import poisson

    from analytics.staffing import forecast

    horizon = forecast.HORIZON_HOURS
    expected_error = 0.0
    total = 0.0
    for fold in range(folds):
        origin = len(counts) - horizon - fold * forecast.HOURS_PER_WEEK
        rates = np.maximum(
            forecast.MODELS[model](counts[:origin], how[:origin], how[origin : origin + horizon]),
            1e-9,
        )
        support = np.arange(0, int(rates.max() * 3 + 30))
        pmf = poisson.pmf(support[None, :], rates[:, None])
        expected_error += float((np.abs(support[None, :] - rates[:, None]) * pmf).sum())
        total += float(rates.sum())
    return expected_error / total


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{value * 100:4.0f}%"


if __name__ == "__main__":
    sys.exit(main())
