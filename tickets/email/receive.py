"""receive_email(raw) -> InboundEmail: one received message, start to end.

1. Parse. Input that is not an e-mail raises InvalidEmail and writes nothing
   (the sender still holds it and is told why).
2. A Message-ID already received with any outcome but "failed" is a
   redelivery: the earlier record is returned and nothing else happens. A
   failed one is tried again, since its failure left nothing behind.
3. The raw bytes go to Django storage first, so they are kept whatever
   happens next.
4. In one transaction: claim the Message-ID (the unique InboundEmail row is
   the claim: a concurrent delivery of the same mail waits on it and then
   sees it as a duplicate), ignore auto-replies/bounces/loops, find or create
   the sender, then thread the mail onto a ticket or open a new one.
5. Any error rolls all of that back and records the message as failed, with
   the reason and the stored raw, so no half a ticket is ever left behind.
   A business rule's refusal (DomainError) is final; any other error is
   `temporary` (the database, the infrastructure), and the mail is worth
   delivering again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.inputs import storable_text, unstorable_text_problem
from tickets import services
from tickets.email import clean, detect, outgoing
from tickets.email.parse import ParsedEmail, parse_email
from tickets.errors import DomainError
from tickets.intake import intake_ticket
from tickets.models import (
    Channel,
    InboundEmail,
    Mailbox,
    Message,
    Organization,
    Role,
    Status,
    Ticket,
    User,
    parse_ticket_key,
)
from tickets.selectors import tickets_visible_to

logger = logging.getLogger(__name__)

Outcome = InboundEmail.Outcome

# Merges can chain (A into B, B into C); a reply to A belongs on C.
_MAX_MERGE_HOPS = 10
_NO_SUBJECT = "(no subject)"
_NO_TEXT = "(The e-mail had no text.)"
# Reply and forward prefixes in the languages customers write in.
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|réf|fw|fwd|wg)\s*(\[\d+\])?\s*:\s*)+", re.I)


@dataclass(frozen=True)
class Receipt:
    inbound: InboundEmail
    # True when this Message-ID had been received before and nothing was done.
    duplicate: bool
    # True when it failed for a reason that is not the mail's (the database,
    # the infrastructure): recorded as failed, and worth delivering again.
    temporary: bool = False


@dataclass(frozen=True)
class _Result:
    outcome: str
    ticket: Ticket | None = None
    reason: str = ""


class _AlreadyReceived(Exception):
    def __init__(self, inbound: InboundEmail):
        super().__init__(inbound.message_id)
        self.inbound = inbound


def receive_email(raw: bytes) -> InboundEmail:
    """Process one raw RFC 822 message; the InboundEmail says what happened.
    Raises InvalidEmail for input that is not an e-mail (nothing is written)."""
    return receive(raw).inbound


def receive(raw: bytes) -> Receipt:
    """Like receive_email, and also says whether it was a redelivery."""
    parsed = parse_email(raw)
    earlier = InboundEmail.objects.filter(message_id=parsed.message_id).first()
    if earlier is not None and earlier.outcome != Outcome.FAILED:
        return Receipt(inbound=earlier, duplicate=True)
    raw_name = earlier.raw.name if earlier is not None else _store_raw(raw)
    try:
        with transaction.atomic():
            inbound = _claim(parsed, raw_name)
            result = _deliver(parsed)
            inbound.outcome = result.outcome
            inbound.ticket = result.ticket
            inbound.reason = storable_text(result.reason)[:255]
            inbound.save(update_fields=["outcome", "ticket", "reason"])
    except _AlreadyReceived as already:
        return Receipt(inbound=already.inbound, duplicate=True)
    except DomainError as refused:
        # A business rule said no (a disabled account, an invalid address):
        # expected, and the reason is what a person needs to read.
        logger.warning("Inbound e-mail %s refused: %s", parsed.message_id, refused.message)
        return Receipt(inbound=_record_failure(parsed, raw_name, refused.message), duplicate=False)
    except Exception as error:  # whatever broke, the mail must be recorded, not lost
        # Not a refusal: the same mail may well pass once the cause is gone,
        # so the caller has it delivered again (the failed record is retried).
        logger.exception("Inbound e-mail %s failed", parsed.message_id)
        reason = f"{type(error).__name__}: {error}"
        inbound = _record_failure(parsed, raw_name, reason)
        return Receipt(inbound=inbound, duplicate=False, temporary=True)
    return Receipt(inbound=inbound, duplicate=False)


# --- the record ------------------------------------------------------------------


def _store_raw(raw: bytes) -> str:
    """Save the raw message through Django storage; returns its name."""
    holder = InboundEmail()
    digest = hashlib.sha256(raw).hexdigest()[:32]
    holder.raw.save(f"{digest}.eml", ContentFile(raw), save=False)
    return holder.raw.name


def _record_fields(parsed: ParsedEmail) -> dict:
    # The record must be writable whatever the mail holds: a From address
    # that cannot be stored is what failed the mail, and is not written again.
    return {
        "sender": storable_text(parsed.from_address)[:254],
        "subject": storable_text(parsed.subject)[:255],
    }


def _claim(parsed: ParsedEmail, raw_name: str) -> InboundEmail:
    """Insert the Message-ID's row, or lock the earlier failed one. The
    provisional outcome is never seen: the caller sets the real one before
    its transaction commits."""
    try:
        with transaction.atomic():
            return InboundEmail.objects.create(
                message_id=parsed.message_id,
                outcome=Outcome.FAILED,
                raw=raw_name,
                received_at=timezone.now(),
                **_record_fields(parsed),
            )
    except IntegrityError:
        pass
    inbound = InboundEmail.objects.select_for_update().get(message_id=parsed.message_id)
    if inbound.outcome != Outcome.FAILED:
        raise _AlreadyReceived(inbound)
    inbound.received_at = timezone.now()
    inbound.save(update_fields=["received_at"])
    return inbound


def _record_failure(parsed: ParsedEmail, raw_name: str, reason: str) -> InboundEmail:
    fields = {
        **_record_fields(parsed),
        "outcome": Outcome.FAILED,
        "reason": storable_text(reason)[:255],
        "ticket": None,
        "raw": raw_name,
        "received_at": timezone.now(),
    }
    with transaction.atomic():
        updated = InboundEmail.objects.filter(
            message_id=parsed.message_id, outcome=Outcome.FAILED
        ).update(**fields)
        if not updated:
            try:
                with transaction.atomic():
                    InboundEmail.objects.create(message_id=parsed.message_id, **fields)
            except IntegrityError:
                # A concurrent delivery of the same mail got through; its
                # outcome stands.
                pass
    return InboundEmail.objects.get(message_id=parsed.message_id)


# --- deciding what the mail is ---------------------------------------------------


def _own_addresses() -> set[str]:
    """Addresses that are ours: mail from them is our own mail coming back."""
    addresses = {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}
    addresses.add(parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower())
    addresses.discard("")
    return addresses


def _deliver(parsed: ParsedEmail) -> _Result:
    verdict = detect.ignore_verdict(
        parsed, own_domain=outgoing.email_domain(), own_addresses=_own_addresses()
    )
    if verdict is not None:
        return _Result(Outcome.IGNORED, reason=str(verdict))

    sender = _sender(parsed)
    files, refused = _attachments(parsed)
    ticket = _thread_by_headers(parsed, sender) or _thread_by_subject(parsed, sender)
    if ticket is not None and ticket.status != Status.CLOSED:
        body = _with_notes(clean.extract_reply(parsed.text) or _NO_TEXT, refused)
        services.ticket_reply(
            ticket=ticket,
            author=sender,
            body=body,
            # From is not authenticated: mail from a staff address may inform
            # colleagues but never speaks to the customer in our name.
            is_internal=sender.is_agent_like,
            channel=Channel.EMAIL,
            email_message_id=parsed.message_id,
            attachments=files,
        )
        return _Result(Outcome.THREADED, ticket=ticket)

    if ticket is not None:
        # Closed tickets take no more messages (services refuses them); the
        # customer's answer starts a new ticket that points at the old one.
        description = (
            f"{clean.extract_reply(parsed.text)}\n\n"
            f"(This e-mail answers {ticket.key}, which is closed.)"
        )
        note = f"follow-up to closed {ticket.key}"
    else:
        description = clean.strip_signature(parsed.text) if parsed.text else ""
        note = ""
    mailbox = _mailbox(parsed)
    created = intake_ticket(
        requester=sender,
        subject=_new_subject(parsed.subject),
        description=_with_notes(description or _NO_TEXT, refused),
        channel=Channel.EMAIL,
        category=mailbox.category if mailbox else None,
        team=mailbox.team if mailbox else None,
        email_message_id=parsed.message_id,
        attachments=files,
    )
    return _Result(Outcome.CREATED, ticket=created, reason=note)


def _sender(parsed: ParsedEmail) -> User:
    """The author: an existing user by address; otherwise a new customer, in
    the organisation of the address's domain if that organisation chose to
    add senders by domain (Organization.adds_senders_by_domain), else
    without one."""
    address = parsed.from_address
    if unstorable_text_problem(address) is not None:
        raise DomainError("The sender's address holds characters that cannot be stored.")
    user = User.objects.filter(email=address).first()
    if user is None:
        domain = address.rpartition("@")[2]
        organization = (
            Organization.objects.filter(domain__iexact=domain, adds_senders_by_domain=True)
            .exclude(domain="")
            .first()
            if domain
            else None
        )
        try:
            with transaction.atomic():
                user = services.user_create(
                    email=address,
                    full_name=parsed.from_name[:150],
                    role=Role.CUSTOMER,
                    organization=organization,
                )
        except IntegrityError:
            # Two mails from the same new sender at once: the other created them.
            user = User.objects.get(email=address)
    if not user.is_active:
        raise DomainError(f"The sender's account ({address}) is disabled.")
    return user


def _follow_merges(ticket: Ticket) -> Ticket:
    for _ in range(_MAX_MERGE_HOPS):
        if ticket.merged_into_id is None:
            break
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def _thread_for(sender: User, ticket_id: int) -> Ticket | None:
    """The ticket a mail about `ticket_id` continues, if the sender may see it
    by the web's rule (tickets_visible_to), and so may write to it there:
    where a merge took the conversation too. Anyone else's mail opens a new
    ticket instead of writing into a conversation they cannot read."""
    visible = tickets_visible_to(sender)
    ticket = visible.filter(pk=ticket_id).first()
    if ticket is None:
        return None
    ticket = _follow_merges(ticket)
    return ticket if visible.filter(pk=ticket.pk).exists() else None


def _thread_by_headers(parsed: ParsedEmail, sender: User) -> Ticket | None:
    """The ticket of the newest message this mail answers that the sender may
    see. Knowing a Message-ID is not enough: a forwarded mail, or a person
    copied on one, carries them too."""
    ids = parsed.thread_ids
    if not ids:
        return None
    found = dict(
        Message.objects.filter(email_message_id__in=ids).values_list(
            "email_message_id", "ticket_id"
        )
    )
    for message_id in ids:
        if message_id in found:
            ticket = _thread_for(sender, found[message_id])
            if ticket is not None:
                return ticket
    return None


def _subject_key(subject: str) -> int | None:
    prefix = re.escape(settings.HELPDESK_TICKET_KEY_PREFIX)
    match = re.search(rf"\[\s*({prefix}-[0-9]+)\s*\]", subject, re.IGNORECASE)
    return parse_ticket_key(match.group(1)) if match else None


def _thread_by_subject(parsed: ParsedEmail, sender: User) -> Ticket | None:
    """The ticket named "[HD-n]" in the subject, if the sender may see it.
    Keys are guessable, so a stranger quoting one opens a new ticket instead
    of writing into someone else's conversation."""
    pk = _subject_key(parsed.subject)
    return _thread_for(sender, pk) if pk is not None else None


def _mailbox(parsed: ParsedEmail) -> Mailbox | None:
    """The mailbox the mail was sent to, the envelope recipient first."""
    recipients = parsed.recipients
    if not recipients:
        return None
    boxes = {
        box.lowered: box
        for box in Mailbox.objects.select_related("category", "team")
        .annotate(lowered=Lower("address"))
        .filter(lowered__in=recipients)
    }
    return next((boxes[a] for a in recipients if a in boxes), None)


def _new_subject(subject: str) -> str:
    prefix = re.escape(settings.HELPDESK_TICKET_KEY_PREFIX)
    subject = re.sub(rf"\[\s*{prefix}-[0-9]+\s*\]", " ", subject, flags=re.IGNORECASE)
    subject = " ".join(_REPLY_PREFIX.sub("", subject).split())
    return subject or _NO_SUBJECT


def _attachments(parsed: ParsedEmail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """The attachments the limits accept, and a line for each one they refuse.
    A refused file must not refuse the customer's whole mail: it is named in
    the message instead, and stays available in the stored raw mail."""
    accepted: list[SimpleUploadedFile] = []
    refused: list[str] = []
    for attachment in parsed.attachments:
        upload = SimpleUploadedFile(
            attachment.filename, attachment.content, content_type=attachment.content_type
        )
        try:
            services.validate_attachments([upload])
        except DomainError as error:
            refused.append(error.message)
        else:
            accepted.append(upload)
    return accepted, refused


def _with_notes(body: str, refused: list[str]) -> str:
    if not refused:
        return body
    lines = "\n".join(f"- {reason}" for reason in refused)
    return (
        f"{body}\n\n[Attachments not added to the ticket (kept in the original e-mail):\n{lines}]"
    )
