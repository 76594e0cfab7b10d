"""Raw e-mail messages for the e-mail tests, built with the standard library."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from tickets.email.parse import parse_email

CAROL = "Carol Customer <carol@acme.example>"
# The inbound endpoint's token (set by conftest.py, sent by test_inbound_endpoint.py).
TOKEN = "inbound-test-token"


def build(
    *,
    sender: str = CAROL,
    to: str = "support@helpdesk.test",
    subject: str = "Invoice 1042 charges us twice",
    body: str | None = "Hello,\n\nour March invoice lists the licence twice.\n\nCarol",
    html: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Mar 2026 09:00:00 +0000"
    msg["Message-ID"] = message_id or make_msgid(domain="mail.acme.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    if body is not None:
        msg.set_content(body)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def message_id_of(raw: bytes) -> str:
    return parse_email(raw).message_id
