"""The conversation of a ticket: public replies and internal notes."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from tickets.email.outgoing import make_message_id
from tickets.errors import DomainError
from tickets.lifecycle import MessageAdded
from tickets.models import Channel, Message, Status, Ticket, User
from tickets.services.attachments import store_attachments, validate_attachments
from tickets.services.base import Edit, is_staff, locked
from tickets.services.lifecycle import apply_status
from tickets.services.mail import mail_queue, message_mail
from tickets.services.properties import check_version


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    is_internal: bool = False,
    channel: str | None = None,
    status: str | None = None,
    attachments: Sequence[UploadedFile] = (),
    email_message_id: str = "",
    expected_version: str | None = None,
) -> Message:
    """Add a public reply or an internal note, optionally moving the status in
    the same step ("reply and set pending").

    Staff replies: the first public one sets first_response_at; on a new ticket
    it opens the ticket; the customer gets it by e-mail (an outbox row, sent
    after the commit). Customer replies reopen a pending or solved ticket.
    """
    body = (body or "").strip()
    if not body:
        raise DomainError("The message is empty.", field="body")
    by_staff = is_staff(author)
    if is_internal and not by_staff:
        raise DomainError(
            "Only helpdesk staff can add internal notes.",
            field="is_internal",
            code="permission_denied",
        )
    files = validate_attachments(attachments)
    if channel is None:
        # Written in the product itself: staff in the workspace, customers on
        # the portal (e-mail and the API say so).
        channel = Channel.AGENT if by_staff else Channel.PORTAL
    edit = Edit(locked(ticket), actor=author, now=timezone.now())
    ticket = edit.ticket
    if ticket.status == Status.CLOSED:
        raise DomainError("This ticket is closed; please open a new ticket.", field="body")
    check_version(ticket, expected_version, author)

    emailed = by_staff and not is_internal
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        body=body,
        is_internal=is_internal,
        channel=channel,
        # Our Message-ID for the e-mail copy, so the customer's answer to it
        # threads back onto this ticket.
        email_message_id=email_message_id or (make_message_id() if emailed else ""),
        created_at=edit.now,
    )
    store_attachments(message, files)
    edit.record(action="ticket.note_added" if is_internal else "ticket.replied", new=message.pk)
    edit.fields.add("updated_at")
    if emailed and ticket.first_response_at is None:
        edit.set("first_response_at", edit.now)
        edit.record(action="ticket.first_response")
    edit.reindex = not is_internal
    edit.announce(
        MessageAdded(
            ticket=ticket,
            message=message,
            actor=author,
            at=edit.now,
            by_staff=by_staff,
            fields=edit.fields,
        )
    )
    if emailed:
        mail_queue([message_mail(message)])
        if status is None and ticket.status == Status.NEW:
            status = Status.OPEN
    elif not by_staff and ticket.status in (Status.PENDING, Status.SOLVED):
        # The customer answered: the ball is back with the helpdesk.
        status = Status.OPEN
    if status is not None:
        if not by_staff and status != Status.OPEN:
            raise DomainError("Customers cannot set the status.", field="status")
        apply_status(edit, status)
    edit.finish()
    return message
