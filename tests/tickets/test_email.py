"""The e-mail channel: real MIME messages, built with the standard library,
through receive_email, the inbound endpoint and `manage.py fetch_mail`."""

from __future__ import annotations

import mailbox
import threading
from email.message import EmailMessage
from email.utils import make_msgid
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections

from tests.conftest import wait_for
from tests.factories import make_ticket
from tickets import services
from tickets.email import outgoing
from tickets.email.clean import extract_reply, html_to_text, strip_signature
from tickets.email.parse import InvalidEmail, parse_email
from tickets.email.receive import receive, receive_email
from tickets.management.commands import fetch_mail
from tickets.models import (
    Attachment,
    Channel,
    InboundEmail,
    Mailbox,
    Message,
    Role,
    Status,
    Ticket,
    User,
)

Outcome = InboundEmail.Outcome
CAROL = "Carol Customer <carol@acme.example>"
TOKEN = "inbound-test-token"


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DEFAULT_FROM_EMAIL = "Helpdesk <support@helpdesk.test>"
    settings.HELPDESK_EMAIL_DOMAIN = "helpdesk.test"
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]
    settings.HELPDESK_INBOUND_EMAIL_TOKEN = TOKEN
    settings.HELPDESK_INBOUND_EMAIL_MAX_BYTES = 1024 * 1024


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


# --- new tickets -------------------------------------------------------------------


def test_plain_mail_from_a_customer_opens_a_ticket(customer):
    raw = build()
    inbound = receive_email(raw)

    assert inbound.outcome == Outcome.CREATED
    ticket = inbound.ticket
    assert ticket.requester == customer
    assert ticket.organization == customer.organization
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "Invoice 1042 charges us twice"
    assert ticket.description == "Hello,\n\nour March invoice lists the licence twice.\n\nCarol"
    first = ticket.messages.get()
    assert first.email_message_id == message_id_of(raw)
    assert first.channel == Channel.EMAIL
    # Recorded with who sent it and the raw bytes, through Django storage.
    assert inbound.sender == "carol@acme.example"
    assert inbound.subject == ticket.subject
    with inbound.raw.open("rb") as stored:
        assert stored.read() == raw


def test_mail_to_a_mailbox_takes_its_category_and_team(customer, billing_category):
    Mailbox.objects.create(
        address="Billing@helpdesk.test",
        category=billing_category,
        team=billing_category.default_team,
    )
    # The customer wrote to a list alias; the envelope says it reached billing@.
    raw = build(to="finance-list@acme.example", headers={"Delivered-To": "billing@helpdesk.test"})
    ticket = receive_email(raw).ticket
    assert ticket.category == billing_category
    assert ticket.team == billing_category.default_team


def test_new_sender_of_a_known_domain_becomes_a_customer_of_that_organisation(acme):
    inbound = receive_email(build(sender="Erin Example <Erin@ACME.example>"))
    erin = User.objects.get(email="erin@acme.example")
    assert (erin.role, erin.organization, erin.full_name) == (Role.CUSTOMER, acme, "Erin Example")
    assert inbound.ticket.requester == erin
    assert inbound.ticket.organization == acme


def test_unknown_sender_becomes_a_guest_customer(acme):
    inbound = receive_email(build(sender="walk-in@gmail.example"))
    guest = inbound.ticket.requester
    assert guest.email == "walk-in@gmail.example"
    assert guest.role == Role.CUSTOMER
    assert guest.organization is None
    assert guest.full_name == "walk-in"
    assert not guest.has_usable_password()


def test_attachments_are_kept_and_refused_ones_named(customer):
    pdf = b"%PDF-1.4 invoice"
    raw = build(
        attachments=(
            ("invoice-1042.pdf", "application/pdf", pdf),
            ("setup.exe", "application/x-msdownload", b"MZ"),
        )
    )
    ticket = receive_email(raw).ticket
    attachment = Attachment.objects.get(message__ticket=ticket)
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "invoice-1042.pdf",
        "application/pdf",
        len(pdf),
    )
    with attachment.file.open("rb") as stored:
        assert stored.read() == pdf
    # The refused file does not refuse the customer's mail: it is named.
    assert "setup.exe" in ticket.description
    assert ticket.description.startswith("Hello,")


def test_html_only_mail_is_converted_to_text_without_scripts(customer):
    html = (
        "<html><head><title>ignored</title><style>p {color: red}</style></head><body>"
        "<p>The <b>export</b> page shows &lt;blank&gt;.</p>"
        "<script>alert('stolen cookie')</script>"
        "<p onclick=\"steal()\">See <a href='https://status.acme.example/x'>our status</a>"
        "<img src=x onerror=alert(1) alt='screenshot'></p>"
        "</body></html>"
    )
    ticket = receive_email(build(body=None, html=html)).ticket
    assert ticket.description == (
        "The export page shows <blank>.\nSee our status (https://status.acme.example/x)[screenshot]"
    )
    for leftover in ("alert", "script", "stolen", "color", "steal", "onerror", "<p", "ignored"):
        assert leftover not in ticket.description


def test_mail_without_message_id_is_still_recorded_once(customer):
    raw = build().replace(b"Message-ID:", b"X-Old-Message-ID:")
    first = receive(raw)
    second = receive(raw)
    assert first.inbound.message_id.endswith("@no-message-id.invalid>")
    assert second.duplicate and second.inbound.pk == first.inbound.pk
    assert Ticket.objects.count() == 1


# --- threading -----------------------------------------------------------------------


def test_reply_to_our_notification_threads_and_keeps_only_the_new_text(customer, agent):
    """Journey 3: the customer's reply to the agent's e-mail, with the quoted
    history below it, lands on the same ticket with only the new text."""
    first = build()
    ticket = receive_email(first).ticket
    answer = services.ticket_reply(ticket=ticket, author=agent, body="Refund issued.")
    sent_id = outgoing.send_ticket_mail(
        ticket=ticket, subject=f"[{ticket.key}] {ticket.subject}", body=answer.body, message=answer
    )
    answer.refresh_from_db()
    assert answer.email_message_id == sent_id
    notification = mail.outbox[-1].message()
    assert notification["Message-ID"] == sent_id
    assert notification["In-Reply-To"] == message_id_of(first)
    assert notification["References"] == message_id_of(first)
    assert notification["X-Helpdesk-Loop"] == "helpdesk.test"
    assert notification["Auto-Submitted"] is None

    reply = build(
        subject=f"Re: [{ticket.key}] {ticket.subject}",
        body=(
            "Thanks, the refund arrived.\n\n"
            "-- \nCarol Customer\nAcme Ltd\n\n"
            "On Mon, 2 Mar 2026 at 10:04, Helpdesk <support@helpdesk.test>\nwrote:\n"
            "> Refund issued.\n>\n> -- \n> Alice Agent, Helpdesk\n"
        ),
        headers={"In-Reply-To": sent_id, "References": f"{message_id_of(first)} {sent_id}"},
    )
    inbound = receive_email(reply)

    assert inbound.outcome == Outcome.THREADED
    assert inbound.ticket == ticket
    assert Ticket.objects.count() == 1
    latest = ticket.messages.last()
    assert latest.body == "Thanks, the refund arrived."
    assert (latest.author, latest.channel, latest.is_internal) == (customer, Channel.EMAIL, False)
    assert latest.email_message_id == message_id_of(reply)


def test_reply_is_found_by_references_when_in_reply_to_is_unknown(customer):
    first = build()
    ticket = receive_email(first).ticket
    reply = build(
        subject="Re: something else entirely",
        body="Any news?",
        headers={
            "In-Reply-To": "<lost@elsewhere.example>",
            "References": f"{message_id_of(first)} <lost@elsewhere.example>",
        },
    )
    assert receive_email(reply).ticket == ticket


def test_reply_is_found_by_the_ticket_key_in_the_subject(customer, colleague):
    ticket = make_ticket(requester=customer, subject="Export is slow", channel=Channel.PORTAL)
    inbound = receive_email(build(subject=f"Re: [{ticket.key}] Export is slow", body="Still."))
    assert (inbound.outcome, inbound.ticket) == (Outcome.THREADED, ticket)
    # Someone of the requester's organisation may add to it too.
    chris = build(sender="chris@acme.example", subject=f"[{ticket.key.lower()}]", body="Me too.")
    assert receive_email(chris).ticket == ticket
    assert [m.author for m in ticket.messages.all()] == [customer, customer, colleague]


def test_a_stranger_quoting_a_ticket_key_opens_a_new_ticket(customer, other_customer):
    ticket = make_ticket(requester=customer, subject="Export is slow")
    inbound = receive_email(
        build(sender="dave@globex.example", subject=f"Re: [{ticket.key}] Export is slow")
    )
    assert inbound.outcome == Outcome.CREATED
    assert inbound.ticket != ticket
    assert inbound.ticket.requester == other_customer
    assert inbound.ticket.subject == "Export is slow"
    assert ticket.messages.count() == 1


def test_a_reply_to_a_closed_ticket_opens_a_new_one_that_mentions_it(customer, agent):
    first = build()
    old = receive_email(first).ticket
    services.ticket_change_status(ticket=old, status=Status.SOLVED, actor=agent)
    services.ticket_change_status(ticket=old, status=Status.CLOSED, actor=agent)
    reply = build(
        subject=f"Re: [{old.key}] Invoice 1042 charges us twice",
        body="It happened again in April.\n\nOn Mon, Alice wrote:\n> Refund issued.",
        headers={"In-Reply-To": message_id_of(first)},
    )
    inbound = receive_email(reply)
    assert inbound.outcome == Outcome.CREATED
    new = inbound.ticket
    assert new != old
    assert new.subject == "Invoice 1042 charges us twice"
    assert (
        new.description
        == f"It happened again in April.\n\n(This e-mail answers {old.key}, which is closed.)"
    )
    assert old.key in inbound.reason
    assert old.messages.count() == 1


def test_a_reply_to_a_merged_ticket_lands_where_it_was_merged(customer, agent):
    first = build()
    source = receive_email(first).ticket
    target = make_ticket(requester=customer, subject="Billing")
    services.ticket_merge(source=source, target=target, actor=agent)
    # The customer answers their original mail (its Message-ID moved with the
    # message) and the old key's subject: both lead to the target.
    inbound = receive_email(
        build(
            subject=f"Re: [{source.key}]", body="Ok.", headers={"In-Reply-To": message_id_of(first)}
        )
    )
    assert inbound.ticket == target


def test_mail_from_staff_is_added_as_an_internal_note(customer, agent):
    ticket = make_ticket(requester=customer)
    inbound = receive_email(
        build(sender="alice@helpdesk.test", subject=f"Re: [{ticket.key}]", body="Called her.")
    )
    note = ticket.messages.last()
    assert inbound.outcome == Outcome.THREADED
    assert (note.author, note.is_internal, note.body) == (agent, True, "Called her.")
    assert mail.outbox == []


# --- never a ticket ---------------------------------------------------------------------


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


# --- redelivery and failure ----------------------------------------------------------------


def test_a_redelivery_returns_the_earlier_outcome_and_creates_nothing(customer):
    raw = build(attachments=(("a.txt", "text/plain", b"hello"),))
    first = receive(raw)
    again = receive(raw)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.inbound.pk == first.inbound.pk
    assert again.inbound.outcome == Outcome.CREATED
    assert (Ticket.objects.count(), Message.objects.count(), Attachment.objects.count()) == (
        1,
        1,
        1,
    )
    assert InboundEmail.objects.count() == 1


def exploding_step(ticket, context):
    """An intake step that fails after the ticket and its first message exist."""
    raise RuntimeError("classifier unavailable")


def test_a_failure_midway_leaves_no_half_ticket_and_is_recorded(settings, acme):
    settings.HELPDESK_INTAKE_STEPS = [
        "tickets.routing.route_step",
        "tests.tickets.test_email.exploding_step",
    ]
    raw = build(sender="new.person@acme.example", attachments=(("a.txt", "text/plain", b"x"),))

    inbound = receive_email(raw)

    assert inbound.outcome == Outcome.FAILED
    assert inbound.reason == "RuntimeError: classifier unavailable"
    assert inbound.ticket is None
    assert not Ticket.objects.exists()
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()
    # Even the sender's new account was rolled back with the ticket.
    assert not User.objects.filter(email="new.person@acme.example").exists()
    with inbound.raw.open("rb") as stored:
        assert stored.read() == raw

    # Once the cause is fixed, delivering it again processes it: its failure
    # left nothing behind to duplicate.
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]
    retried = receive(raw)
    assert not retried.duplicate
    assert retried.inbound.pk == inbound.pk
    assert retried.inbound.outcome == Outcome.CREATED
    assert retried.inbound.reason == ""
    assert Ticket.objects.count() == 1


def test_a_disabled_sender_is_recorded_as_failed_with_the_reason(customer):
    User.objects.filter(pk=customer.pk).update(is_active=False)
    inbound = receive_email(build())
    assert inbound.outcome == Outcome.FAILED
    assert inbound.reason == "The sender's account (carol@acme.example) is disabled."
    assert not Ticket.objects.exists()


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


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_deliveries_open_one_ticket(customer, settings, celery_eager):
    """The InboundEmail row is the claim: the second delivery waits on the
    first one's uncommitted row, then sees it as a duplicate."""
    settings.HELPDESK_INTAKE_STEPS = [
        "tickets.routing.route_step",
        "tests.tickets.test_email.hold_step",
    ]
    raw = build()
    results: dict[str, object] = {}

    def deliver(name: str) -> None:
        try:
            results[name] = receive(raw)
        finally:
            connections.close_all()

    first = threading.Thread(target=deliver, args=("first",))
    first.start()
    assert HOLD.reached.wait(30)  # the first delivery holds its claim, mid-intake
    second = threading.Thread(target=deliver, args=("second",))
    second.start()
    # Released only once the second delivery is blocked on the claimed row.
    wait_for(lambda: _sessions_waiting_on_a_lock() >= 1)
    HOLD.release.set()
    first.join(30)
    second.join(30)

    assert results["first"].duplicate is False
    assert results["first"].inbound.outcome == Outcome.CREATED
    assert results["second"].duplicate is True
    assert results["second"].inbound.pk == results["first"].inbound.pk
    assert Ticket.objects.count() == 1


class _Hold:
    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()


HOLD = _Hold()


def hold_step(ticket, context):
    """Intake step for the concurrency test: pause the first delivery (only)
    inside its transaction until the test lets it go."""
    if not HOLD.reached.is_set():
        HOLD.reached.set()
        HOLD.release.wait(30)


def _sessions_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


# --- outgoing -------------------------------------------------------------------------------


def test_acknowledgement_headers_mark_it_automatic_and_thread_it(customer):
    first = build()
    ticket = receive_email(first).ticket
    sent_id = outgoing.send_ticket_mail(
        ticket=ticket,
        subject=f"[{ticket.key}] We received your request",
        body="Thanks",
        auto_reply=True,
    )
    sent = mail.outbox[-1]
    assert sent.to == ["carol@acme.example"]
    headers = sent.message()
    assert headers["Message-ID"] == sent_id
    assert sent_id.endswith(".helpdesk@helpdesk.test>")
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    assert headers["In-Reply-To"] == message_id_of(first)
    # Our own mail coming back is a loop, whatever else it says.
    assert receive_email(mail.outbox[-1].message().as_bytes()).outcome == Outcome.IGNORED


def test_references_keep_the_first_and_the_latest_ids(customer, agent):
    ticket = receive_email(build()).ticket
    replies = [
        services.ticket_reply(ticket=ticket, author=agent, body=f"Answer {n}") for n in range(12)
    ]
    for reply in replies:
        outgoing.send_ticket_mail(ticket=ticket, subject="s", body=reply.body, message=reply)
    last = mail.outbox[-1].message()
    references = last["References"].split()
    ids = [m.email_message_id for m in ticket.messages.order_by("created_at", "pk")]
    assert len(references) == 10
    assert references[0] == ids[0]
    assert references[1:] == ids[-10:-1]
    assert last["In-Reply-To"] == ids[-2]


def test_the_message_id_domain_defaults_to_the_sender_domain(settings):
    settings.HELPDESK_EMAIL_DOMAIN = ""
    settings.DEFAULT_FROM_EMAIL = "Support <help@support.acme-helpdesk.example>"
    assert outgoing.email_domain() == "support.acme-helpdesk.example"
    assert outgoing.make_message_id().endswith("@support.acme-helpdesk.example>")


def test_a_refused_send_stores_no_message_id(customer, agent, settings):
    settings.EMAIL_BACKEND = "tests.tickets.test_email.RefusingBackend"
    ticket = make_ticket(requester=customer)
    reply = services.ticket_reply(ticket=ticket, author=agent, body="Done.")
    with pytest.raises(ConnectionRefusedError):
        outgoing.send_ticket_mail(ticket=ticket, subject="s", body="b", message=reply)
    reply.refresh_from_db()
    assert reply.email_message_id == ""


class RefusingBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


# --- text cleaning -------------------------------------------------------------------------


def test_outlook_history_and_phone_signatures_are_cut():
    text = (
        "Still broken after the update.\n\nSent from my iPhone\n\n"
        "-----Original Message-----\nFrom: Helpdesk\nSent: Monday, 2 March 2026 10:04\n"
        "Subject: [HD-3] Export\n\nPlease update."
    )
    assert extract_reply(text) == "Still broken after the update."
    outlook_web = (
        "New text\n________________________________\n"
        "From: Helpdesk <support@helpdesk.test>\nSent: Monday\nTo: Carol\n\nOld"
    )
    assert extract_reply(outlook_web) == "New text"


def test_inline_and_bottom_posted_answers_are_kept():
    text = (
        "On Mon, 2 Mar 2026, Alice wrote:\n> Which browser?\nFirefox 140.\n"
        "> And the version of the app?\n2.4.1\n"
    )
    assert extract_reply(text) == "Firefox 140.\n2.4.1"


def test_a_reply_that_is_all_quote_keeps_everything():
    assert extract_reply("> quoted only") == "> quoted only"


def test_html_blockquotes_are_quoted_history():
    html = (
        "<div>Works now, thanks!</div><div class='gmail_quote'>"
        "<div>On Mon, 2 Mar 2026 at 10:04, Helpdesk wrote:</div>"
        "<blockquote>Please <i>restart</i> the app.</blockquote></div>"
    )
    text = html_to_text(html)
    assert text.splitlines() == [
        "Works now, thanks!",
        "On Mon, 2 Mar 2026 at 10:04, Helpdesk wrote:",
        "> Please restart the app.",
    ]
    assert extract_reply(text) == "Works now, thanks!"


def test_new_tickets_keep_quoted_text_but_not_the_signature():
    text = "Please see below.\n\n> forwarded detail\n\n-- \nCarol\n+1 555 0100"
    assert strip_signature(text) == "Please see below.\n\n> forwarded detail"


# --- the inbound endpoint -------------------------------------------------------------------

email_urls = pytest.mark.urls("tests.tickets.email_urls")


def post_raw(client, raw: bytes, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post("/inbound/email/", data=raw, content_type="message/rfc822", headers=headers)


@email_urls
def test_endpoint_opens_a_ticket(client, customer):
    response = post_raw(client, build())
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json()["outcome"] == "created"
    assert response.json()["ticket"] == ticket.key


@email_urls
def test_endpoint_accepts_the_message_as_a_multipart_file(client, customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("mail.eml", build(), content_type="message/rfc822")
    response = client.post(
        "/inbound/email/", {"message": upload}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 201, response.json()
    assert Ticket.objects.count() == 1


@email_urls
def test_endpoint_answers_redeliveries_and_ignored_mail_with_200(client, customer):
    raw = build()
    assert post_raw(client, raw).status_code == 201
    again = post_raw(client, raw)
    assert again.status_code == 200
    assert again.json() == {
        "outcome": "created",
        "ticket": Ticket.objects.get().key,
        "message_id": message_id_of(raw),
        "duplicate": True,
    }
    ooo = post_raw(
        client, build(subject="Out of office", headers={"Auto-Submitted": "auto-replied"})
    )
    assert ooo.status_code == 200
    assert ooo.json()["outcome"] == "ignored"
    assert ooo.json()["reason"].startswith("auto-reply")


@email_urls
def test_endpoint_refuses_a_broken_body_with_400_and_writes_nothing(client, settings, db):
    response = post_raw(client, b"definitely not a message")
    assert response.status_code == 400
    assert "not an e-mail" in response.json()["error"]
    assert not InboundEmail.objects.exists()
    assert not Ticket.objects.exists()
    assert not Path(settings.MEDIA_ROOT).exists()


@email_urls
def test_endpoint_reports_a_failed_intake(client, customer):
    User.objects.filter(pk=customer.pk).update(is_active=False)
    response = post_raw(client, build())
    assert response.status_code == 202
    assert response.json()["outcome"] == "failed"
    assert "disabled" in response.json()["error"]


@email_urls
@pytest.mark.parametrize("token", [None, "", "wrong-token", TOKEN + "x"])
def test_endpoint_needs_the_token(client, customer, token):
    response = post_raw(client, build(), token=token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not InboundEmail.objects.exists()


@email_urls
def test_endpoint_token_must_be_a_bearer_token(client, customer):
    response = client.post(
        "/inbound/email/",
        data=build(),
        content_type="message/rfc822",
        headers={"Authorization": f"Token {TOKEN}"},
    )
    assert response.status_code == 401


@email_urls
def test_endpoint_is_off_without_a_token_setting(client, customer, settings):
    settings.HELPDESK_INBOUND_EMAIL_TOKEN = ""
    response = post_raw(client, build(), token="")
    assert response.status_code == 404
    assert not InboundEmail.objects.exists()


@email_urls
def test_endpoint_refuses_mail_over_the_size_limit(client, customer, settings):
    settings.HELPDESK_INBOUND_EMAIL_MAX_BYTES = 2000
    response = post_raw(client, build(body="x" * 3000))
    assert response.status_code == 413
    assert not InboundEmail.objects.exists()


@email_urls
def test_endpoint_reads_mail_larger_than_the_form_upload_limit(client, customer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_raw(client, build(body="lots of detail\n" * 200))
    assert response.status_code == 201


@email_urls
def test_endpoint_takes_only_post(client, db):
    response = client.get("/inbound/email/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --- manage.py fetch_mail -------------------------------------------------------------------


def run_fetch_mail(**options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("fetch_mail", stdout=out, stderr=err, verbosity=0, **options)
    return out.getvalue(), err.getvalue()


def make_maildir(root: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


def test_fetch_mail_reads_a_maildir_and_marks_what_it_processed(tmp_path, customer):
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1001.a.host").write_bytes(build(subject="Printer jam"))
    (maildir / "new" / "1002.b.host").write_bytes(
        build(subject="Automatic reply: x", headers={"Auto-Submitted": "auto-replied"})
    )
    (maildir / "new" / "1003.c.host").write_bytes(b"garbage that is no e-mail")
    # Already seen (read by a person or an earlier run): not ours to take.
    (maildir / "cur" / "1000.z.host:2,S").write_bytes(build(subject="Old and seen"))
    # In cur/ but never seen: still waiting.
    (maildir / "cur" / "1004.d.host:2,F").write_bytes(build(subject="Flagged, unread"))

    out, err = run_fetch_mail(maildir=str(maildir))

    assert "4 messages: created: 2, threaded: 0, ignored: 1" in out
    assert "invalid: 1" in out
    assert "1003.c.host" in err
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Flagged, unread",
        "Printer jam",
    ]
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == [
        "1000.z.host:2,S",
        "1001.a.host:2,S",
        "1002.b.host:2,S",
        "1004.d.host:2,FS",
    ]
    # What could not be read stays where it was, so nothing is lost.
    assert [p.name for p in (maildir / "new").iterdir()] == ["1003.c.host"]

    out, _ = run_fetch_mail(maildir=str(maildir))
    assert out.startswith("1 messages: created: 0")
    assert Ticket.objects.count() == 2


def test_fetch_mail_reads_an_mbox_without_changing_it(tmp_path, customer):
    path = tmp_path / "support.mbox"
    box = mailbox.mbox(path)
    for subject in ("VPN drops", "Invoice copy"):
        box.add(build(subject=subject))
    box.add(build(subject="Out of office"))
    box.close()
    before = path.read_bytes()

    out, _ = run_fetch_mail(mbox=str(path))
    assert "3 messages: created: 2, threaded: 0, ignored: 1, duplicate: 0" in out

    out, _ = run_fetch_mail(mbox=str(path))
    assert "3 messages: created: 0, threaded: 0, ignored: 0, duplicate: 3" in out
    assert Ticket.objects.count() == 2
    assert path.read_bytes() == before


def test_fetch_mail_refuses_a_folder_that_is_not_a_maildir(tmp_path, db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a Maildir"):
        run_fetch_mail(maildir=str(tmp_path))


class FakeImapClient:
    """Answers like imaplib.IMAP4 for the commands the adapter sends: the
    mailbox is a dict of UID -> raw message and a set of \\Seen UIDs."""

    def __init__(self, messages: dict[bytes, bytes]):
        self.messages = messages
        self.seen: set[bytes] = set()
        self.selected = None
        self.logged_out = False

    def select(self, folder):
        self.selected = folder
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command, *args):
        if command == "SEARCH":
            assert args == ("UNSEEN",)
            return "OK", [b" ".join(u for u in self.messages if u not in self.seen)]
        if command == "FETCH":
            uid, what = args
            assert what == "(BODY.PEEK[])"  # fetching must not mark it seen
            return "OK", [(b"%s (UID %s BODY[] {n}" % (uid, uid), self.messages[uid]), b")"]
        if command == "STORE":
            uid, op, flags = args
            assert (op, flags) == ("+FLAGS", "(\\Seen)")
            self.seen.add(uid)
            return "OK", [b""]
        raise AssertionError(command)

    def close(self):
        return "OK", [b""]

    def logout(self):
        self.logged_out = True
        return "BYE", [b""]


def test_fetch_mail_polls_imap_through_its_adapter(monkeypatch, customer):
    client = FakeImapClient({b"7": build(subject="From IMAP"), b"8": b"not mail"})
    logins = []

    def connect(**kwargs):
        logins.append(kwargs)
        return client

    monkeypatch.setattr(fetch_mail, "imap_connect", connect)
    monkeypatch.setenv("SUPPORT_IMAP_PASSWORD", "s3cret")

    out, _ = run_fetch_mail(
        imap_host="imap.helpdesk.test",
        imap_user="support",
        imap_password_env="SUPPORT_IMAP_PASSWORD",
        imap_folder="Support Inbox",
        imap_ssl=True,
    )

    assert logins == [
        {
            "host": "imap.helpdesk.test",
            "port": None,
            "user": "support",
            "password": "s3cret",
            "implicit_tls": True,
        }
    ]
    assert client.selected == '"Support Inbox"'
    assert "created: 1" in out and "invalid: 1" in out
    assert client.seen == {b"7"}
    assert client.logged_out
    assert Ticket.objects.get().subject == "From IMAP"


def test_fetch_mail_imap_needs_the_password_variable(monkeypatch, db):
    from django.core.management.base import CommandError

    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="NO_SUCH_PASSWORD is not set"):
        run_fetch_mail(
            imap_host="imap.helpdesk.test", imap_user="u", imap_password_env="NO_SUCH_PASSWORD"
        )


# --- journey 3, end to end through the endpoint -------------------------------------------


@email_urls
def test_journey_billing_email_thread(client, customer, other_agent, billing_category):
    """A customer e-mails billing@; a ticket opens in Billing; the agent's
    reply goes out with threading headers; the customer's reply (history
    quoted below) threads with only its new text; their out-of-office reply
    opens nothing."""
    Mailbox.objects.create(
        address="billing@helpdesk.test",
        category=billing_category,
        team=billing_category.default_team,
    )
    first = build(to="Billing <billing@helpdesk.test>")
    created = post_raw(client, first)
    assert created.status_code == 201
    ticket = Ticket.objects.get(pk=int(created.json()["ticket"].split("-")[1]))
    assert ticket.category == billing_category

    answer = services.ticket_reply(
        ticket=ticket, author=other_agent, body="We have refunded the duplicate line."
    )
    sent_id = outgoing.send_ticket_mail(
        ticket=ticket, subject=f"[{ticket.key}] {ticket.subject}", body=answer.body, message=answer
    )
    notification = mail.outbox[-1].message()

    reply = build(
        to="billing@helpdesk.test",
        subject=f"Re: {notification['Subject']}",
        body=(
            "Great, thank you!\n\nSent from my iPhone\n\n"
            "On Tue, 3 Mar 2026 at 11:00, Helpdesk <support@helpdesk.test> wrote:\n"
            "> We have refunded the duplicate line.\n"
        ),
        headers={"In-Reply-To": sent_id, "References": notification["References"] + " " + sent_id},
    )
    threaded = post_raw(client, reply)
    assert threaded.status_code == 201
    assert threaded.json()["outcome"] == "threaded"
    assert threaded.json()["ticket"] == ticket.key
    assert ticket.messages.last().body == "Great, thank you!"

    ooo = build(
        to="billing@helpdesk.test",
        subject=f"Automatic reply: {notification['Subject']}",
        body="I am away until Monday.",
        headers={"In-Reply-To": sent_id, "Auto-Submitted": "auto-replied"},
    )
    assert post_raw(client, ooo).json()["outcome"] == "ignored"
    assert Ticket.objects.count() == 1
    assert ticket.messages.count() == 3


# --- notifications sent by the services -----------------------------------------------------


def test_services_notifications_thread_and_replies_come_back(
    customer, agent, django_capture_on_commit_callbacks, celery_eager
):
    """The acknowledgement and a staff reply leave through tickets.email.outgoing:
    the customer's answer to either threads onto the ticket."""
    first = build()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = receive_email(first).ticket
    ack = mail.outbox[-1].message()
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == message_id_of(first)

    with django_capture_on_commit_callbacks(execute=True):
        answer = services.ticket_reply(ticket=ticket, author=agent, body="Refund issued.")
    sent = mail.outbox[-1].message()
    answer.refresh_from_db()
    assert sent["Message-ID"] == answer.email_message_id
    assert sent["Auto-Submitted"] is None
    assert sent["References"] == message_id_of(first)

    # Replies to the acknowledgement (through References) and to the answer.
    to_ack = build(
        body="Also March.",
        headers={
            "In-Reply-To": ack["Message-ID"],
            "References": ack["References"] + " " + ack["Message-ID"],
        },
    )
    to_answer = build(body="Got it.", headers={"In-Reply-To": answer.email_message_id})
    assert receive_email(to_ack).ticket == ticket
    assert receive_email(to_answer).ticket == ticket
    assert [m.body for m in ticket.messages.all()][-2:] == ["Also March.", "Got it."]
