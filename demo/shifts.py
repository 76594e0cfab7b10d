"""The demo's shift roster (tickets.models.AgentShift): every agent works
office hours on weekdays, some start early or stay late so the helpdesk is
staffed from 07:00 to 21:00, and a few cover the weekend (the evening and
weekend shifts the ticket history credits with part of the improvement), so
the staffing page has agents on shift to compare with its forecast."""

from __future__ import annotations

from datetime import time

from django.conf import settings

from demo import catalog
from tickets.models import AgentShift, User

WEEKDAYS = range(5)
WEEKEND = (5, 6)
# (start, end) of the roster's shifts, by kind.
OFFICE = (time(9), time(17))
EARLY = (time(7), time(15))
LATE = (time(13), time(21))
WEEKEND_DAY = (time(10), time(18))


def _week_for(position: int, spec: catalog.AgentSpec) -> list[tuple[int, time, time]]:
    """(weekday, start, end) of one agent's week, staggered by their place in
    the roster: leads work office hours, every third agent starts early,
    every fourth stays late, and every fifth also works the weekend."""
    if spec.is_lead:
        hours = OFFICE
    elif position % 3 == 0:
        hours = EARLY
    elif position % 4 == 1:
        hours = LATE
    else:
        hours = OFFICE
    week = [(day, *hours) for day in WEEKDAYS]
    if not spec.is_lead and position % 5 == 2:
        # A weekend shift instead of Monday and Tuesday.
        week = [(day, *WEEKEND_DAY) for day in WEEKEND] + week[2:]
    return week


def create_shifts() -> int:
    """Give every demo agent without shifts their week; returns how many
    shifts were created (none on a database that has its roster)."""
    agents = dict(
        User.objects.filter(email__in=[spec.email for spec in catalog.AGENTS]).values_list(
            "email", "pk"
        )
    )
    rostered = set(
        AgentShift.objects.filter(agent_id__in=agents.values()).values_list("agent_id", flat=True)
    )
    shifts = [
        AgentShift(
            agent_id=agents[spec.email],
            weekday=day,
            starts=starts,
            ends=ends,
            time_zone=settings.TIME_ZONE,
        )
        for position, spec in enumerate(catalog.AGENTS)
        if spec.email in agents and agents[spec.email] not in rostered
        for day, starts, ends in _week_for(position, spec)
    ]
    AgentShift.objects.bulk_create(shifts)
    return len(shifts)
