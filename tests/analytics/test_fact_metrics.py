"""The dashboard's metrics read from the ticket facts (analytics/rollups/
fact_metrics.py) equal the metrics read from the raw history
(analytics.metrics) on the hand-made history of test_metrics.py, with every
filter, and equal the hand-checked values there; each is a constant number
of statements."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace

import pytest

from analytics import metrics
from analytics.metrics import MetricFilter
from analytics.rollups import fact_metrics
from analytics.rollups.facts import rebuild_facts
from tests.analytics.test_metrics import NOW, RANGE, at, history, sla_defaults  # noqa: F401
from tickets.models import Channel, Priority

URGENT_HIGH = (Priority.URGENT.value, Priority.HIGH.value)
NORMAL_LOW = (Priority.NORMAL.value, Priority.LOW.value)


def flat(value) -> list:
    """A result as a flat list of (path, scalar), to compare floats with
    pytest.approx (the two sides interpolate in different places)."""
    if is_dataclass(value):
        value = {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, dict):
        return [(key, *item) for key in sorted(value, key=repr) for item in flat(value[key])]
    return [(value,)]


def same(found, expected) -> bool:
    left, right = flat(found), flat(expected)
    assert [row[:-1] for row in left] == [row[:-1] for row in right]
    assert [row[-1] for row in left] == pytest.approx([row[-1] for row in right])
    return True


@pytest.fixture
def facts(history):  # noqa: F811 - the fixture imported above
    rebuild_facts(NOW)
    return history


def filters(h) -> list[MetricFilter]:
    """The range alone, open-ended, and narrowed by each dimension."""
    return [
        RANGE,
        MetricFilter(),
        MetricFilter(start=at(11, 23, 0), end=at(11, 24, 0)),
        replace(RANGE, teams=[h.billing.default_team_id]),
        replace(RANGE, categories=[h.login.pk]),
        replace(RANGE, customer_tiers=["basic"]),
        replace(RANGE, customer_tiers=["vip", "standard"]),
        replace(RANGE, channels=[Channel.EMAIL]),
        replace(RANGE, priorities=[Priority.HIGH]),
        replace(RANGE, agents=[h.alice.pk]),
        replace(RANGE, agents=[h.bob.pk], priorities=[Priority.NORMAL]),
    ]


def test_durations_equal_the_metrics_with_every_filter(facts):
    for metric_filter in filters(facts):
        assert same(
            fact_metrics.first_response_time(metric_filter),
            metrics.first_response_time(metric_filter),
        ), metric_filter
        found = fact_metrics.resolution_times(
            metric_filter, {"priority": URGENT_HIGH, "standard": NORMAL_LOW}
        )
        for name, levels in (("priority", URGENT_HIGH), ("standard", NORMAL_LOW)):
            narrowed = replace(
                metric_filter,
                priorities=[
                    p
                    for p in levels
                    if not metric_filter.priorities or p in metric_filter.priorities
                ]
                or ["--none--"],
            )
            assert same(found[name], metrics.resolution_time(narrowed)), metric_filter
    # The hand-checked values (test_metrics.py): first response over the
    # range 5 answered, median 1 h; resolution of normal and low in
    # business hours: T1, T2, T4 -> 3 solved.
    first = fact_metrics.first_response_time(RANGE)
    assert (first.calendar.count, first.calendar.median_hours) == (5, 1)
    assert first.calendar.p90_hours == pytest.approx(95)
    resolution = fact_metrics.resolution_times(RANGE, {"all": [p.value for p in Priority]})["all"]
    assert (resolution.business.count, resolution.business.median_hours) == (4, 6.75)
    assert resolution.business.p90_hours == pytest.approx(11.95)


def test_sla_rates_and_escalations_equal_the_metrics_with_every_filter(facts):
    for metric_filter in filters(facts):
        assert fact_metrics.sla_compliance(metric_filter) == metrics.sla_compliance(
            metric_filter, now=NOW
        ), metric_filter
        rates = fact_metrics.solved_rates(metric_filter)
        assert rates["fcr"] == metrics.first_contact_resolution_rate(metric_filter)
        assert rates["tier1"] == metrics.tier1_resolution_rate(metric_filter)
        assert fact_metrics.reopen_rate(metric_filter) == metrics.reopen_rate(metric_filter)
        assert fact_metrics.escalations(metric_filter) == metrics.escalations(metric_filter)
    overall = fact_metrics.sla_compliance(RANGE).overall["all"]
    assert (overall.met, overall.breached) == (9, 4)
    escalations = fact_metrics.escalations(RANGE)
    assert escalations.by_kind == {"sla": 1, "customer": 1, "manual": 1}
    assert escalations.by_tier == {2: 2, None: 1}
    assert (escalations.rate.numerator, escalations.rate.denominator) == (3, 6)


def test_agents_categories_and_the_heatmap_equal_the_metrics(facts):
    for metric_filter in filters(facts):
        assert same(
            fact_metrics.agent_figures(metric_filter),
            metrics.agent_figures(metric_filter, now=NOW),
        ), metric_filter
        assert fact_metrics.category_mix(metric_filter) == metrics.category_mix(metric_filter)
        assert fact_metrics.tickets_by_hour_and_weekday(
            metric_filter
        ) == metrics.tickets_by_hour_and_weekday(metric_filter)
        assert fact_metrics.tickets_by_hour_and_weekday(
            metric_filter, time_zone="Asia/Tokyo"
        ) == metrics.tickets_by_hour_and_weekday(metric_filter, time_zone="Asia/Tokyo")
    alice = fact_metrics.agent_figures(RANGE)[facts.alice.pk]
    assert alice.tickets_solved == 2  # T1 and T2
    assert (alice.reopen_rate.numerator, alice.reopen_rate.denominator) == (1, 2)  # T2


def test_the_combined_reads_equal_the_single_metrics(facts):
    for metric_filter in filters(facts):
        first_response, escalations = fact_metrics.created_figures(metric_filter)
        assert same(first_response, metrics.first_response_time(metric_filter))
        assert escalations == metrics.escalations(metric_filter)
        times, rates = fact_metrics.solved_figures(metric_filter, {"all": list(Priority.values)})
        assert same(times["all"], metrics.resolution_time(metric_filter))
        assert rates["fcr"] == metrics.first_contact_resolution_rate(metric_filter)
        assert rates["tier1"] == metrics.tier1_resolution_rate(metric_filter)
        for period in ("day", "week", "month"):
            assert metrics.created_vs_solved(
                metric_filter, period=period, created_rows=fact_metrics.fact_rows(metric_filter)
            ) == metrics.created_vs_solved(metric_filter, period=period)


def test_the_python_percentiles_of_the_sqlite_demo_equal_postgresqls(facts, monkeypatch):
    """The embedded demo has no percentile_cont: its path fetches the values
    and interpolates in Python, to the same figures."""
    on_postgres = {
        "first": fact_metrics.first_response_time(RANGE),
        "resolution": fact_metrics.resolution_times(RANGE, {"p": URGENT_HIGH, "s": NORMAL_LOW}),
        "agents": fact_metrics.agent_figures(RANGE),
    }
    monkeypatch.setattr(fact_metrics, "_on_postgres", lambda rows: False)
    in_python = {
        "first": fact_metrics.first_response_time(RANGE),
        "resolution": fact_metrics.resolution_times(RANGE, {"p": URGENT_HIGH, "s": NORMAL_LOW}),
        "agents": fact_metrics.agent_figures(RANGE),
    }
    assert same(in_python, on_postgres)


def test_each_fact_metric_is_a_constant_number_of_statements(facts, django_assert_num_queries):
    expected = {
        fact_metrics.first_response_time: 1,
        fact_metrics.sla_compliance: 1,
        fact_metrics.solved_rates: 1,
        fact_metrics.reopen_rate: 1,
        fact_metrics.agent_figures: 1,
        fact_metrics.tickets_by_hour_and_weekday: 1,
        fact_metrics.escalations: 1,
        fact_metrics.created_figures: 1,
        # the counts, then the names of the categories found
        fact_metrics.category_mix: 2,
    }
    for metric_filter in (MetricFilter(), RANGE, MetricFilter(agents=[facts.bob.pk])):
        for metric, queries in expected.items():
            with django_assert_num_queries(queries):
                metric(metric_filter)
        with django_assert_num_queries(1):
            fact_metrics.solved_figures(metric_filter, {"p": URGENT_HIGH, "s": NORMAL_LOW})
