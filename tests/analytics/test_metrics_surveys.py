"""The satisfaction metrics (analytics.metrics.surveys) on hand-made answers
over the history of tests/analytics/test_metrics.py.

The CSAT answers (times UTC; agent and team are the round's invite's, i.e.
who solved that round):
A  T1 round 1, Alice, login / Access, Carol (Acme, standard), portal, normal:
   rated 2 at Tue 24 Nov 12:00, changed to 5 with effort 6 at 12:05 (one row);
B  T2 round 1, Alice, billing / Billing, Carol, normal: 2, no effort, Mon 30 09:45;
C  T2 round 2, Alice, billing, Carol: 4, effort 5, Mon 30 16:00;
D  T3 round 1, Bob, login, Dave (Globex, VIP), high: 3, effort 3, Sun 29 14:00;
E  T4 round 1, Tina, login, Erin (Initech, basic): 1, effort 1, Mon 30 13:00;
F  T0 round 1, Bob, billing, Carol: 5, effort 7, Thu 15 Oct 10:00 (a synthetic
   row: the metrics read answers, not solves; it is outside the week).

Over the week [Mon 23 Nov, Tue 1 Dec): A-E, ratings 5, 2, 4, 3, 1.
- CSAT: 4-5 ratings A, C = 2 of 5 = 40 %; average 15 / 5 = 3.0.
- CES: efforts 6, 5, 3, 1 (B has none) = 4 answers, 15 / 4 = 3.75.
- Per agent: Alice A, B, C = 2 of 3 = 66.7 %, average 11 / 3; Bob D = 0 of 1,
  average 3; Tina E = 0 of 1, average 1.
- By month over [1 Oct, 1 Jan) in UTC: Oct F = 1 of 1 (100 %, average 5);
  Nov A-E = 40 %; Dec no answers.
- Filters: team Billing B, C = 1 of 2 (50 %, avg 3); category login A, D, E =
  1 of 3 (avg 3); tier VIP D = 0 of 1; tier basic E; priority high D; channel
  e-mail none; agent Alice A, B, C.
- Bad ratings (1-2) not followed up: B and E = 2.

NPS answers (0-10), period of 1 Nov unless said:
Carol 10 (Thu 26 Nov), Dave 9 (Fri 27), Erin 5 (Sat 28), Frank (no
organisation: basic) 7 (Sun 29); Carol 3 for the period of 3 Aug (on 20 Oct,
outside the week).
- Week: promoters Carol, Dave = 2, passive Frank = 1, detractor Erin = 1:
  (2 - 1) / 4 = 25.0.
- Tier basic: Erin, Frank: 0 promoters, 1 detractor of 2 = -50.0; tier VIP: Dave
  = 100.0. A team (a ticket-only dimension): not defined.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest

from analytics import metrics
from analytics.metrics import MetricFilter
from analytics.models import CSATResponse, NPSInvite, NPSResponse, SurveyInvite
from analytics.surveys import services as survey_services
from tests.analytics.test_metrics import RANGE, at, history, sla_defaults
from tests.factories import make_user
from tickets.models import Role, Ticket

__all__ = ["history", "sla_defaults"]  # fixtures used here, made in test_metrics


@dataclass
class Answers:
    history: object
    carol: object
    dave: object
    erin: object
    frank: object


def answer(
    ticket: Ticket, round_: int, rating: int, effort: int | None, when: datetime, *, agent=None
):
    """A CSAT answer written as the round's invite would record it."""
    invite = SurveyInvite.objects.filter(ticket=ticket, round=round_).first()
    return CSATResponse.objects.create(
        ticket=ticket,
        round=round_,
        customer=ticket.requester,
        rating=rating,
        effort=effort,
        agent=invite.agent if invite else agent,
        team=invite.team if invite else ticket.team,
        answered_at=when,
        updated_at=when,
    )


def nps_answer(customer, score: int, when: datetime, period: date = date(2026, 11, 1)):
    invite = NPSInvite.objects.create(customer=customer, period_start=period, sent_at=when)
    return NPSResponse.objects.create(
        invite=invite, customer=customer, period_start=period, score=score, answered_at=when
    )


@pytest.fixture
def answers(history) -> Answers:
    tickets = history.tickets
    carol = tickets["T1"].requester
    # A: through the service, twice: the round keeps one row, its latest rating.
    t1_invite = SurveyInvite.objects.get(ticket=tickets["T1"], round=1)
    survey_services.csat_answer(invite=t1_invite, customer=carol, rating=2, now=at(11, 24, 12))
    survey_services.csat_answer(
        invite=t1_invite, customer=carol, rating=5, effort=6, now=at(11, 24, 12, 5)
    )
    answer(tickets["T2"], 1, 2, None, at(11, 30, 9, 45))
    answer(tickets["T2"], 2, 4, 5, at(11, 30, 16))
    answer(tickets["T3"], 1, 3, 3, at(11, 29, 14))
    answer(tickets["T4"], 1, 1, 1, at(11, 30, 13))
    answer(tickets["T0"], 1, 5, 7, at(10, 15, 10), agent=history.bob)

    dave, erin = tickets["T3"].requester, tickets["T4"].requester
    frank = make_user(Role.CUSTOMER, full_name="Frank", organization=None)
    nps_answer(carol, 10, at(11, 26, 9))
    nps_answer(dave, 9, at(11, 27, 9))
    nps_answer(erin, 5, at(11, 28, 9))
    nps_answer(frank, 7, at(11, 29, 9))
    nps_answer(carol, 3, at(10, 20, 9), period=date(2026, 8, 3))
    return Answers(history=history, carol=carol, dave=dave, erin=erin, frank=frank)


def figures(found: metrics.CSAT) -> tuple[int, int, float | None, float | None]:
    return (
        found.answers,
        found.satisfied,
        None if found.percent is None else round(found.percent, 2),
        None if found.average is None else round(found.average, 3),
    )


def test_the_answers_are_what_the_comments_say(answers):
    tickets = answers.history.tickets
    t1 = CSATResponse.objects.get(ticket=tickets["T1"])  # one row for the round
    assert (t1.rating, t1.effort, t1.answered_at) == (5, 6, at(11, 24, 12))
    agents = dict(CSATResponse.objects.values_list("ticket_id", "agent_id"))
    history = answers.history
    assert agents[tickets["T1"].pk] == agents[tickets["T2"].pk] == history.alice.pk
    assert agents[tickets["T3"].pk] == history.bob.pk
    assert agents[tickets["T4"].pk] == history.tina.pk
    assert CSATResponse.objects.filter(ticket=tickets["T2"]).count() == 2


def test_csat_share_of_4_and_5_and_average(answers):
    assert figures(metrics.csat(RANGE)) == (5, 2, 40.0, 3.0)
    assert metrics.csat(RANGE).rate == metrics.Rate(2, 5)
    # Open bounds: F too (5): 3 of 6 = 50 %, average 20 / 6.
    assert figures(metrics.csat(MetricFilter())) == (6, 3, 50.0, 3.333)
    # No answers: no figure rather than 0 %.
    empty = MetricFilter(start=at(11, 1, 0), end=at(11, 2, 0))
    assert figures(metrics.csat(empty)) == (0, 0, None, None)


def test_a_rating_changed_within_the_window_counts_once_with_its_latest_value(answers):
    only_t1 = MetricFilter(start=at(11, 24, 0), end=at(11, 25, 0))
    assert figures(metrics.csat(only_t1)) == (1, 1, 100.0, 5.0)


def test_ces_average_of_the_answers_with_an_effort_score(answers):
    found = metrics.ces(RANGE)
    assert (found.answers, found.effort_sum, found.average) == (4, 15, 3.75)
    assert metrics.ces(MetricFilter(start=at(11, 1, 0), end=at(11, 2, 0))).average is None


def test_nps_promoters_minus_detractors(answers):
    found = metrics.nps(RANGE)
    assert (found.promoters, found.passives, found.detractors, found.answers) == (2, 1, 1, 4)
    assert found.score == 25.0
    basic = metrics.nps(replace(RANGE, customer_tiers=("basic",)))
    assert (basic.promoters, basic.detractors, basic.answers, basic.score) == (0, 1, 2, -50.0)
    assert metrics.nps(replace(RANGE, customer_tiers=("vip",))).score == 100.0
    # October: Carol's 3 alone, a detractor: -100.
    assert metrics.nps(MetricFilter(start=at(10, 1, 0), end=at(11, 1, 0))).score == -100.0
    # NPS belongs to customers, not tickets: a team filter leaves it undefined.
    by_team = metrics.nps(replace(RANGE, teams=(answers.history.tickets["T2"].team_id,)))
    assert (by_team.defined, by_team.answers, by_team.score) == (False, 0, None)


def test_satisfaction_reads_the_three_together(answers):
    found = metrics.satisfaction(RANGE)
    assert found.csat == metrics.csat(RANGE)
    assert found.ces == metrics.ces(RANGE)
    assert found.nps == metrics.nps(RANGE)


def test_csat_by_month_lists_every_month_of_the_range(answers):
    quarter = MetricFilter(start=at(10, 1, 0), end=datetime(2027, 1, 1, tzinfo=UTC))
    found = metrics.csat_by_month(quarter, time_zone="UTC")
    assert [(row.period_start, *figures(row.csat)) for row in found] == [
        (date(2026, 10, 1), 1, 1, 100.0, 5.0),
        (date(2026, 11, 1), 5, 2, 40.0, 3.0),
        (date(2026, 12, 1), 0, 0, None, None),
    ]
    # In Auckland (UTC+13 in November) E (Mon 30 13:00 UTC) and C (16:00) fall
    # on 1 December local time: November keeps A, B, D (5, 2, 3) = 1 of 3.
    auckland = metrics.csat_by_month(quarter, time_zone="Pacific/Auckland")
    by_month = {row.period_start: figures(row.csat) for row in auckland}
    assert by_month[date(2026, 11, 1)] == (3, 1, 33.33, 3.333)
    assert by_month[date(2026, 12, 1)] == (2, 1, 50.0, 2.5)
    # Open bounds: only the months with answers.
    assert [row.period_start for row in metrics.csat_by_month(MetricFilter())] == [
        date(2026, 10, 1),
        date(2026, 11, 1),
    ]


def test_csat_per_agent_by_the_agent_recorded_on_the_answer(answers):
    history = answers.history
    found = {agent: figures(row) for agent, row in metrics.csat_by_agent(RANGE).items()}
    assert found == {
        history.alice.pk: (3, 2, 66.67, 3.667),
        history.bob.pk: (1, 0, 0.0, 3.0),
        history.tina.pk: (1, 0, 0.0, 1.0),
    }
    # The agent filter selects the same answers as the per-agent row.
    alice_only = replace(RANGE, agents=(history.alice.pk,))
    assert metrics.csat(alice_only) == metrics.csat_by_agent(RANGE)[history.alice.pk]
    assert list(metrics.csat_by_agent(alice_only)) == [history.alice.pk]


def test_filters_join_the_answer_to_its_ticket(answers):
    tickets = answers.history.tickets

    def csat_with(**dimensions):
        return figures(metrics.csat(replace(RANGE, **dimensions)))

    assert csat_with(teams=(tickets["T2"].team_id,)) == (2, 1, 50.0, 3.0)
    assert csat_with(categories=(answers.history.login.pk,)) == (3, 1, 33.33, 3.0)
    assert csat_with(customer_tiers=("vip",)) == (1, 0, 0.0, 3.0)
    assert csat_with(customer_tiers=("basic",)) == (1, 0, 0.0, 1.0)
    assert csat_with(priorities=("high",)) == (1, 0, 0.0, 3.0)
    assert csat_with(channels=("email",)) == (0, 0, None, None)
    assert metrics.ces(replace(RANGE, teams=(tickets["T2"].team_id,))).average == 5.0


def test_bad_ratings_awaiting_follow_up(answers):
    assert metrics.bad_ratings_awaiting_follow_up() == 2
    CSATResponse.objects.filter(rating=1).update(followed_up_at=at(12, 1, 9))
    assert metrics.bad_ratings_awaiting_follow_up() == 1


def test_each_satisfaction_metric_runs_a_constant_number_of_queries(
    answers, django_assert_num_queries
):
    filtered = replace(
        RANGE, customer_tiers=("basic", "vip"), categories=(answers.history.login.pk,)
    )
    for metric_filter in (RANGE, filtered, MetricFilter()):
        with django_assert_num_queries(1):
            metrics.csat(metric_filter)
        with django_assert_num_queries(1):
            metrics.ces(metric_filter)
        with django_assert_num_queries(1):
            metrics.csat_by_month(metric_filter)
        with django_assert_num_queries(1):
            metrics.csat_by_agent(metric_filter)
    with django_assert_num_queries(2):
        metrics.satisfaction(RANGE)
    # Not defined for a ticket-only dimension: NPS reads nothing.
    with django_assert_num_queries(1):
        metrics.satisfaction(filtered)
    with django_assert_num_queries(1):
        metrics.nps(RANGE)
    with django_assert_num_queries(1):
        metrics.bad_ratings_awaiting_follow_up()
