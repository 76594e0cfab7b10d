"""Intake as a whole (tickets.intake.intake_ticket): a new ticket runs through
the intake steps (classification, then routing), which keep what the submitter
chose explicitly (category, priority, team) and fill in only the rest.

How the classifier and the router decide is tested in test_classification.py
and test_routing.py; these tests reuse their training data and helpers."""

import pytest

from tests.factories import CategoryFactory, SkillFactory, TeamFactory
from tests.tickets.test_classification import submit, synthetic_rows, write_csv
from tests.tickets.test_routing import new_ticket
from tickets.classification import store
from tickets.classification.training import classifier_train, load_csv
from tickets.models import Priority, TicketEvent


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


@pytest.fixture
def login_skill(db):
    return SkillFactory(name="Login", slug="login")


@pytest.fixture
def frontline(db):
    return TeamFactory(name="Frontline", slug="frontline")


@pytest.fixture
def login(login_skill, frontline):
    return CategoryFactory(
        name="Login", slug="login", skill=login_skill, default_team=frontline, required_tier=1
    )


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
