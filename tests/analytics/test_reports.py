"""The managers' report e-mails (analytics.reports): the weekly report over the
hand-made history of tests/analytics/test_metrics.py (its figures checked
against analytics.metrics and by hand), the monthly CSAT review, the report
periods in the report time zone, exactly-once delivery (twice in a row and
two workers at once), who receives them, and the outbox rows they become."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, connections, transaction

from analytics import metrics
from analytics.models import CSATResponse, NPSInvite, NPSResponse, SentReport, SurveyInvite
from analytics.reports import monthly, periods, sending, weekly
from analytics.reports.periods import due_month, due_week, last_week, month_of, week_of
from analytics.reports.tasks import send_csat_reviews, send_weekly_reports
from analytics.rollups.facts import refresh_facts
from tests.analytics.test_metrics import NOW, at, history, sla_defaults
from tests.conftest import wait_for
from tests.factories import make_ticket, make_user
from tickets.models import OutboundEmail, Role, User

# The dashboard reads the ticket facts: build them from the history.
pytestmark = pytest.mark.usefixtures("history_facts")

__all__ = ["history", "sla_defaults"]  # fixtures used here, made in test_metrics

WEEK = week_of(date(2026, 11, 23), ZoneInfo("UTC"))  # Mon 23 - Sun 29 Nov 2026
NEXT_WEEK = week_of(date(2026, 11, 30), ZoneInfo("UTC"))
DASHBOARD = "https://help.example/analytics/dashboard/?range=custom&start=2026-11-23&end=2026-11-29"


@pytest.fixture(autouse=True)
def report_settings(settings):
    settings.HELPDESK_SITE_URL = "https://help.example"
    settings.HELPDESK_REPORT_TIME_ZONE = "UTC"
    settings.HELPDESK_WEEKLY_REPORT = True
    settings.HELPDESK_MONTHLY_CSAT_REVIEW = True


def report_mails(kind: str = sending.KIND_WEEKLY) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=kind).order_by("recipient"))


def percent(rate: metrics.Rate) -> str:
    return weekly.amount(None if rate.value is None else rate.value * 100, "%")


# --- periods in the report time zone ---------------------------------------------------


def test_a_week_across_the_end_of_summer_time_is_169_hours_in_berlin():
    berlin = ZoneInfo("Europe/Berlin")
    # Monday 26 October 2026, 06:00 UTC: Berlin left summer time on Sunday.
    week = last_week(datetime(2026, 10, 26, 6, tzinfo=UTC), berlin)
    assert (week.first_day, week.last_day) == (date(2026, 10, 19), date(2026, 10, 25))
    assert week.start == datetime(2026, 10, 18, 22, tzinfo=UTC)  # 00:00 CEST
    assert week.end == datetime(2026, 10, 25, 23, tzinfo=UTC)  # 00:00 CET
    assert week.end.astimezone(UTC) - week.start.astimezone(UTC) == timedelta(hours=169)
    # The bounds stay in the zone, so wall-clock arithmetic on them (the
    # dashboard's "period before" is start - (end - start)) lands on the
    # previous local Monday, not an hour off.
    assert week.start - (week.end - week.start) == datetime(2026, 10, 12, tzinfo=berlin)


def test_the_week_owed_follows_the_report_zone_not_utc():
    new_york = ZoneInfo("America/New_York")
    # Monday 03:00 UTC is still Sunday 22:00 in New York: this week has not
    # ended there, and last week's report went out a week ago.
    assert due_week(datetime(2026, 11, 30, 3, tzinfo=UTC), new_york) is None
    week = due_week(datetime(2026, 11, 30, 5, 30, tzinfo=UTC), new_york)  # Mon 00:30 EST
    assert week is not None and week.first_day == date(2026, 11, 23)
    assert week.start == datetime(2026, 11, 23, 5, tzinfo=UTC)
    assert due_week(datetime(2026, 12, 1, 23, tzinfo=UTC), new_york) == week  # Tuesday
    assert due_week(datetime(2026, 12, 2, 12, tzinfo=UTC), new_york) is None  # Wednesday


def test_the_month_owed_follows_the_report_zone():
    new_york = ZoneInfo("America/New_York")
    # 1 December 00:30 UTC is 30 November in New York: nothing is owed.
    assert due_month(datetime(2026, 12, 1, 0, 30, tzinfo=UTC), new_york) is None
    month = due_month(datetime(2026, 12, 1, 6, tzinfo=UTC), new_york)
    assert month is not None and (month.first_day, month.last_day) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    # November starts in summer time (EDT, UTC-4) and ends in standard time.
    assert month.start == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert month.end == datetime(2026, 12, 1, 5, tzinfo=UTC)
    assert due_month(datetime(2026, 12, 4, 12, tzinfo=UTC), new_york) is None
    with pytest.raises(ValueError):
        month_of(date(2026, 11, 2))
    with pytest.raises(ValueError):
        week_of(date(2026, 11, 24))


# --- the weekly report -----------------------------------------------------------------


def test_weekly_report_figures_are_the_metrics_of_the_week(history, manager, customer):
    # Carol rated T1 5 in the week; her rating of T2 came the Monday after
    # (next week's): CSAT 1 of 1.
    t = history.tickets
    _answer(t["T1"], customer, rating=5, when=at(11, 24, 12), agent=history.alice)
    _answer(t["T2"], customer, rating=1, when=at(11, 30, 16), agent=history.alice)
    refresh_facts([t["T1"].pk, t["T2"].pk], NOW)  # as the catch-up job does
    assert sending.send_weekly_report(week=WEEK, now=NOW) == 1
    [mail] = report_mails()
    assert mail.recipient == manager.email and mail.audience == "manager"
    assert mail.state == OutboundEmail.State.QUEUED and mail.ticket_id is None
    assert mail.subject == "Weekly support report: Mon 23 Nov 2026 - Sun 29 Nov 2026"
    body = mail.body
    week = metrics.MetricFilter(start=WEEK.start, end=WEEK.end)

    # By hand: created in the week T1, T4, T2, T3; escalated T4 (SLA breach):
    # 1 of 4. Solved in the week T1 (two replies) and T3 (one): FCR 1 of 2,
    # both at Tier 1. The week before had no tickets.
    escalation = metrics.escalations(week).rate
    fcr = metrics.first_contact_resolution_rate(week)
    tier1 = metrics.tier1_resolution_rate(week)
    assert (escalation.numerator, escalation.denominator) == (1, 4)
    assert (fcr.numerator, fcr.denominator) == (1, 2)
    assert (tier1.numerator, tier1.denominator) == (2, 2)
    assert "- Escalation rate: 25.0 % (target < 15 %, missed); week before n/a" in body
    assert "- First-contact resolution: 50.0 % (target ≥ 90 %, missed)" in body
    assert "- Tier 1 resolution: 100.0 % (target > 80 %, met)" in body

    first_response = metrics.first_response_time(week).business
    assert f"- First response: {weekly.amount(first_response.median_hours, 'h')}" in body
    assert f"Median business hours of {first_response.count} first responses" in body
    sla = metrics.sla_compliance(week, now=NOW).overall["all"]
    assert f"- SLA compliance: {weekly.amount(sla.rate * 100, '%')}" in body
    assert f"{sla.met} of {sla.total} decided targets met" in body

    # Backlog at Monday 30 Nov 00:00: T0 (32 days old), T4 (4 days), T2 (2
    # days); a week earlier only T0.
    backlog = metrics.backlog(metrics.MetricFilter(), as_of=WEEK.end)
    assert backlog.size == 3
    assert (
        "- Backlog at the end of the week: 3 open tickets (week before 1, change +2); "
        "by age: 0-1d 0, 1-3d 1, 3-7d 1, 7-30d 0, 30d+ 1." in body
    )
    assert "- Tickets created: 4 (week before 0); solves: 2 (week before 0;" in body
    [csat_line] = [line for line in body.splitlines() if line.startswith("- CSAT")]
    assert ": 100.0 % (target ≥ 85 %, met); week before n/a" in csat_line
    # Nothing to compare with: the week before was empty.
    assert "The biggest changes:\n- None: no figure can be compared" in body
    assert f"The dashboard for this week: {DASHBOARD}" in body
    assert "Hello Maggie," in body


def test_the_biggest_changes_are_the_moves_largest_against_their_targets(
    history, manager, time_machine
):
    """The week of Mon 30 Nov against the history's week: T5 and T6 were
    both escalated (2 of 2 vs 1 of 4) and of the week's two solves (T4, T2)
    one stayed at Tier 1 (1 of 2 vs 2 of 2)."""
    now = datetime(2026, 12, 7, 1, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    report = weekly.weekly_report(NEXT_WEEK, now=now)
    this, before = (metrics.MetricFilter(start=p.start, end=p.end) for p in (NEXT_WEEK, WEEK))
    cards = {card.key: card for card in report.cards}
    assert cards["escalation"].value == 100.0 and cards["escalation"].previous == 25.0
    assert cards["tier1"].value == 50.0 and cards["tier1"].previous == 100.0
    assert cards["fcr"].value == metrics.first_contact_resolution_rate(this).value * 100
    assert cards["fcr"].previous == metrics.first_contact_resolution_rate(before).value * 100

    # Each move relative to its target, computed by hand from the cards.
    moved = [c for c in report.cards if c.change]
    expected = sorted(moved, key=lambda c: abs(c.change) / c.target, reverse=True)[:3]
    biggest = weekly.biggest_changes(report.cards)
    assert [c.key for c in biggest] == [c.key for c in expected]
    # +75 points against 15 % is the largest (5 targets' worth).
    assert biggest[0].key == "escalation"
    assert weekly.change_sentence(biggest[0]) == (
        "Escalation rate rose from 25.0 % to 100.0 % (+75.0 points), worse; "
        "still off its target (< 15 %)."
    )
    tier1 = weekly.change_sentence(cards["tier1"])
    assert tier1 == (
        "Tier 1 resolution fell from 100.0 % to 50.0 % (-50.0 points), worse; "
        "it now misses its target (> 80 %)."
    )
    body = weekly.body(report, greeting_name="Maggie")
    changes = body.split("The biggest changes:\n")[1].split("\n\n")[0].splitlines()
    assert changes == [f"- {weekly.change_sentence(card)}" for card in biggest]


def test_an_empty_week_still_makes_a_sensible_mail(db, manager, time_machine):
    time_machine.move_to(datetime(2026, 11, 30, 6, tzinfo=UTC), tick=False)
    assert send_weekly_reports.apply().get() == 1
    [mail] = report_mails()
    assert "No tickets were created, solved or open this week" in mail.body
    assert "- Escalation rate: n/a (target < 15 %, no data); week before n/a, change n/a." in (
        mail.body
    )
    assert "Backlog at the end of the week: 0 open tickets (week before 0, change +0)" in (
        mail.body
    )
    assert "- None: no figure can be compared" in mail.body
    [csat_line] = [line for line in mail.body.splitlines() if line.startswith("- CSAT")]
    assert ": n/a (target ≥ 85 %, no data); week before n/a" in csat_line
    assert SentReport.objects.get().period_start == date(2026, 11, 23)


# --- who, when, and exactly once ----------------------------------------------------------


def test_only_active_managers_get_it_once_however_often_the_job_runs(
    db, manager, agent, time_machine
):
    second = make_user(Role.MANAGER, email="mo@helpdesk.test", full_name="Mo Manager")
    gone = make_user(Role.MANAGER, email="gone@helpdesk.test")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    make_user(Role.ADMIN, email="root@helpdesk.test")
    make_user(Role.CUSTOMER, email="carl@example.test")
    time_machine.move_to(datetime(2026, 11, 30, 0, 7, tzinfo=UTC), tick=False)
    assert send_weekly_reports.apply().get() == 2
    time_machine.move_to(datetime(2026, 11, 30, 1, 7, tzinfo=UTC), tick=False)
    assert send_weekly_reports.apply().get() == 0  # the next hourly run
    assert [m.recipient for m in report_mails()] == sorted([manager.email, second.email])
    assert "Hello Mo," in report_mails()[1].body
    # A manager who joins on Monday gets last week's report at the next run.
    late = make_user(Role.MANAGER, email="late@helpdesk.test")
    assert send_weekly_reports.apply().get() == 1
    assert report_mails()[0].recipient == late.email
    claims = SentReport.objects.filter(kind=SentReport.Kind.WEEKLY)
    assert claims.count() == 3
    assert {c.email.recipient for c in claims.select_related("email")} == {
        manager.email,
        second.email,
        late.email,
    }


def test_nothing_is_sent_when_switched_off_or_not_due(db, manager, settings, time_machine):
    time_machine.move_to(datetime(2026, 11, 29, 20, tzinfo=UTC), tick=False)  # a Sunday
    assert send_weekly_reports.apply().get() == 0
    assert send_csat_reviews.apply().get() == 0
    time_machine.move_to(datetime(2026, 11, 30, 6, tzinfo=UTC), tick=False)
    settings.HELPDESK_WEEKLY_REPORT = False
    assert send_weekly_reports.apply().get() == 0
    time_machine.move_to(datetime(2026, 12, 1, 6, tzinfo=UTC), tick=False)
    settings.HELPDESK_MONTHLY_CSAT_REVIEW = False
    assert send_csat_reviews.apply().get() == 0
    assert not OutboundEmail.objects.exists() and not SentReport.objects.exists()


def test_the_report_zone_decides_the_week(db, manager, settings, time_machine):
    settings.HELPDESK_REPORT_TIME_ZONE = "America/New_York"
    time_machine.move_to(datetime(2026, 11, 30, 3, 7, tzinfo=UTC), tick=False)
    assert send_weekly_reports.apply().get() == 0  # Sunday evening there
    time_machine.move_to(datetime(2026, 11, 30, 5, 7, tzinfo=UTC), tick=False)
    assert send_weekly_reports.apply().get() == 1
    [mail] = report_mails()
    assert "(America/New_York time)" in mail.body
    assert SentReport.objects.get().period_start == date(2026, 11, 23)
    assert periods.report_zone() == ZoneInfo("America/New_York")
    assert "The dashboard reads these dates in UTC time" in mail.body


def test_an_unknown_report_zone_stops_start_up():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
    env.update({"HELPDESK_DEMO": "1", "HELPDESK_REPORT_TIME_ZONE": "Mars/Olympus"})
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "HELPDESK_REPORT_TIME_ZONE='Mars/Olympus' is not a known time zone" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_mail_each_manager_once(manager, time_machine):
    """The first run holds its claim uncommitted; the second, owing the same
    manager, waits on the unique claim, then finds it taken and writes nothing."""
    time_machine.move_to(datetime(2026, 11, 30, 6, tzinfo=UTC), tick=False)
    claimed, release = threading.Event(), threading.Event()
    first_result: list[int] = []
    second_result: list[int] = []
    errors: list[BaseException] = []

    def first_run() -> None:
        try:
            with transaction.atomic():
                first_result.append(sending.send_weekly_report(week=WEEK))
                claimed.set()
                release.wait(20)
        except BaseException as error:  # reported below
            errors.append(error)
            claimed.set()
        finally:
            connections.close_all()

    def second_run() -> None:
        try:
            second_result.append(sending.send_weekly_report(week=WEEK))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    def second_is_waiting_for_the_claim() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] == 1

    first = threading.Thread(target=first_run)
    first.start()
    assert claimed.wait(20) and not errors
    second = threading.Thread(target=second_run)
    second.start()
    try:
        wait_for(second_is_waiting_for_the_claim, timeout=20, interval=0.05)
    finally:
        release.set()
    first.join(20)
    second.join(20)
    assert not errors
    assert first_result == [1] and second_result == [0]
    assert OutboundEmail.objects.filter(kind=sending.KIND_WEEKLY).count() == 1
    assert SentReport.objects.get().recipient_id == manager.pk


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")


def test_a_failed_send_stays_in_the_outbox_for_a_retry(
    db, manager, settings, send_queued_mail, time_machine
):
    time_machine.move_to(datetime(2026, 11, 30, 6, tzinfo=UTC), tick=False)
    assert send_weekly_reports.apply().get() == 1
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    send_queued_mail()
    [mail] = report_mails()
    assert mail.state == OutboundEmail.State.QUEUED
    assert mail.attempts == 1 and "went away" in mail.last_error
    assert mail.next_attempt_at is not None
    # The claim stands: the outbox retries the mail, the job does not write another.
    assert send_weekly_reports.apply().get() == 0


# --- the monthly CSAT review -------------------------------------------------------------


def _answer(ticket, customer, *, rating, when, agent=None, team=None, **fields):
    # A solve through the services has opened the round already.
    invite, _ = SurveyInvite.objects.get_or_create(
        ticket=ticket,
        round=1,
        defaults=dict(
            customer=customer,
            agent=agent,
            team=team,
            solved_at=when - timedelta(hours=2),
            due_at=when - timedelta(hours=1),
            state=SurveyInvite.State.SENT,
            sent_at=when - timedelta(hours=1),
        ),
    )
    return CSATResponse.objects.create(
        ticket=ticket,
        round=invite.round,
        customer=customer,
        rating=rating,
        agent=agent,
        team=team,
        answered_at=when,
        **fields,
    )


def test_monthly_csat_review(db, manager, agent, other_agent, customer, access_team, time_machine):
    billing = other_agent.teams.get()
    november = datetime(2026, 11, 10, 12, tzinfo=UTC)
    tickets = [make_ticket(requester=customer, subject=f"Q{n}") for n in range(7)]
    # November: Alice (Access) 5, 4, 1; Bob (Billing) 2 (followed up) -> 2 of 4
    # satisfied, average 3.0. October: Alice 5, 3 -> 1 of 2.
    _answer(tickets[0], customer, rating=5, when=november, agent=agent, team=access_team, effort=6)
    _answer(tickets[1], customer, rating=4, when=november, agent=agent, team=access_team, effort=4)
    bad = _answer(
        tickets[2], customer, rating=1, when=november + timedelta(days=1), agent=agent,
        team=access_team, comment="Nobody\nanswered for days.",
    )  # fmt: skip
    _answer(
        tickets[3], customer, rating=2, when=november, agent=other_agent, team=billing,
        followed_up_at=november + timedelta(days=2), followed_up_by=manager,
    )  # fmt: skip
    october = datetime(2026, 10, 20, 12, tzinfo=UTC)
    _answer(tickets[4], customer, rating=5, when=october, agent=agent, team=access_team)
    _answer(tickets[5], customer, rating=3, when=october, agent=agent, team=access_team)
    # A November survey nobody answered: response rate 4 of 5.
    SurveyInvite.objects.create(
        ticket=tickets[6], round=1, customer=customer, solved_at=november, due_at=november,
        state=SurveyInvite.State.SENT, sent_at=november,
    )  # fmt: skip
    invite = NPSInvite.objects.create(customer=customer, period_start=date(2026, 10, 1))
    NPSResponse.objects.create(
        invite=invite, customer=customer, period_start=date(2026, 10, 1), score=10,
        answered_at=november,
    )  # fmt: skip

    time_machine.move_to(datetime(2026, 12, 1, 6, tzinfo=UTC), tick=False)
    assert send_csat_reviews.apply().get() == 1
    assert send_csat_reviews.apply().get() == 0
    [mail] = report_mails(sending.KIND_CSAT_REVIEW)
    assert mail.subject == "Monthly CSAT review: November 2026"
    assert mail.recipient == manager.email
    body = mail.body
    assert (
        "- CSAT: 50.0 % of 4 answers rated 4-5 (target >= 85 %, missed); average rating "
        "3.00 of 5. Month before: 50.0 % of 2, average 4.00; change +0.0 points." in body
    )
    assert "- Response rate: 80.0 % (4 of 5 surveys of tickets solved this month answered)" in body
    assert "- Customer effort (CES, 1 very hard .. 7 very easy): 5.00 from 2 answers" in body
    assert "- NPS: 100 from 1 answers; month before n/a from 0." in body
    assert (
        "- Access: 66.7 % of 3 answers (average 3.33); month before 50.0 % of 2; +16.7 points."
        in body
    )
    assert "- Billing: 0.0 % of 1 answers (average 2.00); month before n/a of 0; n/a." in body
    assert "- Alice Agent: 66.7 % of 3 answers" in body and "- Bob Agent: 0.0 % of 1" in body
    assert "Bad ratings (1-2) this month: 2, 1 of the listed still waiting for a follow-up." in body
    assert (
        f"- {bad.ticket.key}: rated 1 on 2026-11-11, agent Alice Agent; waiting for a follow-up."
        in body
    )
    assert '    "Nobody answered for days."' in body
    assert f"    {bad.ticket.get_full_url()}" in body
    assert "followed up 2026-11-12 by Maggie Manager." in body
    assert "The follow-up list: https://help.example/survey/follow-up/" in body
    assert SentReport.objects.get().kind == SentReport.Kind.CSAT_MONTHLY


def test_the_review_reads_a_constant_number_of_queries(
    db, agent, customer, access_team, django_assert_num_queries
):
    november = month_of(date(2026, 11, 1), ZoneInfo("UTC"))
    # Satisfaction of the month and the month before (3 each: CSAT with CES,
    # the survey rounds, NPS), by team, by agent, the bad ratings and their count.
    with django_assert_num_queries(10):
        monthly.csat_review(november)
    for n in range(3):
        ticket = make_ticket(requester=customer, subject=f"Q{n}")
        _answer(ticket, customer, rating=1 + n, when=november.start + timedelta(days=n),
                agent=agent, team=access_team, comment="Slow.")  # fmt: skip
    with django_assert_num_queries(10):
        review = monthly.csat_review(november)
    assert review.now.csat.answers == 3 and review.bad_total == 2


def test_a_month_without_answers_makes_a_sensible_review(db, manager, time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 6, tzinfo=UTC), tick=False)
    assert send_csat_reviews.apply().get() == 1
    [mail] = report_mails(sending.KIND_CSAT_REVIEW)
    assert "- CSAT: n/a of 0 answers rated 4-5 (target >= 85 %, no answers)" in mail.body
    assert "- Response rate: n/a (0 of 0 surveys" in mail.body
    assert "NPS" not in mail.body and "CES" not in mail.body
    assert "By team (CSAT this month, month before, change):\n- No answers in either month." in (
        mail.body
    )
    assert "Bad ratings (1-2) this month: 0." in mail.body


def test_report_kinds_fit_the_outbox():
    field = OutboundEmail._meta.get_field("kind")
    assert len(sending.KIND_WEEKLY) <= field.max_length
    assert len(sending.KIND_CSAT_REVIEW) <= field.max_length
    assert at(11, 30, 0) == WEEK.end
