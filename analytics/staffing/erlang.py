"""Erlang C: how many agents an hour's tickets need to be answered in time.

The model (M/M/N): tickets arrive at random (Poisson) at `arrivals_per_hour`,
each takes an agent on average `handling_minutes` of work (exponentially
distributed), and a ticket waits in the queue until one of `agents` is free.
Traffic A = arrivals × handling time, in Erlangs (busy agents on average).

- Erlang B (all agents busy, no queue) by its recursion
  B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)): every term stays in [0, 1], so no
  factorial or power of A ever overflows, whatever N.
- Erlang C (probability a ticket has to wait), from B:
  C(N, A) = N·B / (N − A·(1 − B)), for N > A (otherwise the queue grows
  without end and C = 1).
- Service level (share answered within `target_minutes`):
  SL = 1 − C · exp(−(N − A) · target / handling time).

Worked example (checked in tests/analytics/test_staffing_erlang.py): 100
arrivals per hour of 3-minute work, answered within 20 s, 80 % of them:
A = 100 × 3 / 60 = 5 Erlangs. The recursion gives B1 = 5/6 = .8333,
B2 = .6757, B3 = .5297, B4 = .3983, B5 = .2849, B6 = .1918, B7 = .1205,
B8 = .0700. N = 7: C = 7 × .1205 / (7 − 5 × .8795) = .3241 and
SL = 1 − .3241 × exp(−2 × (1/3) / 3) = .7404, short of 80 %; N = 8:
C = 8 × .0700 / (8 − 5 × .9300) = .1673, SL = 1 − .1673 × exp(−1/3) = .8801.
So 8 agents. The classic textbook case (200 arrivals per hour, 180 s, 20 s,
80 %: A = 10) needs 14 agents (N = 13 reaches 79.6 %, N = 14 88.8 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def traffic_erlangs(arrivals_per_hour: float, handling_minutes: float) -> float:
    """Offered load: how many agents would be busy on average."""
    return arrivals_per_hour * handling_minutes / 60.0


def erlang_b(agents: int, traffic: float) -> float:
    """Probability that all `agents` are busy in a loss system (Erlang B)."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a ticket has to wait for an agent (Erlang C)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def service_level(
    *, agents: int, arrivals_per_hour: float, handling_minutes: float, target_minutes: float
) -> float:
    """Share of tickets answered within `target_minutes` with `agents` working."""
    traffic = traffic_erlangs(arrivals_per_hour, handling_minutes)
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(agents, traffic)
    return 1.0 - waiting * math.exp(-(agents - traffic) * target_minutes / handling_minutes)


@dataclass(frozen=True)
class Requirement:
    agents: int
    traffic: float  # Erlangs
    service_level: float  # share answered within the target with `agents`
    occupancy: float  # traffic / agents: the share of their time agents are busy


def agents_needed(
    *,
    arrivals_per_hour: float,
    handling_minutes: float,
    target_minutes: float,
    service_level_goal: float,
    max_occupancy: float = 1.0,
) -> Requirement:
    """The fewest agents that answer `service_level_goal` of the tickets within
    `target_minutes`, with occupancy below 1 (a queue that never empties has no
    service level) and at most `max_occupancy`.

    No arrivals need no agents. The search starts at the smallest N above the
    traffic and adds one agent at a time: the service level rises with N, and
    the answer is rarely more than a few agents above the traffic.
    """
    if arrivals_per_hour < 0 or handling_minutes <= 0 or target_minutes < 0:
        raise ValueError("arrivals must be >= 0, handling time > 0, target >= 0")
    if not 0 < service_level_goal < 1:
        raise ValueError("the service level goal is a share between 0 and 1 (exclusive)")
    if not 0 < max_occupancy <= 1:
        raise ValueError("the maximum occupancy is a share in (0, 1]")
    traffic = traffic_erlangs(arrivals_per_hour, handling_minutes)
    if traffic == 0:
        return Requirement(agents=0, traffic=0.0, service_level=1.0, occupancy=0.0)
    agents = max(math.floor(traffic) + 1, math.ceil(traffic / max_occupancy))
    while True:
        level = service_level(
            agents=agents,
            arrivals_per_hour=arrivals_per_hour,
            handling_minutes=handling_minutes,
            target_minutes=target_minutes,
        )
        if level >= service_level_goal and traffic / agents <= max_occupancy:
            return Requirement(
                agents=agents, traffic=traffic, service_level=level, occupancy=traffic / agents
            )
        agents += 1
