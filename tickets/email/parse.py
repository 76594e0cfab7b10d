"""Raw RFC 822 bytes -> ParsedEmail: everything intake needs, read once.

The standard library parser with `policy.default` decodes headers (RFC 2047)
and parameters (RFC 2231) for us. It is lenient: a malformed header becomes a
defect rather than an exception, so the only thing refused here is input that
is not an e-mail at all (no From header). Everything else is read as well as
it can be, because the raw message is stored beside the result anyway.

What the result holds can be stored: text loses its NUL characters and has
undecodable bytes replaced (core.inputs.storable_text), a Message-ID that
could not be stored is replaced by its digest, and a recipient address that
could not be stored is left out. The From address is kept as it came: it
names a person, so receive refuses it rather than write to someone else.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import hashlib
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses
from typing import cast

from core.inputs import storable_text, unstorable_text_problem
from tickets.email.clean import html_to_text

# What the header parser has been seen to raise on hostile input instead of
# recording a defect (CPython issues around _header_value_parser).
_MALFORMED = (
    ValueError,
    IndexError,
    TypeError,
    AttributeError,
    LookupError,
    email.errors.MessageError,
)

# A Message-ID is "<left@right>"; anything between angle brackets counts, since
# real mailers do not all follow the grammar.
_MSGID = re.compile(r"<([^<>\s]+)>")
# The column that stores Message-IDs (InboundEmail.message_id,
# Message.email_message_id) holds 255 characters.
_MAX_ID = 255


class InvalidEmail(ValueError):
    """The input is not an e-mail message; `message` says why, for the sender."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedEmail:
    # Message-IDs are kept in their header form, "<left@right>".
    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_address: str  # lower case; may lack a domain on broken mail
    from_name: str
    to_addresses: tuple[str, ...]
    cc_addresses: tuple[str, ...]
    # Envelope recipients added by the receiving MTA (Delivered-To,
    # X-Original-To, Envelope-To): the mailbox the mail really reached, even
    # when the customer's To header names a list or an alias.
    delivered_to: tuple[str, ...]
    subject: str
    text: str
    html_only: bool
    attachments: tuple[MailAttachment, ...]
    # Every header, lower-cased name -> its values, for the detectors.
    headers: dict[str, tuple[str, ...]] = field(repr=False)
    # "report-type" of a top-level multipart/report ("delivery-status" for
    # bounces, "disposition-notification" for read receipts), else "".
    report_type: str = ""
    # Content types of every part, to find delivery reports nested deeper.
    part_types: frozenset[str] = frozenset()

    def header(self, name: str) -> str:
        """The first value of a header, or "" when it is absent."""
        values = self.headers.get(name.lower(), ())
        return values[0] if values else ""

    def has_header(self, name: str) -> bool:
        return name.lower() in self.headers

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every recipient address, the envelope's first, without repeats."""
        return tuple(dict.fromkeys(self.delivered_to + self.to_addresses + self.cc_addresses))

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The Message-IDs this mail answers, the most recent first: the
        In-Reply-To, then References from its end (the newest) backwards."""
        return tuple(dict.fromkeys(self.in_reply_to + tuple(reversed(self.references))))


def parse_email(raw: bytes) -> ParsedEmail:
    if not raw or not raw.strip():
        raise InvalidEmail("The request body is empty; expected a raw RFC 822 message.")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage) or "From" not in msg:
        raise InvalidEmail("This is not an e-mail message: it has no From header.")

    senders = _addresses(msg, "From")
    if not senders:
        raise InvalidEmail("The From header holds no address.")
    from_name, from_address = senders[0]
    from_name = storable_text(from_name)

    text_parts, html_parts, attachment_parts = _split_parts(msg)
    text = "\n\n".join(t for t in (_decoded_text(p) for p in text_parts) if t.strip())
    html_only = False
    if not text.strip() and html_parts:
        text = "\n\n".join(html_to_text(_decoded_text(p)) for p in html_parts)
        html_only = True

    headers: dict[str, tuple[str, ...]] = {}
    for name in msg.keys():
        if name.lower() not in headers:
            headers[name.lower()] = tuple(
                storable_text(_header_text(value)) for value in _all(msg, name)
            )

    return ParsedEmail(
        message_id=_message_id(msg, raw, text),
        in_reply_to=_ids(_header(msg, "In-Reply-To")),
        references=_ids(" ".join(_header_text(v) for v in _all(msg, "References"))),
        from_address=from_address,
        from_name=from_name,
        to_addresses=_emails(msg, "To"),
        cc_addresses=_emails(msg, "Cc"),
        delivered_to=_emails(msg, "Delivered-To")
        + _emails(msg, "X-Original-To")
        + _emails(msg, "Envelope-To"),
        subject=storable_text(" ".join(_header(msg, "Subject").split())),
        text=storable_text(text.strip()),
        html_only=html_only,
        attachments=tuple(_attachments(attachment_parts)),
        headers=headers,
        report_type=(
            str(msg.get_param("report-type", "")).lower()
            if msg.get_content_type() == "multipart/report"
            else ""
        ),
        part_types=frozenset(part.get_content_type() for part in msg.walk()),
    )


# --- headers -------------------------------------------------------------------


def _all(msg: Message, name: str) -> list:
    try:
        return msg.get_all(name) or []
    except _MALFORMED:
        return []


def _header_text(value) -> str:
    try:
        return str(value).strip()
    except _MALFORMED:
        return ""


def _header(msg: Message, name: str) -> str:
    values = _all(msg, name)
    return _header_text(values[0]) if values else ""


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of an address header."""
    pairs: list[tuple[str, str]] = []
    for value in _all(msg, name):
        try:
            found = [(a.display_name, a.addr_spec) for a in value.addresses]
        except _MALFORMED:
            # Not an address header in the registry (Delivered-To) or one the
            # structured parser gave up on: the permissive parser still copes.
            found = getaddresses([_header_text(value)])
        for display, address in found:
            address = address.strip().strip("<>").lower()
            if address:
                pairs.append((" ".join(display.split()), address))
    return pairs


def _emails(msg: Message, name: str) -> tuple[str, ...]:
    """The addresses of a recipient header (an address that could not be
    stored names no mailbox of ours)."""
    found = (a for _, a in _addresses(msg, name) if unstorable_text_problem(a) is None)
    return tuple(dict.fromkeys(found))


def _fit(message_id: str) -> str:
    """A Message-ID that fits the 255-character columns: over-long ones, and
    ones that cannot be stored, are replaced by their digest, the same way
    wherever they are read, so stored and referenced forms still match."""
    if len(message_id) <= _MAX_ID and unstorable_text_problem(message_id) is None:
        return message_id
    digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"<{digest}@long-message-id.invalid>"


def _ids(value: str) -> tuple[str, ...]:
    found = [f"<{m}>" for m in _MSGID.findall(value)]
    if not found:
        # Some mailers drop the angle brackets; keep anything that looks like
        # an id rather than lose the thread.
        found = [f"<{token.strip('<>')}>" for token in value.split() if "@" in token]
    return tuple(dict.fromkeys(_fit(m) for m in found))


def _message_id(msg: Message, raw: bytes, text: str) -> str:
    ids = _ids(_header(msg, "Message-ID"))
    if ids:
        return ids[0]
    # No Message-ID (some scripts and old mailers): derive one from what stays
    # the same when the same mail is delivered again (trace headers such as
    # Received do not), so a redelivery is still recognised.
    stable = "\n".join(
        [_header(msg, name) for name in ("From", "To", "Cc", "Date", "Subject")] + [text]
    )
    digest = hashlib.sha256(stable.encode("utf-8", "replace")).hexdigest()[:40]
    return f"<{digest}@no-message-id.invalid>"


# --- body and attachments ----------------------------------------------------


def _leaves(part: Message) -> Iterator[Message]:
    """The parts that carry content, in order. message/* parts are leaves:
    a forwarded message stays one attachment instead of being mixed into the
    body, and delivery reports are not read as text."""
    if part.get_content_maintype() == "message":
        yield part
    elif part.is_multipart():
        # A multipart part's payload is the list of its sub-part Messages.
        for sub in cast("list[Message]", part.get_payload()):
            yield from _leaves(sub)
    else:
        yield part


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except _MALFORMED:
        return ""
    # Only the last path component: a filename is a label, never a path.
    return storable_text(re.split(r"[\\/]", name)[-1]).strip()


def _is_inline_text(part: Message, subtype: str) -> bool:
    return (
        part.get_content_type() == f"text/{subtype}"
        and part.get_content_disposition() != "attachment"
        and not _filename(part)
    )


def _split_parts(msg: Message) -> tuple[list[Message], list[Message], list[Message]]:
    """(plain text body parts, HTML body parts, attachments). An inline
    text/html part is the alternative of the plain text, not an attachment."""
    texts, htmls, files = [], [], []
    for part in _leaves(msg):
        if _is_inline_text(part, "plain"):
            texts.append(part)
        elif _is_inline_text(part, "html"):
            htmls.append(part)
        elif part.get_content_maintype() == "message" and part.get_content_type() != (
            "message/rfc822"
        ):
            # Delivery-status and disposition reports are machine-readable
            # notices (detect reads their type), not files from a person.
            continue
        else:
            files.append(part)
    return texts, htmls, files


def _decoded_text(part: Message) -> str:
    # A parsed text/* leaf holds a str payload, which decode=True returns as bytes.
    payload = cast("bytes | None", part.get_payload(decode=True)) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        # An unknown charset name: most mail is UTF-8 or a superset of ASCII.
        return payload.decode("utf-8", errors="replace")


def _attachments(parts: list[Message]) -> Iterator[MailAttachment]:
    for number, part in enumerate(parts, start=1):
        content_type = storable_text(part.get_content_type())
        if content_type == "message/rfc822":
            # The parser makes a message/rfc822 payload a one-element list of Message.
            inner = cast("list[Message]", part.get_payload())
            content = inner[0].as_bytes() if inner else b""
        else:
            # Any other attachment is a non-multipart leaf: its str payload decodes to bytes.
            content = cast("bytes | None", part.get_payload(decode=True)) or b""
        filename = _filename(part)
        if content_type == "application/octet-stream" and filename:
            # Many mailers label every file octet-stream; the extension is a
            # better guide to what the attachment limits should allow.
            content_type = mimetypes.guess_type(filename)[0] or content_type
        if not filename:
            extension = mimetypes.guess_extension(content_type) or ".bin"
            filename = f"attachment-{number}{extension}"
        yield MailAttachment(filename=filename, content_type=content_type, content=content)
