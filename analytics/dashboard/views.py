"""The manager dashboard page and its CSV export.

Managers see everything, an agent their teams' totals and their own row
(analytics.dashboard.access; applied by analytics.dashboard.figures), anyone
else a 404. Bad filters re-render the form with its errors (400).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from analytics.dashboard.access import Viewer, dashboard_viewer
from analytics.dashboard.figures import DashboardFigures, dashboard_figures
from analytics.dashboard.forms import DashboardForm
from analytics.dashboard.presenting import chart_data, csv_rows, page_rows
from tickets.selectors import logged_in_user


def _form(request: HttpRequest) -> tuple[Viewer, DashboardForm]:
    viewer = dashboard_viewer(logged_in_user(request))
    return viewer, DashboardForm(request.GET, viewer=viewer, today=timezone.localdate())


@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    viewer, form = _form(request)
    if not form.is_valid():
        return render(
            request, "analytics/dashboard.html", {"form": form, "viewer": viewer}, status=400
        )
    figures = dashboard_figures(viewer, form.selection(), now=timezone.now())
    return render(
        request,
        "analytics/dashboard.html",
        {
            "form": form,
            "viewer": viewer,
            "figures": figures,
            "rows": page_rows(figures),
            "charts": chart_data(figures),
            "query": request.GET.urlencode(),
        },
    )


class _Echo:
    """csv.writer writes into this and gets the line back, to stream it."""

    def write(self, value: str) -> str:
        return value


def _lines(figures: DashboardFigures) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in csv_rows(figures):
        yield writer.writerow(row)


@login_required
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponseBase:
    """Every figure of the page, one section per figure, streamed."""
    viewer, form = _form(request)
    if not form.is_valid():
        return HttpResponse(
            f"Bad filter: {form.error_text()}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    figures = dashboard_figures(viewer, form.selection(), now=timezone.now())
    selection = figures.selection
    name = f"dashboard_{selection.start_date.isoformat()}_{selection.end_date.isoformat()}.csv"
    response = StreamingHttpResponse(_lines(figures), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
