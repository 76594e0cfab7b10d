"""Every e-mail the helpdesk sends is an outbox row (tickets.models.OutboundEmail)
written here, in the transaction of the change that caused it, and sent after
the commit by tickets/email/outbox.py — never from inside a transaction.

`ticket_mail` builds a row about a ticket (recipient, subject, body, the
headers that thread it); `mail_queue` writes rows with one INSERT and has
them sent once the transaction commits. The ticket's own mail is here too:
the acknowledgement of a new request (and the rule of who gets one), and the
e-mail copy of a public staff message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias, cast

from django.db import transaction
from django.utils import timezone

from tickets.email.outbox import KIND_ACKNOWLEDGEMENT, first_attempt_at, send_outbound_mail
from tickets.email.outgoing import mail_headers, make_message_id, thread_ids
from tickets.models import Message, OutboundEmail, Role, Ticket, User

if TYPE_CHECKING:
    from core.tasks import OnCommitTask

# helpdesk/celery.py makes core.tasks.OnCommitTask the class of every task, so
# a @shared_task has its delay_on_commit (celery-types types it as a plain Task).
_OutboxTask: TypeAlias = "OnCommitTask[[list[int]], int]"

KIND_REPLY = "ticket.reply"
KIND_MERGE_NOTICE = "ticket.merge_notice"


def ticket_mail(
    ticket: Ticket,
    *,
    kind: str,
    subject: str,
    body: str,
    to: User | None = None,
    audience: str = "customer",
    message: Message | None = None,
    thread: Sequence[str] = (),
    auto: str = "",
) -> OutboundEmail | None:
    """An outbox row about `ticket` for `to` (the requester by default), not
    yet saved; None when that person cannot get mail (inactive, no address).
    `message` is the conversation entry it carries: its Message-ID is ours."""
    recipient = to if to is not None else ticket.requester
    if not recipient.is_active or not recipient.email:
        return None
    message_id = (message.email_message_id if message is not None else "") or make_message_id()
    now = timezone.now()
    return OutboundEmail(
        kind=kind,
        ticket=ticket,
        message=message,
        audience=audience,
        recipient=recipient.email,
        subject=subject[:250],
        body=body,
        headers=mail_headers(message_id=message_id, thread=thread, auto=auto),
        created_at=now,
        next_attempt_at=first_attempt_at(now),
    )


def mail_queue(mails: Sequence[OutboundEmail | None]) -> list[OutboundEmail]:
    """Write the rows (one INSERT; Nones are skipped) and send them after the
    surrounding transaction commits. If the broker is down then, the outbox
    sweep sends them a minute later."""
    rows = [m for m in mails if m is not None]
    if not rows:
        return []
    # No savepoint: this runs inside the caller's transaction (intake, a sweep
    # batch) on hot paths, and a failed INSERT fails the whole change anyway.
    with transaction.atomic(savepoint=False):
        created = OutboundEmail.objects.bulk_create(rows)
        cast(_OutboxTask, send_outbound_mail).delay_on_commit([row.pk for row in created])
    return created


# --- the ticket's own mail ----------------------------------------------------------


def acknowledgement_wanted(ticket: Ticket) -> bool:
    """Who is told "we received your request": the customer who asked,
    whichever channel they used (also when an agent opened it for them). Not
    the helpdesk's own people — a ticket requested by staff (a major incident
    the system opened, a colleague's internal request) gets none."""
    return ticket.requester.role == Role.CUSTOMER


def acknowledgement(ticket: Ticket, *, thread: Sequence[str] = ()) -> OutboundEmail | None:
    """The acknowledgement of a new ticket (not saved), threaded onto the
    customer's mail when it came by e-mail (`thread`: its Message-ID). Marked
    Auto-Submitted, so the customer's autoresponder does not answer it."""
    if not acknowledgement_wanted(ticket):
        return None
    return ticket_mail(
        ticket,
        kind=KIND_ACKNOWLEDGEMENT,
        subject=f"[{ticket.key}] We received your request: {ticket.subject}",
        body=(
            f"Hello {ticket.requester.get_short_name()},\n\n"
            f"We have received your request and logged it as {ticket.key}.\n"
            "An agent will get back to you soon.\n\n"
            f"Follow it here: {ticket.get_full_url()}\n"
        ),
        thread=thread,
        auto="auto-replied",
    )


def message_mail(
    message: Message, *, kind: str = KIND_REPLY, link_to: Ticket | None = None
) -> OutboundEmail | None:
    """The e-mail copy of a public staff message to the ticket's requester
    (not saved). Threaded onto the conversation, so the customer's answer
    comes back to the ticket; its link goes to `link_to` (the ticket a
    duplicate was merged into) or the message's ticket."""
    ticket = message.ticket
    return ticket_mail(
        ticket,
        kind=kind,
        subject=f"[{ticket.key}] {ticket.subject}",
        body=(
            f"{message.body}\n\n-- \n{message.author_name}, Helpdesk\n"
            f"{(link_to or ticket).get_full_url()}\n"
        ),
        message=message,
        thread=thread_ids(ticket=ticket, before=message),
    )


def outbound_retry(*, ids: Sequence[int]) -> int:
    """Send failed mail again (a person fixed the address or the server):
    the rows start over as new. Returns how many were requeued."""
    now = timezone.now()
    with transaction.atomic():
        requeued = list(
            OutboundEmail.objects.filter(pk__in=list(ids), state=OutboundEmail.State.FAILED)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        OutboundEmail.objects.filter(pk__in=requeued).update(
            state=OutboundEmail.State.QUEUED,
            attempts=0,
            next_attempt_at=first_attempt_at(now),
        )
        if requeued:
            cast(_OutboxTask, send_outbound_mail).delay_on_commit(requeued)
    return len(requeued)
