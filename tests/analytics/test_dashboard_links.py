"""The dashboard's drill-down links (analytics.dashboard.links): each count
opens the ticket list with the filter of its metric's date rule, and the list
then shows the tickets behind the count."""

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from analytics.dashboard import links
from analytics.dashboard.figures import Selection
from escalation.models import Escalation
from tests.factories import make_ticket, make_user
from tickets import services
from tickets.history import record_event
from tickets.models import Role, Status, SupportTier


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def _selection(**dimensions) -> Selection:
    return Selection(
        start=_at(9, 0),
        end=_at(16, 0),
        start_date=date(2026, 11, 9),
        end_date=date(2026, 11, 15),
        period="day",
        **dimensions,
    )


def _params(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert parts.path == "/tickets/"
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


WEEK = {"created_from": "2026-11-09", "created_to": "2026-11-15"}


def test_created_counts_link_to_the_created_days_in_every_status():
    selection = _selection(team_id=3, channel="email", customer_tier="vip")
    assert _params(links.ticket_list_url(selection)) == {
        "queue": "any",
        "team": "3",
        "channel": "email",
        "customer_tier": "vip",
        **WEEK,
    }
    day = links.period_days(date(2026, 11, 10), "day", selection)
    assert _params(links.ticket_list_url(selection, created=day))["created_to"] == "2026-11-10"


def test_solved_counts_link_to_the_solve_days():
    params = _params(links.solved_list_url(_selection(), overrides={"assignee": "7"}))
    assert params == {
        "queue": "any",
        "solved_from": "2026-11-09",
        "solved_to": "2026-11-15",
        "assignee": "7",
    }


@pytest.mark.parametrize(
    ("target", "expected"),
    [("first_response", "first_response"), ("resolution", "resolution"), ("all", "any")],
)
def test_breached_counts_link_to_the_sla_filter(target, expected):
    params = _params(links.breached_list_url(_selection(), target=target, customer_tier="basic"))
    assert params == {"queue": "any", "sla_breached": expected, "customer_tier": "basic", **WEEK}


def test_escalation_counts_link_to_the_escalated_filter():
    assert _params(links.escalated_list_url(_selection())) == {
        "queue": "any",
        "escalated": "yes",
        **WEEK,
    }
    manual = _params(links.escalated_list_url(_selection(), kind=Escalation.Kind.MANUAL))
    assert manual["escalation_kind"] == "tier"
    # A major incident leaves no event on the ticket: every escalated ticket.
    incident = _params(links.escalated_list_url(_selection(), kind=Escalation.Kind.INCIDENT))
    assert "escalation_kind" not in incident and incident["escalated"] == "yes"
    assert _params(links.escalated_list_url(_selection(), to_tier=2))["tier"] == "2"


def test_backlog_links_to_open_tickets_by_creation_day():
    params = _params(links.backlog_url(_selection(priority="high"), _at(30), 7, 30))
    assert params == {
        "queue": "all",
        "priority": "high",
        "created_from": "2026-10-31",
        "created_to": "2026-11-23",
    }


def test_each_link_opens_the_tickets_behind_its_count(
    client, manager, agent, customer, access_team
):
    """Created, solved, breached and escalated in the week of 9-15 November."""
    guest = make_user(Role.CUSTOMER, email="gina@example.test", organization=None)
    made = {}
    for name, requester, day in (
        ("before", customer, 2),
        ("solved_in_week", customer, 10),
        ("open_in_week", guest, 11),
        ("breached", guest, 12),
    ):
        with time_machine.travel(_at(day), tick=False):
            made[name] = make_ticket(requester=requester, subject=name, team=access_team)
    for name, day in (("before", 9), ("solved_in_week", 13)):
        with time_machine.travel(_at(day), tick=False):
            services.ticket_change_status(ticket=made[name], status=Status.SOLVED, actor=agent)
    record_event(made["breached"], actor=None, action="sla.breach", field="resolution", at=_at(14))
    client.force_login(manager)

    def listed(url):
        response = client.get(url)
        assert response.status_code == 200, response.content
        return {t.subject for t in response.context["tickets"]}

    selection = _selection()
    assert listed(links.ticket_list_url(selection)) == {
        "solved_in_week",
        "open_in_week",
        "breached",
    }
    assert listed(links.solved_list_url(selection)) == {"before", "solved_in_week"}
    assert listed(links.breached_list_url(selection, target="resolution")) == {"breached"}
    assert listed(links.breached_list_url(selection, target="first_response")) == set()
    assert listed(links.escalated_list_url(selection, kind=Escalation.Kind.SLA)) == {"breached"}
    basic = _selection(customer_tier=SupportTier.BASIC)
    assert listed(links.ticket_list_url(basic)) == {"open_in_week", "breached"}
