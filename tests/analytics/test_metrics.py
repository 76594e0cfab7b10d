"""The metric definitions (analytics.metrics) on a small hand-made history.

Every ticket below is made through the real services (intake, replies,
status changes, assignment, manual escalation, the SLA sweep) with the clock
under time-machine, so the history rows, the messages, the escalations and
the SLA clocks are the ones the product writes. Each expected figure is
worked out by hand in the comments.

Calendars (escalation migration 0002 defaults, plus one made here):
- standard (Acme, Carol): "office" Mon-Fri 08-18 UTC;
- VIP (Globex, Dave): 24x7;
- basic (Initech, Erin): "Berlin" Mon-Fri 09-17 Europe/Berlin (CET = UTC+1
  in November, so 08-16 UTC), closed on Thursday 26 November 2026.
Targets (minutes, first response / next response / resolution):
standard and basic normal 240/240/1440, standard high 240/240/720,
VIP normal 120/240/960, VIP urgent 15/30/120.

The history (all times UTC; 2026-11-23 is a Monday):
T0 Carol, billing, normal: created Thu 29 Oct 10:00, never answered (old
   backlog, outside the date range; the sweep escalates it).
T1 Carol, login, normal, Alice: created Mon 23 10:00; reply 11:00; pending
   12:00; Carol answers Tue 24 09:00 (-> open); reply 10:30; solved 11:00.
T4 Erin, login, normal, Berlin calendar: created Wed 25 15:00 (16:00
   Berlin); the sweep at Fri 27 11:30 breaches its first response (due Fri
   11:00 UTC) and hands it to Tier 2; Tina (Tier 2) takes it at 11:45,
   replies Mon 30 10:00, solves Mon 30 12:00.
T2 Carol, billing, normal, Alice: created Fri 27 16:00; reply Mon 30 09:00;
   solved 09:30; Carol answers 10:00 (reopens it); reply 15:00; solved 15:30.
T3 Dave (VIP), login, normal, Bob: created Sat 28 10:00; reply 11:00; on
   hold 12:00; open Sun 29 12:00; solved Sun 29 13:00.
T5 Carol, login, high: created Mon 30 09:00 with a complaint (a customer
   escalation); never answered.
T6 Dave (VIP), billing, urgent, e-mail, Alice: created Mon 30 11:00; reply
   11:10; Alice escalates it to Tier 2 at 11:15; pending since 11:20.
Metrics are read at NOW = Tue 1 Dec 12:00 over [Mon 23 Nov, Tue 1 Dec).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest
from django.apps import apps

from analytics import metrics
from analytics.metrics import MetricFilter
from analytics.metrics.timeline import load_timelines
from escalation import services as escalation_services
from escalation.calendars import hours_for
from escalation.models import (
    BusinessCalendar,
    ClosedDate,
    Escalation,
    OpeningSlot,
    SLAPolicy,
    TicketSLA,
)
from escalation.sweep import sweep
from tests.factories import OrganizationFactory, make_user
from tickets import services
from tickets.intake import intake_ticket
from tickets.models import Channel, Priority, Role, Status, SupportTier, Ticket
from tickets.suggestions import ShownSuggestion, deflection_record


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


NOW = at(12, 1, 12)
RANGE = MetricFilter(start=at(11, 23, 0), end=at(12, 1, 0))


@dataclass
class History:
    tickets: dict[str, Ticket]
    alice: object
    bob: object
    tina: object
    login: object
    billing: object


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def reply(ticket: Ticket, author, body: str = "An answer.") -> None:
    services.ticket_reply(ticket=fresh(ticket), author=author, body=body)


def set_status(ticket: Ticket, status: str, actor) -> None:
    services.ticket_change_status(ticket=fresh(ticket), status=status, actor=actor)


@pytest.fixture(autouse=True)
def sla_defaults(db):
    """The default calendars and policies of the migration (a transactional
    test elsewhere empties every table, migration data included)."""
    importlib.import_module("escalation.migrations.0002_default_policies").create_defaults(
        apps, None
    )


@pytest.fixture
def history(
    time_machine, customer, other_customer, agent, other_agent, login_category, billing_category
) -> History:
    berlin = BusinessCalendar.objects.create(name="Berlin office", time_zone="Europe/Berlin")
    OpeningSlot.objects.bulk_create(
        OpeningSlot(calendar=berlin, weekday=day, opens=time(9), closes=time(17))
        for day in range(5)
    )
    ClosedDate.objects.create(calendar=berlin, date=date(2026, 11, 26), name="Day off")
    SLAPolicy.objects.filter(support_tier=SupportTier.BASIC).update(calendar=berlin)
    initech = OrganizationFactory(name="Initech", support_tier=SupportTier.BASIC)
    erin = make_user(Role.CUSTOMER, full_name="Erin", organization=initech)
    tina = make_user(Role.AGENT, full_name="Tina Tier2", tier=2)
    alice, bob, carol, dave = agent, other_agent, customer, other_customer
    clock = time_machine
    tickets: dict[str, Ticket] = {}

    def open_(name, requester, category, priority=Priority.NORMAL, **kwargs):
        kwargs.setdefault("channel", Channel.PORTAL)
        tickets[name] = intake_ticket(
            requester=requester,
            subject=f"Question {name}",
            description=kwargs.pop("description", "How do I export a report?"),
            priority=priority,
            category=category,
            **kwargs,
        )
        return tickets[name]

    def assign(name, assignee, actor=None):
        services.ticket_assign(
            ticket=fresh(tickets[name]), assignee=assignee, actor=actor or assignee
        )

    clock.move_to(at(10, 29, 10), tick=False)
    open_("T0", carol, billing_category)

    clock.move_to(at(11, 23, 10), tick=False)
    shown = ShownSuggestion(ref="kb-1", title="Exporting", position=1, shown_at=at(11, 23, 10))
    open_("T1", carol, login_category, shown_articles=[shown])
    assign("T1", alice)
    clock.move_to(at(11, 23, 11), tick=False)
    reply(tickets["T1"], alice)
    clock.move_to(at(11, 23, 12), tick=False)
    set_status(tickets["T1"], Status.PENDING, alice)
    clock.move_to(at(11, 24, 9), tick=False)
    reply(tickets["T1"], carol, "Here is the detail you asked for.")
    deflection_record(
        user=carol, query="invoice copy", article_ref="kb-2", article_title="Invoices"
    )
    clock.move_to(at(11, 24, 10, 30), tick=False)
    reply(tickets["T1"], alice)
    clock.move_to(at(11, 24, 11), tick=False)
    set_status(tickets["T1"], Status.SOLVED, alice)

    clock.move_to(at(11, 25, 15), tick=False)
    open_("T4", erin, login_category)
    assign("T4", alice)
    clock.move_to(at(11, 27, 11, 30), tick=False)
    sweep()  # T4's first response breached at 11:00 (and T0's targets long ago)
    clock.move_to(at(11, 27, 11, 45), tick=False)
    assign("T4", tina)

    clock.move_to(at(11, 27, 16), tick=False)
    open_("T2", carol, billing_category)
    assign("T2", alice)

    clock.move_to(at(11, 28, 10), tick=False)
    shown = ShownSuggestion(ref="kb-3", title="Reports", position=1, shown_at=at(11, 28, 10))
    open_("T3", dave, login_category, shown_articles=[shown])
    assign("T3", bob)
    deflection_record(user=dave, query="vpn", article_ref="kb-4", article_title="VPN")
    clock.move_to(at(11, 28, 11), tick=False)
    reply(tickets["T3"], bob)
    clock.move_to(at(11, 28, 12), tick=False)
    set_status(tickets["T3"], Status.ON_HOLD, bob)
    clock.move_to(at(11, 29, 12), tick=False)
    set_status(tickets["T3"], Status.OPEN, bob)
    clock.move_to(at(11, 29, 13), tick=False)
    set_status(tickets["T3"], Status.SOLVED, bob)

    clock.move_to(at(11, 30, 9), tick=False)
    reply(tickets["T2"], alice)
    open_("T5", carol, login_category, Priority.HIGH, description="This is unacceptable.")
    clock.move_to(at(11, 30, 9, 30), tick=False)
    set_status(tickets["T2"], Status.SOLVED, alice)
    clock.move_to(at(11, 30, 10), tick=False)
    reply(tickets["T2"], carol, "It is broken again.")  # reopens T2
    reply(tickets["T4"], tina)
    clock.move_to(at(11, 30, 11), tick=False)
    open_("T6", dave, billing_category, Priority.URGENT, channel=Channel.EMAIL)
    assign("T6", alice)
    clock.move_to(at(11, 30, 11, 10), tick=False)
    reply(tickets["T6"], alice)
    clock.move_to(at(11, 30, 11, 15), tick=False)
    escalation_services.escalation_manual(
        ticket=fresh(tickets["T6"]), actor=alice, to_tier=2, reason="Needs a specialist"
    )
    clock.move_to(at(11, 30, 11, 20), tick=False)
    set_status(tickets["T6"], Status.PENDING, alice)
    clock.move_to(at(11, 30, 12), tick=False)
    set_status(tickets["T4"], Status.SOLVED, tina)
    clock.move_to(at(11, 30, 15), tick=False)
    reply(tickets["T2"], alice)
    clock.move_to(at(11, 30, 15, 30), tick=False)
    set_status(tickets["T2"], Status.SOLVED, alice)

    clock.move_to(at(11, 1, 9), tick=False)
    deflection_record(user=carol, query="old", article_ref="kb-5", article_title="Old")
    clock.move_to(NOW, tick=False)
    return History(
        tickets={name: fresh(t) for name, t in tickets.items()},
        alice=alice,
        bob=bob,
        tina=tina,
        login=login_category,
        billing=billing_category,
    )


def test_the_history_is_what_the_comments_say(history):
    """The services did what the metrics below assume (intake raised the VIP
    T3 to high priority: VIP high targets are 60/120/480 minutes)."""
    t = history.tickets
    assert {name: (x.status, x.priority, x.tier) for name, x in t.items()} == {
        "T0": (Status.NEW, Priority.HIGH, 2),  # the sweep raised it and moved it up
        "T1": (Status.SOLVED, Priority.NORMAL, 1),
        "T2": (Status.SOLVED, Priority.NORMAL, 1),
        "T3": (Status.SOLVED, Priority.HIGH, 1),
        "T4": (Status.SOLVED, Priority.NORMAL, 2),
        "T5": (Status.NEW, Priority.HIGH, 1),
        "T6": (Status.PENDING, Priority.URGENT, 2),
    }
    escalations = set(
        Escalation.objects.exclude(ticket=t["T0"]).values_list(
            "ticket_id", "kind", "target", "threshold", "to_tier"
        )
    )
    assert escalations == {
        (t["T4"].pk, "sla", "first_response", "warning", None),
        (t["T4"].pk, "sla", "first_response", "breach", 2),
        (t["T5"].pk, "customer", "", "", None),
        (t["T6"].pk, "manual", "", "", 2),
    }
    assert t["T1"].assignee == history.alice and t["T4"].assignee == history.tina


def hours(stats) -> tuple[int, float | None, float | None]:
    return stats.count, stats.median_hours, stats.p90_hours


def test_percentile_is_linear_interpolation_between_closest_ranks():
    # h = (n - 1) p: [1, 2, 3, 4] median h = 1.5 -> 2.5; p90 h = 2.7 -> 3.7.
    assert metrics.percentile([4, 1, 3, 2], 0.5) == 2.5
    assert metrics.percentile([4, 1, 3, 2], 0.9) == pytest.approx(3.7)
    assert metrics.percentile([7], 0.9) == 7
    assert metrics.percentile([], 0.5) is None
    with pytest.raises(ValueError):
        metrics.percentile([1], 1.5)


def test_filter_refuses_naive_or_reversed_ranges():
    with pytest.raises(ValueError):
        MetricFilter(start=datetime(2026, 11, 23))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError):
        MetricFilter(start=at(11, 24, 0), end=at(11, 23, 0))


def test_first_response_time(history):
    # Tickets created in range with a first response: T1, T2, T3, T4, T6 (T5
    # has none; T0 was created in October).
    # Calendar hours: T1 10:00->11:00 = 1; T2 Fri 16:00 -> Mon 09:00 = 65;
    # T3 1; T4 Wed 15:00 -> Mon 10:00 = 115; T6 10 min = 1/6.
    # Sorted 1/6, 1, 1, 65, 115: median 1; p90 h = 4 * 0.9 = 3.6 ->
    # 65 + 0.6 * (115 - 65) = 95.
    # Business hours: T1 1; T2 Fri 16-18 (2) + Mon 08-09 (1) = 3 (the weekend
    # is closed); T3 1 (24x7); T4 Berlin: Wed 16-17 (1) + Thu closed (day
    # off) + Fri 09-17 (8) + Mon 09-11 (2) = 11; T6 1/6.
    # Sorted 1/6, 1, 1, 3, 11: median 1; p90 = 3 + 0.6 * 8 = 7.8.
    result = metrics.first_response_time(RANGE)
    assert hours(result.calendar) == (5, 1, pytest.approx(95))
    assert hours(result.business) == (5, 1, pytest.approx(7.8))


def test_next_response_time(history):
    # Rounds: T1 Carol Tue 09:00 -> Alice 10:30 = 1.5 h; T2 Carol Mon 10:00
    # (her answer reopened it) -> Alice 15:00 = 5 h, both inside office
    # hours, no pauses. Median (1.5 + 5) / 2 = 3.25; p90 h = 0.9 ->
    # 1.5 + 0.9 * 3.5 = 4.65.
    result = metrics.next_response_time(RANGE)
    assert hours(result.calendar) == (2, 3.25, pytest.approx(4.65))
    assert hours(result.business) == (2, 3.25, pytest.approx(4.65))


def test_resolution_time_leaves_pauses_out_of_business_hours(history):
    # Solved in range: T1, T2, T3, T4.
    # Calendar: T1 Mon 10:00 -> Tue 11:00 = 25; T2 Fri 16:00 -> Mon 15:30
    # (final solve) = 71.5; T3 Sat 10:00 -> Sun 13:00 = 27; T4 Wed 15:00 ->
    # Mon 12:00 = 117. Sorted 25, 27, 71.5, 117: median 49.25; p90 h = 2.7 ->
    # 71.5 + 0.7 * 45.5 = 103.35.
    # Business: T1 open Mon 10-18 (8) + Tue 08-11 (3) = 11, minus pending Mon
    # 12:00 -> Tue 09:00 (Mon 12-18 = 6, Tue 08-09 = 1) = 4; T2 Fri 16-18 (2)
    # + Mon 08:00-15:30 (7.5) = 9.5 (its half hour solved before the reopen
    # counts, as on the clock); T3 27 - 24 on hold = 3; T4 Berlin Wed 1 +
    # Fri 8 + Mon 09-13 (4) = 13. Sorted 3, 4, 9.5, 13: median 6.75; p90 =
    # 9.5 + 0.7 * 3.5 = 11.95.
    result = metrics.resolution_time(RANGE)
    assert hours(result.calendar) == (4, 49.25, pytest.approx(103.35))
    assert hours(result.business) == (4, 6.75, pytest.approx(11.95))


def test_sla_compliance_per_target_tier_and_priority(history):
    # T1 (standard normal 240/240/1440): first 1 h met, round 1.5 h met,
    #   resolution 4 h met.
    # T2 (standard normal): first 3 h met; round Mon 10:00, due 14:00,
    #   answered 15:00: breached; resolution 9.5 h of 24 met.
    # T3 (VIP high 60/120/480): first reply at 11:00 = exactly its due time:
    #   met; resolution 3 h of 8 met.
    # T4 (basic normal, Berlin): first 11 h of 4: breached (the sweep saw it
    #   too); resolution 13 h of 24 met.
    # T5 (standard high 240/240/720), unanswered: first due Mon 13:00 <= NOW:
    #   breached; resolution due Mon 09-18 (9) + Tue 08-11 (3) = Tue 11:00 <=
    #   NOW 12:00: breached.
    # T6 (VIP urgent 15/30/120): first 10 min met; resolution: 20 min used,
    #   pending since 11:20 -> still running, not counted.
    result = metrics.sla_compliance(RANGE, now=NOW)
    counts = {k: (c.met, c.breached) for k, c in result.overall.items()}
    assert counts == {
        "first_response": (4, 2),
        "next_response": (1, 1),
        "resolution": (4, 1),
        "all": (9, 4),
    }
    assert result.overall["first_response"].rate == pytest.approx(4 / 6)
    by_tier = {
        tier: {k: (c.met, c.breached) for k, c in found.items() if c.total}
        for tier, found in result.by_customer_tier.items()
    }
    assert by_tier == {
        "basic": {"first_response": (0, 1), "resolution": (1, 0), "all": (1, 1)},
        "standard": {
            "first_response": (2, 1),
            "next_response": (1, 1),
            "resolution": (2, 1),
            "all": (5, 3),
        },
        "vip": {"first_response": (2, 0), "resolution": (1, 0), "all": (3, 0)},
    }
    by_priority = {
        priority: {k: (c.met, c.breached) for k, c in found.items() if c.total}
        for priority, found in result.by_priority.items()
    }
    assert by_priority == {
        "high": {"first_response": (1, 1), "resolution": (1, 1), "all": (2, 2)},
        "normal": {
            "first_response": (2, 1),
            "next_response": (1, 1),
            "resolution": (3, 0),
            "all": (6, 2),
        },
        "urgent": {"first_response": (1, 0), "all": (1, 0)},
    }
    # Judged a day earlier (Mon 30 12:00) T5's resolution (due Tue 11:00) is
    # still running: one breach fewer.
    earlier = metrics.sla_compliance(RANGE, now=at(11, 30, 12))
    assert earlier.overall["resolution"].breached == 0


def test_rates(history):
    # Solved in range: T1 (2 staff replies), T2 (2, reopened), T3 (1), T4 (1)
    # -> first-contact resolved: T3, T4 = 2 of 4.
    fcr = metrics.first_contact_resolution_rate(RANGE)
    assert (fcr.numerator, fcr.denominator, fcr.value) == (2, 4, 0.5)
    # Created in range and ever solved: T1-T4; reopened: T2 -> 1 of 4.
    reopened = metrics.reopen_rate(RANGE)
    assert (reopened.numerator, reopened.denominator) == (1, 4)
    # Solved in range: T1, T2, T3 stayed at Tier 1; T4 went to Tier 2 -> 3/4.
    tier1 = metrics.tier1_resolution_rate(RANGE)
    assert (tier1.numerator, tier1.denominator) == (3, 4)


def test_escalations_by_kind_and_tier(history):
    # Created in range: T1-T6 (6). Escalated: T4 (SLA breach -> Tier 2), T5
    # (customer: a complaint), T6 (manual -> Tier 2); T4's SLA warning is no
    # escalation. 3 of 6.
    result = metrics.escalations(RANGE)
    assert (result.rate.numerator, result.rate.denominator) == (3, 6)
    assert result.by_kind == {"sla": 1, "customer": 1, "manual": 1}
    assert result.by_tier == {2: 2, None: 1}
    # With the whole history T0's SLA escalations count too: first response
    # breach (-> Tier 2) and resolution breach (priority up); 4 of 7.
    everything = metrics.escalations(MetricFilter())
    assert (everything.rate.numerator, everything.rate.denominator) == (4, 7)
    assert everything.by_kind == {"sla": 3, "customer": 1, "manual": 1}
    assert everything.by_tier == {2: 3, None: 2}


def test_backlog_as_of_an_instant(history):
    # NOW: open T0 (created 29 Oct 10:00: 33 d 2 h old), T5 (27 h), T6
    # (pending, 25 h).
    now = metrics.backlog(RANGE, as_of=NOW)
    assert now.size == 3
    assert now.by_age == {"0-1d": 0, "1-3d": 2, "3-7d": 0, "7-30d": 0, "30d+": 1}
    # Tue 24 10:00: T1 is open again (Carol answered at 09:00, 24 h old) and
    # T0 is 25 d 24 h old.
    tuesday = metrics.backlog(RANGE, as_of=at(11, 24, 10))
    assert tuesday.by_age == {"0-1d": 0, "1-3d": 1, "3-7d": 0, "7-30d": 1, "30d+": 0}
    # Tue 24 11:30: T1 was solved at 11:00.
    assert metrics.backlog(RANGE, as_of=at(11, 24, 11, 30)).size == 1
    # Mon 23 12:30: T1 pending still counts (0.5 h old).
    monday = metrics.backlog(RANGE, as_of=at(11, 23, 12, 30))
    assert monday.by_age["0-1d"] == 1 and monday.size == 2
    # Billing team now: T0 and T6.
    billing = metrics.backlog(MetricFilter(teams=[history.billing.default_team_id]), as_of=NOW)
    assert billing.size == 2


def test_the_current_backlog_is_the_backlog_as_of_now(history):
    """The dashboard's backlog reads the current status; the history's status
    events say the same."""
    for metric_filter in (
        RANGE,
        MetricFilter(teams=[history.billing.default_team_id]),
        MetricFilter(customer_tiers=["vip"]),
        MetricFilter(agents=[history.alice.pk]),
    ):
        assert metrics.current_backlog(metric_filter, now=NOW) == metrics.backlog(
            metric_filter, as_of=NOW
        )
    assert metrics.current_backlog(RANGE, now=NOW).size == 3


def test_created_vs_solved_per_day_week_and_in_another_zone(history):
    def rows(found):
        return [(p.period_start.isoformat(), p.created, p.solved) for p in found]

    # Created (UTC days): Mon 23 T1, Wed 25 T4, Fri 27 T2, Sat 28 T3, Mon 30
    # T5 + T6. Solved (each solve): Tue 24 T1, Sun 29 T3, Mon 30 T2 twice
    # (09:30 and 15:30) and T4.
    assert rows(metrics.created_vs_solved(RANGE, period="day", time_zone="UTC")) == [
        ("2026-11-23", 1, 0),
        ("2026-11-24", 0, 1),
        ("2026-11-25", 1, 0),
        ("2026-11-26", 0, 0),
        ("2026-11-27", 1, 0),
        ("2026-11-28", 1, 0),
        ("2026-11-29", 0, 1),
        ("2026-11-30", 2, 3),
    ]
    assert rows(metrics.created_vs_solved(RANGE, period="week", time_zone="UTC")) == [
        ("2026-11-23", 4, 2),
        ("2026-11-30", 2, 3),
    ]
    assert rows(metrics.created_vs_solved(RANGE, period="month", time_zone="UTC")) == [
        ("2026-11-01", 6, 5),
    ]
    # Tokyo (UTC+9): T4 Wed 15:00 UTC is Thu 00:00, T2 Fri 16:00 is Sat 01:00,
    # and T2's second solve Mon 15:30 is Tue 1 Dec 00:30. The range [Mon 23
    # 09:00, Tue 1 Dec 09:00) local spans 23 Nov .. 1 Dec.
    assert rows(metrics.created_vs_solved(RANGE, period="day", time_zone="Asia/Tokyo")) == [
        ("2026-11-23", 1, 0),
        ("2026-11-24", 0, 1),
        ("2026-11-25", 0, 0),
        ("2026-11-26", 1, 0),
        ("2026-11-27", 0, 0),
        ("2026-11-28", 2, 0),
        ("2026-11-29", 0, 1),
        ("2026-11-30", 2, 2),
        ("2026-12-01", 0, 1),
    ]


def test_category_mix_and_hour_by_weekday(history):
    # Login: T1, T3, T4, T5; billing: T2, T6.
    mix = metrics.category_mix(RANGE)
    assert [(c.name, c.tickets, c.share) for c in mix] == [
        ("Login", 4, pytest.approx(2 / 3)),
        ("Billing", 2, pytest.approx(1 / 3)),
    ]
    # Per week: 23 Nov login T1, T4, T3 and billing T2; 30 Nov login T5 and
    # billing T6 (equal counts by name).
    trend = metrics.category_trend(RANGE, period="week", time_zone="UTC")
    assert [(c.period_start.isoformat(), c.name, c.tickets) for c in trend] == [
        ("2026-11-23", "Login", 3),
        ("2026-11-23", "Billing", 1),
        ("2026-11-30", "Billing", 1),
        ("2026-11-30", "Login", 1),
    ]
    # UTC: Mon 09 (T5), 10 (T1), 11 (T6); Wed 15 (T4); Fri 16 (T2); Sat 10 (T3).
    grid = metrics.tickets_by_hour_and_weekday(RANGE, time_zone="UTC")
    cells = {(day, hour): n for day, row in enumerate(grid) for hour, n in enumerate(row) if n}
    assert cells == {(0, 9): 1, (0, 10): 1, (0, 11): 1, (2, 15): 1, (4, 16): 1, (5, 10): 1}
    # Tokyo: Mon 18 (T5), 19 (T1), 20 (T6); Thu 0 (T4); Sat 1 (T2), 19 (T3).
    grid = metrics.tickets_by_hour_and_weekday(RANGE, time_zone="Asia/Tokyo")
    cells = {(day, hour): n for day, row in enumerate(grid) for hour, n in enumerate(row) if n}
    assert cells == {(0, 18): 1, (0, 19): 1, (0, 20): 1, (3, 0): 1, (5, 1): 1, (5, 19): 1}


def test_per_agent_figures(history):
    # Solved in range by assignee: Alice T1, T2; Bob T3; Tina T4.
    figures = metrics.agent_figures(RANGE, now=NOW)
    assert set(figures) == {history.alice.pk, history.bob.pk, history.tina.pk}
    alice = figures[history.alice.pk]
    # Calendar 25, 71.5: median 48.25, p90 25 + 0.9 * 46.5 = 66.85; business
    # 4, 9.5: median 6.75, p90 4 + 0.9 * 5.5 = 8.95.
    assert alice.tickets_solved == 2
    assert hours(alice.resolution_time.calendar) == (2, 48.25, pytest.approx(66.85))
    assert hours(alice.resolution_time.business) == (2, 6.75, pytest.approx(8.95))
    # T1: 3 met; T2: first met, round breached, resolution met -> 5 of 6.
    assert (alice.sla_compliance["all"].met, alice.sla_compliance["all"].breached) == (5, 1)
    assert (alice.reopen_rate.numerator, alice.reopen_rate.denominator) == (1, 2)
    tina = figures[history.tina.pk]
    assert hours(tina.resolution_time.business) == (1, 13, 13)
    assert (tina.sla_compliance["first_response"].breached, tina.reopen_rate.value) == (1, 0)
    bob = figures[history.bob.pk]
    assert hours(bob.resolution_time.calendar) == (1, 27, 27)


def test_self_service_and_deflection_rates(history):
    # Deflections in range: Carol Tue 24, Dave Sat 28 (the 1 Nov one is
    # outside). Tickets created: 6; shown articles before being opened: T1,
    # T3. Self-service 2 / (2 + 6) = 0.25; deflection 2 / (2 + 2) = 0.5.
    result = metrics.self_service(RANGE)
    assert (result.deflections, result.tickets, result.tickets_shown_articles) == (2, 6, 2)
    assert (result.self_service_rate, result.deflection_rate) == (0.25, 0.5)
    # VIP only: Dave's deflection; tickets T3, T6; shown T3 -> 1/3 and 1/2.
    vip = metrics.self_service(
        MetricFilter(start=RANGE.start, end=RANGE.end, customer_tiers=["vip"])
    )
    assert (vip.deflections, vip.tickets, vip.tickets_shown_articles) == (1, 2, 1)
    assert vip.self_service_rate == pytest.approx(1 / 3) and vip.deflection_rate == 0.5
    # A team describes tickets only: the rates are undefined.
    team = metrics.self_service(MetricFilter(teams=[history.billing.default_team_id]))
    assert team.self_service_rate is None and team.deflection_rate is None


def test_filters_select_by_every_dimension(history):
    def first_response(**dimensions):
        found = metrics.first_response_time(
            MetricFilter(start=RANGE.start, end=RANGE.end, **dimensions)
        )
        return found.calendar.count, found.calendar.median_hours

    # Billing team: T2 (65 h) and T6 (1/6 h): median (65 + 1/6) / 2.
    assert first_response(teams=[history.billing.default_team_id]) == (
        2,
        pytest.approx((65 + 1 / 6) / 2),
    )
    assert first_response(categories=[history.login.pk]) == (3, 1)  # T1 1, T3 1, T4 115
    assert first_response(customer_tiers=["basic"]) == (1, 115)  # T4
    assert first_response(channels=[Channel.EMAIL]) == (1, pytest.approx(1 / 6))  # T6
    assert first_response(priorities=[Priority.HIGH]) == (1, 1)  # T3 (T5 unanswered)
    assert first_response(agents=[history.bob.pk]) == (1, 1)  # T3
    # The range: only T1 was created on Monday 23.
    monday = metrics.first_response_time(MetricFilter(start=at(11, 23, 0), end=at(11, 24, 0)))
    assert monday.calendar.count == 1


def test_each_metric_runs_a_constant_number_of_queries(history, django_assert_num_queries):
    """Three tickets or thirty, the same statements (the SLA calendars are
    read once per process and cached, as the SLA clock reads them)."""
    for calendar in BusinessCalendar.objects.all():
        hours_for(calendar.pk)
    expected = {
        # tickets, their status changes, their public messages
        metrics.first_response_time: 3,
        metrics.next_response_time: 3,
        metrics.resolution_time: 3,
        metrics.sla_compliance: 3,
        metrics.agent_figures: 3,
        # one aggregate each
        metrics.first_contact_resolution_rate: 1,
        metrics.reopen_rate: 1,
        metrics.tier1_resolution_rate: 1,
        metrics.backlog: 1,
        metrics.current_backlog: 1,
        metrics.category_mix: 1,
        metrics.category_trend: 1,
        metrics.tickets_by_hour_and_weekday: 1,
        # rate + rows by kind and tier; deflections + tickets; created + solved
        metrics.escalations: 2,
        metrics.self_service: 2,
        metrics.created_vs_solved: 2,
    }
    # Seven tickets, six, or one (Bob's): the same count.
    for metric_filter in (MetricFilter(), RANGE, MetricFilter(agents=[history.bob.pk])):
        for metric, queries in expected.items():
            with django_assert_num_queries(queries):
                metric(metric_filter)


def test_business_time_and_due_times_agree_with_the_sla_clock(
    time_machine, colleague, agent, login_category
):
    """A next-response round with a pause inside it, measured here and by the
    SLA clock itself (escalation.clock keeps the due times on TicketSLA)."""

    def timeline(ticket):
        (found,) = load_timelines(Ticket.objects.filter(pk=ticket.pk))
        return found

    time_machine.move_to(at(12, 7, 9), tick=False)  # Monday 7 December
    ticket = intake_ticket(
        requester=colleague,
        subject="Export",
        description="How do I export a report?",
        channel=Channel.PORTAL,
        priority=Priority.NORMAL,
        category=login_category,
    )
    time_machine.move_to(at(12, 7, 9, 30), tick=False)
    reply(ticket, agent)
    time_machine.move_to(at(12, 7, 10), tick=False)
    reply(ticket, colleague, "That did not work.")  # the round starts
    time_machine.move_to(at(12, 7, 11), tick=False)
    set_status(ticket, Status.ON_HOLD, agent)
    time_machine.move_to(at(12, 8, 9), tick=False)
    set_status(ticket, Status.OPEN, agent)
    # On hold Mon 11:00 -> Tue 09:00 spends Mon 11-18 (7) + Tue 08-09 (1) = 8
    # open hours, so the round (4 h) is due Mon 10:00 + 12 business hours =
    # Mon 10-18 (8) + Tue 08-12 (4) = Tue 12:00; resolution (24 h) is due
    # Mon 09:00 + 32 business hours = Mon 9 + Tue 10 + Wed 10 + Thu 3 = Thu 11:00.
    sla = TicketSLA.objects.get(ticket=ticket)
    found = timeline(ticket)
    (round_start, _), now = found.rounds[0], at(12, 8, 9)
    assert found.due("next_response", round_start, now) == sla.next_response_due == at(12, 8, 12)
    assert found.due("resolution", found.created_at, now) == sla.resolution_due == at(12, 10, 11)
    time_machine.move_to(at(12, 8, 10), tick=False)
    reply(ticket, agent)
    # The round: Mon 10:00 -> Tue 10:00 = 24 calendar hours; business Mon
    # 10-18 (8) + Tue 08-10 (2) - 8 on hold = 2 hours.
    result = metrics.next_response_time(MetricFilter(start=at(12, 7, 0), end=at(12, 8, 0)))
    assert hours(result.calendar) == (1, 24, 24)
    assert hours(result.business) == (1, 2, 2)
    compliance = metrics.sla_compliance(MetricFilter(start=at(12, 7, 0)), now=at(12, 8, 10))
    assert (compliance.overall["next_response"].met, compliance.overall["first_response"].met) == (
        1,
        1,
    )
