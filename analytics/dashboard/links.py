"""Drill-down links: from a dashboard count to the tickets behind it in the
agent workspace's ticket list (tickets.views.ticket_list), using the query
parameters that list understands (tickets.forms.QueueFilterForm).

Every link carries the selection's dimensions (team, category, channel,
priority, agent, customer tier) and the date rule of the count's metric
(analytics.metrics.filters): a count of created tickets (a cohort metric:
SLA compliance and escalations too) links to the tickets created on those
days, a count of solved tickets (a completion metric: the per-agent figures)
to the tickets finally solved on those days, in the list's queue of every
status (tickets.queues.ANY_STATUS_QUEUE); the backlog links to the open
tickets by creation day.

What the list still cannot narrow by: the hour of creation (the heat map has
no links), and a major-incident escalation (the ticket records no event of
its own for it, so such a count links to every escalated ticket).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from analytics.dashboard.figures import Selection
from escalation.models import Escalation
from tickets.queues import ANY_STATUS_QUEUE

# The open tickets the viewer may see (tickets.queues.QUEUES): the backlog.
OPEN_QUEUE = "all"

# The list's escalation_kind for each kind of escalation record; a kind the
# ticket's history does not tell apart links with escalated=yes alone.
ESCALATION_KIND_FILTER: dict[str, str] = {
    Escalation.Kind.SLA: "sla",
    Escalation.Kind.MANUAL: "tier",
    Escalation.Kind.CUSTOMER: "customer",
}


def _dimensions(selection: Selection, queue: str) -> dict[str, str]:
    params: dict[str, str] = {"queue": queue}
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
    if selection.customer_tier:
        params["customer_tier"] = selection.customer_tier
    return params


def _url(params: dict[str, str]) -> str:
    return f"{reverse('tickets:list')}?{urlencode(params)}"


def _days(selection: Selection, days: tuple[date, date] | None) -> tuple[str, str]:
    first, last = days or (selection.start_date, selection.end_date)
    return first.isoformat(), last.isoformat()


def ticket_list_url(
    selection: Selection,
    *,
    created: tuple[date, date] | None = None,
    overrides: dict[str, str] | None = None,
) -> str:
    """Tickets of any status created on the local days `created` (both
    included; default the selection's range), narrowed to the selection's
    dimensions and `overrides` (e.g. {"category": "7"})."""
    params = _dimensions(selection, ANY_STATUS_QUEUE)
    params["created_from"], params["created_to"] = _days(selection, created)
    params.update(overrides or {})
    return _url(params)


def solved_list_url(
    selection: Selection,
    *,
    solved: tuple[date, date] | None = None,
    overrides: dict[str, str] | None = None,
) -> str:
    """Tickets finally solved (Ticket.solved_at) on the local days `solved`
    (default the selection's range), whatever their status now."""
    params = _dimensions(selection, ANY_STATUS_QUEUE)
    params["solved_from"], params["solved_to"] = _days(selection, solved)
    params.update(overrides or {})
    return _url(params)


def breached_list_url(
    selection: Selection, *, target: str, customer_tier: str | None = None
) -> str:
    """Tickets created in the selection whose SLA `target` ("first_response",
    "next_response", "resolution", or "all" for any of them) was breached,
    of one customer tier when given."""
    overrides = {"sla_breached": "any" if target == "all" else target}
    if customer_tier:
        overrides["customer_tier"] = customer_tier
    return ticket_list_url(selection, overrides=overrides)


def escalated_list_url(
    selection: Selection, *, kind: str | None = None, to_tier: int | None = None
) -> str:
    """Escalated tickets created in the selection: of one kind of escalation
    (escalation.models.Escalation.Kind) and now at tier `to_tier`, when given."""
    overrides = {"escalated": "yes"}
    if kind in ESCALATION_KIND_FILTER:
        overrides["escalation_kind"] = ESCALATION_KIND_FILTER[kind]
    if to_tier is not None:
        overrides["tier"] = str(to_tier)
    return ticket_list_url(selection, overrides=overrides)


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
    params = _dimensions(selection, OPEN_QUEUE)
    local = timezone.localtime(as_of)
    params["created_to"] = (local - timedelta(days=lower_days)).date().isoformat()
    if upper_days is not None:
        params["created_from"] = (local - timedelta(days=upper_days)).date().isoformat()
    return _url(params)
