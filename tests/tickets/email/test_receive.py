"""tickets.email.receive: a received mail opens a ticket or threads onto one;
redeliveries, failures and simultaneous deliveries."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection, connections

from tests.conftest import wait_for
from tests.factories import make_ticket
from tests.tickets.email.mails import build, message_id_of
from tickets import services
from tickets.email.receive import receive, receive_email
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


# --- new tickets ---------------------------------------------------------------------------


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
    acme.adds_senders_by_domain = True
    acme.save()
    inbound = receive_email(build(sender="Erin Example <Erin@ACME.example>"))
    erin = User.objects.get(email="erin@acme.example")
    assert (erin.role, erin.organization, erin.full_name) == (Role.CUSTOMER, acme, "Erin Example")
    assert inbound.ticket.requester == erin
    assert inbound.ticket.organization == acme


def test_a_domain_adds_nobody_to_an_organisation_that_did_not_opt_in(acme):
    """Anyone can send from an address at a domain; membership would let
    them into the organisation's tickets, so it is the organisation's choice
    (off by default)."""
    assert acme.adds_senders_by_domain is False
    inbound = receive_email(build(sender="Mallory <mallory@acme.example>"))
    mallory = User.objects.get(email="mallory@acme.example")
    assert (mallory.role, mallory.organization) == (Role.CUSTOMER, None)
    assert inbound.ticket.organization is None


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


# --- threading -----------------------------------------------------------------------------


def test_reply_to_our_notification_threads_and_keeps_only_the_new_text(
    customer, agent, send_queued_mail
):
    """Journey 3: the customer's reply to the agent's e-mail, with the quoted
    history below it, lands on the same ticket with only the new text."""
    first = build()
    ticket = receive_email(first).ticket
    answer = services.ticket_reply(ticket=ticket, author=agent, body="Refund issued.")
    send_queued_mail()
    sent_id = answer.email_message_id
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
    # Someone of the requester's organisation who sees its tickets may add to it too.
    colleague.sees_organization_tickets = True
    colleague.save()
    chris = build(sender="chris@acme.example", subject=f"[{ticket.key.lower()}]", body="Me too.")
    assert receive_email(chris).ticket == ticket
    assert [m.author for m in ticket.messages.all()] == [customer, customer, colleague]


def test_a_colleague_who_cannot_see_the_ticket_on_the_web_cannot_write_to_it(customer, colleague):
    """The web's access rule decides (tickets_visible_to): a colleague without
    sees_organization_tickets cannot read Carol's ticket there, so their mail
    quoting its key opens a ticket of their own."""
    ticket = make_ticket(requester=customer, subject="Export is slow")
    inbound = receive_email(
        build(sender="chris@acme.example", subject=f"Re: [{ticket.key}] Export is slow")
    )
    assert inbound.outcome == Outcome.CREATED
    assert inbound.ticket != ticket
    assert inbound.ticket.requester == colleague
    assert ticket.messages.count() == 1


def test_knowing_a_message_id_does_not_let_a_stranger_into_the_thread(customer, other_customer):
    """A forwarded mail carries the thread's Message-IDs: answering it is not
    a licence to write into a ticket the sender cannot see."""
    first = build()
    ticket = receive_email(first).ticket
    inbound = receive_email(
        build(
            sender="dave@globex.example",
            subject="Fwd: Invoice 1042 charges us twice",
            body="We have the same problem.",
            headers={"In-Reply-To": message_id_of(first), "References": message_id_of(first)},
        )
    )
    assert inbound.outcome == Outcome.CREATED
    assert inbound.ticket.requester == other_customer
    assert ticket.messages.count() == 1


def test_a_merge_into_a_ticket_the_sender_cannot_see_is_no_thread_for_them(
    customer, other_customer, agent
):
    first = build()
    source = receive_email(first).ticket
    target = make_ticket(requester=other_customer, subject="Billing outage")
    services.ticket_merge(source=source, target=target, actor=agent)
    inbound = receive_email(
        build(subject="Re: Invoice", body="Ok.", headers={"In-Reply-To": message_id_of(first)})
    )
    assert inbound.outcome == Outcome.CREATED
    assert inbound.ticket not in (source, target)
    assert not target.messages.filter(author=customer, body="Ok.").exists()


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


def exploding_step(intakes):
    """An intake step that fails after the ticket and its first message exist."""
    raise RuntimeError("classifier unavailable")


def test_a_failure_midway_leaves_no_half_ticket_and_is_recorded(settings, acme):
    settings.HELPDESK_INTAKE_STEPS = [
        "tickets.routing.route_step",
        "tests.tickets.email.test_receive.exploding_step",
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


def raw_mail(sender: bytes, subject: bytes = b"Help", body: bytes = b"Hello") -> bytes:
    """A mail as bytes, for what the standard library will not build (a NUL)."""
    return (
        b"From: " + sender + b"\r\nTo: support@helpdesk.test\r\nSubject: " + subject + b"\r\n"
        b"Date: Mon, 02 Mar 2026 09:00:00 +0000\r\nMessage-ID: <nul-test@mail.example>\r\n"
        b"\r\n" + body + b"\r\n"
    )


def test_a_nul_in_the_from_address_is_recorded_as_failed_without_writing_it(acme):
    """PostgreSQL stores no NUL: the address is refused (it names a person, so
    it is not altered into someone else's), and the failed record is written
    without it, with the raw mail kept."""
    raw = raw_mail(b"Eve <eve\x00@acme.example>")
    receipt = receive(raw)
    inbound = receipt.inbound
    assert (inbound.outcome, receipt.temporary) == (Outcome.FAILED, False)
    assert inbound.reason == "The sender's address holds characters that cannot be stored."
    assert inbound.sender == "eve@acme.example"
    with inbound.raw.open("rb") as stored:
        assert stored.read() == raw
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email__startswith="eve").exists()


def test_nul_and_undecodable_bytes_in_subject_and_body_are_dropped(customer):
    inbound = receive_email(
        raw_mail(b"carol@acme.example", subject=b"Broken \x00export \xff", body=b"It \x00fails.")
    )
    assert inbound.outcome == Outcome.CREATED
    assert inbound.ticket.subject == "Broken export \ufffd"
    assert inbound.ticket.description == "It fails."


def test_a_disabled_sender_is_recorded_as_failed_with_the_reason(customer):
    User.objects.filter(pk=customer.pk).update(is_active=False)
    inbound = receive_email(build())
    assert inbound.outcome == Outcome.FAILED
    assert inbound.reason == "The sender's account (carol@acme.example) is disabled."
    assert not Ticket.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_deliveries_open_one_ticket(customer, settings, celery_eager):
    """The InboundEmail row is the claim: the second delivery waits on the
    first one's uncommitted row, then sees it as a duplicate."""
    settings.HELPDESK_INTAKE_STEPS = [
        "tickets.routing.route_step",
        "tests.tickets.email.test_receive.hold_step",
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


def hold_step(intakes):
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
