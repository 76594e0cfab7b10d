"""The demo's survey history: a CSAT round for every solve of a seeded ticket
(SurveyInvite), the customers' answers (CSATResponse, with the Customer
Effort Score on part of them) and, per customer and NPS period, the NPS
question and answers (NPSInvite, NPSResponse).

The rows are what the product writes (analytics.surveys): the lifecycle hook
opens a round at each solve, due after HELPDESK_CSAT_DELAY_MINUTES; a reopen
within the delay cancels it; the beat sweep sends it when due; an answer on
the portal before that skips the e-mail; a manager marks bad ratings
followed up. The story (JOURNEYS.md, issue 12): about 65 % of answers are
good (4-5) in the early weeks and about 85 % in the last, each agent's
customers rate them by the agent's `quality`, and bad ratings of the last days
still wait in the managers' follow-up list.

The outbox rows the sweeps and the bad-rating notice would have written are
not seeded: like the conversation's e-mails, they were sent long ago.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

from analytics.models import BAD_RATING_MAX, CSATResponse, NPSInvite, NPSResponse, SurveyInvite
from analytics.surveys.sending import nps_period_start
from demo.people import AgentInfo
from demo.rows import Chunk
from demo.timeline import DAY, HOUR, Stamper

_PENDING, _SENT, _CANCELLED, _SKIPPED = (
    SurveyInvite.State.PENDING.value,
    SurveyInvite.State.SENT.value,
    SurveyInvite.State.CANCELLED.value,
    SurveyInvite.State.SKIPPED.value,
)
_EMAIL, _PORTAL = CSATResponse.Source.EMAIL.value, CSATResponse.Source.PORTAL.value

# Share of final solves whose customer answers the survey.
RESPONSE_RATE = 0.35
# Of the answers, the share given on the portal rather than by the e-mail's link.
PORTAL_SHARE = 0.15
# Of the answers, the share that also says how easy it was (CES).
EFFORT_SHARE = 0.55
# Chance that an answer is good (4-5): at the start and at the end of the
# improvement, and how much one point of an agent's quality above the cast's
# average adds. Reopened and slow tickets are rated worse.
GOOD_BEFORE, GOOD_AFTER = 0.69, 0.93
QUALITY_WEIGHT = 1.6
AVERAGE_QUALITY = 0.85
REOPENED_PENALTY = 0.12
SLOW_PENALTY = 0.05
SLOW_AFTER = 72 * HOUR
# A manager follows up most bad ratings within days; the last days' still wait.
FOLLOW_UP_SHARE = 0.8
# NPS: share of the customers asked in a period who answer.
NPS_RESPONSE_RATE = 0.45

GOOD_COMMENTS = (
    "Quick and friendly, thank you!",
    "Solved on the first reply. Great job.",
    "Very clear explanation, I could fix it myself next time.",
    "Thanks for following up so carefully.",
    "Exactly what I needed.",
)
MIXED_COMMENTS = (
    "It got solved, but it took a few days.",
    "Fine in the end, though I had to explain the problem twice.",
    "OK, but I would have liked an update sooner.",
)
BAD_COMMENTS = (
    "Nobody answered for two days and the first reply did not help.",
    "I had to chase three times. The problem came back the next morning.",
    "The answer was a copy-paste that ignored what I wrote.",
    "Closed without fixing anything.",
    "Too slow for an issue that blocked our whole team.",
    "I was sent from one person to another and still have no real answer.",
)
NPS_COMMENTS = (
    "Support is the reason we stay.",
    "Good product, support answers could be faster.",
    "Billing questions take far too long.",
    "Always helpful people.",
)


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


@dataclass
class _Asked:
    """A customer's first solve in an NPS period, which makes the sweep ask them."""

    customer: int
    first_solve: int


class SurveyHistory:
    """Plans the survey rows of each ticket as the generator plays it, into
    the ticket's chunk; the NPS rows once all tickets are known."""

    def __init__(
        self,
        rng: random.Random,
        *,
        now: int,
        start: int,
        stamp: Stamper,
        first_invite_id: int,
        first_response_id: int,
        delay_seconds: int,
        link_seconds: int,
        follow_up_by: int | None,
        nps_cadence_days: int,
    ) -> None:
        self._rng = rng
        self._now = now
        self._start = start
        self._span = max(now - start, 1)
        self._stamp = stamp
        self._invite_id = first_invite_id
        self._response_id = first_response_id
        self._delay = delay_seconds
        self._link = link_seconds
        self._follow_up_by = follow_up_by
        self._cadence = nps_cadence_days
        self._period_of_day: dict[int, date] = {}
        # (period start, customer) -> first solve in that period.
        self._asked: dict[tuple[date, int], _Asked] = {}

    def _improvement(self, t: int) -> float:
        """0 in the early weeks, rising to 1 over the middle of the history
        (the same curve as the ticket history's speed)."""
        progress = (t - self._start) / self._span
        return _clamp((progress - 0.3) / 0.6, 0.0, 1.0)

    def ticket(
        self,
        chunk: Chunk,
        *,
        ticket_id: int,
        customer_id: int,
        team_id: int,
        created: int,
        solves: list[tuple[int, AgentInfo | None]],
        reopens: list[int],
    ) -> None:
        """The rounds of one ticket: `solves` are (time, assignee) of each
        solve by now, `reopens` the times it was reopened after one."""
        for number, (solved, agent) in enumerate(solves, start=1):
            reopened = reopens[number - 1] if number <= len(reopens) else None
            self._round(
                chunk, ticket_id, customer_id, team_id, created, number, solved, agent, reopened
            )
            if self._cadence > 0:
                period = self._period(solved)
                self._asked.setdefault(
                    (period, customer_id), _Asked(customer=customer_id, first_solve=solved)
                )

    def _period(self, t: int) -> date:
        day = t // DAY
        period = self._period_of_day.get(day)
        if period is None:
            period = nps_period_start(datetime.fromtimestamp(t, tz=UTC), self._cadence)
            self._period_of_day[day] = period
        return period

    def _round(
        self,
        chunk: Chunk,
        ticket_id: int,
        customer_id: int,
        team_id: int,
        created: int,
        number: int,
        solved: int,
        agent: AgentInfo | None,
        reopened: int | None,
    ) -> None:
        rng = self._rng
        stamp = self._stamp
        now = self._now
        due = solved + self._delay
        sent: int | None = None
        answer: tuple[int, str] | None = None
        if reopened is not None and reopened < due:
            state = _CANCELLED
        else:
            # Only the customer of a solve that held answers (a fix that did
            # not hold is answered by reopening).
            if reopened is None and agent is not None and rng.random() < RESPONSE_RATE:
                if rng.random() < PORTAL_SHARE:
                    answered = solved + int(rng.lognormvariate(math.log(2 * HOUR), 1.2))
                    answer = (answered, _PORTAL)
                else:
                    answered = due + 60 + int(rng.lognormvariate(math.log(3 * HOUR), 1.2))
                    answer = (min(answered, due + self._link - HOUR), _EMAIL)
                if answer[0] > now:
                    answer = None
            if answer is not None and answer[0] < due:
                state = _SKIPPED  # answered on the portal before the e-mail was due
            elif due > now:
                state = _PENDING
            else:
                state = _SENT
                # The beat sweep picks due rounds up within a minute.
                sent = min(due + rng.randrange(60), now)
        solved_at = stamp(solved)
        chunk.survey_invites.append((
            self._invite_id, ticket_id, number, state, customer_id,
            agent.id if agent else None, team_id, solved_at, stamp(due),
            stamp(sent) if sent is not None else None, solved_at,
        ))  # fmt: skip
        self._invite_id += 1
        if answer is not None and agent is not None:
            self._response(
                chunk, ticket_id, customer_id, team_id, number, agent, solved - created, answer
            )

    def _response(
        self,
        chunk: Chunk,
        ticket_id: int,
        customer_id: int,
        team_id: int,
        number: int,
        agent: AgentInfo,
        resolution: int,
        answer: tuple[int, str],
    ) -> None:
        rng = self._rng
        answered, source = answer
        good = (
            GOOD_BEFORE
            + (GOOD_AFTER - GOOD_BEFORE) * self._improvement(answered)
            + QUALITY_WEIGHT * (agent.quality - AVERAGE_QUALITY)
            - (REOPENED_PENALTY if number > 1 else 0.0)
            - (SLOW_PENALTY if resolution > SLOW_AFTER else 0.0)
        )
        if rng.random() < _clamp(good, 0.05, 0.98):
            rating = 5 if rng.random() < 0.6 else 4
        else:
            draw = rng.random()
            rating = 3 if draw < 0.45 else 2 if draw < 0.75 else 1
        if rating <= BAD_RATING_MAX:
            comment = rng.choice(BAD_COMMENTS) if rng.random() < 0.75 else ""
        elif rating == 3:
            comment = rng.choice(MIXED_COMMENTS) if rng.random() < 0.3 else ""
        else:
            comment = rng.choice(GOOD_COMMENTS) if rng.random() < 0.15 else ""
        effort = None
        if rng.random() < EFFORT_SHARE:
            # 1 very hard .. 7 very easy, following the rating.
            effort = round(_clamp(rng.gauss(0.8 + 1.1 * rating, 0.9), 1, 7))
        followed_up_at = followed_up_by = None
        if rating <= BAD_RATING_MAX and self._follow_up_by is not None:
            followed = answered + int(rng.lognormvariate(math.log(DAY), 0.8))
            if followed <= self._now and rng.random() < FOLLOW_UP_SHARE:
                followed_up_at, followed_up_by = self._stamp(followed), self._follow_up_by
        answered_at = self._stamp(answered)
        chunk.csat_responses.append((
            self._response_id, ticket_id, number, customer_id, rating, comment, effort, source,
            agent.id, team_id, answered_at, answered_at, followed_up_at, followed_up_by,
        ))  # fmt: skip
        self._response_id += 1

    def nps_rows(self) -> list[tuple[NPSInvite, NPSResponse | None]]:
        """The NPS sweep asks each customer once per period, shortly after
        their first solve in it (it runs on the beat); part of them answer.
        The response objects get their invite when the invites are saved."""
        rng = self._rng
        rows: list[tuple[NPSInvite, NPSResponse | None]] = []
        for (period, customer), asked in sorted(self._asked.items()):
            sent = asked.first_solve + self._delay + rng.randrange(6 * HOUR)
            if sent > self._now:
                continue
            invite = NPSInvite(customer_id=customer, period_start=period, sent_at=_moment(sent))
            response = None
            answered = sent + int(rng.lognormvariate(math.log(5 * HOUR), 1.0))
            if answered <= self._now and rng.random() < NPS_RESPONSE_RATE:
                score = self._nps_score(self._improvement(answered))
                response = NPSResponse(
                    customer_id=customer,
                    period_start=period,
                    score=score,
                    comment=rng.choice(NPS_COMMENTS) if rng.random() < 0.2 else "",
                    answered_at=_moment(answered),
                    updated_at=_moment(answered),
                )
            rows.append((invite, response))
        return rows

    def _nps_score(self, improvement: float) -> int:
        rng = self._rng
        draw = rng.random()
        promoters = 0.35 + 0.2 * improvement
        detractors = 0.3 - 0.15 * improvement
        if draw < promoters:
            return rng.choice((9, 10))
        if draw < promoters + detractors:
            return rng.choice((2, 4, 5, 6, 6))
        return rng.choice((7, 8))


def _moment(t: int) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def save_nps(rows: list[tuple[NPSInvite, NPSResponse | None]]) -> int:
    """Write the NPS invites and their answers; returns how many answered.
    A customer asked in a period already (an earlier seed) is not asked
    again, as the sweep would not. The ORM's bulk_create returns the
    invites' ids on PostgreSQL and SQLite."""
    asked = set(
        NPSInvite.objects.filter(
            period_start__in={invite.period_start for invite, _ in rows}
        ).values_list("period_start", "customer_id")
    )
    rows = [row for row in rows if (row[0].period_start, row[0].customer_id) not in asked]
    invites = NPSInvite.objects.bulk_create([invite for invite, _ in rows], batch_size=2000)
    responses = []
    for invite, (_, response) in zip(invites, rows, strict=True):
        if response is not None:
            response.invite = invite
            responses.append(response)
    NPSResponse.objects.bulk_create(responses, batch_size=2000)
    return len(responses)
