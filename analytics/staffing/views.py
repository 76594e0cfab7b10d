"""The staffing page and its CSV export.

Managers plan for every team, agents for their own teams; anyone else gets a
404 (analytics.staffing.selectors.staffing_scope). Bad filter or "what if"
input re-renders the form with its errors (400), never a 500.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from analytics.staffing import selectors
from analytics.staffing.forecast import MODEL_LABELS
from analytics.staffing.forms import StaffingForm
from analytics.staffing.plan import StaffingPlan, staffing_plan
from tickets.models import Category
from tickets.selectors import logged_in_user

CSV_HEADER = [
    "hour_start_local",
    "hour_start_utc",
    "forecast_tickets",
    "planned_tickets",
    "workload_tickets",
    "open_share",
    "agents_needed",
    "agents_on_shift",
    "gap_agents",
    "service_level",
]


def _form(request: HttpRequest) -> StaffingForm:
    scope = selectors.staffing_scope(logged_in_user(request))
    categories = list(Category.objects.order_by("name"))
    return StaffingForm(request.GET, scope=scope, categories=categories)


def _plan(form: StaffingForm) -> StaffingPlan:
    return staffing_plan(
        filters=form.filters(),
        what_if_percent=form.what_if_percent(),
        now=timezone.now(),
        zone=timezone.get_current_timezone(),
    )


@login_required
@require_GET
def staffing_page(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        return render(request, "analytics/staffing.html", {"form": form}, status=400)
    plan = _plan(form)
    week = form.chosen_week()
    query = request.GET.copy()
    query.pop("week", None)
    return render(
        request,
        "analytics/staffing.html",
        {
            "form": form,
            "plan": plan,
            "week_param": str(week),
            "heatmaps": _heatmaps(plan, week),
            "hours_of_day": range(24),
            "model_label": MODEL_LABELS[plan.forecast.model],
            "baseline_wape": _wape(plan, "seasonal_naive"),
            "model_wape": _wape(plan, plan.forecast.model),
            "query_without_week": query.urlencode(),
            "csv_query": request.GET.urlencode(),
            "no_team": not form.scope.sees_all and not form.scope.teams,
        },
    )


def _heatmaps(plan: StaffingPlan, week: int) -> list[dict]:
    """The four 7 × 24 tables of the chosen week: title, unit, palette, rows."""
    rows = plan.week(week)
    what_if = f" with volume {plan.what_if_percent:+g} %" if plan.what_if_percent else ""
    return [
        {
            "slug": "forecast",
            "title": f"Forecast tickets per hour{what_if}",
            "unit": "tickets per hour",
            "palette": "blue",
            "rows": [(row.day, row.forecast) for row in rows],
            "digits": 1,
        },
        {
            "slug": "needed",
            "title": "Agents needed (Erlang C)",
            "unit": "agents",
            "palette": "blue",
            "rows": [(row.day, row.needed) for row in rows],
            "digits": 0,
        },
        {
            "slug": "on-shift",
            "title": "Agents on shift (roster)",
            "unit": "agents (share of the hour scheduled)",
            "palette": "blue",
            "rows": [(row.day, row.on_shift) for row in rows],
            "digits": 1,
        },
        {
            "slug": "gap",
            "title": "Gap: agents needed minus agents on shift",
            "unit": "agents; positive (orange) = short-staffed",
            "palette": "gap",
            "rows": [(row.day, row.gap) for row in rows],
            "digits": 1,
        },
    ]


def _wape(plan: StaffingPlan, model: str) -> float | None:
    tested = plan.forecast.backtest
    if tested is None:
        return None
    value = tested.wape.get(model)
    return None if value is None else value * 100


@login_required
@require_GET
def staffing_csv(request: HttpRequest) -> HttpResponseBase:
    """The page's table for both weeks, one row per hour, streamed."""
    form = _form(request)
    if not form.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items()
        )
        return HttpResponse(
            f"Bad filter: {problems}\n", status=400, content_type="text/plain; charset=utf-8"
        )
    plan = _plan(form)
    response = StreamingHttpResponse(_csv_rows(plan), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="staffing.csv"'
    return response


class _Echo:
    """csv.writer writes into this and gets the line back, to stream it."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(plan: StaffingPlan) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for hour in plan.hours:
        yield writer.writerow(
            [
                hour.local_start.isoformat(),
                hour.start.isoformat(),
                f"{hour.forecast:.2f}",
                f"{hour.planned:.2f}",
                f"{hour.workload:.2f}",
                f"{hour.open_share:.2f}",
                hour.agents_needed,
                f"{hour.on_shift:.2f}",
                f"{hour.gap:.2f}",
                f"{hour.service_level:.4f}",
            ]
        )
