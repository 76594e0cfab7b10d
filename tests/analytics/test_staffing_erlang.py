"""Erlang C against hand-computed and textbook values, and against the
closed-form definition evaluated directly (small N, where factorials fit)."""

import math

import pytest

from analytics.staffing import erlang


def erlang_c_closed_form(agents: int, traffic: float) -> float:
    """C(N, A) = (A^N / N!) · N/(N−A) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A))."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    bottom = sum(traffic**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


def test_erlang_b_recursion_matches_the_hand_computed_steps():
    # The worked example in analytics/staffing/erlang.py (A = 5).
    expected = [0.8333, 0.6757, 0.5297, 0.3983, 0.2849, 0.1918, 0.1205, 0.0700]
    for agents, value in enumerate(expected, start=1):
        assert erlang.erlang_b(agents, 5.0) == pytest.approx(value, abs=5e-5)


@pytest.mark.parametrize(
    ("agents", "traffic"), [(6, 5.0), (7, 5.0), (8, 5.0), (13, 10.0), (30, 24.5), (3, 0.4)]
)
def test_erlang_c_equals_the_closed_form(agents, traffic):
    assert erlang.erlang_c(agents, traffic) == pytest.approx(
        erlang_c_closed_form(agents, traffic), rel=1e-12
    )


def test_worked_example_needs_eight_agents():
    # 100 an hour, 3 minutes each, 80 % within 20 seconds (hand-computed in erlang.py).
    need = erlang.agents_needed(
        arrivals_per_hour=100, handling_minutes=3, target_minutes=20 / 60, service_level_goal=0.8
    )
    assert need.agents == 8
    assert need.service_level == pytest.approx(0.8801, abs=1e-4)
    assert erlang.service_level(
        agents=7, arrivals_per_hour=100, handling_minutes=3, target_minutes=20 / 60
    ) == pytest.approx(0.7404, abs=1e-4)


def test_textbook_case_ten_erlangs_needs_fourteen_agents():
    # 200 an hour × 180 s = 10 Erlangs, 80 % within 20 s: 13 agents reach
    # 79.6 %, 14 reach 88.8 % (the usual call-centre textbook example).
    levels = {
        n: erlang.service_level(
            agents=n, arrivals_per_hour=200, handling_minutes=3, target_minutes=20 / 60
        )
        for n in (13, 14)
    }
    assert levels[13] == pytest.approx(0.7956, abs=1e-4)
    assert levels[14] == pytest.approx(0.8884, abs=1e-4)
    need = erlang.agents_needed(
        arrivals_per_hour=200, handling_minutes=3, target_minutes=20 / 60, service_level_goal=0.8
    )
    assert need.agents == 14


def test_occupancy_below_one_even_when_the_target_is_generous():
    # A 4-hour target is met by almost any queue, but agents cannot be busier
    # than all of the time: N stays above the traffic.
    need = erlang.agents_needed(
        arrivals_per_hour=30, handling_minutes=20, target_minutes=240, service_level_goal=0.8
    )
    assert need.traffic == 10
    assert need.agents == 11
    assert need.occupancy < 1
    capped = erlang.agents_needed(
        arrivals_per_hour=30,
        handling_minutes=20,
        target_minutes=240,
        service_level_goal=0.8,
        max_occupancy=0.85,
    )
    assert capped.agents == 12  # 10 / 12 = 0.83
    assert capped.occupancy <= 0.85


def test_no_arrivals_need_no_agents():
    need = erlang.agents_needed(
        arrivals_per_hour=0, handling_minutes=20, target_minutes=240, service_level_goal=0.8
    )
    assert need.agents == 0


def test_large_traffic_does_not_overflow():
    # 5,000 Erlangs: A^N / N! would overflow a float long before N = 5,000.
    need = erlang.agents_needed(
        arrivals_per_hour=100_000,
        handling_minutes=3,
        target_minutes=20 / 60,
        service_level_goal=0.8,
    )
    assert 5000 < need.agents < 5100
    assert 0.8 <= need.service_level < 0.9


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arrivals_per_hour": -1},
        {"handling_minutes": 0},
        {"service_level_goal": 1.0},
        {"max_occupancy": 0},
    ],
)
def test_bad_inputs_are_refused(kwargs):
    arguments = {
        "arrivals_per_hour": 10,
        "handling_minutes": 5,
        "target_minutes": 60,
        "service_level_goal": 0.8,
        **kwargs,
    }
    with pytest.raises(ValueError):
        erlang.agents_needed(**arguments)
