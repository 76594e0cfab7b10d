"""Every write to the ticket domain. Views, the API, management commands and
Celery tasks call these; none of them changes a ticket by hand.

Each service is keyword-only, atomic, and records what it changed in the
ticket's history (TicketEvent) with a dotted action name.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from helpdesk.enqueue import enqueue_on_commit
from tickets.email.outgoing import send_ticket_mail
from tickets.errors import DomainError
from tickets.models import (
    OPEN_STATUSES,
    STATUS_TRANSITIONS,
    AgentTier,
    Attachment,
    Category,
    Channel,
    Message,
    Organization,
    Priority,
    Role,
    Skill,
    Status,
    Team,
    Ticket,
    TicketEvent,
    User,
)
from tickets.reference import attach_named_relations
from tickets.roles import role_group_name
from tickets.search import search_index_tickets
from tickets.signals import ticket_event

# --- people -----------------------------------------------------------------


def user_create(
    *,
    email: str,
    password: str | None = None,
    full_name: str = "",
    role: str = Role.CUSTOMER,
    organization: Organization | None = None,
    sees_organization_tickets: bool = False,
    tier: int | None = None,
    capacity: int = 0,
    skills: Iterable[Skill] = (),
    teams: Iterable[Team] = (),
    is_available: bool = True,
) -> User:
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    email = User.objects.normalize_email(email or "").strip().lower()
    user = User(
        email=email,
        full_name=(full_name or email.split("@")[0]).strip(),
        role=role,
        organization=organization,
        sees_organization_tickets=sees_organization_tickets,
        tier=tier,
        capacity=capacity,
        is_available=is_available,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _validate(user)
    with transaction.atomic():
        user.save()
        user_set_role(user=user, role=role)
        if skills:
            user.skills.set(skills)
        if teams:
            user.teams.set(teams)
    return user


def user_set_role(*, user: User, role: str) -> User:
    """Put the user in exactly the group of `role`; admins are also superusers
    and staff (Django admin access)."""
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    with transaction.atomic():
        role_groups = Group.objects.filter(name__startswith="role:")
        user.groups.remove(*role_groups)
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        user.groups.add(group)
        user.role = role
        user.is_superuser = role == Role.ADMIN
        user.is_staff = role in (Role.ADMIN, Role.MANAGER)
        user.save(update_fields=["role", "is_superuser", "is_staff"])
    # has_perm caches per instance; the role just changed.
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attr, None)
    return user


def _validate(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(" ".join(messages), field=None if field == "__all__" else field) from exc


# --- attachments --------------------------------------------------------------


@dataclass(frozen=True)
class IncomingFile:
    """A file arriving from any channel (form upload, e-mail part, API)."""

    filename: str
    content_type: str
    content: UploadedFile


def validate_attachments(files: Sequence[UploadedFile]) -> list[IncomingFile]:
    """Check every file against the size and type limits before anything is
    written, so a bad attachment refuses the whole request."""
    checked = []
    for upload in files:
        name = (upload.name or "attachment").rsplit("/", 1)[-1][:255]
        content_type = (
            (
                getattr(upload, "content_type", None)
                or mimetypes.guess_type(name)[0]
                or "application/octet-stream"
            )
            .split(";")[0]
            .strip()
            .lower()
        )
        if upload.size > settings.HELPDESK_ATTACHMENT_MAX_BYTES:
            limit_mb = settings.HELPDESK_ATTACHMENT_MAX_BYTES / (1024 * 1024)
            raise DomainError(
                f"{name} is too large (limit {limit_mb:.0f} MB).", field="attachments"
            )
        if content_type not in settings.HELPDESK_ATTACHMENT_TYPES:
            raise DomainError(
                f"{name}: files of type {content_type} are not accepted.", field="attachments"
            )
        checked.append(IncomingFile(filename=name, content_type=content_type, content=upload))
    return checked


def _store_attachments(message: Message, files: Sequence[IncomingFile]) -> None:
    for incoming in files:
        attachment = Attachment(
            message=message,
            filename=incoming.filename,
            content_type=incoming.content_type,
            size=incoming.content.size,
        )
        # Saved through Django's storage API (local disk in the demo, any
        # configured storage in production).
        attachment.file.save(incoming.filename, incoming.content, save=False)
        attachment.save()


# --- history ----------------------------------------------------------------


def _record(ticket: Ticket, **event) -> TicketEvent:
    """Write one history event (see _event for the arguments) and announce it."""
    created = _event(ticket, **event)
    created.save()
    ticket_event.send(sender=Ticket, ticket=ticket, event=created)
    return created


def _record_many(ticket: Ticket, events: list[TicketEvent]) -> None:
    TicketEvent.objects.bulk_create(events)
    for event in events:
        ticket_event.send(sender=Ticket, ticket=ticket, event=event)


def record_event(ticket: Ticket, **event) -> TicketEvent:
    """Record a history event for something another app did to the ticket
    (an SLA warning, an escalation): actor, action, field, old, new, note."""
    return _record(ticket, **event)


def _event(
    ticket: Ticket,
    *,
    actor: User | None,
    action: str,
    field: str = "",
    old: object = "",
    new: object = "",
    note: str = "",
    at=None,
) -> TicketEvent:
    """A history event, not yet saved (several go in with one bulk_create)."""
    return TicketEvent(
        ticket=ticket,
        actor=actor,
        action=action,
        field=field,
        old_value=_display(old),
        new_value=_display(new),
        note=note[:500],
        created_at=at or timezone.now(),
    )


def _display(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, User):
        return value.email
    return str(value)[:255]


def _locked(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock so concurrent writes serialise.
    Team, category and assignee come from the cached lists (see
    reference.attach_named_relations: joining them costs more to plan than to
    run); their other fields load when first read."""
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("requester", "organization")
        .get(pk=ticket.pk)
    )
    attach_named_relations([locked])
    return locked


def _require_staff(actor: User | None, what: str) -> None:
    if actor is not None and not actor.has_perm("tickets.work_tickets"):
        raise DomainError(f"Only helpdesk staff can {what}.", code="permission_denied")


# --- tickets ----------------------------------------------------------------


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
    """Open a ticket. The description becomes the first message of the
    conversation. Nothing is written unless everything is valid."""
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
    _store_attachments(message, files)
    _record(ticket, actor=actor or requester, action="ticket.created", new=channel, at=now)
    search_index_tickets([ticket.pk])

    from tickets.tasks import send_ticket_acknowledgement

    enqueue_on_commit(send_ticket_acknowledgement, ticket.pk)
    return ticket


# Fields a person may change with ticket_update, and who may change them.
UPDATABLE_FIELDS = ("subject", "priority", "category", "team", "tier")


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: User | None,
    note: str = "",
    notes: dict[str, str] | None = None,
    **changes,
) -> Ticket:
    """Change properties of a ticket (staff, or the system with actor=None).
    Unchanged values record nothing; `note` says why (e.g. a routing reason),
    `notes` says it per field where the reasons differ."""
    _require_staff(actor, "change ticket properties")
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))}.")
    ticket = _locked(ticket)
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
    now = timezone.now()
    changed, events = [], []
    for field, new in changes.items():
        old = getattr(ticket, field)
        if old == new:
            continue
        setattr(ticket, field, new)
        changed.append(field)
        events.append(
            _event(
                ticket,
                actor=actor,
                action=f"ticket.{field}_changed",
                field=field,
                old=old,
                new=new,
                note=(notes or {}).get(field, note),
                at=now,
            )
        )
    if changed:
        ticket.updated_at = now
        ticket.save(update_fields=[*changed, "updated_at"])
        _record_many(ticket, events)
        if "subject" in changed:
            search_index_tickets([ticket.pk])
    return ticket


@dataclass(frozen=True)
class HandOver:
    """One ticket to move up to `tier`: `note` becomes an internal note by
    `author_id` (when given); `reason` goes into the history."""

    ticket_id: int
    tier: int
    reason: str
    note: str = ""
    author_id: int | None = None


@transaction.atomic
def tickets_hand_over(handovers: Sequence[HandOver]) -> list[int]:
    """Move several open tickets up a support tier in one go (the SLA sweep
    escalates hundreds at once): the hand-over notes, the new tier, and the
    assignee removed where they lack that tier, each with its history row, in
    a few statements instead of a locked read-modify-write per ticket.
    Returns the ids of the tickets left without an assignee (to be routed)."""
    wanted = {h.ticket_id: h for h in handovers}
    tickets = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",)).filter(
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
        if h.note and h.author_id in people
    ]
    Message.objects.bulk_create(notes)
    events, unassigned, by_tier = [], [], {}
    for note in notes:
        events.append(
            _event(
                tickets[note.ticket_id],
                actor=people[note.author_id],
                action="ticket.note_added",
                new=note.pk,
                at=now,
            )
        )
    for h in moving:
        ticket = tickets[h.ticket_id]
        events.append(
            _event(
                ticket,
                actor=None,
                action="ticket.tier_changed",
                field="tier",
                old=ticket.tier,
                new=h.tier,
                note=h.reason,
                at=now,
            )
        )
        by_tier.setdefault(h.tier, []).append(ticket.pk)
        ticket.tier = h.tier
        assignee = people.get(ticket.assignee_id)
        if assignee is not None and (assignee.tier or 0) < h.tier:
            events.append(
                _event(
                    ticket,
                    actor=None,
                    action="ticket.unassigned",
                    field="assignee",
                    old=assignee,
                    new=None,
                    note=f"Needs Tier {h.tier}",
                    at=now,
                )
            )
            ticket.assignee_id = None
        if ticket.assignee_id is None:
            unassigned.append(ticket.pk)
    for tier, ids in by_tier.items():
        Ticket.objects.filter(pk__in=ids).update(tier=tier, updated_at=now)
    Ticket.objects.filter(pk__in=unassigned).update(assignee=None)
    TicketEvent.objects.bulk_create(events)
    for event in events:
        ticket_event.send(sender=Ticket, ticket=tickets[event.ticket_id], event=event)
    return unassigned


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, assignee: User | None, actor: User | None, note: str = ""
) -> Ticket:
    """Give the ticket to an agent (or take it back to the queue with None).
    `note` records why (routing explains its choice there)."""
    _require_staff(actor, "assign tickets")
    if assignee is not None and (
        not assignee.is_active or not assignee.has_perm("tickets.work_tickets")
    ):
        raise DomainError(f"{assignee.full_name} cannot work tickets.", field="assignee")
    ticket = _locked(ticket)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    if not ticket.is_open:
        raise DomainError("Solved and closed tickets cannot be reassigned.", field="assignee")
    old = ticket.assignee
    now = timezone.now()
    ticket.assignee = assignee
    ticket.updated_at = now
    ticket.save(update_fields=["assignee", "updated_at"])
    _record(
        ticket,
        actor=actor,
        action="ticket.assigned" if assignee else "ticket.unassigned",
        field="assignee",
        old=old,
        new=assignee,
        note=note,
        at=now,
    )
    return ticket


def _apply_status(ticket: Ticket, new_status: str, *, actor: User | None, now, note="") -> None:
    old_status = ticket.status
    if new_status not in Status.values:
        raise DomainError(f"Unknown status {new_status!r}.", field="status")
    if new_status == old_status:
        return
    if new_status not in STATUS_TRANSITIONS[old_status]:
        raise DomainError(
            f"A {Status(old_status).label.lower()} ticket cannot become "
            f"{Status(new_status).label.lower()}.",
            field="status",
        )
    ticket.status = new_status
    fields = ["status", "updated_at"]
    if new_status == Status.SOLVED:
        ticket.solved_at = now
        fields.append("solved_at")
    elif new_status == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    elif old_status == Status.SOLVED:
        # Reopened: the earlier solve no longer counts.
        ticket.solved_at = None
        fields.append("solved_at")
    ticket.updated_at = now
    ticket.save(update_fields=fields)
    reopened = old_status == Status.SOLVED and new_status == Status.OPEN
    action = "ticket.reopened" if reopened else "ticket.status_changed"
    _record(
        ticket,
        actor=actor,
        action=action,
        field="status",
        old=old_status,
        new=new_status,
        note=note,
        at=now,
    )


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, status: str, actor: User | None) -> Ticket:
    """Move the ticket along its lifecycle. Customers may only mark their own
    ticket solved or reopen a solved one; everything else is staff work."""
    ticket = _locked(ticket)
    if actor is not None and not actor.has_perm("tickets.work_tickets"):
        allowed = {Status.SOLVED} | ({Status.OPEN} if ticket.status == Status.SOLVED else set())
        if status not in allowed:
            raise DomainError(
                "Customers can only solve or reopen a ticket.",
                field="status",
                code="permission_denied",
            )
    _apply_status(ticket, status, actor=actor, now=timezone.now())
    return ticket


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    is_internal: bool = False,
    channel: str = Channel.PORTAL,
    status: str | None = None,
    attachments: Sequence[UploadedFile] = (),
    email_message_id: str = "",
    expected_version: str | None = None,
) -> Message:
    """Add a public reply or an internal note, optionally moving the status in
    the same step ("reply and set pending").

    Staff replies: the first public one sets first_response_at; on a new ticket
    it opens the ticket. Customer replies reopen a pending or solved ticket.
    """
    body = (body or "").strip()
    if not body:
        raise DomainError("The message is empty.", field="body")
    is_staff = author.has_perm("tickets.work_tickets")
    if is_internal and not is_staff:
        raise DomainError(
            "Only helpdesk staff can add internal notes.",
            field="is_internal",
            code="permission_denied",
        )
    files = validate_attachments(attachments)
    ticket = _locked(ticket)
    if ticket.status == Status.CLOSED:
        raise DomainError("This ticket is closed; please open a new ticket.", field="body")
    _check_version(ticket, expected_version, author)

    now = timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        body=body,
        is_internal=is_internal,
        channel=channel,
        email_message_id=email_message_id,
        created_at=now,
    )
    _store_attachments(message, files)
    _record(
        ticket,
        actor=author,
        action="ticket.note_added" if is_internal else "ticket.replied",
        new=message.pk,
        at=now,
    )

    ticket.updated_at = now
    ticket.save(update_fields=["updated_at"])
    if not is_internal:
        search_index_tickets([ticket.pk])
    if is_staff and not is_internal:
        from tickets.tasks import send_message_email

        enqueue_on_commit(send_message_email, message.pk)
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            ticket.save(update_fields=["first_response_at"])
            _record(ticket, actor=author, action="ticket.first_response", at=now)
        if status is None and ticket.status == Status.NEW:
            status = Status.OPEN
    elif not is_staff and ticket.status in (Status.PENDING, Status.SOLVED):
        # The customer answered: the ball is back with the helpdesk.
        status = Status.OPEN
    if status is not None:
        if not is_staff and status != Status.OPEN:
            raise DomainError("Customers cannot set the status.", field="status")
        _apply_status(ticket, status, actor=author, now=now)
    return message


# --- acknowledgement (run by the Celery task) ---------------------------------


def ticket_acknowledge(*, ticket_id: int) -> bool:
    """Send the automatic acknowledgement once. Returns False when the ticket
    was already acknowledged (a retried or duplicated task)."""
    with transaction.atomic():
        now = timezone.now()
        # The conditional UPDATE claims the acknowledgement: of two workers
        # running this at once, exactly one sees a row count of 1.
        claimed = Ticket.objects.filter(pk=ticket_id, acknowledged_at__isnull=True).update(
            acknowledged_at=now
        )
        if not claimed:
            return False
        ticket = Ticket.objects.select_related("requester").get(pk=ticket_id)
        _record(
            ticket,
            actor=None,
            action="ticket.acknowledged",
            note="Acknowledgement e-mailed",
            at=now,
        )
        # Sent inside the transaction on purpose: if the mail server refuses,
        # the claim rolls back and the task's retry tries again. (A queued
        # outbox replaces this once notifications are rows of their own.)
        # Threaded onto the customer's mail and marked Auto-Submitted, so
        # their autoresponder does not answer it (tickets/email/outgoing.py).
        send_ticket_mail(
            ticket=ticket,
            subject=f"[{ticket.key}] We received your request: {ticket.subject}",
            body=(
                f"Hello {ticket.requester.get_short_name()},\n\n"
                f"We have received your request and logged it as {ticket.key}.\n"
                "An agent will get back to you soon.\n\n"
                f"Follow it here: {ticket.get_full_url()}\n"
            ),
            auto_reply=True,
        )
    return True


# --- optimistic concurrency ---------------------------------------------------


def ticket_version(ticket: Ticket) -> str:
    """The version a form was rendered from: updated_at in whole microseconds."""
    return str((ticket.updated_at - _EPOCH) // timedelta(microseconds=1))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StaleTicket(DomainError):
    """The ticket changed (by someone else) after the form was rendered."""


def _check_version(ticket: Ticket, expected_version: str | None, actor: User | None) -> None:
    """Refuse when people other than `actor` changed the ticket after the version
    the form was rendered from. The actor's own changes (another tab) and the
    system's (acknowledgements) do not count as a conflict."""
    if not expected_version or ticket_version(ticket) == expected_version:
        return
    try:
        since = int(expected_version)
    except ValueError as exc:
        raise DomainError("The form was damaged; reload the page.", field="version") from exc
    seen_at = _EPOCH + timedelta(microseconds=since)
    others = (
        ticket.events.filter(created_at__gt=seen_at, actor__isnull=False)
        .exclude(actor=actor)
        .select_related("actor")
        .order_by("created_at")
    )
    changes = [f"{e.actor.full_name} ({e.action.removeprefix('ticket.')})" for e in others[:5]]
    if changes:
        raise StaleTicket(
            f"{ticket.key} changed while you were working on it: {', '.join(changes)}. "
            "Review the latest version, then send again.",
            code="stale",
        )


# --- tags -------------------------------------------------------------------


def _tag_names(raw: str | Iterable[str]) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else raw
    names = []
    for item in items:
        name = " ".join(item.strip().lower().split())[:50]
        if name and name not in names:
            names.append(name)
    return names


@transaction.atomic
def ticket_set_tags(*, ticket: Ticket, tags: str | Iterable[str], actor: User) -> Ticket:
    """Make the ticket's tags exactly `tags`, recording what was added/removed."""
    from tickets.models import Tag

    _require_staff(actor, "tag tickets")
    ticket = _locked(ticket)
    wanted = _tag_names(tags)
    current = {t.name: t for t in ticket.tags.all()}
    added = [n for n in wanted if n not in current]
    removed = [n for n in current if n not in wanted]
    if not added and not removed:
        return ticket
    now = timezone.now()
    for name in added:
        tag, _ = Tag.objects.get_or_create(name=name)
        ticket.tags.add(tag)
        _record(ticket, actor=actor, action="ticket.tagged", field="tags", new=name, at=now)
    for name in removed:
        ticket.tags.remove(current[name])
        _record(ticket, actor=actor, action="ticket.untagged", field="tags", old=name, at=now)
    ticket.updated_at = now
    ticket.save(update_fields=["updated_at"])
    return ticket


@transaction.atomic
def ticket_add_tag(*, ticket: Ticket, tag: str, actor: User) -> Ticket:
    names = _tag_names([tag])
    if not names:
        raise DomainError("The tag is empty.", field="tag")
    current = list(ticket.tags.values_list("name", flat=True))
    return ticket_set_tags(ticket=ticket, tags=[*current, names[0]], actor=actor)


# --- properties edited in place -------------------------------------------------


@transaction.atomic
def ticket_set_properties(
    *,
    ticket: Ticket,
    actor: User,
    expected_version: str | None = None,
    status: str | None = None,
    assignee: User | None | bool = False,
    tags: str | None = None,
    **changes,
) -> Ticket:
    """Apply the ticket page's properties panel in one step. `assignee=False`
    means "not in the form"; None means unassigned."""
    _require_staff(actor, "change ticket properties")
    locked = _locked(ticket)
    _check_version(locked, expected_version, actor)
    if changes:
        locked = ticket_update(ticket=locked, actor=actor, **changes)
    if assignee is not False:
        locked = ticket_assign(ticket=locked, assignee=assignee, actor=actor)
    if tags is not None:
        locked = ticket_set_tags(ticket=locked, tags=tags, actor=actor)
    if status is not None and status != locked.status:
        locked = ticket_change_status(ticket=locked, status=status, actor=actor)
    return locked


# --- links and merges -----------------------------------------------------------


@transaction.atomic
def ticket_link(*, child: Ticket, parent: Ticket | None, actor: User) -> Ticket:
    """Make `parent` the parent incident of `child` (None removes the link)."""
    _require_staff(actor, "link tickets")
    child = _locked(child)
    if parent is not None:
        if parent.pk == child.pk:
            raise DomainError("A ticket cannot be its own parent.", field="parent")
        # Walk up from the new parent: finding the child there means a cycle.
        ancestor_id, hops = parent.parent_id, 0
        while ancestor_id is not None and hops < 100:
            if ancestor_id == child.pk:
                raise DomainError(f"{parent.key} is already below {child.key}.", field="parent")
            ancestor_id = (
                Ticket.objects.filter(pk=ancestor_id).values_list("parent_id", flat=True).first()
            )
            hops += 1
    if child.parent_id == (parent.pk if parent else None):
        return child
    old = child.parent
    now = timezone.now()
    child.parent = parent
    child.updated_at = now
    child.save(update_fields=["parent", "updated_at"])
    _record(
        child,
        actor=actor,
        action="ticket.linked" if parent else "ticket.unlinked",
        field="parent",
        old=old.key if old else "",
        new=parent.key if parent else "",
        at=now,
    )
    if parent is not None:
        _record(
            parent,
            actor=actor,
            action="ticket.child_linked",
            field="children",
            new=child.key,
            at=now,
        )
    return child


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Merge the duplicate `source` into `target`: its conversation moves to
    the target, the source is closed and points at the target, and the source's
    requester is told (a public message on their ticket, e-mailed)."""
    _require_staff(actor, "merge tickets")
    if source.pk == target.pk:
        raise DomainError("A ticket cannot be merged into itself.", field="target")
    # Lock both rows in id order so two opposite merges cannot deadlock.
    first, second = sorted([source, target], key=lambda t: t.pk)
    locked = {t.pk: _locked(t) for t in (first, second)}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id:
        raise DomainError(f"{source.key} was already merged.", field="source")
    if source.status == Status.CLOSED:
        raise DomainError(f"{source.key} is closed and cannot be merged.", field="source")
    if target.status == Status.CLOSED or target.merged_into_id:
        raise DomainError(f"{target.key} is closed; merge into an open ticket.", field="target")

    now = timezone.now()
    moved = Message.objects.filter(ticket=source).update(ticket=target)
    Message.objects.create(
        ticket=target,
        author=actor,
        is_internal=True,
        channel=Channel.AGENT,
        body=(
            f"{source.key} \u201c{source.subject}\u201d from {source.requester.full_name} "
            f"was merged into this ticket ({moved} messages moved)."
        ),
        created_at=now,
    )
    notice = Message.objects.create(
        ticket=source,
        author=actor,
        channel=Channel.AGENT,
        body=(
            f"Your request {source.key} has been merged into {target.key} "
            f"\u201c{target.subject}\u201d, where we continue to work on it."
        ),
        created_at=now,
    )
    source.merged_into = target
    source.status = Status.CLOSED
    source.solved_at = source.solved_at or now
    source.closed_at = now
    source.updated_at = now
    source.save(update_fields=["merged_into", "status", "solved_at", "closed_at", "updated_at"])
    target.updated_at = now
    target.save(update_fields=["updated_at"])
    _record(
        source,
        actor=actor,
        action="ticket.merged_into",
        field="merged_into",
        new=target.key,
        at=now,
    )
    _record(
        target,
        actor=actor,
        action="ticket.merged",
        field="merged_from",
        new=source.key,
        note=f"{moved} messages moved",
        at=now,
    )
    search_index_tickets([source.pk, target.pk])
    from tickets.tasks import send_message_email

    enqueue_on_commit(send_message_email, notice.pk)
    return target


# --- e-mailing public staff messages --------------------------------------------


def message_email(*, message_id: int) -> bool:
    """E-mail a public staff message to the ticket's requester, once."""
    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=message_id, emailed_at__isnull=True, is_internal=False
        ).update(emailed_at=timezone.now())
        if not claimed:
            return False
        message = Message.objects.select_related("ticket__requester", "author").get(pk=message_id)
        ticket = message.ticket
        # Inside the transaction for the same reason as ticket_acknowledge.
        # Stores the Message-ID on the message, so the customer's reply
        # threads back onto this ticket.
        send_ticket_mail(
            ticket=ticket,
            subject=f"[{ticket.key}] {ticket.subject}",
            body=(
                f"{message.body}\n\n-- \n{message.author.full_name}, Helpdesk\n"
                f"{ticket.get_full_url()}\n"
            ),
            message=message,
        )
    return True
