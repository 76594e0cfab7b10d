"""Impact escalation: link new tickets to their category's major incident,
or open one when their reports are a spike (escalation.detection), and
answer every linked customer at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from escalation import clock, detection
from escalation.models import Escalation, Incident
from tickets import services
from tickets.errors import DomainError
from tickets.history import event as history_event
from tickets.history import record_events
from tickets.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    Priority,
    Role,
    SupportTier,
    Ticket,
    TicketEvent,
    User,
)

if TYPE_CHECKING:
    from tickets.intake import Intake

from escalation.services.notifications import Notifications, mail_people, managers


def incidents_for_new_tickets(intakes: Sequence[Intake]) -> None:
    """Link new tickets to their category's open major incident, or open one
    when the category's reports in the window are a spike against its normal
    rate (escalation.detection).

    Opening is decided under a row lock on the category, taken only once the
    reports are a spike, so two intakes reaching it together open one
    incident. The lock is FOR NO KEY UPDATE: it must not block the key-share
    locks with which PostgreSQL checks tickets' foreign keys to the category
    (a FOR UPDATE lock here deadlocked with a customer's reply)."""
    now = timezone.now()
    batch_ids = [i.ticket.pk for i in intakes]
    by_category: dict[int, list[Intake]] = {}
    for intake in intakes:
        if intake.ticket.category_id is not None and intake.ticket.parent_id is None:
            by_category.setdefault(intake.ticket.category_id, []).append(intake)
    parent_events: list[TicketEvent] = []
    for category_id, reports in by_category.items():
        incident = detection.open_incident_for(category_id)
        if incident is None:
            seen = detection.reports_in_window(category_id, excluding=batch_ids, now=now)
            if not detection.is_spike(category_id, seen + len(reports), now=now):
                continue  # the common case: no lock taken
            # A spike: decide under the category's lock.
            category = Category.objects.select_for_update(no_key=True).get(pk=category_id)
            incident = detection.open_incident_for(category_id)
            if incident is None:
                _open_incident(category, reports, batch_ids, now)
                continue
        for intake in reports:
            _link(intake, incident.parent, parent_events)
    record_events(parent_events)


def _link(intake: Intake, parent: Ticket, parent_events: list[TicketEvent]) -> None:
    intake.set(parent=parent)
    intake.record("ticket.linked", field="parent", new=parent.key)
    parent_events.append(
        history_event(
            parent,
            actor=None,
            action="ticket.child_linked",
            field="children",
            new=intake.ticket.key,
        )
    )


def _open_incident(
    category: Category, reports: Sequence[Intake], batch_ids: Sequence[int], now: datetime
) -> None:
    earlier = list(
        detection.unlinked_reports(category.pk, excluding=batch_ids, now=now).order_by("id")
    )
    people = managers()
    # The incident ticket is the helpdesk's own and lists every report, so it
    # must never belong to a customer: a manager, else the team lead, else any
    # agent "requests" it (and, being staff, gets no acknowledgement).
    requester = (
        people[0]
        if people
        else (category.default_team.lead if category.default_team is not None else None)
        or User.objects.assignable().filter(role=Role.AGENT).order_by("pk").first()
    )
    if requester is None:
        return
    minutes = settings.HELPDESK_INCIDENT_WINDOW_MINUTES
    count = len(earlier) + len(reports)
    keys = ", ".join([t.key for t in earlier] + [i.ticket.key for i in reports])
    parent = services.ticket_create(
        requester=requester,
        subject=f"Major incident: {count} {category.name} reports in {minutes} min",
        description=(
            f"Opened automatically: {count} tickets of category {category.name} "
            f"arrived within {minutes} minutes ({keys}). Further reports are linked here; "
            "answer them all from this ticket."
        ),
        channel=Channel.AGENT,
        priority=Priority.URGENT,
        category=category,
        team=category.default_team,
    )
    Incident.objects.create(parent=parent, category=category, opened_at=parent.created_at)
    _start_incident_clock(parent, [*earlier, *(i.ticket for i in reports)])
    for report in earlier:
        services.ticket_link(child=report, parent=parent, actor=None)
    parent_events: list[TicketEvent] = []
    for intake in reports:
        _link(intake, parent, parent_events)
    record_events(parent_events)
    escalation = Escalation.objects.create(
        ticket=parent,
        kind=Escalation.Kind.INCIDENT,
        reason=f"{count} {category.name} reports in {minutes} min: {keys}"[:500],
        created_at=parent.created_at,
    )
    notifications = Notifications()
    mail_people(
        notifications,
        parent,
        kind="incident.opened",
        recipients=[("manager", manager) for manager in people],
        subject=f"[{parent.key}] Major incident: {category.name}",
        body=(
            f"{count} {category.name} tickets arrived within {minutes} minutes "
            f"({keys}). They are linked to {parent.key}:\n\n{parent.get_full_url()}\n"
        ),
    )
    escalation.actions = [f"linked {count} tickets", f"alerted {len(people)} managers"]
    escalation.save(update_fields=["actions"])
    notifications.flush()


def _start_incident_clock(parent: Ticket, reports: Sequence[Ticket]) -> None:
    """A major incident runs on an SLA clock too: the policy of its most
    demanding report's customer tier (VIP before standard before basic), at
    its own urgent priority."""
    tiers = {t.organization.support_tier for t in reports if t.organization is not None}
    tier = next(
        (t for t in (SupportTier.VIP, SupportTier.STANDARD) if t in tiers), SupportTier.BASIC
    )
    sla = clock.new_clock(parent, clock.policies(), tier=tier)
    sla.save(force_insert=True)
    parent.sla_due_at = clock.nearest_due(sla)
    Ticket.objects.filter(pk=parent.pk).update(sla_due_at=parent.sla_due_at)


@transaction.atomic
def incident_reply_all(*, parent: Ticket, author: User, body: str) -> int:
    """Send the same public reply on every open ticket linked to the incident."""
    if not Incident.objects.filter(parent_id=parent.pk).exists():
        raise DomainError("This ticket is not a major incident.")
    body = (body or "").strip()
    if not body:
        raise DomainError("Write the reply first: it was empty, nothing was sent.", field="body")
    children = list(parent.children.filter(status__in=OPEN_STATUSES).order_by("id"))
    for child in children:
        services.ticket_reply(ticket=child, author=author, body=body)
    services.ticket_reply(
        ticket=parent,
        author=author,
        body=f"Replied to {len(children)} linked tickets:\n\n{body}",
        is_internal=True,
    )
    return len(children)
