"""Ticket facts (analytics/rollups/facts.py) on the hand-made history of
test_metrics.py: every figure computed from the facts equals the metric
read from the raw tables and the hand-checked values there; a running SLA
target tells when the fact must be judged again; refreshing is idempotent
and a batch costs a constant number of queries."""

from __future__ import annotations

import pytest

from analytics import metrics
from analytics.metrics.stats import DurationStats
from analytics.models import TicketFact, escalation_kind_field, escalation_tier_field
from analytics.rollups.facts import due_for_sla, rebuild_facts, refresh_facts
from escalation.models import Escalation
from tests.analytics.test_metrics import NOW, RANGE, at, history, sla_defaults  # noqa: F401
from tickets.models import AgentTier, Ticket


def in_range(field: str):
    return TicketFact.objects.filter(**{f"{field}__gte": RANGE.start, f"{field}__lt": RANGE.end})


def hours(stats: DurationStats) -> tuple[int, float | None, float | None]:
    return stats.count, stats.median_hours, stats.p90_hours


@pytest.fixture
def facts(history):  # noqa: F811 - the fixture imported above
    rebuild_facts(NOW)
    return history


def of(facts, field: str) -> tuple[int, float | None, float | None]:
    """Count, median and 90th percentile (hours) of a duration of `facts`."""
    values = facts.exclude(**{field: None}).values_list(field, flat=True)
    return hours(DurationStats.of_seconds(values))


def test_durations_from_the_facts_equal_the_metrics(facts):
    created, solved = in_range("created_at"), in_range("solved_at")
    first = metrics.first_response_time(RANGE)
    assert of(created, "first_response_calendar_s") == hours(first.calendar)
    assert hours(first.calendar) == (5, 1, pytest.approx(95))
    assert of(created, "first_response_business_s") == hours(first.business)
    resolution = metrics.resolution_time(RANGE)
    assert of(solved, "resolution_calendar_s") == hours(resolution.calendar)
    assert of(solved, "resolution_business_s") == hours(resolution.business)
    assert hours(resolution.business) == (4, 6.75, pytest.approx(11.95))
    rounds = [r for fact in created for r in fact.next_responses]
    following = metrics.next_response_time(RANGE)
    assert hours(DurationStats.of_seconds(c for _, c in rounds)) == hours(following.calendar)
    assert hours(DurationStats.of_seconds(b for b, _ in rounds)) == hours(following.business)
    assert hours(following.business) == (2, 3.25, pytest.approx(4.65))


def test_sla_outcomes_and_rates_from_the_facts_equal_the_metrics(facts):
    created, solved = list(in_range("created_at")), list(in_range("solved_at"))
    overall = metrics.sla_compliance(RANGE, now=NOW).overall
    for target in ("first_response", "next_response", "resolution"):
        met = sum(getattr(f, f"{target}_met") for f in created)
        breached = sum(getattr(f, f"{target}_breached") for f in created)
        assert (met, breached) == (overall[target].met, overall[target].breached)
    assert (overall["all"].met, overall["all"].breached) == (9, 4)

    fcr = metrics.first_contact_resolution_rate(RANGE)
    first_contact = [f for f in solved if f.public_staff_replies == 1 and not f.reopened]
    assert (len(first_contact), len(solved)) == (fcr.numerator, fcr.denominator) == (2, 4)
    reopen = metrics.reopen_rate(RANGE)
    ever = [f for f in created if f.ever_solved]
    assert (sum(f.reopened for f in ever), len(ever)) == (reopen.numerator, reopen.denominator)
    tier1 = metrics.tier1_resolution_rate(RANGE)
    stayed = [f for f in solved if f.tier == 1 and not f.left_tier1]
    assert (len(stayed), len(solved)) == (tier1.numerator, tier1.denominator) == (3, 4)
    escalations = metrics.escalations(RANGE)
    kinds = ("sla", "manual", "incident", "customer")
    escalated = [f for f in created if any(getattr(f, f"escalations_{k}") for k in kinds)]
    assert len(escalated) == escalations.rate.numerator == 3
    by_kind = {
        kind: n for kind in kinds if (n := sum(getattr(f, f"escalations_{kind}") for f in created))
    }
    by_tier = {
        tier: n
        for tier, field in ((2, "escalations_to_tier2"), (None, "escalations_no_tier"))
        if (n := sum(getattr(f, field) for f in created))
    }
    assert by_tier == escalations.by_tier == {2: 2, None: 1}
    assert by_kind == escalations.by_kind == {"sla": 1, "customer": 1, "manual": 1}


def test_a_running_target_is_judged_again_when_it_falls_due(facts):
    # T6 (VIP urgent, resolution 120 min) is pending: its resolution target
    # runs and is not counted.
    t6 = TicketFact.objects.get(ticket=facts.tickets["T6"])
    assert t6.resolution_met == t6.resolution_breached == 0
    # T5 (standard high), unanswered: its first response falls due Mon 30
    # 13:00, its resolution Tue 1 11:00. Judged Mon 12:00 both still run.
    t5 = facts.tickets["T5"].pk
    refresh_facts([t5], at(11, 30, 12))
    fact = TicketFact.objects.get(pk=t5)
    assert (fact.first_response_breached, fact.resolution_breached) == (0, 0)
    assert fact.sla_refresh_at == at(11, 30, 13)
    assert t5 not in due_for_sla(at(11, 30, 12, 59)) and t5 in due_for_sla(at(11, 30, 13))
    refresh_facts(due_for_sla(at(11, 30, 13)), at(11, 30, 13))
    fact = TicketFact.objects.get(pk=t5)
    assert (fact.first_response_breached, fact.resolution_breached) == (1, 0)
    assert fact.sla_refresh_at == at(12, 1, 11)
    refresh_facts(due_for_sla(NOW), NOW)
    fact = TicketFact.objects.get(pk=t5)
    assert (fact.first_response_breached, fact.resolution_breached) == (1, 1)
    assert fact.sla_refresh_at is None


def test_every_escalation_kind_and_tier_has_a_fact_column():
    for kind in Escalation.Kind.values:
        assert TicketFact._meta.get_field(escalation_kind_field(kind))
    for tier in (*AgentTier.values, None):
        assert TicketFact._meta.get_field(escalation_tier_field(tier))


def test_refresh_is_idempotent_and_equals_a_rebuild(facts):
    before = list(TicketFact.objects.order_by("pk").values())
    refresh_facts(Ticket.objects.values_list("pk", flat=True), NOW)
    assert list(TicketFact.objects.order_by("pk").values()) == before
    TicketFact.objects.all().delete()
    for ticket_id in Ticket.objects.values_list("pk", flat=True):
        refresh_facts([ticket_id], NOW)
    assert list(TicketFact.objects.order_by("pk").values()) == before


def test_a_batch_costs_the_same_queries_whatever_its_size(facts, django_assert_num_queries):
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    # Timelines (3), flags (1), escalations (1), CSAT answers (1), the rollups' lock (1), the
    # facts replaced (1), the upsert (1), and the savepoint and its release
    # that transaction.atomic adds inside the test's transaction; when facts
    # changed, the rollup blocks touched (1) and their upsert (1).
    with django_assert_num_queries(11):
        refresh_facts(ids[:1], NOW)
    with django_assert_num_queries(11):
        refresh_facts(ids, NOW)
    TicketFact.objects.all().delete()
    with django_assert_num_queries(13):
        refresh_facts(ids[:1], NOW)
    with django_assert_num_queries(13):
        refresh_facts(ids, NOW)


def test_the_catch_up_follows_changes_and_the_rebuild_finds_nothing_different(facts, time_machine):
    from analytics.models import RollupRun
    from analytics.rollups.facts import catch_up
    from tests.analytics.test_metrics import reply

    time_machine.move_to(NOW)
    catch_up(NOW)  # the first run: what was stamped in the last 24 hours
    # Alice answers T5 (unanswered until now): its fact is stale until the
    # catch-up runs, then current.
    time_machine.move_to(at(12, 1, 12, 30))
    reply(facts.tickets["T5"], facts.alice)
    assert TicketFact.objects.get(pk=facts.tickets["T5"].pk).public_staff_replies == 0
    assert catch_up(at(12, 1, 12, 31)) >= 1
    fact = TicketFact.objects.get(pk=facts.tickets["T5"].pk)
    assert fact.public_staff_replies == 1 and fact.first_response_calendar_s is not None
    # Nothing changed since: the next run refreshes only what the overlap
    # re-reads, and the nightly rebuild finds every fact as it would compute it.
    rebuilt = rebuild_facts(at(12, 1, 12, 31))
    assert (rebuilt.tickets, rebuilt.differing) == (Ticket.objects.count(), 0)
    assert RollupRun.objects.get(name="ticket-facts.rebuild").differing == 0
    # A fact changed behind the catch-up's back is found and put right.
    TicketFact.objects.filter(pk=facts.tickets["T1"].pk).update(public_staff_replies=9)
    assert rebuild_facts(at(12, 1, 12, 31)).differing == 1
    assert TicketFact.objects.get(pk=facts.tickets["T1"].pk).public_staff_replies == 2


def test_the_rebuild_command_shows_progress_and_the_figures(facts, capsys):
    from django.core.management import call_command

    call_command("rebuild_analytics")
    out = capsys.readouterr()
    assert f"{Ticket.objects.count()} tickets in" in out.out
    assert "0 facts differed" in out.out
    assert "Ticket facts" in out.err  # the progress bar
