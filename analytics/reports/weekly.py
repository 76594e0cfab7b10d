"""The weekly report: last week's headline figures against the operation's
targets, each with the change vs the week before, the three biggest changes
written out, the backlog at the week's end, and a link to the dashboard for
that week.

The figures are the dashboard's (analytics.dashboard.figures, read from
analytics.metrics for the whole operation), so the mail and the dashboard
for the same dates agree: durations are medians in the SLA calendar's
business hours (calendar hours when no ticket of the week has a calendar),
cohort figures count the tickets created in the week, completion figures
the tickets solved in it, CSAT the survey answers given in it (README,
"Metric definitions")."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from analytics import metrics
from analytics.dashboard.access import Viewer
from analytics.dashboard.figures import Card, Selection, dashboard_figures
from analytics.reports.periods import Period, previous_week

# The dashboard's cards the report carries, in its order. Its
# "acknowledgement" card is left out: it is the first response measured
# against 1 h (no separate acknowledgement is recorded), and would repeat it.
REPORTED = ("first_response", "resolution_priority", "resolution_standard", "sla", "fcr",
            "escalation", "tier1", "csat")  # fmt: skip
BIGGEST_CHANGES = 3
# The whole operation, as a manager sees it (user_id is only read for an
# agent's narrower scope).
OPERATION = Viewer(user_id=0, sees_everyone=True, teams=())


@dataclass(frozen=True)
class WeeklyReport:
    week: Period
    previous: Period
    zone_name: str
    cards: list[Card]
    backlog: metrics.Backlog
    backlog_before: metrics.Backlog
    created: int
    solved: int
    created_before: int
    solved_before: int
    dashboard_url: str

    @property
    def is_empty(self) -> bool:
        return not (
            self.created
            or self.solved
            or self.backlog.size
            or any(card.sample for card in self.cards)
        )


def site_url(path: str) -> str:
    return f"{settings.HELPDESK_SITE_URL.rstrip('/')}{path}"


def dashboard_url(week: Period) -> str:
    """The dashboard for the week's local dates (it reads them in TIME_ZONE)."""
    query = urlencode(
        {"range": "custom", "start": week.first_day.isoformat(), "end": week.last_day.isoformat()}
    )
    return site_url(f"{reverse('dashboard:page')}?{query}")


def weekly_report(week: Period, *, now: datetime) -> WeeklyReport:
    """The report of `week` as known at `now` (SLA targets decided by then).
    A constant number of queries whatever the number of tickets."""
    previous = previous_week(week)
    selection = Selection(
        start=week.start,
        end=week.end,
        start_date=week.first_day,
        end_date=week.last_day,
        period="day",
    )
    figures = dashboard_figures(OPERATION, selection, now=now)
    by_key = {card.key: card for card in figures.cards}
    cards = [by_key[key] for key in REPORTED]
    before = metrics.created_vs_solved(
        metrics.MetricFilter(start=previous.start, end=previous.end), period="week",
        time_zone=week.start.tzinfo,
    )  # fmt: skip
    everything = metrics.MetricFilter()
    return WeeklyReport(
        week=week,
        previous=previous,
        zone_name=str(week.start.tzinfo),
        cards=cards,
        # At the end of each week (the figures above are the week's own; the
        # dashboard's backlog is "now").
        backlog=metrics.backlog(everything, as_of=week.end),
        backlog_before=metrics.backlog(everything, as_of=previous.end),
        created=sum(row.created for row in figures.trend),
        solved=sum(row.solved for row in figures.trend),
        created_before=sum(row.created for row in before),
        solved_before=sum(row.solved for row in before),
        dashboard_url=dashboard_url(week),
    )


# --- words ---------------------------------------------------------------------------


def amount(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} h" if unit == "h" else f"{value:.1f} %"


def change_words(change: float | None, unit: str) -> str:
    if change is None:
        return "n/a"
    if unit == "h":
        return f"{change:+.1f} h"
    return f"{change:+.1f} points"


def _status(card: Card) -> str:
    return {True: "met", False: "missed", None: "no data"}[card.met]


def biggest_changes(cards: list[Card], limit: int = BIGGEST_CHANGES) -> list[Card]:
    """The figures that moved most against the week before, each move
    measured relative to its own target (|change| / target), so 3 points of
    SLA compliance (target 95 %) weigh less than 3 points of escalation rate
    (target 15 %). Figures without a value in either week are not compared."""

    moved = [card for card in cards if card.change and card.target]
    return sorted(
        moved, key=lambda card: abs(card.change or 0.0) / (card.target or 1.0), reverse=True
    )[:limit]


def change_sentence(card: Card) -> str:
    """e.g. "SLA compliance fell from 97.0 % to 91.0 % (-6.0 points), worse;
    it now misses its target (≥ 95 %)." """
    change = card.change or 0
    verb = "rose" if change > 0 else "fell"
    direction = "better" if card.improved else "worse"
    was_met = replace(card, value=card.previous).met
    if card.met and not was_met:
        target = f"it now meets its target ({card.target_label})"
    elif was_met and not card.met:
        target = f"it now misses its target ({card.target_label})"
    elif card.met:
        target = f"still within its target ({card.target_label})"
    else:
        target = f"still off its target ({card.target_label})"
    return (
        f"{card.title} {verb} from {amount(card.previous, card.unit)} to "
        f"{amount(card.value, card.unit)} ({change_words(change, card.unit)}), "
        f"{direction}; {target}."
    )


def _day(value) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def subject(report: WeeklyReport) -> str:
    return f"Weekly support report: {_day(report.week.first_day)} - {_day(report.week.last_day)}"


def body(report: WeeklyReport, *, greeting_name: str) -> str:
    """The plain-text e-mail (the outbox sends text only)."""
    week = report.week
    lines = [
        f"Hello {greeting_name},",
        "",
        f"Here is last week's support report: {_day(week.first_day)} to "
        f"{_day(week.last_day)} ({report.zone_name} time), compared with the week before "
        f"({_day(report.previous.first_day)} to {_day(report.previous.last_day)}).",
        "",
    ]
    if report.is_empty:
        lines += [
            "No tickets were created, solved or open this week, and no customer rated us.",
            "",
        ]
    lines += ["The biggest changes:"]
    changes = biggest_changes(report.cards)
    if changes:
        lines += [f"- {change_sentence(card)}" for card in changes]
    else:
        lines += ["- None: no figure can be compared with the week before (one of the weeks "
                  "has no data for it) or nothing moved."]  # fmt: skip
    lines += ["", "Headline figures:"]
    for card in report.cards:
        lines += [
            f"- {card.title}: {amount(card.value, card.unit)} (target {card.target_label}, "
            f"{_status(card)}); week before {amount(card.previous, card.unit)}, change "
            f"{change_words(card.change, card.unit)}.",
            f"    {card.detail}.",
        ]
    backlog, before = report.backlog, report.backlog_before
    ages = ", ".join(f"{name} {count}" for name, count in backlog.by_age.items())
    lines += [
        f"- Backlog at the end of the week: {backlog.size} open tickets (week before "
        f"{before.size}, change {backlog.size - before.size:+d}); by age: {ages}.",
        f"- Tickets created: {report.created} (week before {report.created_before}); "
        f"solves: {report.solved} (week before {report.solved_before}; a ticket solved "
        "again after a reopen counts each time).",
        "",
        f"The dashboard for this week: {report.dashboard_url}",
    ]
    if report.zone_name != settings.TIME_ZONE:
        # The dashboard takes its dates in the site's zone, not the report's.
        lines.append(
            f"(The dashboard reads these dates in {settings.TIME_ZONE} time, so its figures "
            "may differ a little from the report's.)"
        )
    lines += [
        "",
        "Durations are medians; SLA compliance counts the targets decided when this report "
        'was written. Definitions: the README\'s "Metric definitions".',
    ]
    return "\n".join(lines) + "\n"
