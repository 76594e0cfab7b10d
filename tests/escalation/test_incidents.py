"""Impact escalation: many tickets of one category in a short window open a
major incident that links them, alerts managers, and is answered at once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from escalation.models import Escalation, Incident
from tests.factories import make_user
from tickets.models import Category, Message, OutboundEmail, Role, Ticket

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture
def performance(access_team):
    return Category.objects.create(name="Performance", slug="performance", default_team=access_team)


@pytest.fixture
def report(open_ticket, performance, settings):
    settings.HELPDESK_INCIDENT_THRESHOLD = 3
    settings.HELPDESK_INCIDENT_WINDOW_MINUTES = 20

    def report_(requester, subject="Everything is slow"):
        return open_ticket(requester, subject=subject, category=performance)

    return report_


def test_reports_within_the_window_open_one_incident(
    report, customer, other_customer, colleague, manager, time_machine
):
    time_machine.move_to(MONDAY_10, tick=False)
    first = report(customer)
    time_machine.move_to(MONDAY_10 + timedelta(minutes=8))
    second = report(other_customer)
    assert not Incident.objects.exists()
    time_machine.move_to(MONDAY_10 + timedelta(minutes=15))
    third = report(colleague)
    incident = Incident.objects.get()
    parent = incident.parent
    assert parent.priority == "urgent" and "Major incident" in parent.subject
    assert set(parent.children.values_list("pk", flat=True)) == {first.pk, second.pk, third.pk}
    alert = OutboundEmail.objects.get(ticket=parent, audience="manager")
    assert alert.kind == "incident.opened"
    assert alert.recipient == manager.email and "Major incident" in alert.subject
    # The helpdesk opened the incident for its own people: nobody is told
    # "we received your request" about it (the manager owns it).
    assert not OutboundEmail.objects.filter(ticket=parent, kind="ticket.acknowledgement").exists()
    assert parent.requester == manager
    assert Escalation.objects.get(ticket=parent).kind == "incident"
    # A later report of the category is linked to the open incident.
    time_machine.move_to(MONDAY_10 + timedelta(minutes=40))
    fourth = report(customer, subject="Still slow")
    assert Ticket.objects.get(pk=fourth.pk).parent_id == parent.pk
    assert Incident.objects.count() == 1


def test_reports_spread_out_or_of_other_categories_do_not(
    report, open_ticket, customer, other_customer, time_machine
):
    time_machine.move_to(MONDAY_10, tick=False)
    report(customer)
    report(other_customer)
    open_ticket(customer, subject="Invoice wrong")  # no category: not counted
    time_machine.move_to(MONDAY_10 + timedelta(minutes=30))
    report(customer)  # the first two are outside the 20-minute window now
    assert not Incident.objects.exists()


def test_an_agent_answers_every_linked_customer_at_once(
    client, report, customer, other_customer, colleague, agent, manager
):
    for who in (customer, other_customer, colleague):
        report(who)
    parent = Incident.objects.get().parent
    client.force_login(agent)
    page = client.get(parent.get_absolute_url()).content.decode()
    assert "Reply to every linked customer" in page
    response = client.post(
        reverse("escalation:reply_all", args=[parent.key]),
        {"body": "We found the cause and are fixing it."},
    )
    assert response.status_code == 302
    for child in parent.children.all():
        reply = Message.objects.filter(ticket=child, is_internal=False, author=agent).get()
        assert reply.body == "We found the cause and are fixing it."
        assert reply.channel == "agent"  # not "via Customer portal"
    assert Message.objects.filter(ticket=parent, is_internal=True, author=agent).exists()


def test_reply_all_refuses_empty_replies_and_non_staff(
    client, report, customer, other_customer, colleague, agent
):
    for who in (customer, other_customer, colleague):
        report(who)
    parent = Incident.objects.get().parent
    staff = make_user(Role.MANAGER, email="boss@helpdesk.test", full_name="Boss")
    client.force_login(staff)
    client.post(reverse("escalation:reply_all", args=[parent.key]), {"body": "   "}, follow=True)
    assert not Message.objects.filter(author=staff).exists()
    assert parent.requester == agent  # no manager: staff, never a reporting customer
    client.force_login(customer)
    # The customer cannot see the incident ticket (it lists others' reports).
    assert (
        client.post(reverse("escalation:reply_all", args=[parent.key]), {"body": "x"}).status_code
        == 404
    )


def _history(category, requester, *, per_hour, hours, end, status="solved"):
    """Tickets of `category` at a steady rate for `hours` before `end`
    (loaded in bulk: the past, not intake)."""
    step = timedelta(hours=1) / per_hour
    count = int(per_hour * hours)
    Ticket.objects.bulk_create(
        Ticket(
            subject="Slow page",
            description="Slow",
            requester=requester,
            organization=requester.organization,
            category=category,
            status=status,
            solved_at=end if status == "solved" else None,
            created_at=end - step * (i + 1),
            updated_at=end,
        )
        for i in range(count)
    )


def test_steady_heavy_traffic_opens_no_incident_a_spike_does(
    report, performance, customer, other_customer, manager, settings, time_machine
):
    """Regression: at 10 tickets/s every category passed the fixed count (5 in
    20 minutes) within seconds, and every ticket became an incident. Now a
    category's normal rate is its own baseline: 60 reports an hour, all day
    long, is normal for it; three times that within the window is a spike."""
    time_machine.move_to(MONDAY_10, tick=False)
    _history(performance, customer, per_hour=60, hours=24, end=MONDAY_10 - timedelta(minutes=20))
    # The window holds the usual 20 reports (one a minute), then one more arrives.
    _history(performance, customer, per_hour=60, hours=1 / 3, end=MONDAY_10, status="new")
    report(other_customer)
    assert not Incident.objects.exists()
    # A spike: 40 more reports within the window.
    _history(performance, customer, per_hour=60 * 6, hours=1 / 9, end=MONDAY_10, status="new")
    time_machine.move_to(MONDAY_10 + timedelta(minutes=1))
    spiking = report(other_customer, subject="Slow again")
    incident = Incident.objects.get()
    assert Ticket.objects.get(pk=spiking.pk).parent_id == incident.parent_id
    assert "reports in 20 min" in incident.parent.subject


def test_a_quiet_category_still_opens_an_incident_at_the_minimum(
    report, customer, other_customer, colleague, manager, time_machine
):
    """With no history, the fixed minimum (here 3) is the threshold."""
    time_machine.move_to(MONDAY_10, tick=False)
    for who in (customer, other_customer):
        report(who)
    assert not Incident.objects.exists()
    report(colleague)
    assert Incident.objects.count() == 1
