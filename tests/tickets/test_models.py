import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import make_ticket
from tickets.models import (
    STATUS_TRANSITIONS,
    Status,
    Ticket,
    TicketEvent,
    format_ticket_key,
    parse_ticket_key,
)


def test_ticket_key_round_trip(settings):
    settings.HELPDESK_TICKET_KEY_PREFIX = "HD"
    assert format_ticket_key(1042) == "HD-1042"
    assert parse_ticket_key("HD-1042") == 1042
    assert parse_ticket_key("hd-1042") == 1042
    assert parse_ticket_key("1042") == 1042
    assert parse_ticket_key("HD-") is None
    assert parse_ticket_key("HD-12x") is None
    assert parse_ticket_key("../etc") is None
    assert parse_ticket_key("9" * 30) is None


def test_lifecycle_has_no_way_out_of_closed_and_reopen_goes_through_solved():
    assert STATUS_TRANSITIONS[Status.CLOSED] == frozenset()
    assert Status.OPEN in STATUS_TRANSITIONS[Status.SOLVED]
    assert Status.CLOSED not in STATUS_TRANSITIONS[Status.OPEN]
    # every status is reachable from new
    reachable, frontier = {Status.NEW}, [Status.NEW]
    while frontier:
        for nxt in STATUS_TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(Status.values)


def test_database_refuses_solved_ticket_without_solved_at(customer):
    ticket = make_ticket(requester=customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.SOLVED)


def test_database_refuses_closed_ticket_without_closed_at(customer):
    ticket = make_ticket(requester=customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(
            status=Status.CLOSED, solved_at=ticket.created_at
        )


def test_ticket_cannot_be_its_own_parent(customer):
    ticket = make_ticket(requester=customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(parent_id=ticket.pk)


def test_history_is_append_only(customer):
    ticket = make_ticket(requester=customer)
    event = TicketEvent.objects.get(ticket=ticket, action="ticket.created")
    event.note = "rewritten"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    assert TicketEvent.objects.get(pk=event.pk).note == ""


def test_customers_cannot_have_agent_tier(customer):
    customer.tier = 2
    with pytest.raises(IntegrityError), transaction.atomic():
        customer.save()


def test_only_agents_have_capacity(customer):
    customer.capacity = 5
    with pytest.raises(IntegrityError), transaction.atomic():
        customer.save()
