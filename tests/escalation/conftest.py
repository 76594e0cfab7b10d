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
