import pytest

from tickets.intake import intake_ticket
from tickets.models import Channel


@pytest.fixture
def open_ticket(db):
    """Open a ticket the way every channel does (intake starts its SLA clock)."""

    def open_(requester, subject="Printer on fire", description="Please help.", **kwargs):
        kwargs.setdefault("channel", Channel.PORTAL)
        return intake_ticket(
            requester=requester, subject=subject, description=description, **kwargs
        )

    return open_


@pytest.fixture(autouse=True)
def sla_defaults(db):
    """The default calendars, policies and rules the migration creates. A
    transactional test empties every table when it ends, migration data
    included, so tests that come after one would find no policies."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("escalation.migrations.0002_default_policies")
    migration.create_defaults(apps, None)
