"""Drill-down links: from a dashboard count to the tickets behind it in the
agent workspace's ticket list (tickets.views.ticket_list), using the query
parameters that list already understands (tickets.forms.QueueFilterForm):
team, category, channel, priority, assignee and the creation-day range.

What the list cannot filter by yet is left out, so a link may show more
tickets than the count: customer tier, solve date, SLA outcome, escalation
and the hour of creation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from analytics.dashboard.figures import Selection

# The list's queue of every open ticket the viewer may see (queues.QUEUES).
# It holds open tickets only: a drill-down from a count of created or solved
# tickets shows those of them still open until the list has a queue of every
# status.
LIST_QUEUE = "all"


def _dimensions(selection: Selection) -> dict[str, str]:
    params: dict[str, str] = {"queue": LIST_QUEUE}
    if selection.team_id is not None:
        params["team"] = str(selection.team_id)
    if selection.category_id is not None:
        params["category"] = str(selection.category_id)
    if selection.channel:
        params["channel"] = selection.channel
    if selection.priority:
        params["priority"] = selection.priority
    if selection.agent_id is not None:
        params["assignee"] = str(selection.agent_id)
    return params


def ticket_list_url(
    selection: Selection,
    *,
    created: tuple[date, date] | None = None,
    overrides: dict[str, str] | None = None,
) -> str:
    """The ticket list narrowed to the selection's dimensions, tickets created
    on the local days `created` (both included; default the selection's
    range), and `overrides` (e.g. {"assignee": "7"})."""
    first, last = created or (selection.start_date, selection.end_date)
    params = _dimensions(selection)
    params["created_from"] = first.isoformat()
    params["created_to"] = last.isoformat()
    params.update(overrides or {})
    return f"{reverse('tickets:list')}?{urlencode(params)}"


def period_days(start: date, period: str, selection: Selection) -> tuple[date, date]:
    """The days of one trend period, clipped to the selection."""
    if period == "day":
        end = start
    elif period == "week":
        end = start + timedelta(days=6)
    else:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return max(start, selection.start_date), min(end, selection.end_date)


def backlog_url(
    selection: Selection, as_of: datetime, lower_days: int, upper_days: int | None
) -> str:
    """The open tickets of one backlog age bucket [lower, upper) days, to the
    day (the list filters by creation day)."""
    params = _dimensions(selection)
    local = timezone.localtime(as_of)
    params["created_to"] = (local - timedelta(days=lower_days)).date().isoformat()
    if upper_days is not None:
        params["created_from"] = (local - timedelta(days=upper_days)).date().isoformat()
    return f"{reverse('tickets:list')}?{urlencode(params)}"
