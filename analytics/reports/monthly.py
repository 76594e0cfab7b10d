"""The monthly CSAT review: last month's satisfaction against the 85 %
target and the month before, by team and by agent, the bad ratings with
their comments and whether somebody followed them up, CES and NPS when
customers gave any (definitions in analytics.reports.csat)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from analytics.reports import csat
from analytics.reports.periods import Period, previous_month
from analytics.reports.weekly import site_url

CSAT_TARGET = 85.0


@dataclass(frozen=True)
class CSATReview:
    month: Period
    previous: Period
    zone_name: str
    now: csat.Satisfaction
    before: csat.Satisfaction
    by_team: list[csat.GroupRow]
    by_agent: list[csat.GroupRow]
    bad_ratings: list[csat.BadRating]
    bad_total: int
    follow_up_url: str


def csat_review(month: Period) -> CSATReview:
    """The review of `month`. Queries: 10, whatever the number of answers."""
    previous = previous_month(month)
    bad, bad_total = csat.bad_ratings(month)
    return CSATReview(
        month=month,
        previous=previous,
        zone_name=str(month.start.tzinfo),
        now=csat.satisfaction(month),
        before=csat.satisfaction(previous),
        by_team=csat.csat_by_team(month, previous),
        by_agent=csat.csat_by_agent(month, previous),
        bad_ratings=bad,
        bad_total=bad_total,
        follow_up_url=site_url(reverse("surveys:follow_up")),
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _points(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "n/a"
    return f"{now - before:+.1f} points"


def _month(period: Period) -> str:
    return f"{period.first_day:%B %Y}"


def subject(review: CSATReview) -> str:
    return f"Monthly CSAT review: {_month(review.month)}"


def _group_lines(title: str, rows: list[csat.GroupRow]) -> list[str]:
    lines = [f"{title} (CSAT this month, month before, change):"]
    if not rows:
        return [*lines, "- No answers in either month.", ""]
    for row in rows:
        now, before = row.current, row.previous
        lines.append(
            f"- {row.name}: {_percent(now.percent)} of {now.answers} answers "
            f"(average {_number(now.average)}); month before {_percent(before.percent)} of "
            f"{before.answers}; {_points(now.percent, before.percent)}."
        )
    return [*lines, ""]


def _bad_lines(review: CSATReview) -> list[str]:
    zone = review.month.start.tzinfo
    waiting = sum(1 for bad in review.bad_ratings if bad.followed_up_at is None)
    lines = [
        f"Bad ratings (1-2) this month: {review.bad_total}"
        + (f", {waiting} of the listed still waiting for a follow-up." if review.bad_total else ".")
    ]
    for bad in review.bad_ratings:
        answered = timezone.localtime(bad.answered_at, zone)
        if bad.followed_up_at is None:
            state = "waiting for a follow-up"
        else:
            followed = timezone.localtime(bad.followed_up_at, zone)
            state = f"followed up {followed:%Y-%m-%d}" + (
                f" by {bad.followed_up_by}" if bad.followed_up_by else ""
            )
        agent = f", agent {bad.agent}" if bad.agent else ""
        lines.append(
            f"- {bad.ticket_key}: rated {bad.rating} on {answered:%Y-%m-%d}{agent}; {state}."
        )
        if bad.comment:
            comment = " ".join(bad.comment.split())
            lines.append(f'    "{comment[:500]}"')
        lines.append(f"    {bad.ticket_url}")
    if review.bad_total > len(review.bad_ratings):
        lines.append(f"- ... and {review.bad_total - len(review.bad_ratings)} more.")
    lines += [f"The follow-up list: {review.follow_up_url}", ""]
    return lines


def body(review: CSATReview, *, greeting_name: str) -> str:
    """The plain-text e-mail (the outbox sends text only)."""
    now, before = review.now, review.before
    met = now.csat.percent is not None and now.csat.percent >= CSAT_TARGET
    target_state = "no answers" if now.csat.percent is None else ("met" if met else "missed")
    lines = [
        f"Hello {greeting_name},",
        "",
        f"Here is the CSAT review of {_month(review.month)} ({review.zone_name} time), "
        f"compared with {_month(review.previous)}.",
        "",
        f"- CSAT: {_percent(now.csat.percent)} of {now.csat.answers} answers rated 4-5 "
        f"(target >= {CSAT_TARGET:g} %, {target_state}); average rating "
        f"{_number(now.csat.average)} of 5. Month before: {_percent(before.csat.percent)} of "
        f"{before.csat.answers}, average {_number(before.csat.average)}; change "
        f"{_points(now.csat.percent, before.csat.percent)}.",
        f"- Response rate: {_percent(now.response_rate)} ({now.answered} of {now.asked} "
        f"surveys of tickets solved this month answered); month before "
        f"{_percent(before.response_rate)}.",
    ]
    if now.effort_answers or before.effort_answers:
        lines.append(
            f"- Customer effort (CES, 1 very hard .. 7 very easy): "
            f"{_number(now.effort_average)} from {now.effort_answers} answers; month before "
            f"{_number(before.effort_average)} from {before.effort_answers}."
        )
    if now.nps_answers or before.nps_answers:
        lines.append(
            f"- NPS: {_number(now.nps, 0)} from {now.nps_answers} answers; month before "
            f"{_number(before.nps, 0)} from {before.nps_answers}."
        )
    lines.append("")
    lines += _group_lines("By team", review.by_team)
    lines += _group_lines("By agent", review.by_agent)
    lines += _bad_lines(review)
    lines.append(
        "CSAT counts the answers given in the month (the team and agent who solved "
        "that round of the ticket); the response rate, the surveys put to customers "
        "for tickets solved in it."
    )
    return "\n".join(lines) + "\n"
