"""The inbound-mail endpoint (tickets.email_views): its token, size limit and
answers, and journey 3 end to end through it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail

from tests.tickets.email.mails import TOKEN, build, message_id_of
from tickets import services
from tickets.models import InboundEmail, Mailbox, Ticket, User

email_urls = pytest.mark.urls("tests.tickets.email.urls")


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


# --- journey 3, end to end through the endpoint --------------------------------------------


@email_urls
def test_journey_billing_email_thread(
    client, customer, other_agent, billing_category, send_queued_mail
):
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
    send_queued_mail()
    sent_id = answer.email_message_id
    notification = mail.outbox[-1].message()
    assert notification["Message-ID"] == sent_id

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


@email_urls
def test_a_nul_in_the_from_address_is_a_final_refusal_not_a_server_error(client, customer):
    """The mail is kept and recorded as failed (202: sending it again would
    fail the same way), instead of a 500 with no record of it."""
    raw = (
        b"From: Eve <eve\x00@acme.example>\r\nTo: support@helpdesk.test\r\nSubject: Hi\r\n"
        b"Message-ID: <nul-from@mail.example>\r\n\r\nHello\r\n"
    )
    response = post_raw(client, raw)
    assert response.status_code == 202, response.content
    assert response.json()["outcome"] == "failed"
    assert "cannot be stored" in response.json()["error"]
    record = InboundEmail.objects.get(message_id="<nul-from@mail.example>")
    assert record.sender == "eve@acme.example"
    with record.raw.open("rb") as stored:
        assert stored.read() == raw
