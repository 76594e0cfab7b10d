"""The staffing page, its CSV and its API: who may see what, bad input, the
roster in use, the same figures everywhere, and constant query counts."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from analytics.staffing.plan import _gap_bucket, _workloads
from analytics.staffing.selectors import Target
from escalation.models import SLAPolicy
from tickets.models import AgentShift, Channel, Message, Ticket

# A Wednesday noon: the plan covers Thursday 3 Dec to Wednesday 16 Dec 2026.
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
HORIZON_START = datetime(2026, 12, 3, tzinfo=UTC)
PAGE = "/analytics/staffing/"
CSV = "/analytics/staffing/staffing.csv"
API = "/api/v1/analytics/staffing/"


@pytest.fixture(autouse=True)
def staffing_settings(settings):
    settings.HELPDESK_STAFFING_HISTORY_WEEKS = 6


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def add_history(
    requester,
    team,
    *,
    weeks: int,
    per_office_hour: int = 2,
    channel=Channel.PORTAL,
    around_the_clock: bool = False,
):
    """Tickets every weekday office hour (09-17 UTC; every hour of every day
    with around_the_clock) for `weeks` weeks before NOW."""
    rows = []
    start = NOW - timedelta(weeks=weeks)
    hour = start
    while hour < NOW - timedelta(hours=1):
        if around_the_clock or (hour.weekday() < 5 and 9 <= hour.hour < 17):
            rows += [
                Ticket(
                    requester=requester,
                    subject="History",
                    description="For the forecast.",
                    team=team,
                    channel=channel,
                    created_at=hour + timedelta(minutes=5 * i),
                    updated_at=hour,
                )
                for i in range(per_office_hour)
            ]
        hour += timedelta(hours=1)
    Ticket.objects.bulk_create(rows)
    return len(rows)


@pytest.fixture
def history(clock, customer, access_team, billing_team):
    add_history(customer, access_team, weeks=6, per_office_hour=3)
    add_history(customer, billing_team, weeks=6, per_office_hour=1)


def logged_in(client, user):
    client.force_login(user)
    return client


# --- access ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get(API).status_code in (401, 403)


@pytest.mark.parametrize("url", [PAGE, CSV, API])
def test_customers_get_404(client, customer, url):
    assert logged_in(client, customer).get(url).status_code == 404


def test_manager_sees_every_team(client, manager, history):
    response = logged_in(client, manager).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "All teams" in page and ">Access<" in page and ">Billing<" in page
    assert "Forecast tickets per hour" in page and "Agents needed (Erlang C)" in page
    assert "Agents on shift (roster)" in page and "Gap: agents needed minus" in page
    assert "seasonal naive baseline" in page  # six weeks: backtested, error shown


def test_agent_plans_for_their_own_team_only(client, agent, history):
    client = logged_in(client, agent)
    page = client.get(PAGE).content.decode()
    assert ">Access<" in page and ">Billing<" not in page and "All my teams" in page
    refused = client.get(PAGE, {"team": "billing"})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    api = client.get(API, {"team": "billing"})
    assert api.status_code == 400
    assert "team" in api.json()["fields"]
    # "All my teams" is the Access team's tickets: 3 an office hour, not 4.
    mine = client.get(API).json()
    manager_view = client.get(API, {"team": "access"}).json()
    assert mine["history_tickets"] == manager_view["history_tickets"]


@pytest.mark.parametrize("what_if", ["abc", "1000", "-95", "1e999", "nan", "20.55"])
def test_bad_what_if_is_a_form_error_not_a_500(client, manager, history, what_if):
    client = logged_in(client, manager)
    response = client.get(PAGE, {"what_if": what_if})
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert client.get(CSV, {"what_if": what_if}).status_code == 400


@pytest.mark.parametrize("params", [{"what_if": "abc"}, {"what_if": "501"}, {"channel": "fax"},
                                    {"category": "nope"}])  # fmt: skip
def test_bad_api_parameters_answer_400_with_a_message(client, manager, history, params):
    response = logged_in(client, manager).get(API, params)
    assert response.status_code == 400
    assert response.json()["error"]


# --- figures --------------------------------------------------------------------------


def test_what_if_scales_the_forecast_and_the_agents(client, settings, manager, history):
    # An hour's work per ticket: 4 tickets an hour need 5 agents (occupancy
    # at most 0.85), 4.8 need 6.
    settings.HELPDESK_STAFFING_AHT_MINUTES = 60
    client = logged_in(client, manager)
    base = client.get(API).json()
    more = client.get(API, {"what_if": "20"}).json()
    assert more["what_if_percent"] == 20
    assert more["handling_minutes"] == 60 and more["handling_source"] == "setting"
    for plain, raised in zip(base["hours"], more["hours"], strict=True):
        assert raised["forecast_tickets"] == pytest.approx(plain["forecast_tickets"])
        assert raised["planned_tickets"] == pytest.approx(plain["forecast_tickets"] * 1.2)
        assert raised["agents_needed"] >= plain["agents_needed"]
    assert more["totals"]["agent_hours_needed"] > base["totals"]["agent_hours_needed"]
    page = client.get(PAGE, {"what_if": "20"}).content.decode()
    assert "with volume +20 %" in page


def test_forecast_follows_the_office_hours_of_the_history(client, manager, history):
    data = logged_in(client, manager).get(API, {"team": "access"}).json()
    assert data["quality"] == "backtested"
    assert data["backtest"]["folds"] >= 1
    assert set(data["backtest"]["wape"]) == {"seasonal_naive", "seasonal_mean", "poisson_trend"}
    hours = {datetime.fromisoformat(h["start"]): h for h in data["hours"]}
    assert len(hours) == 14 * 24
    assert min(hours) == HORIZON_START
    thursday_10 = hours[HORIZON_START + timedelta(hours=10)]
    thursday_03 = hours[HORIZON_START + timedelta(hours=3)]
    saturday_10 = hours[HORIZON_START + timedelta(days=2, hours=10)]
    assert thursday_10["forecast_tickets"] == pytest.approx(3, abs=0.3)
    assert thursday_03["forecast_tickets"] < 0.2 and saturday_10["forecast_tickets"] < 0.2
    assert thursday_10["agents_needed"] >= 1
    assert thursday_03["agents_needed"] <= 1


def test_short_and_empty_history_are_said_so(client, clock, manager, customer, access_team):
    client = logged_in(client, manager)
    empty = client.get(API).json()
    assert empty["quality"] == "empty"
    assert all(h["agents_needed"] == 0 for h in empty["hours"])
    assert "No tickets in the history" in client.get(PAGE).content.decode()
    add_history(customer, access_team, weeks=1)
    # Backdated tickets: the forecast of this same hour is cached (the history
    # normally only grows when the hour turns, which changes the cache key).
    cache.clear()
    short = client.get(API).json()
    assert short["quality"] in ("short", "very_short")
    assert "is not backtested" in short["notes"][0] or "A backtest needs" in short["notes"][0]


def test_roster_counts_agents_on_shift_and_the_gap(client, manager, agent, other_agent, history):
    # Alice (Access) works Thursdays 09:00-17:30, Bob (Billing) 22:00-06:00.
    AgentShift.objects.create(agent=agent, weekday=3, starts=time(9), ends=time(17, 30))
    AgentShift.objects.create(agent=other_agent, weekday=3, starts=time(22), ends=time(6))
    client = logged_in(client, manager)
    access = client.get(API, {"team": "access"}).json()["hours"]
    on_shift = [h["agents_on_shift"] for h in access[:24]]  # Thursday 3 Dec
    assert on_shift[8] == 0 and on_shift[9] == 1 and on_shift[16] == 1 and on_shift[17] == 0.5
    assert access[10]["gap_agents"] == access[10]["agents_needed"] - 1
    everyone = client.get(API).json()["hours"]
    assert everyone[23]["agents_on_shift"] == 1  # Bob from 22:00 on Thursday...
    assert everyone[24 + 5]["agents_on_shift"] == 1  # ...until 06:00 on Friday
    assert everyone[24 + 6]["agents_on_shift"] == 0
    assert access[23]["agents_on_shift"] == 0  # Bob is not in Access
    # A week later the same roster applies again.
    assert access[7 * 24 + 9]["agents_on_shift"] == 1


def test_shift_of_a_customer_is_refused(customer):
    shift = AgentShift(agent=customer, weekday=0, starts=time(9), ends=time(17))
    with pytest.raises(ValidationError):
        shift.full_clean()
    shift = AgentShift(
        agent=customer, weekday=0, starts=time(9), ends=time(17), time_zone="Mars/Base"
    )
    with pytest.raises(ValidationError, match="time zone"):
        shift.full_clean()


def test_csv_streams_the_same_figures_as_the_api(client, manager, agent, history):
    AgentShift.objects.create(agent=agent, weekday=3, starts=time(9), ends=time(17))
    client = logged_in(client, manager)
    response = client.get(CSV, {"what_if": "20", "team": "access"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    api = client.get(API, {"what_if": "20", "team": "access"}).json()["hours"]
    assert len(rows) == len(api) == 336
    for row, hour in zip(rows, api, strict=True):
        assert datetime.fromisoformat(row["hour_start_utc"]) == datetime.fromisoformat(
            hour["start"]
        )
        assert float(row["planned_tickets"]) == pytest.approx(hour["planned_tickets"], abs=0.005)
        assert int(row["agents_needed"]) == hour["agents_needed"]
        assert float(row["agents_on_shift"]) == pytest.approx(hour["agents_on_shift"])


def test_week_two_shows_the_following_seven_days(client, manager, history):
    client = logged_in(client, manager)
    first = client.get(PAGE).content.decode()
    second = client.get(PAGE, {"week": "2"}).content.decode()
    assert "Thu 3 Dec" in first and "Thu 10 Dec" not in first
    assert "Thu 10 Dec" in second and "Wed 16 Dec" in second and "Thu 3 Dec" not in second


def test_page_uses_no_inline_style(client, manager, history):
    page = logged_in(client, manager).get(PAGE).content.decode()
    assert "style=" not in page
    assert "analytics/staffing.css" in page


# --- query counts ---------------------------------------------------------------------

COUNTED_REQUESTS = [
    (PAGE, {}),
    (PAGE, {"team": "access", "what_if": "20"}),
    (CSV, {"channel": "email"}),
    (API, {}),
    (API, {"team": "access"}),
]


def test_page_csv_and_api_run_a_constant_number_of_queries(
    client, manager, agent, customer, access_team, clock, warm_caches
):
    # Warm (the steady state), page and CSV: user, teams, categories, the SLA
    # policy's target, the roster = 5; the API has no categories list = 4.
    # Cold (cache emptied; permissions re-warmed): also the session (cached_db),
    # the hourly arrivals and the handling-time aggregate = 8 and 7.
    client = logged_in(client, manager)
    counts = {}
    for size in (0, 1, 3):
        if size:
            add_history(customer, access_team, weeks=size, per_office_hour=size)
            AgentShift.objects.create(agent=agent, weekday=size, starts=time(9), ends=time(17))
        for url, params in COUNTED_REQUESTS:
            for state in ("cold", "warm"):
                if state == "cold":
                    cache.clear()
                warm_caches(manager)
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url, params)
                    if isinstance(response, StreamingHttpResponse):
                        b"".join(response.streaming_content)
                assert response.status_code == 200, (url, params)
                counts[size, url, json.dumps(params), state] = len(queries)
    for (size, url, params, state), count in counts.items():
        assert count == counts[0, url, params, state], (size, url, params, state, count)
    expected = {PAGE: (8, 5), CSV: (8, 5), API: (7, 4)}
    for url, params in COUNTED_REQUESTS:
        key = json.dumps(params)
        assert (counts[0, url, key, "cold"], counts[0, url, key, "warm"]) == expected[url]


def test_a_cached_plan_has_the_same_figures(client, manager, history):
    client = logged_in(client, manager)
    cold = client.get(API, {"team": "access"}).json()
    warm = client.get(API, {"team": "access"}).json()
    assert cold == warm


# --- handling time, target, schema, admin ---------------------------------------------


def test_handling_time_is_measured_from_the_staffs_messages(
    client, clock, manager, agent, customer, access_team, billing_team
):
    # Alice answers 40 tickets in a row, one every 12 minutes, each ticket also
    # getting a second reply of hers the next morning after a night's break:
    # 12 minutes per message × 2 messages per ticket = 24 minutes.
    first_day = NOW - timedelta(days=3)
    tickets = Ticket.objects.bulk_create(
        Ticket(
            requester=customer, subject="T", description="d", team=access_team, created_at=first_day
        )
        for _ in range(40)
    )
    messages = []
    for index, ticket in enumerate(tickets):
        for day in (0, 1):
            messages.append(
                Message(
                    ticket=ticket,
                    author=agent,
                    body="Answer",
                    created_at=first_day + timedelta(days=day, minutes=12 * index),
                )
            )
    messages.append(
        Message(ticket=tickets[0], author=customer, body="Thanks", created_at=first_day)
    )
    Message.objects.bulk_create(messages)
    data = logged_in(client, manager).get(API).json()
    assert data["handling_source"] == "measured"
    assert data["handling_minutes"] == pytest.approx(24.0)
    assert "measured: minutes per staff message" in client.get(PAGE).content.decode()
    # The Billing team's people wrote nothing: too little to measure there.
    billing = client.get(API, {"team": "billing"}).json()
    assert billing["handling_source"] == "default" and billing["handling_minutes"] == 20


def test_workloads_carry_closed_hours_to_the_first_open_hours_within_the_target():
    two_hours = Target(120, "test", calendar_id=1)
    # Closed, closed, half open, open, open, open: the 4 tickets of the closed
    # hours and the closed half of the third (1) are answered over the first
    # two open hours (2.5 each); the open half of the third brings its own 1.
    assert _workloads([2, 2, 2, 4, 4, 4], [0, 0, 0.5, 1, 1, 1], two_hours) == [
        0,
        0,
        1 + 2.5,
        4 + 2.5,
        4,
        4,
    ]
    # Always open: the workload is the arrivals.
    assert _workloads([1, 2, 3], [1, 1, 1], Target(240, "test")) == [1, 2, 3]


def test_gap_colours_follow_a_fixed_scale_of_agents_short():
    assert [_gap_bucket(g) for g in (-3, 0, 0.5, 1, 1.5, 2, 3, 4, 4.5, 9)] == [
        0, 0, 1, 1, 2, 2, 3, 3, 4, 4,
    ]  # fmt: skip


def test_closed_sla_hours_need_nobody_and_their_tickets_wait_for_the_opening(
    client, clock, manager, customer, access_team
):
    """The standard normal policy counts the "office" calendar (Mon-Fri 08-18
    UTC): tickets arriving at night or at the weekend are answered when it
    opens, so those hours need no agent and the morning carries them."""
    add_history(customer, access_team, weeks=6, per_office_hour=2, around_the_clock=True)
    client = logged_in(client, manager)
    hours = client.get(API).json()["hours"]
    thursday, saturday = hours[:24], hours[2 * 24 : 3 * 24]
    for hour in (*thursday[:8], *thursday[18:], *saturday):
        assert (hour["open_share"], hour["workload_tickets"], hour["agents_needed"]) == (0, 0, 0)
    assert thursday[8]["open_share"] == 1 and thursday[8]["agents_needed"] >= 1
    # The morning answers its own arrivals and the night's.
    assert thursday[8]["workload_tickets"] > thursday[8]["planned_tickets"] + 1
    assert thursday[17]["workload_tickets"] == pytest.approx(thursday[17]["planned_tickets"])
    page = client.get(PAGE).content.decode()
    assert "heat-closed" in page and "SLA calendar closed" in page


def test_answer_target_comes_from_the_sla_policy(client, clock, manager, settings):
    # The policies come with the database (escalation's data migration).
    SLAPolicy.objects.filter(support_tier="standard", priority="normal").update(
        first_response_minutes=120
    )
    client = logged_in(client, manager)
    assert client.get(API).json()["target_minutes"] == 120
    settings.HELPDESK_STAFFING_TARGET_MINUTES = 30
    assert client.get(API).json()["target_source"] == "setting"


def test_the_api_is_in_the_openapi_schema(client, db):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    operation = schema["paths"]["/api/v1/analytics/staffing/"]["get"]
    assert operation["operationId"] == "analytics_staffing"
    assert {p["name"] for p in operation["parameters"]} >= {
        "team",
        "category",
        "channel",
        "what_if",
    }
    assert "200" in operation["responses"] and "400" in operation["responses"]


def test_shifts_are_edited_in_the_admin():
    from django.contrib import admin

    assert AgentShift in admin.site._registry


def test_shift_hours_follow_the_agents_local_clock_across_dst(agent):
    from analytics.staffing.selectors import shift_coverage

    # Mondays 09:00-17:00 in Berlin: 08-16 UTC in winter (CET), 07-15 UTC
    # from 29 March 2026 (CEST).
    AgentShift.objects.create(
        agent=agent, weekday=0, starts=time(9), ends=time(17), time_zone="Europe/Berlin"
    )
    start = datetime(2026, 3, 23, tzinfo=UTC)  # Monday, still CET
    coverage = shift_coverage(team_ids=None, start=start, hours=14 * 24)
    winter = [hour for hour in range(24) if coverage[hour]]
    summer = [hour - 7 * 24 for hour in range(7 * 24, 8 * 24) if coverage[hour]]
    assert winter == list(range(8, 16))
    assert summer == list(range(7, 15))
    assert coverage.sum() == 16


def test_hourly_warm_up_caches_the_plan_of_every_team(client, manager, history):
    from analytics.staffing.tasks import warm_staffing_forecasts

    # All tickets, Access, Billing.
    assert warm_staffing_forecasts.apply().get() == 3
    client = logged_in(client, manager)
    # The first request of the hour already finds the forecast and the
    # handling time: neither the arrivals nor the handling-time query runs.
    for params in ({}, {"team": "billing"}, {"team": "access", "what_if": "20"}):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(API, params)
        assert response.status_code == 200
        statements = " ".join(q["sql"] for q in queries)
        assert "DATE_TRUNC" not in statements and "LAG(" not in statements, params
