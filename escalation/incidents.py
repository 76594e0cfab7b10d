"""Impact escalation: when HELPDESK_INCIDENT_THRESHOLD open tickets of one
category arrive within HELPDESK_INCIDENT_WINDOW_MINUTES, open a major incident
— a parent ticket that links them, alerts the managers, and lets an agent
answer every linked customer at once. Later reports of the category link to
the open incident.

Opening an incident is decided under a row lock on the category (taken only
once the threshold is reached), so two reports arriving together cannot open
two incidents.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from escalation.actions import Outbox, mail_people
from escalation.models import Escalation, Incident
from tickets import services
from tickets.models import OPEN_STATUSES, Category, Channel, Priority, Role, Ticket, User


def _window() -> timedelta:
    return timedelta(minutes=settings.HELPDESK_INCIDENT_WINDOW_MINUTES)


def open_incident_for(category_id: int) -> Incident | None:
    return (
        Incident.objects.select_related("parent")
        .filter(category_id=category_id, parent__status__in=OPEN_STATUSES)
        .first()
    )


def on_new_ticket(ticket: Ticket) -> Incident | None:
    """Link the ticket to its category's open incident, or open one when the
    category's recent reports reach the threshold. Runs inside intake."""
    if ticket.category_id is None or ticket.parent_id is not None:
        return None
    incident = open_incident_for(ticket.category_id)
    if incident is None:
        if _recent_reports(ticket.category_id).count() < settings.HELPDESK_INCIDENT_THRESHOLD:
            return None  # the common case: no lock taken
        # Enough reports: decide under the category's lock, so that two
        # intakes reaching the threshold together open one incident.
        Category.objects.select_for_update().get(pk=ticket.category_id)
        incident = open_incident_for(ticket.category_id)
        if incident is None:
            reports = list(_recent_reports(ticket.category_id).order_by("id"))
            if len(reports) < settings.HELPDESK_INCIDENT_THRESHOLD:
                return None
            return _open(Category.objects.get(pk=ticket.category_id), reports)
    services.ticket_link(child=ticket, parent=incident.parent, actor=None)
    return incident


def _recent_reports(category_id: int):
    return Ticket.objects.filter(
        category_id=category_id,
        created_at__gte=timezone.now() - _window(),
        parent__isnull=True,
        status__in=OPEN_STATUSES,
        incident__isnull=True,
    )


def _open(category: Category, reports: list[Ticket]) -> Incident | None:
    managers = list(User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk"))
    # The incident ticket is the helpdesk's own and lists every report, so it
    # must never belong to a customer: a manager, else the team lead, else any
    # agent "requests" it.
    requester = (
        managers[0]
        if managers
        else (category.default_team.lead if category.default_team_id else None)
        or User.objects.filter(role=Role.AGENT, is_active=True).order_by("pk").first()
    )
    if requester is None:
        return None
    minutes = settings.HELPDESK_INCIDENT_WINDOW_MINUTES
    keys = ", ".join(t.key for t in reports)
    parent = services.ticket_create(
        requester=requester,
        subject=f"Major incident: {len(reports)} {category.name} reports in {minutes} min",
        description=(
            f"Opened automatically: {len(reports)} tickets of category {category.name} "
            f"arrived within {minutes} minutes ({keys}). Further reports are linked here; "
            "answer them all from this ticket."
        ),
        channel=Channel.AGENT,
        priority=Priority.URGENT,
        category=category,
        team=category.default_team,
    )
    incident = Incident.objects.create(
        parent=parent, category=category, opened_at=parent.created_at
    )
    for report in reports:
        services.ticket_link(child=report, parent=parent, actor=None)
    escalation = Escalation.objects.create(
        ticket=parent,
        kind=Escalation.Kind.INCIDENT,
        reason=f"{len(reports)} {category.name} reports in {minutes} min: {keys}"[:500],
        created_at=parent.created_at,
    )
    outbox = Outbox()
    mail_people(
        escalation,
        parent,
        outbox,
        [("manager", manager) for manager in managers],
        f"[{parent.key}] Major incident: {category.name}",
        f"{len(reports)} {category.name} tickets arrived within {minutes} minutes "
        f"({keys}). They are linked to {parent.key}:\n\n{parent.get_full_url()}\n",
    )
    escalation.actions = [f"linked {len(reports)} tickets", f"alerted {len(managers)} managers"]
    escalation.save(update_fields=["actions"])
    outbox.flush()
    return incident


def reply_to_all(parent: Ticket, *, author: User, body: str) -> int:
    """Send the same public reply on every open ticket linked to the incident."""
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
