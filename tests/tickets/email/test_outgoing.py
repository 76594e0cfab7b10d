"""tickets.email.outgoing and the mail the services queue: the headers of
what we send (Message-ID, threading, Auto-Submitted), and the customer's
answers coming back."""

from __future__ import annotations

from django.core import mail

from tests.tickets.email.mails import build, message_id_of
from tickets import services
from tickets.email import outgoing
from tickets.email.receive import receive_email
from tickets.models import InboundEmail, OutboundEmail

Outcome = InboundEmail.Outcome


def test_acknowledgement_headers_mark_it_automatic_and_thread_it(customer, send_queued_mail):
    first = build()
    ticket = receive_email(first).ticket  # intake queued the acknowledgement
    send_queued_mail()
    sent = mail.outbox[-1]
    row = OutboundEmail.objects.get(ticket=ticket, kind="ticket.acknowledgement")
    assert sent.to == ["carol@acme.example"]
    headers = sent.message()
    assert headers["Message-ID"] == row.headers["Message-ID"]
    assert row.headers["Message-ID"].endswith(".helpdesk@helpdesk.test>")
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    assert headers["In-Reply-To"] == message_id_of(first)
    # Our own mail coming back is a loop, whatever else it says.
    assert receive_email(mail.outbox[-1].message().as_bytes()).outcome == Outcome.IGNORED


def test_references_keep_the_first_and_the_latest_ids(customer, agent, send_queued_mail):
    ticket = receive_email(build()).ticket
    for n in range(12):
        services.ticket_reply(ticket=ticket, author=agent, body=f"Answer {n}")
    send_queued_mail()
    last = mail.outbox[-1].message()
    assert "Answer 11" in mail.outbox[-1].body
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


def test_a_reply_keeps_its_message_id_when_the_send_is_refused(
    customer, agent, settings, send_queued_mail
):
    """The Message-ID is fixed when the reply is written: a refused send is
    tried again later as the same mail, and the customer's answer to it
    threads whenever it arrives."""
    settings.EMAIL_BACKEND = "tests.tickets.email.backends.RefusingServer"
    ticket = receive_email(build()).ticket
    reply = services.ticket_reply(ticket=ticket, author=agent, body="Done.")
    result = send_queued_mail()
    assert result.sent == [] and len(result.retrying) == 2  # acknowledgement and reply
    row = OutboundEmail.objects.get(message=reply)
    assert row.state == OutboundEmail.State.QUEUED
    assert "mail server down" in row.last_error
    assert row.headers["Message-ID"] == reply.email_message_id != ""


# --- notifications sent by the services ----------------------------------------------------


def test_services_notifications_thread_and_replies_come_back(
    customer, agent, django_capture_on_commit_callbacks, celery_eager
):
    """The acknowledgement and a staff reply leave through the outbox right
    after their commit: the customer's answer to either threads onto the
    ticket."""
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
