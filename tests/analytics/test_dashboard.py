"""The manager dashboard page and its CSV export over the hand-made history of
tests/analytics/test_metrics.py: who sees what, filters (valid and bad), the
figures against the metrics, drill-down links, and constant query counts."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from analytics import metrics
from analytics.dashboard.access import dashboard_viewer
from analytics.dashboard.figures import dashboard_figures
from analytics.dashboard.forms import DashboardForm
from analytics.models import RollupRun
from analytics.rollups.facts import REBUILD, ROLLUPS, refresh_facts
from tests.analytics.test_metrics import NOW, at, history, reply, set_status, sla_defaults
from tests.analytics.test_metrics_surveys import answer, answers
from tests.factories import make_user
from tickets.intake import intake_ticket
from tickets.models import Channel, Priority, Role, Status, Ticket

# The dashboard reads the ticket facts: build them from the history.
pytestmark = pytest.mark.usefixtures("history_facts")

# Fixtures used here, made in test_metrics and test_metrics_surveys.
__all__ = ["answers", "history", "sla_defaults"]

PAGE = "/analytics/dashboard/"
CSV = "/analytics/dashboard/dashboard.csv"
# The week of the history: Mon 23 Nov to Mon 30 Nov 2026 (both included).
WEEK = {"range": "custom", "start": "2026-11-23", "end": "2026-11-30"}


def figures_for(user, params):
    viewer = dashboard_viewer(user)
    form = DashboardForm(params, viewer=viewer, today=date(2026, 12, 1))
    assert form.is_valid(), form.errors
    return dashboard_figures(viewer, form.selection(), now=NOW)


def card(figures, key):
    return next(c for c in figures.cards if c.key == key)


# --- who sees what ------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get(CSV).status_code == 302


def test_customers_get_404(client, customer):
    client.force_login(customer)
    assert client.get(PAGE).status_code == 404
    assert client.get(CSV).status_code == 404


def test_manager_sees_every_agent(client, history, manager):
    client.force_login(manager)
    response = client.get(PAGE, WEEK)
    assert response.status_code == 200
    names = [row.name for row in response.context["figures"].agents]
    assert sorted(names) == ["Alice Agent", "Bob Agent", "Tina Tier2"]
    page = response.content.decode()
    assert "Support dashboard" in page and "Bob Agent" in page


def test_agent_sees_their_teams_totals_and_only_their_own_row(client, history):
    alice = history.alice  # in the Access team, with the login category's tickets
    client.force_login(alice)
    response = client.get(PAGE, WEEK)
    assert response.status_code == 200
    figures = response.context["figures"]
    assert [row.name for row in figures.agents] == ["Alice Agent"]
    assert "Bob Agent" not in response.content.decode()
    # Team totals: the Access team's tickets only.
    assert figures.scope_filter.teams == (alice.teams.get().pk,)
    access_only = metrics.MetricFilter(
        start=at(11, 23, 0), end=at(12, 1, 0), teams=(alice.teams.get().pk,)
    )
    assert sum(row.created for row in figures.trend) == len(metrics.filter_tickets(access_only))


def test_the_restriction_is_in_the_read_layer(history):
    """Even a selection built by hand for another agent or team is refused."""
    from django.http import Http404

    from analytics.dashboard.figures import Selection

    viewer = dashboard_viewer(history.alice)
    week = Selection(
        start=at(11, 23, 0),
        end=at(12, 1, 0),
        start_date=date(2026, 11, 23),
        end_date=date(2026, 11, 30),
        period="day",
    )
    assert [r.agent_id for r in dashboard_figures(viewer, week, now=NOW).agents] == [
        history.alice.pk
    ]
    from dataclasses import replace

    with pytest.raises(Http404):
        dashboard_figures(viewer, replace(week, agent_id=history.bob.pk), now=NOW)
    with pytest.raises(Http404):
        dashboard_figures(viewer, replace(week, team_id=history.bob.teams.get().pk), now=NOW)


def test_agent_cannot_ask_for_a_colleague_or_another_team(client, history):
    client.force_login(history.alice)
    response = client.get(PAGE, {**WEEK, "agent": history.bob.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert client.get(PAGE, {**WEEK, "team": "billing"}).status_code == 400
    assert client.get(CSV, {**WEEK, "agent": history.bob.pk}).status_code == 400


def test_agent_in_no_team_sees_only_their_own_tickets(client, history):
    loner = make_user(Role.AGENT, full_name="Lone Agent")
    client.force_login(loner)
    response = client.get(PAGE, WEEK)
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.scope_filter.agents == (loner.pk,)
    assert sum(row.created for row in figures.trend) == 0


# --- figures and filters -------------------------------------------------------------


def test_cards_match_the_metrics_and_the_previous_period(history, manager):
    figures = figures_for(manager, WEEK)
    week = metrics.MetricFilter(start=at(11, 23, 0), end=at(12, 1, 0))
    before = metrics.MetricFilter(start=at(11, 15, 0), end=at(11, 23, 0))
    sla = metrics.sla_compliance(week, now=NOW).overall["all"]
    assert card(figures, "sla").value == pytest.approx(sla.rate * 100)
    fcr = metrics.first_contact_resolution_rate(week)
    assert card(figures, "fcr").value == pytest.approx(fcr.value * 100)
    first = metrics.first_response_time(week).business.median_hours
    assert card(figures, "first_response").value == pytest.approx(first)
    assert card(figures, "acknowledge").value == pytest.approx(first)
    assert card(figures, "first_response").basis == "business"
    # Only T0 lies before the week, never answered: no previous first response.
    assert metrics.first_response_time(before).business.count == 0
    assert card(figures, "first_response").previous is None
    assert card(figures, "first_response").change is None
    escalation = metrics.escalations(week).rate
    assert card(figures, "escalation").value == pytest.approx(escalation.value * 100)
    assert card(figures, "escalation").target_label == "< 15 %"
    # Resolution: T3 is high (priority), T1, T2 and T4 normal (standard).
    priority = metrics.resolution_time(
        metrics.MetricFilter(start=week.start, end=week.end, priorities=("urgent", "high"))
    )
    assert card(figures, "resolution_priority").sample == priority.business.count == 1
    assert card(figures, "resolution_standard").sample == 3


def test_priority_filter_narrows_the_resolution_cards(history, manager):
    figures = figures_for(manager, {**WEEK, "priority": "normal"})
    assert card(figures, "resolution_priority").sample == 0
    assert card(figures, "resolution_priority").met is None
    assert card(figures, "resolution_standard").sample == 3


def test_filters_map_to_the_metric_filter(history, manager):
    figures = figures_for(
        manager,
        {
            **WEEK,
            "team": "access",
            "category": "login",
            "tier": "vip",
            "channel": "portal",
            "priority": "high",
            "agent": str(history.bob.pk),
        },
    )
    f = figures.scope_filter
    assert f.teams == (history.login.default_team_id,)
    assert f.categories == (history.login.pk,)
    assert f.customer_tiers == ("vip",) and f.channels == ("portal",)
    assert f.priorities == ("high",) and f.agents == (history.bob.pk,)
    assert (f.start, f.end) == (at(11, 23, 0), at(12, 1, 0))


def test_presets_end_today_and_choose_the_trend_step(history, manager):
    figures = figures_for(manager, {"range": "7"})
    assert figures.selection.start_date == date(2026, 11, 25)
    assert figures.selection.end_date == date(2026, 12, 1)
    assert figures.selection.period == "day" and len(figures.trend) == 7
    assert figures_for(manager, {"range": "90"}).selection.period == "week"
    assert figures_for(manager, {"range": "365"}).selection.period == "month"
    assert figures_for(manager, {"range": "90", "period": "month"}).selection.period == "month"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"range": "12"}, "range"),
        ({"range": "custom"}, "start"),
        ({"range": "custom", "start": "2026-11-30", "end": "2026-11-01"}, "end"),
        ({"range": "custom", "start": "2020-01-01", "end": "2026-11-01"}, "end"),
        ({"range": "custom", "start": "not-a-date", "end": "2026-11-01"}, "start"),
        ({"team": "nope"}, "team"),
        ({"category": "nope"}, "category"),
        ({"tier": "gold"}, "tier"),
        ({"channel": "fax"}, "channel"),
        ({"priority": "whenever"}, "priority"),
        ({"agent": "999999"}, "agent"),
        ({"period": "decade"}, "period"),
    ],
)
def test_bad_filters_are_form_errors(client, manager, params, field):
    client.force_login(manager)
    response = client.get(PAGE, params)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'class="field-error"' in response.content.decode()
    csv_response = client.get(CSV, params)
    assert csv_response.status_code == 400 and b"Bad filter" in csv_response.content


def test_page_shows_titles_units_tables_and_chart_data(client, history, manager):
    client.force_login(manager)
    page = client.get(PAGE, WEEK).content.decode()
    for title in (
        "Tickets created vs solved per day",
        "Category mix of tickets created",
        "Backlog by age, now",
        "SLA compliance by customer tier",
        "Escalations",
        "Tickets created by weekday and hour",
        "Agents: median resolution time vs CSAT",
        "CSAT by month",
    ):
        assert title in page
    assert page.count("<summary>Table</summary>") == 6
    assert '<script id="dashboard-data" type="application/json">' in page
    assert 'id="chart-sla"' in page  # the history's tickets have SLA clocks
    assert "vendor/chart.umd.min.js" in page and "analytics/dashboard.js" in page
    for card_id in ("card-csat", "card-nps", "card-ces"):
        assert f'id="{card_id}"' in page


def test_without_a_range_the_menu_shows_the_default_the_figures_use(client, manager, db):
    client.force_login(manager)
    page = client.get(PAGE).content.decode()
    assert '<option value="30" selected>Last 30 days</option>' in page
    assert "(30 days)" in page
    assert '<option value="7" selected>' not in page


def test_counts_link_to_the_ticket_list_with_the_matching_filter(client, history, manager):
    client.force_login(manager)
    response = client.get(PAGE, {**WEEK, "channel": "portal"})
    rows = response.context["rows"]
    login = next(row for row in rows["categories"] if row["name"] == "Login")
    assert login["url"] == (
        f"/tickets/?queue=any&channel=portal&created_from=2026-11-23&created_to=2026-11-30"
        f"&category={history.login.pk}"
    )
    alice = next(a for a in rows["agents"] if a["row"].name == "Alice Agent")
    assert f"assignee={history.alice.pk}" in alice["url"]
    # The link opens the list, and the list shows the counted open tickets.
    listing = client.get(rows["created_url"])
    assert listing.status_code == 200
    assert history.tickets["T5"].key in listing.content.decode()
    backlog = {row["bucket"]: row for row in rows["backlog"]}
    assert backlog["30d+"]["tickets"] == 1  # T0, open since 29 October
    old = client.get(backlog["30d+"]["url"]).content.decode()
    assert history.tickets["T0"].key in old and history.tickets["T5"].key not in old


# --- CSV ------------------------------------------------------------------------------


def test_csv_streams_every_figure_in_sections(client, history, manager):
    client.force_login(manager)
    response = client.get(CSV, WEEK)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == (
        'attachment; filename="dashboard_2026-11-23_2026-11-30.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    sections = {row[0] for row in rows[1:]}
    assert sections == {
        "range", "headline", "trend", "categories", "heatmap", "backlog", "sla",
        "escalations", "agents", "satisfaction", "csat_by_month",
    }  # fmt: skip
    sla_row = next(r for r in rows if r[:2] == ["headline", "sla"])
    figures = figures_for(manager, WEEK)
    assert float(sla_row[3]) == pytest.approx(card(figures, "sla").value, abs=0.01)
    trend = [r for r in rows if r[0] == "trend" and r[1] != "period_start"]
    assert len(trend) == 8 and sum(int(r[2]) for r in trend) == 6
    agents = [r[1] for r in rows if r[0] == "agents" and r[1] != "agent"]
    assert sorted(agents) == ["Alice Agent", "Bob Agent", "Tina Tier2"]


def test_agent_csv_holds_only_their_own_row(client, history):
    client.force_login(history.bob)
    content = b"".join(client.get(CSV, WEEK).streaming_content).decode()
    agents = [r[1] for r in csv.reader(io.StringIO(content)) if r[0] == "agents"]
    assert agents == ["agent", "Bob Agent"]


# --- query counts ---------------------------------------------------------------------


def _more_tickets(history, count: int) -> None:
    """Tickets answered and solved by Bob in the week, through the services."""
    for index in range(count):
        ticket = intake_ticket(
            requester=history.tickets["T3"].requester,
            subject=f"More {index}",
            description="Another question about the export.",
            priority=Priority.NORMAL,
            category=history.billing,
            channel=Channel.PORTAL,
        )
        reply(ticket, history.bob)
        set_status(ticket, Status.SOLVED, history.bob)
    # What the catch-up job would do: the dashboard reads the facts.
    refresh_facts(Ticket.objects.values_list("pk", flat=True), NOW)


# Read from the rollups (a filter on one dimension at most): the user (1), the
# viewer's teams and the form's categories and agents (3), the facts' state (1),
# the rollup blocks of both periods and the agent rows (1), NPS in two periods
# (2), the days for the trend and CSAT by month (1), the category names (1), the
# backlog (1), the agents' names (1) and the manager's count of bad ratings
# awaiting follow-up (1).
ROLLUP_PAGE_QUERIES = 1 + 3 + 1 + 1 + 2 + 1 + 1 + 1 + 1 + 1
# Read from the facts and the survey tables (two dimensions or more, or before
# the rollups were first summed): the same but for the blocks, days and
# category names, two periods of headline figures (2 x 4: the created tickets'
# figures, the solved tickets' figures, SLA compliance, CSAT with CES), the
# trend (2), category mix (2: counts, names), the heatmap (1), the agent
# figures and their CSAT (2) and CSAT by month (1).
FACT_PAGE_QUERIES = ROLLUP_PAGE_QUERIES - 3 + 2 * 4 + 2 + 2 + 1 + 2 + 1
# Every read runs whether it finds tickets or not; NPS is not read with a team,
# category, channel, priority or agent filter (it has no figure then), so such
# a filter runs two fewer, never more.
PAGE_QUERIES = max(ROLLUP_PAGE_QUERIES, FACT_PAGE_QUERIES)


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
        assert response.status_code == 200
        if isinstance(response, StreamingHttpResponse):
            b"".join(response.streaming_content)
    return len(context)


@pytest.mark.parametrize(
    ("params", "source"),
    [
        (WEEK, "rollups"),
        ({"range": "365"}, "rollups"),
        (
            {**WEEK, "team": "billing", "category": "billing", "tier": "vip", "priority": "normal"},
            "facts",
        ),
        ({**WEEK, "channel": "email", "period": "week"}, "rollups"),
    ],
)
def test_page_runs_a_constant_number_of_queries(
    client, history, manager, time_machine, params, source
):
    client.force_login(manager)
    client.get(PAGE, WEEK)  # caches the SLA calendars
    small = _queries(client, PAGE, params)
    assert figures_for(manager, params).source == source
    time_machine.move_to(at(11, 30, 16), tick=False)
    _more_tickets(history, 3)
    time_machine.move_to(NOW, tick=False)
    bound = ROLLUP_PAGE_QUERIES if source == "rollups" else FACT_PAGE_QUERIES
    assert _queries(client, PAGE, params) == small <= bound


def test_every_read_runs_when_every_part_has_tickets(client, history, manager):
    """Both periods hold solved tickets of both priority groups: the bound is
    reached exactly, on the rollups and on the facts."""
    client.force_login(manager)
    client.get(PAGE, WEEK)
    # 25-30 Nov vs 19-24 Nov: T1 (normal) solved on the 24th, T3 (high) on the 29th.
    params = {"range": "custom", "start": "2026-11-25", "end": "2026-11-30"}
    figures = figures_for(manager, params)
    assert figures.source == "rollups"
    assert card(figures, "resolution_priority").sample >= 1
    assert _queries(client, PAGE, params) == ROLLUP_PAGE_QUERIES
    assert _queries(client, PAGE, WEEK) == ROLLUP_PAGE_QUERIES  # the previous week is empty
    # Before the rollups were first summed (just after an upgrade): the facts.
    RollupRun.objects.filter(name=ROLLUPS).delete()
    assert figures_for(manager, params).source == "facts"
    assert _queries(client, PAGE, params) == FACT_PAGE_QUERIES
    assert _queries(client, PAGE, WEEK) == FACT_PAGE_QUERIES


def test_the_page_says_when_the_ticket_figures_were_brought_up_to_date(client, history, manager):
    client.force_login(manager)
    page = client.get(PAGE, WEEK)
    ran_at = RollupRun.objects.get(name=REBUILD).ran_at
    assert page.context["figures"].facts_as_of == ran_at
    assert "ticket figures as of" in page.content.decode()
    RollupRun.objects.all().delete()
    assert "ticket figures not computed yet" in client.get(PAGE, WEEK).content.decode()


def test_csv_runs_the_same_queries_as_the_page(client, history, manager):
    client.force_login(manager)
    client.get(PAGE, WEEK)
    assert _queries(client, CSV, WEEK) == _queries(client, PAGE, WEEK)


def test_a_day_range_compares_with_the_day_before(history, manager):
    figures = figures_for(manager, {"range": "custom", "start": "2026-11-30", "end": "2026-11-30"})
    assert figures.selection.previous == (at(11, 29, 0), at(11, 30, 0))
    assert figures.selection.days == 1
    assert figures.selection.end - figures.selection.start == timedelta(days=1)


# --- satisfaction (the answers of tests/analytics/test_metrics_surveys.py) ------------

# November: A-E in the month, F (Bob, 5) on 15 Oct in the 30 days before.
NOVEMBER = {"range": "custom", "start": "2026-11-01", "end": "2026-11-30"}


def test_satisfaction_cards_against_the_target_and_the_previous_period(answers, manager):
    figures = figures_for(manager, NOVEMBER)
    csat = card(figures, "csat")
    # 2 of 5 rated 4-5 = 40 %; the 30 days before (2-31 Oct) hold F alone: 100 %.
    assert (csat.value, csat.previous, csat.change) == (40.0, 100.0, -60.0)
    assert (csat.target_label, csat.met, csat.improved, csat.sample) == ("≥ 85 %", False, False, 5)
    assert "average rating 3.00 of 5" in csat.detail
    nps = card(figures, "nps")
    # (2 promoters - 1 detractor) / 4 = 25; October: Carol's 3 alone = -100.
    assert (nps.value, nps.previous, nps.change, nps.improved) == (25.0, -100.0, 125.0, True)
    assert (nps.target, nps.target_label, nps.met) == (None, None, None)
    ces = card(figures, "ces")
    # November 6, 5, 3, 1 = 3.75; October F's 7.
    assert (ces.value, ces.previous, ces.sample) == (3.75, 7.0, 4)
    assert figures.satisfaction == metrics.satisfaction(figures.scope_filter)
    assert [(m.period_start, m.csat.answers) for m in figures.csat_by_month] == [
        (date(2026, 11, 1), 5)
    ]


def test_nps_has_no_figure_for_a_team(answers, manager):
    nps = card(figures_for(manager, {**NOVEMBER, "team": "billing"}), "nps")
    assert nps.value is None and "not per ticket" in nps.detail


def test_agent_rows_carry_their_csat_and_the_scatter_plots_it(client, answers, manager):
    history = answers.history
    client.force_login(manager)
    response = client.get(PAGE, WEEK)
    rows = {row.name: row for row in response.context["figures"].agents}
    assert (rows["Alice Agent"].csat_answers, rows["Alice Agent"].csat) == (3, pytest.approx(2 / 3))
    assert (rows["Bob Agent"].csat_answers, rows["Bob Agent"].csat) == (1, 0.0)
    assert (rows["Tina Tier2"].csat_answers, rows["Tina Tier2"].csat_average) == (1, 1.0)
    scatter = response.context["charts"]["agents"]
    points = {p["label"]: p for p in scatter["points"]}
    alice = rows["Alice Agent"]
    # x: median resolution time, y: CSAT %, radius by tickets solved (Alice 2,
    # the most: 20 px; Bob 1: 5 + 15 * sqrt(1/2) = 15.6 px).
    assert points["Alice Agent"]["x"] == round(alice.median_business_hours, 2)
    assert points["Alice Agent"]["y"] == 66.7
    assert (points["Alice Agent"]["r"], points["Bob Agent"]["r"]) == (20.0, 15.6)
    assert scatter["y_title"].startswith("CSAT") and scatter["target"] == 85.0
    page = response.content.decode()
    assert "67 % (3)" in page  # Alice's CSAT in the table
    assert rows["Alice Agent"].agent_id == history.alice.pk


def test_an_agent_sees_only_their_own_csat_row(client, answers):
    history = answers.history
    client.force_login(history.bob)
    figures = client.get(PAGE, NOVEMBER).context["figures"]
    assert [(row.name, row.csat_answers, row.csat) for row in figures.agents] == [
        ("Bob Agent", 1, 0.0)
    ]
    # Their team's totals: the Billing team's tickets (T2: B and C).
    assert (figures.satisfaction.csat.answers, figures.satisfaction.csat.satisfied) == (2, 1)
    # An agent cannot open the managers' follow-up list: no count, no link.
    assert figures.follow_up is None
    client.force_login(history.tina)  # in no team: only her own answers
    figures = client.get(PAGE, NOVEMBER).context["figures"]
    assert [row.name for row in figures.agents] == ["Tina Tier2"]
    assert figures.satisfaction.csat.answers == 1


def test_the_csat_card_links_to_the_follow_up_list_with_its_count(client, answers, manager):
    client.force_login(manager)
    page = client.get(PAGE, WEEK).content.decode()
    assert (
        '<a href="/survey/follow-up/" id="follow-up-link">2 bad ratings need follow-up</a>' in page
    )
    listing = client.get("/survey/follow-up/")
    assert listing.status_code == 200
    assert answers.history.tickets["T4"].key in listing.content.decode()
    client.force_login(answers.history.alice)
    assert "follow-up-link" not in client.get(PAGE, WEEK).content.decode()


def test_csat_by_month_chart_and_table(client, answers, manager):
    client.force_login(manager)
    response = client.get(PAGE, {"range": "custom", "start": "2026-10-01", "end": "2026-11-30"})
    chart = response.context["charts"]["csat_month"]
    assert chart == {
        "labels": ["Oct 2026", "Nov 2026"],
        "percent": [100.0, 40.0],
        "answers": [1, 5],
        "target": 85.0,
    }
    page = response.content.decode()
    assert 'id="chart-csat-month"' in page
    assert '<th scope="row">November 2026</th><td class="num">5</td>' in page


def test_csv_has_the_satisfaction_figures(client, answers, manager):
    client.force_login(manager)
    content = b"".join(client.get(CSV, WEEK).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(content)))
    assert ["headline", "csat", "%", "40.00", "", "", "≥ 85 %", "no", ""] in rows
    assert ["satisfaction", "nps", "4", "25.0", "-100..100"] in rows
    assert ["satisfaction", "ces_average", "4", "3.75", "1-7"] in rows
    assert ["satisfaction", "bad_ratings_awaiting_follow_up", "2", "", "answers"] in rows
    assert ["csat_by_month", "2026-11-01", "5", "2", "40.0", "3.00"] in rows
    alice = next(r for r in rows if r[:2] == ["agents", "Alice Agent"])
    assert alice[-3:] == ["3", "66.7", "3.67"]
    client.force_login(answers.history.bob)
    content = b"".join(client.get(CSV, WEEK).streaming_content).decode()
    agents = [r[1] for r in csv.reader(io.StringIO(content)) if r[0] == "agents"]
    assert agents == ["agent", "Bob Agent"]
    assert "bad_ratings_awaiting_follow_up" not in content


def test_satisfaction_adds_no_queries_with_more_answers(client, answers, manager, time_machine):
    client.force_login(manager)
    client.get(PAGE, WEEK)
    small = _queries(client, PAGE, WEEK)
    time_machine.move_to(at(11, 30, 16), tick=False)
    _more_tickets(answers.history, 3)
    for ticket in Ticket.objects.filter(subject__startswith="More "):
        answer(ticket, 1, 4, 6, at(11, 30, 17))
    time_machine.move_to(NOW, tick=False)
    assert _queries(client, PAGE, WEEK) == small <= PAGE_QUERIES
