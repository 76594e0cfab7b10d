"""Detecting a major incident: many reports of one category are one when
they are a spike against that category's normal rate, not a fixed count.

The reports of the last HELPDESK_INCIDENT_WINDOW_MINUTES (all of the
category's tickets created in the window) are compared with what the category
normally brings in that much time: its tickets of the
HELPDESK_INCIDENT_BASELINE_HOURS before the window, scaled to the window. A
spike needs all three of:

- at least HELPDESK_INCIDENT_THRESHOLD reports (a quiet category: 5 in 20
  minutes is already unusual);
- HELPDESK_INCIDENT_SPIKE_FACTOR times the expected count (2x: steady heavy
  traffic, however high, is its own normal);
- the expected count plus 4 standard deviations of a Poisson count of that
  mean (chance bunching of a middling rate is not an incident).

A category that goes from quiet to heavy from one minute to the next does
spike: that is what an outage looks like. The baseline of a category is
cached for a minute (it changes slowly), so checking it costs one indexed
count per category and minute, not one per new ticket.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from escalation.models import Incident
from tickets.models import OPEN_STATUSES, Ticket

# Standard deviations above the expected count that chance bunching stays under.
SIGMAS = 4.0


def window() -> timedelta:
    return timedelta(minutes=settings.HELPDESK_INCIDENT_WINDOW_MINUTES)


def open_incident_for(category_id: int) -> Incident | None:
    return (
        Incident.objects.select_related("parent")
        .filter(category_id=category_id, parent__status__in=OPEN_STATUSES)
        .first()
    )


def reports_in_window(category_id: int, *, excluding: Sequence[int], now: datetime) -> int:
    """The category's tickets created in the window (the intake batch's own
    aside: they are counted from memory). Index ticket_category_created."""
    return (
        Ticket.objects.filter(category_id=category_id, created_at__gte=now - window())
        .exclude(pk__in=list(excluding))
        .count()
    )


def unlinked_reports(
    category_id: int, *, excluding: Sequence[int], now: datetime
) -> QuerySet[Ticket]:
    """The window's open reports not yet linked to an incident: what a new
    incident links."""
    return Ticket.objects.filter(
        category_id=category_id,
        created_at__gte=now - window(),
        parent__isnull=True,
        status__in=OPEN_STATUSES,
        incident__isnull=True,
    ).exclude(pk__in=list(excluding))


def expected_in_window(category_id: int, *, now: datetime) -> float:
    """How many of the category's tickets a window normally brings: the
    baseline hours before the window, scaled (cached for a minute)."""
    key = f"incident-baseline:{category_id}:{int(now.timestamp() // 60)}"
    cached = cache.get(key)
    if cached is not None:
        return float(cached)
    hours = settings.HELPDESK_INCIDENT_BASELINE_HOURS
    end = now - window()
    count = Ticket.objects.filter(
        category_id=category_id, created_at__gte=end - timedelta(hours=hours), created_at__lt=end
    ).count()
    expected = count * window().total_seconds() / (hours * 3600)
    cache.set(key, expected, 120)
    return expected


def spike_threshold(expected: float) -> int:
    """Reports in the window that make a spike, for `expected` normal ones."""
    return max(
        settings.HELPDESK_INCIDENT_THRESHOLD,
        math.ceil(expected * settings.HELPDESK_INCIDENT_SPIKE_FACTOR),
        math.ceil(expected + SIGMAS * math.sqrt(expected)),
    )


def is_spike(category_id: int, reports: int, *, now: datetime | None = None) -> bool:
    """Are `reports` in the window a spike for the category? The fixed
    minimum is checked first, so a quiet category costs no baseline query."""
    if reports < settings.HELPDESK_INCIDENT_THRESHOLD:
        return False
    now = now or timezone.now()
    return reports >= spike_threshold(expected_in_window(category_id, now=now))
