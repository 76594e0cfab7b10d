"""Satisfaction: CSAT, the Customer Effort Score (CES) and NPS, from the
survey answers (analytics.models.CSATResponse, NPSResponse).

Date rule: an *event* rule on the answer's own time. An answer counts in
[start, end) when its `answered_at` (the first answer of the round) falls in
it; a later change of the rating within the change window updates the same
row and does not move it to another period.

One round's latest answer counts once: CSATResponse holds one row per ticket
and round (a unique constraint), and a second click updates that row, so its
current rating is the round's latest. A reopened and re-solved ticket is
asked again and its new round counts as another answer.

Dimensions: a CSAT answer is joined to its ticket for team, category,
customer tier (the ticket's organisation; none: basic), channel and
priority, by the ticket's current values as every metric does. The agent
dimension selects the agent *recorded on the answer* (who solved that
round, copied from its invite), so that a filter on one agent gives exactly
that agent's per-agent figure; for a ticket solved once it is the
assignee. NPS is asked per customer, not per ticket: only the customer-tier
filter applies (through the customer's organisation); with a ticket-only
dimension filtered NPS is not defined (see nps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo

from django.db.models import Count, DateTimeField, Q, QuerySet, Sum
from django.db.models.functions import Trunc

from analytics.metrics.filters import MetricFilter, range_q, tier_q
from analytics.metrics.stats import Rate
from analytics.metrics.volume import _local_date, _zone, period_starts
from analytics.models import BAD_RATING_MAX, CSATResponse, NPSResponse

# A CSAT answer is "satisfied" at this rating or above (4 and 5 of 1..5).
SATISFIED_MIN = 4
# NPS: promoters answer 9-10, detractors 0-6 (passives 7-8).
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


@dataclass(frozen=True)
class CSAT:
    """CSAT answers counted: `satisfied` of them rated 4-5; `rating_sum` is
    the sum of the ratings (1..5)."""

    answers: int
    satisfied: int
    rating_sum: int

    @property
    def rate(self) -> Rate:
        return Rate(self.satisfied, self.answers)

    @property
    def percent(self) -> float | None:
        """Satisfied answers in percent (0..100), None without answers."""
        value = self.rate.value
        return None if value is None else value * 100

    @property
    def average(self) -> float | None:
        """The mean rating (1..5), None without answers."""
        return self.rating_sum / self.answers if self.answers else None


@dataclass(frozen=True)
class CES:
    """Answers with an effort score (1 very hard .. 7 very easy) and their sum."""

    answers: int
    effort_sum: int

    @property
    def average(self) -> float | None:
        return self.effort_sum / self.answers if self.answers else None


@dataclass(frozen=True)
class NPS:
    """NPS answers by group; `defined` is False when a ticket-only dimension
    was filtered (NPS answers belong to customers, not tickets)."""

    promoters: int
    passives: int
    detractors: int
    defined: bool = True

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """% promoters minus % detractors (-100..100), None without answers."""
        if not self.defined or not self.answers:
            return None
        return (self.promoters - self.detractors) * 100 / self.answers


@dataclass(frozen=True)
class Satisfaction:
    csat: CSAT
    ces: CES
    nps: NPS


@dataclass(frozen=True)
class CSATPeriod:
    period_start: date
    csat: CSAT


def csat_answers(metric_filter: MetricFilter) -> QuerySet[CSATResponse]:
    """The CSAT answers a metric reads: answered in [start, end), their
    ticket within the dimensions, the agent dimension on the answer's agent."""
    condition = range_q(metric_filter, "answered_at")
    dimensions = (
        ("ticket__team_id__in", metric_filter.teams),
        ("ticket__category_id__in", metric_filter.categories),
        ("ticket__channel__in", metric_filter.channels),
        ("ticket__priority__in", metric_filter.priorities),
        ("agent_id__in", metric_filter.agents),
    )
    for lookup, values in dimensions:
        if values:
            condition &= Q(**{lookup: list(values)})
    if metric_filter.customer_tiers:
        condition &= tier_q(metric_filter.customer_tiers, "ticket__")
    return CSATResponse.objects.filter(condition).order_by()


def _csat_aggregates() -> dict:
    return {
        "answers": Count("id"),
        "satisfied": Count("id", filter=Q(rating__gte=SATISFIED_MIN)),
        "rating_sum": Sum("rating"),
    }


def _csat(row: dict) -> CSAT:
    return CSAT(
        answers=row["answers"] or 0,
        satisfied=row["satisfied"] or 0,
        rating_sum=row["rating_sum"] or 0,
    )


def _ces_aggregates() -> dict:
    return {
        "effort_answers": Count("id", filter=Q(effort__isnull=False)),
        "effort_sum": Sum("effort"),
    }


def _ces(row: dict) -> CES:
    return CES(answers=row["effort_answers"] or 0, effort_sum=row["effort_sum"] or 0)


def csat(metric_filter: MetricFilter) -> CSAT:
    """CSAT: of the CSAT answers given in [start, end) (one per ticket and
    round, its latest rating), the share rated 4 or 5 (in percent 0..100)
    and the mean rating (1..5), with the number of answers. No answers: None
    for both. Unit: percent, rating 1..5, answers. Queries: 1."""
    return _csat(csat_answers(metric_filter).aggregate(**_csat_aggregates()))


def ces(metric_filter: MetricFilter) -> CES:
    """Customer Effort Score: the mean of the optional "how easy was it to
    get help" scores (1 very hard .. 7 very easy; higher is better) of the
    CSAT answers given in [start, end) that have one, with their number.
    Unit: score 1..7, answers. Queries: 1."""
    return _ces(csat_answers(metric_filter).aggregate(**_ces_aggregates()))


def nps(metric_filter: MetricFilter) -> NPS:
    """Net Promoter Score: of the NPS answers (0..10, one per customer and
    cadence period, its latest score) given in [start, end), the percent of
    promoters (9-10) minus the percent of detractors (0-6); passives (7-8)
    count in the total only. Range -100..100; no answers: None. The
    customer-tier filter applies through the customer's organisation (none:
    basic). Team, category, channel, priority and agent describe tickets, not
    customers: with any of them filtered NPS is not defined (`defined` False,
    counts zero, no query). Unit: score points, answers. Queries: 1 (0 when
    not defined)."""
    if metric_filter.has_ticket_only_dimensions:
        return NPS(promoters=0, passives=0, detractors=0, defined=False)
    answers = NPSResponse.objects.filter(range_q(metric_filter, "answered_at")).order_by()
    if metric_filter.customer_tiers:
        answers = answers.filter(tier_q(metric_filter.customer_tiers, "customer__"))
    row = answers.aggregate(
        promoters=Count("id", filter=Q(score__gte=PROMOTER_MIN)),
        passives=Count("id", filter=Q(score__gt=DETRACTOR_MAX, score__lt=PROMOTER_MIN)),
        detractors=Count("id", filter=Q(score__lte=DETRACTOR_MAX)),
    )
    return NPS(
        promoters=row["promoters"] or 0,
        passives=row["passives"] or 0,
        detractors=row["detractors"] or 0,
    )


def satisfaction(metric_filter: MetricFilter) -> Satisfaction:
    """CSAT, CES and NPS as defined by csat, ces and nps, CSAT and CES read
    together. Queries: 2 (1 when NPS is not defined)."""
    row = csat_answers(metric_filter).aggregate(**_csat_aggregates(), **_ces_aggregates())
    return Satisfaction(csat=_csat(row), ces=_ces(row), nps=nps(metric_filter))


def csat_by_month(
    metric_filter: MetricFilter, *, time_zone: str | tzinfo | None = None
) -> list[CSATPeriod]:
    """CSAT (as csat) per calendar month of the answer's time in `time_zone`
    (default settings.TIME_ZONE), for the answers given in [start, end).
    With both bounds given every month between them is listed (months without
    answers have zero answers and no CSAT), otherwise only months with
    answers; the first and last month may be partial. Queries: 1."""
    zone = _zone(time_zone)
    rows = (
        csat_answers(metric_filter)
        .annotate(month=Trunc("answered_at", "month", output_field=DateTimeField(), tzinfo=zone))
        .values("month")
        .annotate(**_csat_aggregates())
    )
    found = {_local_date(row["month"], zone): _csat(row) for row in rows}
    if metric_filter.start is not None and metric_filter.end is not None:
        months = period_starts(metric_filter.start, metric_filter.end, "month", zone)
    else:
        months = sorted(found)
    empty = CSAT(answers=0, satisfied=0, rating_sum=0)
    return [CSATPeriod(month, found.get(month, empty)) for month in months]


def csat_by_agent(metric_filter: MetricFilter) -> dict[int, CSAT]:
    """CSAT (as csat) per agent: the answers given in [start, end) grouped by
    the agent recorded on the answer (the agent who solved that round of the
    ticket); answers without an agent are credited to nobody. Keyed by the
    agent's user id, in id order. Queries: 1."""
    rows = (
        csat_answers(metric_filter)
        .filter(agent_id__isnull=False)
        .values("agent_id")
        .annotate(**_csat_aggregates())
        .order_by("agent_id")
    )
    return {row["agent_id"]: _csat(row) for row in rows}


def bad_ratings_awaiting_follow_up() -> int:
    """The number of bad CSAT ratings (1..BAD_RATING_MAX) nobody has followed
    up yet, whenever given: the size of the managers' "needs follow-up" list
    (analytics.surveys.selectors.follow_up_list), which no filter narrows.
    Unit: answers. Queries: 1 (partial index csat_needs_follow_up)."""
    return CSATResponse.objects.filter(
        rating__lte=BAD_RATING_MAX, followed_up_at__isnull=True
    ).count()
