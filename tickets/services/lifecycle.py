"""A ticket's life: opening it, its status, its properties, its assignee, a
hand-over to a higher tier.

Every service here is keyword-only and atomic, records what it changed in the
history, and then announces the change to the lifecycle hooks
(tickets/lifecycle.py). Every status change of every ticket goes through
`apply_status`, merges included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from tickets.errors import DomainError
from tickets.history import event, record_event, record_events
from tickets.lifecycle import PropertiesChanged, StatusChanged, TicketCreated, announce
from tickets.models import (
    OPEN_STATUSES,
    STATUS_TRANSITIONS,
    AgentTier,
    Category,
    Channel,
    Message,
    Priority,
    Status,
    Team,
    Ticket,
    User,
)
from tickets.routing_rules import choose_agent, placement, routing_reason
from tickets.search import search_index_tickets
from tickets.services.attachments import store_attachments, validate_attachments
from tickets.services.base import Edit, locked, require_staff


@transaction.atomic
def ticket_create(
    *,
    requester: User,
    subject: str,
    description: str,
    channel: str = Channel.PORTAL,
    priority: str = Priority.NORMAL,
    category: Category | None = None,
    team: Team | None = None,
    actor: User | None = None,
    attachments: Sequence[UploadedFile] = (),
    email_message_id: str = "",
) -> Ticket:
    """Store a ticket: the row, its first message (the description), the
    attachments, the first history row and the search vector. Nothing is
    written unless everything is valid. Customers' tickets come in through
    tickets.intake, which runs the intake steps after this; the system opens
    its own tickets (major incidents) with this alone."""
    subject = (subject or "").strip()
    description = (description or "").strip()
    if not subject:
        raise DomainError("A subject is required.", field="subject")
    if not description:
        raise DomainError("Please describe the problem.", field="description")
    if channel not in Channel.values:
        raise DomainError(f"Unknown channel {channel!r}.", field="channel")
    if priority not in Priority.values:
        raise DomainError(f"Unknown priority {priority!r}.", field="priority")
    if not requester.is_active:
        raise DomainError("The requester's account is disabled.", field="requester")
    files = validate_attachments(attachments)

    now = timezone.now()
    ticket = Ticket(
        subject=subject[:250],
        description=description,
        requester=requester,
        organization=requester.organization,
        channel=channel,
        priority=priority,
        category=category,
        # Tier and team follow from the category in intake's routing step,
        # which records why; here only what the caller said explicitly.
        team=team,
        created_at=now,
        updated_at=now,
    )
    # Inputs were checked above; the database enforces the rest (full_clean
    # would cost a query per constraint and foreign key on every intake).
    ticket.save()
    message = Message.objects.create(
        ticket=ticket,
        author=requester,
        body=description,
        channel=channel,
        email_message_id=email_message_id,
        created_at=now,
    )
    store_attachments(message, files)
    record_event(ticket, actor=actor or requester, action="ticket.created", new=channel, at=now)
    search_index_tickets([ticket.pk])
    announce(TicketCreated(ticket=ticket, actor=actor or requester, at=now))
    return ticket


# --- status -------------------------------------------------------------------


def apply_status(
    edit: Edit, new_status: str, *, note: str = "", any_open_status: bool = False
) -> None:
    """The one path of every status change, as part of an edit of a locked
    ticket: check the transition, set the timestamps, record it, announce it.
    `any_open_status` lets a merge close an open ticket directly."""
    ticket = edit.ticket
    old_status = ticket.status
    if new_status not in Status.values:
        raise DomainError(f"Unknown status {new_status!r}.", field="status")
    if new_status == old_status:
        return
    allowed = STATUS_TRANSITIONS[old_status]
    if any_open_status and old_status in OPEN_STATUSES:
        allowed = allowed | {Status.CLOSED}
    if new_status not in allowed:
        raise DomainError(
            f"A {Status(old_status).label.lower()} ticket cannot become "
            f"{Status(new_status).label.lower()}.",
            field="status",
        )
    edit.set("status", new_status)
    if new_status in (Status.SOLVED, Status.CLOSED) and ticket.solved_at is None:
        edit.set("solved_at", edit.now)
    if new_status == Status.CLOSED:
        edit.set("closed_at", edit.now)
    elif old_status == Status.SOLVED and new_status != Status.SOLVED:
        # Reopened: the earlier solve no longer counts.
        edit.set("solved_at", None)
    reopened = old_status == Status.SOLVED and new_status == Status.OPEN
    edit.record(
        action="ticket.reopened" if reopened else "ticket.status_changed",
        field="status",
        old=old_status,
        new=new_status,
        note=note,
    )
    edit.announce(
        StatusChanged(
            ticket=ticket,
            actor=edit.actor,
            at=edit.now,
            old=old_status,
            new=new_status,
            fields=edit.fields,
        )
    )


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, status: str, actor: User | None) -> Ticket:
    """Move the ticket along its lifecycle. Customers may only mark their own
    ticket solved or reopen a solved one; everything else is staff work."""
    edit = Edit(locked(ticket), actor=actor, now=timezone.now())
    if actor is not None and not actor.has_perm("tickets.work_tickets"):
        current = edit.ticket.status
        allowed = {Status.SOLVED} | ({Status.OPEN} if current == Status.SOLVED else set())
        if status not in allowed:
            raise DomainError(
                "Customers can only solve or reopen a ticket.",
                field="status",
                code="permission_denied",
            )
    apply_status(edit, status)
    return edit.finish()


# --- properties -----------------------------------------------------------------

# Fields a person may change with ticket_update.
UPDATABLE_FIELDS = ("subject", "priority", "category", "team", "tier")


def _check_update(changes: dict[str, Any]) -> None:
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))}.")
    if "priority" in changes and changes["priority"] not in Priority.values:
        raise DomainError(f"Unknown priority {changes['priority']!r}.", field="priority")
    if "subject" in changes:
        changes["subject"] = (changes["subject"] or "").strip()
        if not changes["subject"]:
            raise DomainError("A subject is required.", field="subject")
        if len(changes["subject"]) > 250:
            raise DomainError("The subject is longer than 250 characters.", field="subject")
    if "tier" in changes and changes["tier"] not in AgentTier.values:
        raise DomainError(f"Unknown tier {changes['tier']!r}.", field="tier")


def update_properties(
    edit: Edit, *, note: str = "", notes: dict[str, str] | None = None, **changes: Any
) -> None:
    """ticket_update as part of an edit."""
    require_staff(edit.actor, "change ticket properties")
    _check_update(changes)
    for field, new in changes.items():
        edit.change(field, new, note=(notes or {}).get(field, note))
    if "subject" in edit.changes:
        edit.reindex = True


def route_again(edit: Edit) -> None:
    """A person categorised the ticket or chose its team: route it as intake
    would. A category set by a person ends triage; an unassigned open ticket
    is placed (tier and team from the category, unless the team was chosen in
    the same edit) and given to an agent with the skill and room, the
    decisions recorded as the system's with their reasons."""
    if edit.actor is None or not {"category", "team"} & edit.changes.keys():
        return
    ticket = edit.ticket
    if "category" in edit.changes and ticket.category_id is not None and ticket.needs_triage:
        edit.change("needs_triage", False, action="ticket.triaged", note="Categorised by a person")
    if ticket.assignee_id is not None or not ticket.is_open or ticket.needs_triage:
        return
    if "category" in edit.changes:
        chosen_team = ticket.team if "team" in edit.changes else None
        placed, reason = placement(ticket, explicit_team=chosen_team)
        for field, value in placed.items():
            edit.change(field, value, note=reason, by_system=True)
    claimed = choose_agent(ticket)
    if claimed is not None:
        edit.change(
            "assignee",
            claimed.agent,
            note=routing_reason(ticket, claimed),
            action="ticket.assigned",
            by_system=True,
        )
        User.objects.filter(pk=claimed.agent.pk).update(last_routed_at=edit.now)


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: User | None,
    note: str = "",
    notes: dict[str, str] | None = None,
    **changes: Any,
) -> Ticket:
    """Change properties of a ticket (staff, or the system with actor=None).
    Unchanged values record nothing; `note` says why (e.g. a routing reason),
    `notes` says it per field where the reasons differ. A person's new
    category or team routes the ticket again (route_again)."""
    require_staff(actor, "change ticket properties")
    _check_update(changes)
    edit = Edit(locked(ticket), actor=actor, now=timezone.now())
    update_properties(edit, note=note, notes=notes, **changes)
    route_again(edit)
    return edit.finish()


def assign(edit: Edit, assignee: User | None, *, note: str = "") -> None:
    """ticket_assign as part of an edit."""
    require_staff(edit.actor, "assign tickets")
    if assignee is not None and not assignee.is_assignable:
        raise DomainError(f"{assignee.full_name} cannot work tickets.", field="assignee")
    ticket = edit.ticket
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return
    if not ticket.is_open:
        raise DomainError("Solved and closed tickets cannot be reassigned.", field="assignee")
    edit.change(
        "assignee",
        assignee,
        note=note,
        action="ticket.assigned" if assignee else "ticket.unassigned",
    )


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, assignee: User | None, actor: User | None, note: str = ""
) -> Ticket:
    """Give the ticket to an agent (or take it back to the queue with None).
    `note` records why (routing explains its choice there)."""
    require_staff(actor, "assign tickets")
    if assignee is not None and not assignee.is_assignable:
        raise DomainError(f"{assignee.full_name} cannot work tickets.", field="assignee")
    edit = Edit(locked(ticket), actor=actor, now=timezone.now())
    assign(edit, assignee, note=note)
    return edit.finish()


# --- hand-over to a higher tier ---------------------------------------------------


@dataclass(frozen=True)
class HandOver:
    """One ticket to move up to `tier`: `note` becomes an internal note (by
    `author_id`, or the helpdesk's own when None); `reason` goes into the
    history as the change of `actor_id` (None: the system, e.g. the SLA
    rules)."""

    ticket_id: int
    tier: int
    reason: str
    note: str = ""
    author_id: int | None = None
    actor_id: int | None = None
    # A team for a ticket that has none, so the next tier's agents get it.
    team_id: int | None = None


@transaction.atomic
def tickets_hand_over(handovers: Sequence[HandOver], *, route: bool = False) -> list[int]:
    """Move open tickets up a support tier — the one hand-over path, for an
    agent's manual escalation (one ticket) and the SLA sweep (hundreds at
    once): the hand-over notes, the new tier (and a team where it had none),
    and the assignee removed where they lack that tier, each with its history
    row, in a few statements instead of a locked read-modify-write per ticket
    (each ticket row written once). With `route`, tickets left without an
    agent are given one of the new tier at once (one ticket: an agent's
    escalation); otherwise the caller routes them later (the sweep's batches).
    Returns the ids of the tickets left without an assignee."""
    wanted = {h.ticket_id: h for h in handovers}
    tickets = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",), no_key=True).filter(
            pk__in=wanted, status__in=OPEN_STATUSES
        )
    }
    moving = [wanted[pk] for pk in tickets if wanted[pk].tier > tickets[pk].tier]
    if not moving:
        return []
    people = {
        u.pk: u
        for u in User.objects.filter(
            pk__in={tickets[h.ticket_id].assignee_id for h in moving}
            | {h.author_id for h in moving}
            | {h.actor_id for h in moving}
        ).only("id", "email", "tier", "full_name")
    }
    now = timezone.now()
    notes = [
        Message(
            ticket_id=h.ticket_id,
            author_id=h.author_id,
            body=h.note,
            is_internal=True,
            channel=Channel.AGENT,
            created_at=now,
        )
        for h in moving
        if h.note
    ]
    Message.objects.bulk_create(notes)
    events = [
        event(
            tickets[note.ticket_id],
            actor=people.get(note.author_id) if note.author_id is not None else None,
            action="ticket.note_added",
            new=note.pk,
            at=now,
        )
        for note in notes
    ]
    unassigned: list[int] = []
    announcements: list[PropertiesChanged] = []
    fields: set[str] = {"tier", "assignee", "team", "updated_at"}
    routed: list[int] = []
    for h in moving:
        ticket = tickets[h.ticket_id]
        actor = people.get(h.actor_id) if h.actor_id else None
        events.append(
            event(
                ticket,
                actor=actor,
                action="ticket.tier_changed",
                field="tier",
                old=ticket.tier,
                new=h.tier,
                note=h.reason,
                at=now,
            )
        )
        changes: dict[str, tuple[object, object]] = {"tier": (ticket.tier, h.tier)}
        ticket.tier = h.tier
        ticket.updated_at = now
        assignee = people.get(ticket.assignee_id) if ticket.assignee_id else None
        if assignee is not None and (assignee.tier or 0) < h.tier:
            events.append(
                event(
                    ticket,
                    actor=actor,
                    action="ticket.unassigned",
                    field="assignee",
                    old=assignee,
                    new=None,
                    note=f"Needs Tier {h.tier}",
                    at=now,
                )
            )
            changes["assignee"] = (assignee, None)
            ticket.assignee_id = None
        if h.team_id is not None and ticket.team_id is None:
            team = Team.objects.get(pk=h.team_id)
            events.append(
                event(
                    ticket, actor=actor, action="ticket.team_changed", field="team",
                    old=None, new=team, note=f"Escalated without a team: {team.name} takes it",
                    at=now,
                )
            )  # fmt: skip
            changes["team"] = (None, team)
            ticket.team = team
        if ticket.assignee_id is None and route:
            claimed = choose_agent(ticket)
            if claimed is not None:
                events.append(
                    event(
                        ticket, actor=None, action="ticket.assigned", field="assignee",
                        old=None, new=claimed.agent, note=routing_reason(ticket, claimed),
                        at=now,
                    )
                )  # fmt: skip
                changes["assignee"] = (changes.get("assignee", (None, None))[0], claimed.agent)
                ticket.assignee = claimed.agent
                routed.append(claimed.agent.pk)
        if ticket.assignee_id is None:
            unassigned.append(ticket.pk)
        announcements.append(
            PropertiesChanged(ticket=ticket, actor=actor, at=now, changes=changes, fields=fields)
        )
    record_events(events)
    for change in announcements:
        announce(change)
    # One UPDATE for the batch, after the hooks added the fields they mirror.
    Ticket.objects.bulk_update([tickets[h.ticket_id] for h in moving], sorted(fields))
    if routed:
        User.objects.filter(pk__in=routed).update(last_routed_at=now)
    return unassigned
