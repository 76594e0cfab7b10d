"""Response and resolution times: median and 90th percentile (analytics.
metrics.stats: linear interpolation), each in business hours of the
ticket's SLA calendar with pauses left out, as the SLA clock counts, and in
calendar hours (wall-clock time, pauses included). Unit: hours."""

from __future__ import annotations

from datetime import datetime

from analytics.metrics.filters import MetricFilter, filter_tickets
from analytics.metrics.stats import DurationMetric, DurationStats
from analytics.metrics.timeline import Timeline, load_timelines


def measure(spans: list[tuple[Timeline, datetime, datetime]]) -> DurationMetric:
    """Business and calendar statistics of (ticket, start, end) spans."""
    business: list[float] = []
    calendar: list[float] = []
    for timeline, start, end in spans:
        calendar.append((end - start).total_seconds())
        seconds = timeline.business_seconds(start, end)
        if seconds is not None:
            business.append(seconds)
    return DurationMetric(
        business=DurationStats.of_seconds(business), calendar=DurationStats.of_seconds(calendar)
    )


def first_response_time(metric_filter: MetricFilter) -> DurationMetric:
    """First response time: from the ticket's creation (`Ticket.created_at`)
    to its first public staff reply (`Ticket.first_response_at`, set by
    tickets.services.ticket_reply; internal notes do not count). Tickets
    created in [start, end) that have had a first response; tickets still
    waiting for one are not counted. Business hours leave out the open time
    spent pending or on hold before the reply (the SLA clock's first-response
    measure). Unit: hours. Queries: 3."""
    timelines = load_timelines(filter_tickets(metric_filter))
    return measure(
        [
            (t, t.created_at, first_response)
            for t in timelines
            if (first_response := t.first_response_at) is not None
        ]
    )


def next_response_time(metric_filter: MetricFilter) -> DurationMetric:
    """Next response time: one value per answered next-response round of the
    tickets created in [start, end). A round starts at the customer's first
    public message after a public staff reply (messages the customer adds
    before our answer join the round) and ends at the next public staff
    reply; the opening request belongs to the first response, not here.
    Unanswered rounds are not counted. Business hours leave out the pauses
    inside the round (the SLA clock's next-response measure). Unit: hours.
    Queries: 3."""
    timelines = load_timelines(filter_tickets(metric_filter))
    return measure(
        [(t, start, end) for t in timelines for start, end in t.rounds if end is not None]
    )


def resolution_time(metric_filter: MetricFilter) -> DurationMetric:
    """Full resolution time: from creation to the final solve
    (`Ticket.solved_at`; a reopen clears it and the next solve sets it
    again), for the tickets solved in [start, end) (closed tickets keep their
    solve time). Time spent solved before a reopen counts, as it does on the
    SLA clock's resolution target; pending and on-hold time is left out of
    business hours. Unit: hours. Queries: 3."""
    timelines = load_timelines(filter_tickets(metric_filter, date_field="solved_at"))
    return measure([(t, t.created_at, t.solved_at) for t in timelines if t.solved_at is not None])
