"""Outgoing mail: the headers that bring the customer's answer back.

Every mail gets a Message-ID under our domain (stored on the Message row it
carries, so a reply that names it threads onto the ticket) and
In-Reply-To/References naming the ticket's earlier mail, so the customer's
mail client threads it. Mail no person wrote is marked Auto-Submitted
(RFC 3834) so well-behaved autoresponders do not answer it, and all our mail
carries X-Helpdesk-Loop so it is recognised if it ever comes back in.
Sending is the outbox's job (tickets/email/outbox.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from email.utils import parseaddr

from django.conf import settings
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
    configured = settings.HELPDESK_EMAIL_DOMAIN.strip().lower()
    if configured:
        return configured
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2].lower() or "helpdesk.localhost"


def make_message_id() -> str:
    return f"<{secrets.token_hex(12)}.{_ID_MARKER}@{email_domain()}>"


def is_own_message_id(message_id: str) -> bool:
    return message_id.lower().endswith(f".{_ID_MARKER}@{email_domain()}>")


def thread_ids(*, ticket: Ticket, before: Message | None = None) -> list[str]:
    """The Message-IDs of the ticket's public messages (those before
    `before`, when given), oldest first: what a mail about the ticket answers."""
    messages = Message.objects.filter(ticket=ticket, is_internal=False).exclude(email_message_id="")
    if before is not None:
        messages = messages.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, pk__lt=before.pk)
        )
    return list(
        dict.fromkeys(
            messages.order_by("created_at", "pk").values_list("email_message_id", flat=True)
        )
    )


def mail_headers(*, message_id: str, thread: Sequence[str] = (), auto: str = "") -> dict[str, str]:
    """The headers of a mail we send: our Message-ID, the loop marker,
    In-Reply-To/References naming `thread` (the Message-IDs it answers, oldest
    first), and for mail no person wrote `auto` as its Auto-Submitted value
    ("auto-replied" for an acknowledgement, "auto-generated" for
    notifications)."""
    headers = {"Message-ID": message_id, LOOP_HEADER: email_domain()}
    ids = list(dict.fromkeys(i for i in thread if i))
    if ids:
        if len(ids) > _REFERENCES_KEPT:
            ids = [ids[0], *ids[-(_REFERENCES_KEPT - 1) :]]
        headers["In-Reply-To"] = ids[-1]
        headers["References"] = " ".join(ids)
    if auto:
        headers["Auto-Submitted"] = auto
        # Asks Exchange/Outlook not to answer with their own auto-replies.
        headers["X-Auto-Response-Suppress"] = "All"
    return headers
