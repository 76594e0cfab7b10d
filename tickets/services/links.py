"""Tickets that belong together: a parent incident and its reports, a
duplicate merged into the ticket where the work continues."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tickets.email.outgoing import make_message_id
from tickets.errors import DomainError
from tickets.history import record_event
from tickets.lifecycle import TicketMerged
from tickets.models import Channel, Message, Status, Ticket, User
from tickets.services.base import Edit, locked, require_staff
from tickets.services.lifecycle import apply_status
from tickets.services.mail import KIND_MERGE_NOTICE, mail_queue, message_mail


@transaction.atomic
def ticket_link(*, child: Ticket, parent: Ticket | None, actor: User | None) -> Ticket:
    """Make `parent` the parent incident of `child` (None removes the link).
    The system (actor None) links reports to a major incident."""
    require_staff(actor, "link tickets")
    child = locked(child)
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
    edit = Edit(child, actor=actor, now=timezone.now())
    old = child.parent
    edit.set("parent", parent)
    edit.changes["parent"] = (old, parent)
    edit.record(
        action="ticket.linked" if parent else "ticket.unlinked",
        field="parent",
        old=old.key if old else "",
        new=parent.key if parent else "",
    )
    if parent is not None:
        record_event(
            parent,
            actor=actor,
            action="ticket.child_linked",
            field="children",
            new=child.key,
            at=edit.now,
        )
    return edit.finish()


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Merge the duplicate `source` into `target`: its conversation moves to
    the target, the source is closed (through the one status path, so its
    SLA clock stops) and points at the target, and the source's requester is
    told (a public message on their ticket, e-mailed)."""
    require_staff(actor, "merge tickets")
    if source.pk == target.pk:
        raise DomainError("A ticket cannot be merged into itself.", field="target")
    # Lock both rows in id order so two opposite merges cannot deadlock.
    first, second = sorted([source, target], key=lambda t: t.pk)
    fresh = {t.pk: locked(t) for t in (first, second)}
    source, target = fresh[source.pk], fresh[target.pk]
    if source.merged_into_id:
        raise DomainError(f"{source.key} was already merged.", field="source")
    if source.status == Status.CLOSED:
        raise DomainError(f"{source.key} is closed and cannot be merged.", field="source")
    if target.status == Status.CLOSED or target.merged_into_id:
        raise DomainError(f"{target.key} is closed; merge into an open ticket.", field="target")

    now = timezone.now()
    moved = Message.objects.filter(ticket=source).update(ticket=target)
    messages_moved = f"{moved} message{'' if moved == 1 else 's'} moved"
    Message.objects.create(
        ticket=target,
        author=actor,
        is_internal=True,
        channel=Channel.AGENT,
        body=(
            f"{source.key} \u201c{source.subject}\u201d from {source.requester.full_name} "
            f"was merged into this ticket ({messages_moved})."
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
        email_message_id=make_message_id(),
        created_at=now,
    )
    closing = Edit(source, actor=actor, now=now)
    closing.set("merged_into", target)
    closing.record(action="ticket.merged_into", field="merged_into", new=target.key)
    apply_status(closing, Status.CLOSED, note=f"Merged into {target.key}", any_open_status=True)
    closing.announce(TicketMerged(source=source, target=target, actor=actor, at=now))
    closing.reindex = True
    closing.finish()
    continuing = Edit(target, actor=actor, now=now)
    continuing.fields.add("updated_at")
    continuing.record(
        action="ticket.merged", field="merged_from", new=source.key, note=messages_moved
    )
    continuing.reindex = True
    continuing.finish()
    # The notice links to the ticket the work continues on, not the closed one.
    mail_queue([message_mail(notice, kind=KIND_MERGE_NOTICE, link_to=target)])
    return target
