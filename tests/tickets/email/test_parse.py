"""tickets.email.parse: input that is not an e-mail is refused before anything
is written, and a mail without a Message-ID gets a stable one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tickets.email.mails import build
from tickets.email.parse import InvalidEmail
from tickets.email.receive import receive, receive_email
from tickets.models import InboundEmail, Ticket


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n",
        b"this is not an e-mail at all",
        b'{"subject": "json"}',
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_input_that_is_not_an_email_is_refused_and_writes_nothing(db, raw, settings):
    with pytest.raises(InvalidEmail):
        receive_email(raw)
    assert not InboundEmail.objects.exists()
    assert not Path(settings.MEDIA_ROOT).exists()


def test_mail_without_message_id_is_still_recorded_once(customer):
    raw = build().replace(b"Message-ID:", b"X-Old-Message-ID:")
    first = receive(raw)
    second = receive(raw)
    assert first.inbound.message_id.endswith("@no-message-id.invalid>")
    assert second.duplicate and second.inbound.pk == first.inbound.pk
    assert Ticket.objects.count() == 1
