"""Tickets that belong together: a parent incident and its reports, a
duplicate merged into the ticket where the work continues."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tickets.email.outgoing import make_message_id
from tickets.errors import DomainError
from tickets.history import record_event
from tickets.lifecycle import PropertiesChanged, TicketMerged, announce
from tickets.models import Channel, Message, Status, Ticket, User
from tickets.search import search_index_tickets
from tickets.services.base import locked, require_staff
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
    old = child.parent
    now = timezone.now()
    child.parent = parent
    child.updated_at = now
    child.save(update_fields=["parent", "updated_at"])
    record_event(
        child,
        actor=actor,
        action="ticket.linked" if parent else "ticket.unlinked",
        field="parent",
        old=old.key if old else "",
        new=parent.key if parent else "",
        at=now,
    )
    if parent is not None:
        record_event(
            parent,
            actor=actor,
            action="ticket.child_linked",
            field="children",
            new=child.key,
            at=now,
        )
    announce(
        PropertiesChanged(ticket=child, actor=actor, at=now, changes={"parent": (old, parent)})
    )
    return child


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
        email_message_id=make_message_id(),
        created_at=now,
    )
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    record_event(
        source,
        actor=actor,
        action="ticket.merged_into",
        field="merged_into",
        new=target.key,
        at=now,
    )
    apply_status(
        source,
        Status.CLOSED,
        actor=actor,
        now=now,
        note=f"Merged into {target.key}",
        any_open_status=True,
    )
    target.updated_at = now
    target.save(update_fields=["updated_at"])
    record_event(
        target,
        actor=actor,
        action="ticket.merged",
        field="merged_from",
        new=source.key,
        note=f"{moved} messages moved",
        at=now,
    )
    search_index_tickets([source.pk, target.pk])
    announce(TicketMerged(source=source, target=target, actor=actor, at=now))
    mail_queue([message_mail(notice, kind=KIND_MERGE_NOTICE)])
    return target
