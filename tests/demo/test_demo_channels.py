"""The demo's messages carry the channel they were written through: staff
write in the agent workspace, never "via Customer portal"."""

import io
from datetime import UTC, datetime

import time_machine
from django.core.management import call_command

from tickets.models import Channel, Message, Role


def test_staff_messages_are_written_in_the_workspace(db):
    with time_machine.travel(datetime(2026, 3, 4, 15, 30, tzinfo=UTC), tick=False):
        call_command("seed_demo", tickets=120, seed=3, verbosity=0, stdout=io.StringIO())
    staff = Message.objects.exclude(author__role=Role.CUSTOMER)
    assert staff.filter(is_internal=False).exists() and staff.filter(is_internal=True).exists()
    assert set(staff.values_list("channel", flat=True)) == {Channel.AGENT}
    # Customers keep the channel they wrote in.
    customers = Message.objects.filter(author__role=Role.CUSTOMER)
    assert {Channel.PORTAL, Channel.EMAIL} <= set(customers.values_list("channel", flat=True))
