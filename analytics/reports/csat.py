"""The satisfaction figures of the CSAT review.

CSAT, CES and NPS are analytics.metrics' (analytics/metrics/surveys.py: an
answer counts in the period its `answered_at` falls in; one row per ticket
and round holds the round's latest rating); this module adds the response
rate and the breakdowns by team and agent, by the same rule. In short:

- CSAT: of the CSAT answers given in the period, the percent rated 4 or 5;
  also the mean rating (1..5) and the number of answers. None without answers.
- By team and by agent: the team and agent recorded on the answer (who
  solved that round of the ticket, copied from its survey invite).
- Response rate: of the survey rounds opened by solves in the period that
  were put to the customer (e-mailed, or answered on the portal first), the
  percent answered by now. Rounds still waiting for their e-mail's delay,
  cancelled by a reopen, or skipped (no survey for that requester) were not
  asked and are left out.
- CES: the mean "how easy was it" score (1 very hard .. 7 very easy) of the
  answers that carry one.
- NPS: of the NPS answers given in the period, percent promoters (9-10)
  minus percent detractors (0-6); -100..100.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, Sum

from analytics import metrics
from analytics.metrics.surveys import CSAT, SATISFIED_MIN
from analytics.models import BAD_RATING_MAX, CSATResponse, SurveyInvite
from analytics.reports.periods import Period

# The review lists at most this many bad ratings (newest first), then a count.
BAD_RATINGS_LISTED = 50


def _percent(part: int, whole: int) -> float | None:
    return part * 100 / whole if whole else None


@dataclass(frozen=True)
class Satisfaction:
    csat: CSAT
    asked: int
    answered: int
    effort_answers: int
    effort_average: float | None
    nps_answers: int
    promoters: int
    detractors: int

    @property
    def response_rate(self) -> float | None:
        return _percent(self.answered, self.asked)

    @property
    def nps(self) -> float | None:
        if not self.nps_answers:
            return None
        return (self.promoters - self.detractors) * 100 / self.nps_answers


@dataclass(frozen=True)
class GroupRow:
    """CSAT of one team or agent in the period and the period before."""

    name: str
    current: CSAT
    previous: CSAT


def _in(period: Period, field: str = "answered_at") -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def satisfaction(period: Period) -> Satisfaction:
    """CSAT, CES and NPS of the period as analytics.metrics defines them, and
    the response rate. Queries: 3."""
    found = metrics.satisfaction(metrics.MetricFilter(start=period.start, end=period.end))
    has_answer = Exists(
        CSATResponse.objects.filter(ticket_id=OuterRef("ticket_id"), round=OuterRef("round"))
    )
    rounds = (
        SurveyInvite.objects.filter(_in(period, "solved_at"))
        .filter(Q(state=SurveyInvite.State.SENT) | has_answer)
        .aggregate(asked=Count("id"), answered=Count("id", filter=has_answer))
    )
    return Satisfaction(
        csat=found.csat,
        asked=rounds["asked"],
        answered=rounds["answered"],
        effort_answers=found.ces.answers,
        effort_average=found.ces.average,
        nps_answers=found.nps.answers,
        promoters=found.nps.promoters,
        detractors=found.nps.detractors,
    )


def _by(field: str, name_field: str, period: Period, before: Period) -> list[GroupRow]:
    """CSAT per value of `field` over both periods, in one query; rows of
    answers with no team or agent are left out."""
    rows = (
        CSATResponse.objects.filter(_in(before) | _in(period), **{f"{field}__isnull": False})
        .values(field, name_field)
        .annotate(
            answers=Count("id", filter=_in(period)),
            satisfied=Count("id", filter=_in(period) & Q(rating__gte=SATISFIED_MIN)),
            rating_sum=Sum("rating", filter=_in(period)),
            answers_before=Count("id", filter=_in(before)),
            satisfied_before=Count("id", filter=_in(before) & Q(rating__gte=SATISFIED_MIN)),
            rating_sum_before=Sum("rating", filter=_in(before)),
        )
        .order_by()
    )
    found = [
        GroupRow(
            name=row[name_field] or f"#{row[field]}",
            current=CSAT(row["answers"], row["satisfied"], row["rating_sum"] or 0),
            previous=CSAT(
                row["answers_before"], row["satisfied_before"], row["rating_sum_before"] or 0
            ),
        )
        for row in rows
    ]
    return sorted(found, key=lambda r: (-r.current.answers, r.name))


def csat_by_team(period: Period, before: Period) -> list[GroupRow]:
    """Queries: 1."""
    return _by("team_id", "team__name", period, before)


def csat_by_agent(period: Period, before: Period) -> list[GroupRow]:
    """Queries: 1."""
    return _by("agent_id", "agent__full_name", period, before)


@dataclass(frozen=True)
class BadRating:
    ticket_key: str
    ticket_url: str
    rating: int
    comment: str
    agent: str
    answered_at: datetime
    followed_up_at: datetime | None
    followed_up_by: str


def bad_ratings(period: Period) -> tuple[list[BadRating], int]:
    """The bad ratings (1..BAD_RATING_MAX) given in the period, newest first,
    at most BAD_RATINGS_LISTED of them, and how many there were. Queries: 2."""
    found = CSATResponse.objects.filter(_in(period), rating__lte=BAD_RATING_MAX)
    listed = found.select_related("ticket", "agent", "followed_up_by").order_by(
        "-answered_at", "-id"
    )[:BAD_RATINGS_LISTED]
    rows = [
        BadRating(
            ticket_key=answer.ticket.key,
            ticket_url=answer.ticket.get_full_url(),
            rating=answer.rating,
            comment=answer.comment,
            agent=answer.agent.get_full_name() if answer.agent else "",
            answered_at=answer.answered_at,
            followed_up_at=answer.followed_up_at,
            followed_up_by=answer.followed_up_by.get_full_name() if answer.followed_up_by else "",
        )
        for answer in listed
    ]
    return rows, found.count()
