"""Inbound mail that fails for a reason that is not the mail's: the endpoint
answers 503 with Retry-After, so the mail service delivers it again, instead of
"202 failed", which it takes as delivered and never sends again. Only a
business rule's refusal is a 202 (test_inbound_endpoint.py)."""

from __future__ import annotations

from contextlib import contextmanager

import psycopg2
import pytest
from django.db import connection

from tests.redis_server import free_port
from tests.tickets.email.mails import TOKEN, build
from tickets.models import InboundEmail, Ticket

pytestmark = [pytest.mark.urls("tests.tickets.email.urls"), pytest.mark.django_db(transaction=True)]


def post_raw(client, raw: bytes):
    return client.post(
        "/inbound/email/",
        data=raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


@contextmanager
def ticket_table_locked():
    """Another session keeps tickets from being written (SHARE mode, as an
    index built without CONCURRENTLY does), and ours gives up waiting after
    200 ms: a real, temporary database error."""
    s = connection.settings_dict
    other = psycopg2.connect(
        dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"], port=s["PORT"]
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("LOCK TABLE tickets_ticket IN SHARE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        yield
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def test_a_busy_database_asks_the_sender_to_deliver_again(client, customer):
    raw = build()
    with ticket_table_locked():
        response = post_raw(client, raw)

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "again later" in response.json()["error"]
    # Staff see what happened meanwhile; nothing half-written is left.
    inbound = InboundEmail.objects.get()
    assert inbound.outcome == InboundEmail.Outcome.FAILED
    assert "lock timeout" in inbound.reason
    assert not Ticket.objects.exists()

    # The mail service's redelivery goes through as a new delivery.
    again = post_raw(client, raw)
    assert again.status_code == 201, again.json()
    assert again.json()["outcome"] == "created"
    assert Ticket.objects.count() == 1
    assert InboundEmail.objects.get().outcome == InboundEmail.Outcome.CREATED


def test_a_database_that_cannot_be_reached_is_a_503_not_a_500(client, customer):
    raw = build()
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # nothing listens there
    try:
        response = post_raw(client, raw)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert not InboundEmail.objects.exists()
    assert post_raw(client, raw).status_code == 201
    assert Ticket.objects.count() == 1
