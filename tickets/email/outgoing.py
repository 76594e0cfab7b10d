"""Outgoing ticket mail: the headers that bring the customer's answer back.

Every notification gets a Message-ID under our domain, stored on the Message
row it carries, and In-Reply-To/References naming the ticket's earlier mail,
so the customer's mail client threads it and their reply names a Message-ID
that `receive` finds again. Acknowledgements are marked Auto-Submitted
(RFC 3834) so well-behaved autoresponders do not answer them, and all our
mail carries X-Helpdesk-Loop so it is recognised if it ever comes back in.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q

from tickets.models import Message, Ticket

LOOP_HEADER = "X-Helpdesk-Loop"
# Our Message-IDs end in ".helpdesk@<domain>". Loop detection looks for the
# marker, not just the domain: a customer whose own mail server shares our
# domain (an in-house helpdesk) generates ids under it too.
_ID_MARKER = "helpdesk"
# References grows with the conversation; mail clients keep the first id and
# the latest ones (RFC 5322 3.6.4), and so do we.
_REFERENCES_KEPT = 10


def email_domain() -> str:
    """The domain of our Message-IDs: HELPDESK_EMAIL_DOMAIN, else the domain of
    DEFAULT_FROM_EMAIL."""
    configured = (getattr(settings, "HELPDESK_EMAIL_DOMAIN", "") or "").strip().lower()
    if configured:
        return configured
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2].lower() or "helpdesk.localhost"


def make_message_id() -> str:
    return f"<{secrets.token_hex(12)}.{_ID_MARKER}@{email_domain()}>"


def is_own_message_id(message_id: str) -> bool:
    return message_id.lower().endswith(f".{_ID_MARKER}@{email_domain()}>")


def thread_headers(*, ticket: Ticket, before: Message | None = None) -> dict[str, str]:
    """In-Reply-To and References for mail about `ticket`: the Message-IDs of
    its public messages (before `before`, when given), oldest first."""
    messages = Message.objects.filter(ticket=ticket, is_internal=False).exclude(email_message_id="")
    if before is not None:
        messages = messages.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, pk__lt=before.pk)
        )
    ids = list(
        dict.fromkeys(
            messages.order_by("created_at", "pk").values_list("email_message_id", flat=True)
        )
    )
    if not ids:
        return {}
    if len(ids) > _REFERENCES_KEPT:
        ids = [ids[0], *ids[-(_REFERENCES_KEPT - 1) :]]
    return {"In-Reply-To": ids[-1], "References": " ".join(ids)}


def send_ticket_mail(
    *,
    ticket: Ticket,
    subject: str,
    body: str,
    message: Message | None = None,
    auto_reply: bool = False,
    to: Sequence[str] = (),
) -> str:
    """E-mail the requester (or `to`) about `ticket`; returns the Message-ID.

    `message` is the conversation entry being sent: its Message-ID is stored
    on it so the customer's reply threads onto the ticket. `auto_reply` marks
    mail no person wrote (the acknowledgement). The id is stored in the same
    transaction as the send, so a refused send stores nothing and the
    caller's retry starts clean."""
    recipients = list(to) or [ticket.requester.email]
    with transaction.atomic():
        if message is not None and message.email_message_id:
            message_id = message.email_message_id
        else:
            message_id = make_message_id()
            if message is not None:
                Message.objects.filter(pk=message.pk).update(email_message_id=message_id)
        headers = {
            "Message-ID": message_id,
            LOOP_HEADER: email_domain(),
            **thread_headers(ticket=ticket, before=message),
        }
        if auto_reply:
            headers["Auto-Submitted"] = "auto-replied"
            # Asks Exchange/Outlook not to answer with their own auto-replies.
            headers["X-Auto-Response-Suppress"] = "All"
        EmailMessage(
            # A line break in a header would be refused by Django (header
            # injection); ticket subjects come from customers.
            subject=" ".join(subject.split()),
            body=body,
            to=recipients,
            headers=headers,
        ).send()
    if message is not None:
        message.email_message_id = message_id
    return message_id
