"""The lifecycle hooks (settings.HELPDESK_LIFECYCLE_HOOKS): every change of a
ticket reaches the SLA clock through one declared list, merges included."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from escalation.hooks import SLAClockHook
from escalation.models import Escalation, TicketSLA
from escalation.sweep import sweep
from tickets import services
from tickets.lifecycle import LifecycleHook, lifecycle_hooks
from tickets.models import OutboundEmail, Priority, Status, Ticket

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_the_sla_clock_hook_is_declared():
    assert any(isinstance(hook, SLAClockHook) for hook in lifecycle_hooks())


def test_a_hook_that_is_not_a_lifecycle_hook_is_refused():
    with override_settings(HELPDESK_LIFECYCLE_HOOKS=["tickets.models.Ticket"]):
        from tickets.lifecycle import _hooks

        _hooks.cache_clear()
        with pytest.raises(TypeError, match="not a LifecycleHook"):
            lifecycle_hooks()
    _hooks.cache_clear()


@pytest.fixture
def assigned(customer, agent, access_team, open_ticket, time_machine):
    """Two open tickets of Carol's, opened Monday 10:00, held by Alice."""
    time_machine.move_to(MONDAY_10, tick=False)
    made = []
    for subject in ("Cannot log in", "Still cannot log in"):
        ticket = open_ticket(customer, subject=subject, priority=Priority.NORMAL, team=access_team)
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, needs_triage=False)
        made.append(Ticket.objects.get(pk=ticket.pk))
    return made


def test_a_merged_duplicate_stops_its_sla_clock(assigned, agent):
    """Regression: the merge closed the duplicate behind the SLA clock's back,
    so it later got a first-response warning and its assignee and team lead
    were mailed."""
    duplicate, kept = assigned
    services.ticket_merge(source=duplicate, target=kept, actor=agent)
    duplicate.refresh_from_db()
    assert duplicate.status == Status.CLOSED
    assert duplicate.events.filter(action="ticket.status_changed", new_value="closed").exists()
    clock = TicketSLA.objects.get(ticket=duplicate)
    assert clock.next_check_at is None and duplicate.sla_due_at is None
    # Past the first-response warning (75 % of 4 business hours): only the
    # ticket the work continues on is warned about.
    sweep(now=MONDAY_10 + timedelta(hours=3, minutes=5))
    assert list(Escalation.objects.values_list("ticket_id", flat=True)) == [kept.pk]
    assert not OutboundEmail.objects.filter(ticket=duplicate, kind__startswith="sla.").exists()


def test_a_hook_sees_every_kind_of_change(settings, assigned, agent, customer):
    """A hook registered in the setting is called, in order, for status,
    message, property and merge changes (what analytics will register for)."""
    seen.clear()
    settings.HELPDESK_LIFECYCLE_HOOKS = [
        *settings.HELPDESK_LIFECYCLE_HOOKS,
        "tests.escalation.test_hooks.RecordingHook",
    ]
    from tickets.lifecycle import _hooks

    _hooks.cache_clear()
    try:
        first, second = assigned
        services.ticket_reply(ticket=first, author=agent, body="Try now")
        services.ticket_reply(ticket=first, author=customer, body="Works, thanks")
        services.ticket_update(ticket=first, actor=agent, priority=Priority.HIGH)
        services.ticket_change_status(ticket=first, status=Status.SOLVED, actor=agent)
        services.ticket_merge(source=second, target=first, actor=agent)
    finally:
        _hooks.cache_clear()
    assert seen == [
        ("message", first.pk, "staff"),
        ("status", first.pk, "new->open"),  # the first staff reply opens it
        ("message", first.pk, "customer"),
        ("properties", first.pk, "priority"),
        ("status", first.pk, "open->solved"),
        ("status", second.pk, "new->closed"),
        ("merged", second.pk, first.pk),
    ]


seen: list[tuple] = []


class RecordingHook(LifecycleHook):
    def message_added(self, change):
        seen.append(("message", change.ticket.pk, "staff" if change.by_staff else "customer"))

    def properties_changed(self, change):
        seen.append(("properties", change.ticket.pk, ",".join(sorted(change.changes))))

    def status_changed(self, change):
        seen.append(("status", change.ticket.pk, f"{change.old}->{change.new}"))

    def ticket_merged(self, change):
        seen.append(("merged", change.source.pk, change.target.pk))
