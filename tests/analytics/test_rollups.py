"""The rollup blocks (analytics/rollups/blocks.py, cells.py, rollup_metrics.py):
any range of days is covered exactly by a few aligned blocks; the figures read
from them equal the facts' (counts exactly, medians and 90th percentiles within
one histogram bucket) on the hand-made history of test_metrics.py with every
one-dimension filter and in another time zone; the blocks kept current by the
facts' refresh equal a rebuild from scratch, also under concurrent refreshes;
and the migration fills the facts' solve times and CSAT answers as the facts
compute them."""

from __future__ import annotations

import importlib
import random
import threading
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from django.apps import apps as django_apps
from django.db import connection, connections

from analytics import metrics
from analytics.metrics import MetricFilter
from analytics.models import FactRollup, TicketFact
from analytics.rollups import blocks, cells, fact_metrics, rollup_metrics
from analytics.rollups.facts import catch_up, rebuild_facts, refresh_facts
from tests.analytics.test_fact_metrics import NORMAL_LOW, URGENT_HIGH, flat
from tests.analytics.test_metrics import (  # noqa: F401 - fixtures
    NOW,
    RANGE,
    at,
    history,
    reply,
    set_status,
    sla_defaults,
)
from tests.analytics.test_metrics_surveys import answer, answers  # noqa: F401 - a fixture
from tickets.models import Channel, Priority, Status, Ticket

# Medians and percentiles from the histograms: within one bucket's width.
WIDTH = cells.GAMMA - 1


@pytest.fixture
def built(answers):  # noqa: F811 - the fixture imported above
    """The hand-made history with its survey answers, facts and blocks."""
    rebuild_facts(NOW)
    return answers.history


# --- blocks ---------------------------------------------------------------------------


def test_any_range_is_covered_exactly_by_at_most_two_blocks_per_level():
    rng = random.Random(7)
    ranges = [(0, 0), (1, 1), (5, 1000), (738000, 738364)]
    ranges += [(a, a + rng.randrange(0, 800)) for a in rng.sample(range(730000, 740000), 300)]
    for first, last in ranges:
        pairs = blocks.decompose(first, last)
        days = [
            day for level, block in pairs for day in range((block << level), (block + 1) << level)
        ]
        assert days == list(range(first, last + 1))
        per_level = [level for level, _ in pairs]
        assert max(per_level.count(level) for level in set(per_level)) <= 2
    # A year: a dozen rows per series, whatever the number of tickets.
    year = blocks.decompose(date(2026, 1, 1).toordinal(), date(2026, 12, 31).toordinal())
    assert len(year) <= 2 * blocks.LEVELS


def test_histogram_percentiles_are_within_a_bucket_and_exact_for_repeats():
    rng = np.random.default_rng(3)
    for values in (
        rng.lognormal(9, 1.5, 5000),
        rng.uniform(0, 3, 200),
        np.array([3600.0] * 4 + [7200.0]),
        np.array([0.0, 0.0, 12.5]),
        np.array([42.0]),
    ):
        found = [cell for value in values for cell in cells.duration_cells(0, 0, float(value))]
        keys = np.array([key for key, _ in found])
        counts = np.array([n for _, n in found])
        buckets, totals = cells.histogram(keys, counts)
        for fraction in (0.5, 0.9):
            exact = metrics.percentile(sorted(values.tolist()), fraction)
            estimate = cells.percentile(buckets, totals, fraction)
            assert estimate == pytest.approx(exact, rel=WIDTH, abs=1.0)
        if len(set(values.tolist())) <= 3:
            # Each bucket holds equal values: exact (to the millisecond).
            assert cells.percentile(buckets, totals, 0.5) == pytest.approx(
                metrics.percentile(sorted(values.tolist()), 0.5), abs=1e-3
            )


def test_adding_a_delta_equals_summing_afresh():
    rng = np.random.default_rng(5)
    for _ in range(50):
        base = cells.Cells.total([(rng.integers(0, 400, 300), rng.integers(1, 5, 300))])
        codes = rng.integers(0, 420, 40)
        delta = cells.Cells.total([(codes, rng.integers(-3, 4, 40))])
        found = base.plus(delta)
        expected = cells.Cells.total([(base.codes, base.counts), (delta.codes, delta.counts)])
        assert found.codes.tolist() == expected.codes.tolist()
        assert found.counts.tolist() == expected.counts.tolist()
        assert 0 not in found.counts.tolist()


def test_a_filter_on_two_dimensions_or_part_of_a_day_has_no_rollup(built):
    team = built.billing.default_team_id
    assert rollup_metrics.request_for(RANGE).dim == "all"
    assert rollup_metrics.request_for(replace(RANGE, teams=[team])).values == (str(team),)
    assert rollup_metrics.request_for(replace(RANGE, teams=[team], channels=["email"])) is None
    assert rollup_metrics.request_for(replace(RANGE, start=at(11, 23, 5))) is None
    assert rollup_metrics.request_for(MetricFilter()) is None


# --- the figures equal the facts' ---------------------------------------------------


def close(found, expected) -> bool:
    """Equal structure and counts; hours within one bucket's width."""
    left, right = flat(found), flat(expected)
    assert [row[:-1] for row in left] == [row[:-1] for row in right]
    for row, want in zip(left, right, strict=True):
        value, wanted = row[-1], want[-1]
        if isinstance(wanted, float) and not isinstance(wanted, bool):
            assert value == pytest.approx(wanted, rel=WIDTH), row
        else:
            assert value == wanted, row
    return True


def one_dimension_filters(h) -> list[MetricFilter]:
    day = MetricFilter(start=at(11, 23, 0), end=at(11, 24, 0))
    return [
        RANGE,
        day,
        MetricFilter(start=at(10, 1, 0), end=at(12, 2, 0)),
        replace(RANGE, teams=[h.billing.default_team_id]),
        replace(RANGE, categories=[h.login.pk, h.billing.pk]),
        replace(RANGE, customer_tiers=["basic"]),
        replace(RANGE, customer_tiers=["vip", "standard"]),
        replace(RANGE, channels=[Channel.EMAIL]),
        replace(RANGE, priorities=[Priority.HIGH]),
        replace(RANGE, agents=[h.alice.pk]),
        replace(RANGE, agents=[h.alice.pk, h.bob.pk]),
    ]


def assert_rollups_equal_facts(metric_filter: MetricFilter) -> None:
    (summary,) = rollup_metrics.summaries([metric_filter])
    groups = {"priority": URGENT_HIGH, "standard": NORMAL_LOW}
    assert close(summary.created_figures(), fact_metrics.created_figures(metric_filter))
    assert close(summary.solved_figures(groups), fact_metrics.solved_figures(metric_filter, groups))
    assert close(summary.sla_compliance(), fact_metrics.sla_compliance(metric_filter))
    assert close(summary.agent_figures(), fact_metrics.agent_figures(metric_filter))
    names = rollup_metrics.category_names(summary.category_ids())
    assert summary.category_mix(names) == fact_metrics.category_mix(metric_filter)
    assert summary.heatmap() == metrics.tickets_by_hour_and_weekday(metric_filter)
    assert summary.csat() == (metrics.csat(metric_filter), metrics.ces(metric_filter))
    assert summary.csat_by_agent() == metrics.csat_by_agent(metric_filter)
    for period in ("day", "week", "month"):
        trend, by_month = rollup_metrics.daily_figures(metric_filter, period)
        assert trend == metrics.created_vs_solved(metric_filter, period=period)
        assert by_month == metrics.csat_by_month(metric_filter)


def test_rollup_figures_equal_the_facts_with_every_one_dimension_filter(built):
    for metric_filter in one_dimension_filters(built):
        assert_rollups_equal_facts(metric_filter)
    # Something was counted: the comparison is not between two empty sets.
    (summary,) = rollup_metrics.summaries([RANGE])
    assert summary.created_figures()[0].business.count >= 3
    assert len(summary.agent_figures()) >= 2
    assert summary.csat()[0].answers >= 4
    assert summary.csat_by_agent()


def test_rollup_days_are_local_days_of_the_time_zone(answers, settings):  # noqa: F811
    settings.TIME_ZONE = "America/New_York"
    rebuild_facts(NOW)
    # Local midnights in New York: 05:00 UTC in November.
    week = MetricFilter(start=at(11, 23, 5), end=at(12, 1, 5))
    assert rollup_metrics.request_for(week) is not None
    assert rollup_metrics.request_for(RANGE) is None  # UTC midnight is 19:00 there
    assert_rollups_equal_facts(week)
    assert_rollups_equal_facts(replace(week, start=at(11, 29, 5)))


def test_figures_are_summed_from_a_dozen_rows_in_one_query(built, django_assert_num_queries):
    year = MetricFilter(start=at(1, 1, 0), end=at(12, 31, 0))
    with django_assert_num_queries(1):
        found = rollup_metrics.summaries([year, RANGE, replace(RANGE, agents=[built.alice.pk])])
    assert [s.cells.count(cells.CREATED) for s in found[:2]] == [
        Ticket.objects.filter(created_at__gte=year.start, created_at__lt=year.end).count(),
        Ticket.objects.filter(created_at__gte=RANGE.start, created_at__lt=RANGE.end).count(),
    ]


# --- kept current -----------------------------------------------------------------


def _rebuilt_differs() -> int:
    return blocks.rebuild().differing


def test_blocks_kept_by_each_refresh_equal_a_rebuild(built, time_machine):
    h = built
    assert _rebuilt_differs() == 0
    time_machine.move_to(at(11, 30, 16), tick=False)
    ticket = h.tickets["T5"]
    reply(ticket, h.alice)
    set_status(ticket, Status.SOLVED, h.alice)
    moved = h.tickets["T1"]
    Ticket.objects.filter(pk=moved.pk).update(
        team_id=h.billing.default_team_id, category=h.login, channel=Channel.API
    )
    refresh_facts([ticket.pk, moved.pk], NOW)
    assert _rebuilt_differs() == 0
    # A CSAT answer given after the facts: the catch-up finds it by its time.
    catch_up(at(11, 30, 16))
    answer(h.tickets["T3"], 2, 5, 7, at(11, 30, 17))
    before = rollup_metrics.summaries([RANGE])[0].csat()[0].answers
    assert catch_up(at(11, 30, 18)) >= 1
    assert rollup_metrics.summaries([RANGE])[0].csat()[0].answers == before + 1
    assert _rebuilt_differs() == 0
    # From nothing, one ticket at a time: the same rows as the rebuild.
    kept = {(r.dim, r.value, r.level, r.block): bytes(r.cells) for r in FactRollup.objects.all()}
    FactRollup.objects.all().delete()
    TicketFact.objects.all().delete()
    for ticket_id in Ticket.objects.values_list("pk", flat=True):
        refresh_facts([ticket_id], NOW)
    assert {
        (r.dim, r.value, r.level, r.block): bytes(r.cells) for r in FactRollup.objects.all()
    } == kept
    # A deleted ticket's fact goes; the rebuild takes its cells away.
    Ticket.objects.filter(pk=moved.pk).delete()
    assert _rebuilt_differs() > 0
    assert _rebuilt_differs() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_the_same_tickets_keep_the_blocks_right(history):  # noqa: F811
    """Two threads (two PostgreSQL connections) refresh the same tickets
    after a change: the lock makes the second add its difference against
    the first's row, not against the same old one."""
    rebuild_facts(NOW)
    h = history
    ids = list(Ticket.objects.values_list("pk", flat=True))
    Ticket.objects.filter(pk__in=ids).update(channel=Channel.API, category=h.billing)
    errors = []

    def refresh() -> None:
        try:
            refresh_facts(ids, NOW)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _rebuilt_differs() == 0
    (summary,) = rollup_metrics.summaries([RANGE])
    assert summary.cells.by_key(cells.CATEGORY) == {
        h.billing.pk + 1: Ticket.objects.filter(
            created_at__gte=RANGE.start, created_at__lt=RANGE.end
        ).count()
    }


def test_the_migration_fills_the_new_fact_columns_as_the_facts_compute_them(built):
    columns = ("ticket_id", "solve_times", "csat_answers")
    expected = list(TicketFact.objects.order_by("pk").values_list(*columns))
    assert any(len(times) >= 2 for _, times, _ in expected)  # a reopened ticket
    assert any(len(given) >= 2 for *_, given in expected)  # two rounds
    TicketFact.objects.update(solve_times=[], csat_answers=[])
    migration = importlib.import_module("analytics.migrations.0005_fact_rollups")
    with connection.schema_editor() as editor:
        migration.fill_facts(django_apps, editor)
    assert list(TicketFact.objects.order_by("pk").values_list(*columns)) == expected
