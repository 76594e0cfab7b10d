"""tickets.email.detect: auto-replies, bounces and mail loops are recorded as
ignored and never open a ticket."""

from __future__ import annotations

import pytest

from tests.tickets.email.mails import build, message_id_of
from tickets.email import outgoing
from tickets.email.receive import receive_email
from tickets.models import InboundEmail, Mailbox, Ticket, User

Outcome = InboundEmail.Outcome


@pytest.mark.parametrize(
    ("subject", "headers", "reason"),
    [
        ("Automatic reply: Invoice", {"Auto-Submitted": "auto-replied"}, "auto-reply: Auto-"),
        ("Out of Office: back on Monday", {}, "auto-reply: subject"),
        ("Re: Invoice", {"X-Autoreply": "yes"}, "auto-reply: X-Autoreply"),
        ("Newsletter", {"Precedence": "bulk"}, "auto-reply: Precedence: bulk"),
        ("Re: Invoice", {"Auto-Submitted": "auto-generated"}, "auto-reply: Auto-"),
    ],
)
def test_auto_replies_open_no_ticket(customer, subject, headers, reason):
    inbound = receive_email(build(subject=subject, headers=headers))
    assert inbound.outcome == Outcome.IGNORED
    assert inbound.reason.startswith(reason)
    assert inbound.ticket is None
    assert not Ticket.objects.exists()


def test_a_customer_writing_about_the_office_is_heard(customer):
    raw = build(subject="Out of office calendar does not sync", headers={"Auto-Submitted": "no"})
    assert receive_email(raw).outcome == Outcome.CREATED


def test_an_out_of_office_reply_to_a_ticket_adds_nothing(customer):
    """Journey 3: the customer's autoresponder answers our mail; the ticket
    gets no message and no new ticket opens."""
    first = build()
    ticket = receive_email(first).ticket
    ooo = build(
        subject=f"Automatic reply: [{ticket.key}] Invoice 1042 charges us twice",
        body="I am out of the office until Monday.",
        headers={"In-Reply-To": message_id_of(first), "X-Autoreply": "yes"},
    )
    assert receive_email(ooo).outcome == Outcome.IGNORED
    assert ticket.messages.count() == 1
    assert Ticket.objects.count() == 1


BOUNCE = b"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>
To: support@helpdesk.test
Subject: Undelivered Mail Returned to Sender
Date: Mon, 02 Mar 2026 09:00:00 +0000
Message-ID: <bounce-1@mx.acme.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

This is the mail system. Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example

Final-Recipient: rfc822; nobody@acme.example
Action: failed
Status: 5.1.1

--b1--
"""


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (BOUNCE, "bounce: empty Return-Path"),
        (BOUNCE.replace(b"Return-Path: <>\n", b""), "bounce: sent by mailer-daemon@"),
        (
            BOUNCE.replace(b"Return-Path: <>\n", b"").replace(
                b"MAILER-DAEMON@mx.acme.example", b"relay@acme.example"
            ),
            "bounce: delivery status report",
        ),
    ],
)
def test_bounces_open_no_ticket(customer, raw, reason):
    inbound = receive_email(raw)
    assert (inbound.outcome, inbound.ticket) == (Outcome.IGNORED, None)
    assert inbound.reason.startswith(reason)
    assert not User.objects.filter(email__startswith="mailer-daemon").exists()


@pytest.mark.parametrize("kind", ["loop header", "our message id", "our own address"])
def test_mail_loops_open_no_ticket(customer, kind):
    Mailbox.objects.create(address="billing@helpdesk.test")
    raw = {
        "loop header": build(headers={"X-Helpdesk-Loop": "helpdesk.test"}),
        "our message id": build(message_id=outgoing.make_message_id()),
        "our own address": build(sender="Billing <billing@helpdesk.test>"),
    }[kind]
    inbound = receive_email(raw)
    assert inbound.outcome == Outcome.IGNORED
    assert inbound.reason.startswith("loop:")
    assert not Ticket.objects.exists()


def test_another_installations_loop_stamp_is_not_ours(customer):
    raw = build(headers={"X-Helpdesk-Loop": "support.acme.example"})
    assert receive_email(raw).outcome == Outcome.CREATED
