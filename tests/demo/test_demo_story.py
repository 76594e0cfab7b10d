"""The demo's 90-day story (issue 12, JOURNEYS.md journey 5): resolution
times and CSAT improve, one agent is the fastest and another the best rated,
the survey rows follow the product's rules, NPS and CES answers exist, and
every agent has shifts for the staffing page. Figures are read with the
product's own metrics and selectors where they exist."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, F, Q

from analytics.metrics.agents import agent_figures
from analytics.metrics.durations import resolution_time
from analytics.metrics.filters import MetricFilter
from analytics.metrics.rates import escalations
from analytics.metrics.sla import sla_compliance
from analytics.models import CSATResponse, NPSInvite, NPSResponse, SurveyInvite
from analytics.staffing.selectors import shift_coverage
from analytics.surveys.selectors import follow_up_list
from analytics.surveys.sending import nps_period_start
from demo import catalog
from escalation.models import Escalation, TicketSLA
from tickets.models import AgentShift, Status, Ticket, TicketEvent, User

NOW = datetime(2026, 3, 4, 15, 30, 12, tzinfo=UTC)


def seed(tickets: int, seed_value: int = 7) -> str:
    out = io.StringIO()
    call_command("seed_demo", tickets=tickets, seed=seed_value, verbosity=0, stdout=out)
    return out.getvalue()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def csat_share(start: datetime, end: datetime) -> float:
    """CSAT as the dashboard states it: the share of 4-5 ratings."""
    counts = CSATResponse.objects.filter(answered_at__gte=start, answered_at__lt=end).aggregate(
        answers=Count("id"), good=Count("id", filter=Q(rating__gte=4))
    )
    assert counts["answers"] >= 100
    return counts["good"] / counts["answers"]


def test_the_quarter_improves_and_agents_differ(db, frozen):
    output = seed(tickets=3000)
    assert "CSAT answers" in output

    early = resolution_time(MetricFilter(start=days_ago(90), end=days_ago(62))).calendar
    late = resolution_time(MetricFilter(start=days_ago(14), end=NOW)).calendar
    assert 40 < early.median_hours < 58
    assert 14 < late.median_hours < 28

    assert 0.55 < csat_share(days_ago(90), days_ago(62)) < 0.75
    assert 0.8 < csat_share(days_ago(21), NOW) < 0.95

    # The fastest agent (median resolution, enough tickets to judge) is the
    # cast's quickest, and the best rated its most liked; not the same person.
    figures = agent_figures(MetricFilter(start=days_ago(90), end=NOW), now=NOW)
    by_speed = sorted(
        (f.resolution_time.calendar.median_hours, agent_id)
        for agent_id, f in figures.items()
        if f.tickets_solved >= 80
    )
    ratings = (
        CSATResponse.objects.values("agent")
        .annotate(answers=Count("id"), good=Count("id", filter=Q(rating__gte=4)))
        .filter(answers__gte=40)
    )
    by_rating = sorted((r["good"] / r["answers"], r["agent"]) for r in ratings)
    emails = dict(User.objects.values_list("pk", "email"))
    fastest, best_rated = emails[by_speed[0][1]], emails[by_rating[-1][1]]
    quickest_spec = min(catalog.AGENTS, key=lambda spec: spec.speed)
    liked_spec = max(catalog.AGENTS, key=lambda spec: spec.quality)
    assert fastest == quickest_spec.email
    assert best_rated == liked_spec.email
    assert fastest != best_rated
    # Clearly ahead, not by a rounding error.
    assert by_speed[0][0] < 0.93 * by_speed[1][0]


def test_survey_rows_are_what_the_product_writes(db, frozen):
    seed(tickets=600)

    # A round per solve (the lifecycle hook), numbered by the solves so far.
    solves = dict(
        TicketEvent.objects.filter(field="status", new_value=Status.SOLVED)
        .values_list("ticket")
        .annotate(n=Count("id"))
    )
    rounds = dict(SurveyInvite.objects.values_list("ticket").annotate(n=Count("id")))
    assert rounds == solves
    last_rounds = SurveyInvite.objects.values_list("ticket", "round")
    assert all(1 <= number <= solves[ticket] for ticket, number in last_rounds)
    assert not SurveyInvite.objects.exclude(customer=F("ticket__requester"))
    assert not SurveyInvite.objects.exclude(team=F("ticket__team"))
    # Sent rounds were due and sent by the sweep; pending ones are not due yet.
    assert not SurveyInvite.objects.filter(state="sent", sent_at__lt=F("due_at"))
    assert not SurveyInvite.objects.filter(state="pending", due_at__lte=NOW)
    assert not SurveyInvite.objects.filter(state="pending").exclude(sent_at=None)
    delay = timedelta(minutes=settings.HELPDESK_CSAT_DELAY_MINUTES)
    assert not SurveyInvite.objects.exclude(due_at=F("solved_at") + delay)

    # Answers: a realistic share, on a solve that held, after it, by whoever solved it.
    responses = CSATResponse.objects.all()
    invites_due = SurveyInvite.objects.exclude(state="pending").count()
    assert 0.2 < responses.count() / invites_due < 0.45
    for response in responses.select_related("ticket"):
        invite = SurveyInvite.objects.get(ticket=response.ticket, round=response.round)
        assert invite.state in ("sent", "skipped")
        assert (response.agent_id, response.team_id) == (invite.agent_id, invite.team_id)
        assert response.customer_id == response.ticket.requester_id
        assert invite.solved_at <= response.answered_at <= NOW
        assert response.ticket.status in (Status.SOLVED, Status.CLOSED)
        if invite.state == "skipped":  # answered on the portal before the e-mail
            assert response.source == "portal" and response.answered_at < invite.due_at
    # The Customer Effort Score on part of them, comments on most bad ones.
    assert 0.3 < responses.exclude(effort=None).count() / responses.count() < 0.8
    bad = responses.filter(rating__lte=2)
    assert bad.exclude(comment="").count() > bad.filter(comment="").count()
    # Followed up by a manager, except the latest that still wait in the list.
    followed = bad.exclude(followed_up_at=None)
    assert followed.exists()
    assert set(followed.values_list("followed_up_by__role", flat=True)) == {"manager"}
    assert not followed.filter(followed_up_at__lt=F("answered_at"))
    assert list(follow_up_list())


def test_nps_answers_in_the_current_period(db, frozen):
    seed(tickets=600)
    period = nps_period_start(NOW, settings.HELPDESK_NPS_CADENCE_DAYS)
    period_start = datetime.combine(period, time(0), tzinfo=UTC)

    invites = NPSInvite.objects.filter(period_start=period)
    answers = NPSResponse.objects.filter(period_start=period)
    assert answers.exists()
    assert answers.count() < invites.count()
    # The sweep asks customers with a ticket solved in the period, once each.
    solved_for = set(
        SurveyInvite.objects.filter(created_at__gte=period_start).values_list("customer", flat=True)
    )
    assert set(invites.values_list("customer", flat=True)) <= solved_for
    assert not invites.filter(sent_at__lt=period_start)
    assert not answers.exclude(customer=F("invite__customer"))
    assert not answers.filter(answered_at__lt=F("invite__sent_at"))
    assert set(answers.values_list("score", flat=True)) & {9, 10}
    assert set(answers.values_list("score", flat=True)) & set(range(7))


def test_every_agent_has_shifts_for_the_staffing_page(db, frozen):
    seed(tickets=50)
    agents = User.objects.filter(email__in=[spec.email for spec in catalog.AGENTS])
    per_agent = dict(AgentShift.objects.values_list("agent").annotate(n=Count("id")))
    assert set(per_agent) == set(agents.values_list("pk", flat=True))
    assert all(n >= 5 for n in per_agent.values())
    # Staggered: early and late starts, and weekend cover.
    assert AgentShift.objects.filter(starts__lt=time(9)).exists()
    assert AgentShift.objects.filter(ends__gt=time(17)).exists()
    assert AgentShift.objects.filter(weekday__gte=5).exists()

    # The staffing page's roster: agents on shift through a weekday, fewer at night.
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    coverage = shift_coverage(team_ids=None, start=monday, hours=24)
    assert coverage[10] >= 10
    assert coverage[3] == 0
    assert coverage[7] > 0 and coverage[20] > 0

    # Seeding again adds tickets, not a second roster.
    shifts = AgentShift.objects.count()
    seed(tickets=20, seed_value=8)
    assert AgentShift.objects.count() == shifts


def test_surveys_do_not_change_the_tickets_a_seed_makes(db, frozen, monkeypatch):
    seed(tickets=200)
    tickets = list(Ticket.objects.order_by("id").values_list("subject", "status", "solved_at"))
    Ticket.objects.all().delete()
    monkeypatch.setattr("demo.surveys.RESPONSE_RATE", 0.9)
    seed(tickets=200)
    assert (
        list(Ticket.objects.order_by("id").values_list("subject", "status", "solved_at")) == tickets
    )
    assert CSATResponse.objects.count() > 0.6 * SurveyInvite.objects.count()


def test_sla_clocks_and_escalations_give_the_dashboard_figures(db, frozen):
    seed(tickets=1500)

    # Every seeded ticket has the clock intake starts, with its policy.
    assert TicketSLA.objects.count() == Ticket.objects.count()
    assert not TicketSLA.objects.filter(policy=None)
    # Stopped clocks: met when the ticket was answered and solved, breached
    # at the due time when that came later.
    solved = TicketSLA.objects.filter(ticket__status__in=[Status.SOLVED, Status.CLOSED])
    assert not solved.exclude(resolution_met_at=F("ticket__solved_at"))
    assert not solved.filter(resolution_breached_at__gte=F("resolution_met_at"))
    assert solved.exclude(first_response_breached_at=None).exists()

    # The dashboard's compliance (recomputed from the history): first
    # responses mostly late in the early weeks, mostly on time recently.
    early = sla_compliance(MetricFilter(start=days_ago(90), end=days_ago(62)), now=NOW)
    late = sla_compliance(MetricFilter(start=days_ago(21), end=NOW), now=NOW)
    early_first, late_first = early.overall["first_response"], late.overall["first_response"]
    assert early_first.breached > early_first.met
    assert late_first.met > 2 * late_first.breached
    assert late.overall["all"].met > early.overall["all"].met * 0.5

    # Each breach as the sweep records it: an SLA escalation and a "sla.breach"
    # event (the queue filter behind the dashboard's drill-down), exactly the
    # first-response and resolution breaches the dashboard counts.
    whole = sla_compliance(MetricFilter(start=days_ago(91), end=NOW), now=NOW).overall
    breaches = TicketEvent.objects.filter(action="sla.breach")
    for target in ("first_response", "resolution"):
        assert breaches.filter(field=target).count() == whole[target].breached > 0
        assert (
            Escalation.objects.filter(kind="sla", target=target, threshold="breach").count()
            == whole[target].breached
        )
    breach = breaches.filter(field="resolution").select_related("ticket__sla").first()
    assert breach is not None
    assert breach.ticket.sla.resolution_breached_at == breach.created_at
    assert not Escalation.objects.filter(kind="sla").exclude(created_at=F("due_at"))

    # Tier escalations: an Escalation record per tier move of the history.
    figures = escalations(MetricFilter(start=days_ago(90), end=NOW))
    moves = TicketEvent.objects.filter(action="ticket.tier_changed")
    assert figures.by_kind["manual"] == moves.count()
    assert figures.by_kind["sla"] > 0
    for escalation in Escalation.objects.filter(kind="manual").select_related("ticket")[:50]:
        move = moves.get(ticket=escalation.ticket)
        assert (move.actor_id, move.created_at) == (escalation.actor_id, escalation.created_at)
        assert move.new_value == str(escalation.to_tier)
        assert escalation.reason and escalation.actions == [f"tier \u2192 {escalation.to_tier}"]
