"""Intake as a whole (tickets.intake.intake_ticket): a new ticket runs through
the intake steps (classification, then routing), which keep what the submitter
chose explicitly (category, priority, team) and fill in only the rest.

How the classifier and the router decide is tested in test_classification.py
and test_routing.py; these tests reuse their training data and helpers."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import TicketSLA
from tests.factories import TeamFactory
from tests.tickets.test_classification import submit, synthetic_rows, write_csv
from tests.tickets.test_routing import new_ticket
from tickets.classification import store
from tickets.classification.training import classifier_train, load_csv
from tickets.intake import intake_ticket
from tickets.models import Channel, OutboundEmail, Priority, Ticket, TicketEvent


@pytest.fixture
def classify_then_route(settings, tmp_path):
    """Artifacts in this test's folder; nothing loaded from an earlier test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.HELPDESK_INTAKE_STEPS = [
        "tickets.classification.steps.classify_step",
        "tickets.routing.route_step",
    ]
    store.forget_loaded()
    yield
    store.forget_loaded()


@pytest.fixture
def routing_only(settings):
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]


@pytest.fixture
def train_csv(tmp_path):
    return write_csv(tmp_path / "train.csv", synthetic_rows(), priority=True)


@pytest.fixture
def trained(db, train_csv, login_category, billing_category):
    """An active model over Login and Billing, with a priority head."""
    return classifier_train(data=load_csv(train_csv), source="test CSV").row


@pytest.mark.usefixtures("classify_then_route")
def test_explicit_category_and_priority_are_respected(
    trained, customer, billing_category, login_category
):
    ticket = submit(
        customer,
        "Login problem",
        "My password does not work",
        category=billing_category,
        priority=Priority.HIGH,
    )
    assert ticket.category == billing_category and ticket.priority == Priority.HIGH
    assert not ticket.needs_triage
    assert ticket.sentiment is not None and ticket.category_confidence is None
    assert not TicketEvent.objects.filter(
        ticket=ticket, action__in=["ticket.category_changed", "ticket.priority_changed"]
    ).exists()


@pytest.mark.usefixtures("routing_only")
def test_explicit_team_wins(customer, login, login_skill):
    other = TeamFactory(name="Escalations", slug="escalations")
    ticket = new_ticket(customer, login, team=other)
    assert ticket.team == other


# --- the whole flow, counted ----------------------------------------------------------


@pytest.fixture
def sla_policies(db):
    """The default SLA data (a transactional test's flush may have removed it)."""
    import importlib

    from django.apps import apps

    importlib.import_module("escalation.migrations.0002_default_policies").create_defaults(
        apps, None
    )


def _ticket_row_statements(queries, pk):
    """The statements that read or write the ticket row `pk`."""
    row = re.compile(rf'"tickets_ticket"\."id" = {pk}\b|\bt\.id = ANY\(ARRAY\[{pk}\]\)')
    reads = [q for q in queries if q.startswith("SELECT") and row.search(q)]
    updates = [
        q
        for q in queries
        if q.startswith('UPDATE "tickets_ticket"')
        or (q.startswith("UPDATE tickets_ticket") and row.search(q))
    ]
    inserts = [q for q in queries if q.startswith('INSERT INTO "tickets_ticket"')]
    return reads, updates, inserts


@pytest.fixture
def own_media(settings, tmp_path):
    """Classifier artifacts in this test's folder (before `trained` writes one)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    store.forget_loaded()
    yield
    store.forget_loaded()


def test_the_whole_intake_is_a_few_statements_and_touches_the_ticket_row_three_times(
    own_media, trained, customer, agent, manager, login_category, sla_policies
):
    """Every default step does its work — the classifier decides, routing
    assigns Alice, the SLA clock starts, the incident check runs, the
    acknowledgement is queued — in fewer statements than the 34 of the design
    this replaced, and the ticket row is inserted once, never read back, and
    updated twice: its search vector, then every intake decision at once."""
    store.active_model()  # loaded once per process, as in a running server
    agent.skills.add(login_category.skill)
    with CaptureQueriesContext(connection) as captured:
        ticket = intake_ticket(
            requester=customer,
            subject="Cannot log in",
            description="My password does not work since this morning.",
            channel=Channel.PORTAL,
        )
    queries = [q["sql"] for q in captured.captured_queries]
    assert ticket.category == login_category, list(ticket.events.values_list("action", "note"))
    assert ticket.assignee == agent, list(ticket.events.values_list("action", "note"))
    assert TicketSLA.objects.filter(ticket=ticket).exists() and ticket.sla_due_at is not None
    assert OutboundEmail.objects.filter(ticket=ticket, kind="ticket.acknowledgement").exists()
    # 26 when measured, 6 of them savepoint bookkeeping and 3 the business
    # calendar's first load in this process.
    assert len(queries) < 34, "\n".join(queries)
    reads, updates, inserts = _ticket_row_statements(queries, ticket.pk)
    assert (len(reads), len(updates), len(inserts)) == (0, 2, 1), "\n".join(reads + updates)
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.category_id, stored.assignee_id, stored.sla_due_at) == (
        login_category.pk,
        agent.pk,
        ticket.sla_due_at,
    )
