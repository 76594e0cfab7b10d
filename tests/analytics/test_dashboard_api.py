"""The dashboard API: the page's figures as JSON, the same access and
filters, 400 JSON for bad input, constant queries, and the OpenAPI schema."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from tests.analytics.test_dashboard import PAGE_QUERIES, WEEK, _more_tickets, card, figures_for
from tests.analytics.test_metrics import NOW, at, history, sla_defaults
from tests.analytics.test_metrics_surveys import answers

# The dashboard reads the ticket facts: build them from the history.
pytestmark = pytest.mark.usefixtures("history_facts")

# Fixtures used here, made in test_metrics and test_metrics_surveys.
__all__ = ["answers", "history", "sla_defaults"]

API = "/api/v1/analytics/dashboard/"


def test_anonymous_gets_401(client, db):
    assert client.get(API).status_code == 401


def test_customer_gets_404(client, customer):
    client.force_login(customer)
    response = client.get(API)
    assert response.status_code == 404 and "error" in response.json()


def test_manager_gets_the_pages_figures(client, history, manager):
    client.force_login(manager)
    data = client.get(API, WEEK).json()
    figures = figures_for(manager, WEEK)
    assert (data["start"], data["end"], data["period"]) == ("2026-11-23", "2026-11-30", "day")
    assert data["figures_as_of"] == figures.facts_as_of.isoformat().replace("+00:00", "Z")
    cards = {c["key"]: c for c in data["cards"]}
    assert cards["sla"]["value"] == pytest.approx(card(figures, "sla").value)
    assert cards["sla"]["target"] == "≥ 95 %"
    assert cards["first_response"]["previous"] is None
    assert sum(row["created"] for row in data["trend"]) == 6
    assert len(data["hour_by_weekday"]) == 7 and len(data["hour_by_weekday"][0]) == 24
    assert data["backlog"]["by_age"]["30d+"] == 1
    assert data["escalations"]["by_kind"] == {"sla": 1, "customer": 1, "manual": 1}
    assert data["escalations"]["by_tier"] == {"2": 2, "none": 1}
    assert sorted(a["name"] for a in data["agents"]) == ["Alice Agent", "Bob Agent", "Tina Tier2"]
    assert set(data["sla_by_customer_tier"]) == {"basic", "standard", "vip"}


def test_agent_gets_only_their_own_row_by_token(client, history):
    token = Token.objects.create(user=history.alice)
    data = client.get(API, WEEK, HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert [a["name"] for a in data["agents"]] == ["Alice Agent"]
    refused = client.get(
        API, {**WEEK, "agent": history.bob.pk}, HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert refused.status_code == 400 and "agent" in refused.json()["fields"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"range": "custom", "start": "2026-11-30", "end": "2026-11-01"}, "end"),
        ({"tier": "gold"}, "tier"),
        ({"range": "forever"}, "range"),
    ],
)
def test_bad_filters_are_400_json(client, manager, params, field):
    client.force_login(manager)
    response = client.get(API, params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_api_runs_a_constant_number_of_queries(client, history, manager, time_machine):
    client.force_login(manager)
    client.get(API, WEEK)

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(API, WEEK).status_code == 200
        return len(context)

    small = count()
    time_machine.move_to(at(11, 30, 16), tick=False)
    _more_tickets(history, 3)
    time_machine.move_to(NOW, tick=False)
    assert count() == small <= PAGE_QUERIES


def test_the_api_is_in_the_openapi_schema(client, db, settings):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    operation = schema["paths"]["/api/v1/analytics/dashboard/"]["get"]
    assert operation["operationId"] == "analytics_dashboard"
    assert {p["name"] for p in operation["parameters"]} >= {
        "range", "start", "end", "period", "team", "category", "tier", "channel", "priority",
        "agent",
    }  # fmt: skip
    assert {"200", "400", "401", "404"} <= set(operation["responses"])
    component = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    name = component.rsplit("/", 1)[1]
    properties = schema["components"]["schemas"][name]["properties"]
    assert {
        "cards", "trend", "categories", "hour_by_weekday", "backlog", "agents", "satisfaction",
        "csat_by_month",
    } <= set(properties)  # fmt: skip
    components = schema["components"]["schemas"]
    assert {"csat", "ces", "nps", "bad_ratings_awaiting_follow_up"} <= set(
        components["Satisfaction"]["properties"]
    )
    assert {"csat_answers", "csat", "csat_average"} <= set(components["Agent"]["properties"])
    assert components["Card"]["properties"]["target"]["nullable"] is True


def test_the_api_has_the_satisfaction_figures(client, answers, manager):
    client.force_login(manager)
    data = client.get(API, {"range": "custom", "start": "2026-11-01", "end": "2026-11-30"}).json()
    cards = {c["key"]: c for c in data["cards"]}
    assert (cards["csat"]["value"], cards["csat"]["previous"], cards["csat"]["change"]) == (
        40.0, 100.0, -60.0,
    )  # fmt: skip
    assert (cards["csat"]["target"], cards["csat"]["met"]) == ("≥ 85 %", False)
    assert (cards["nps"]["unit"], cards["nps"]["value"], cards["nps"]["target"]) == (
        "nps", 25.0, None,
    )  # fmt: skip
    assert (cards["ces"]["unit"], cards["ces"]["value"]) == ("ces", 3.75)
    satisfaction = data["satisfaction"]
    assert satisfaction["csat"] == {"answers": 5, "satisfied": 2, "rate": 0.4, "average": 3.0}
    assert satisfaction["ces"] == {"answers": 4, "average": 3.75}
    assert satisfaction["nps"] == {
        "defined": True, "answers": 4, "promoters": 2, "passives": 1, "detractors": 1,
        "score": 25.0,
    }  # fmt: skip
    assert satisfaction["bad_ratings_awaiting_follow_up"] == 2
    assert data["csat_by_month"] == [
        {
            "month": "2026-11-01",
            "csat": {"answers": 5, "satisfied": 2, "rate": 0.4, "average": 3.0},
        }
    ]
    alice = next(a for a in data["agents"] if a["name"] == "Alice Agent")
    assert (alice["csat_answers"], alice["csat"]) == (3, pytest.approx(2 / 3))


def test_an_agent_gets_only_their_own_csat_by_token(client, answers):
    token = Token.objects.create(user=answers.history.tina)
    data = client.get(API, WEEK, HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert [(a["name"], a["csat_answers"]) for a in data["agents"]] == [("Tina Tier2", 1)]
    assert data["satisfaction"]["bad_ratings_awaiting_follow_up"] is None
