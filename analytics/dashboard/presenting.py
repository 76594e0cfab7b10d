"""The dashboard's figures shaped for the page (rows with drill-down links and
the charts' data) and for the CSV export (one section per figure). Labels and
units are written once here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from analytics.dashboard import links
from analytics.dashboard.figures import DashboardFigures
from analytics.metrics import AGE_BUCKETS
from escalation.models import Escalation
from tickets.models import AgentTier, SupportTier

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TARGET_NAMES = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
    "all": "All targets",
}
# Heatmap shades: 0 for an empty cell, then 1..8 by share of the busiest cell.
HEAT_STEPS = 8


def _tier_label(tier: int | None) -> str:
    if tier is None:
        return "No tier change"
    return str(AgentTier(tier).label)


def _kind_label(kind: str) -> str:
    try:
        return str(Escalation.Kind(kind).label)
    except ValueError:
        return kind


def _customer_tier_label(tier: str) -> str:
    try:
        return str(SupportTier(tier).label)
    except ValueError:
        return tier


def page_rows(figures: DashboardFigures) -> dict[str, Any]:
    """Everything the template lists, each count with its drill-down link."""
    selection = figures.selection
    trend = [
        {
            "start": row.period_start,
            "created": row.created,
            "solved": row.solved,
            "url": links.ticket_list_url(
                selection, created=links.period_days(row.period_start, selection.period, selection)
            ),
        }
        for row in figures.trend
    ]
    categories = [
        {
            "name": row.name,
            "tickets": row.tickets,
            "share": row.share * 100,
            "url": links.ticket_list_url(
                selection,
                overrides={"category": str(row.category_id)} if row.category_id else None,
            ),
        }
        for row in figures.categories
    ]
    busiest = max((n for row in figures.heatmap for n in row), default=0)
    heatmap = [
        {
            "day": WEEKDAYS[index],
            "cells": [
                {
                    "hour": hour,
                    "tickets": n,
                    "step": 0 if not n else max(1, round(HEAT_STEPS * n / busiest)),
                }
                for hour, n in enumerate(row)
            ],
        }
        for index, row in enumerate(figures.heatmap)
    ]
    backlog = [
        {
            "bucket": name,
            "tickets": figures.backlog.by_age[name],
            "url": links.backlog_url(selection, figures.backlog.as_of, lower, upper),
        }
        for name, lower, upper in AGE_BUCKETS
    ]
    sla_tiers = [
        {
            "tier": _customer_tier_label(tier),
            "targets": [
                {"name": TARGET_NAMES[target], "compliance": compliance}
                for target, compliance in by_target.items()
            ],
            "all": by_target["all"],
            "url": links.ticket_list_url(selection),
        }
        for tier, by_target in figures.sla.by_customer_tier.items()
    ]
    escalation_kinds = [
        {"kind": _kind_label(kind), "count": n}
        for kind, n in sorted(figures.escalations.by_kind.items(), key=lambda kv: -kv[1])
    ]
    escalation_tiers = [
        {
            "tier": _tier_label(tier),
            "count": n,
            "url": links.ticket_list_url(selection, overrides={"tier": str(tier)})
            if tier
            else None,
        }
        for tier, n in sorted(
            figures.escalations.by_tier.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)
        )
    ]
    agents = [
        {
            "row": row,
            "url": links.ticket_list_url(selection, overrides={"assignee": str(row.agent_id)}),
        }
        for row in figures.agents
    ]
    return {
        "trend": trend,
        "trend_totals": {
            "created": sum(row.created for row in figures.trend),
            "solved": sum(row.solved for row in figures.trend),
        },
        "categories": categories,
        "heatmap": heatmap,
        "hours": range(24),
        "backlog": backlog,
        "sla_tiers": sla_tiers,
        "escalation_kinds": escalation_kinds,
        "escalation_tiers": escalation_tiers,
        "agents": agents,
        "created_url": links.ticket_list_url(selection),
    }


def chart_data(figures: DashboardFigures) -> dict[str, Any]:
    """The charts' data for static/analytics/dashboard.js (json_script)."""
    tiers = figures.sla.by_customer_tier
    return {
        "trend": {
            "labels": [row.period_start.isoformat() for row in figures.trend],
            "created": [row.created for row in figures.trend],
            "solved": [row.solved for row in figures.trend],
            "period": figures.selection.period,
        },
        "categories": {
            "labels": [row.name for row in figures.categories],
            "tickets": [row.tickets for row in figures.categories],
        },
        "backlog": {
            "labels": [name for name, _, _ in AGE_BUCKETS],
            "tickets": [figures.backlog.by_age[name] for name, _, _ in AGE_BUCKETS],
        },
        "sla": {
            "labels": [_customer_tier_label(tier) for tier in tiers],
            "targets": [
                {
                    "name": TARGET_NAMES[target],
                    "percent": [
                        None if (rate := by[target].rate) is None else round(rate * 100, 1)
                        for by in tiers.values()
                    ],
                }
                for target in ("first_response", "next_response", "resolution")
            ],
        },
        "agents": _scatter(figures),
    }


def _scatter(figures: DashboardFigures) -> dict[str, Any]:
    """Agents' median resolution time (business hours when any agent's
    tickets have an SLA calendar, else calendar hours) against tickets solved."""
    business = any(row.median_business_hours is not None for row in figures.agents)
    points = []
    for row in figures.agents:
        hours = row.median_business_hours if business else row.median_calendar_hours
        if hours is not None:
            points.append({"label": row.name, "x": row.tickets_solved, "y": round(hours, 2)})
    basis = "business" if business else "calendar"
    return {"points": points, "y_title": f"median resolution ({basis} hours)"}


def _number(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def csv_rows(figures: DashboardFigures) -> Iterator[list[object]]:
    """One CSV with a section per figure: a `section` column first, then the
    section's own columns (its header row repeats the section name)."""
    selection = figures.selection
    yield ["section", "field", "value"]
    yield ["range", "from", selection.start_date.isoformat()]
    yield ["range", "to_included", selection.end_date.isoformat()]
    yield [
        "headline",
        "metric",
        "unit",
        "value",
        "previous_period",
        "change",
        "target",
        "met",
        "hours_basis",
    ]
    for card in figures.cards:
        yield [
            "headline",
            card.key,
            card.unit,
            _number(card.value),
            _number(card.previous),
            _number(card.change),
            card.target_label,
            "" if card.met is None else ("yes" if card.met else "no"),
            card.basis,
        ]
    yield ["trend", "period_start", "created", "solved"]
    for row in figures.trend:
        yield ["trend", row.period_start.isoformat(), row.created, row.solved]
    yield ["categories", "category", "tickets", "share_percent"]
    for share in figures.categories:
        yield ["categories", share.name, share.tickets, _number(share.share * 100, 1)]
    yield ["heatmap", "weekday", *[f"h{hour:02d}" for hour in range(24)]]
    for index, counts in enumerate(figures.heatmap):
        yield ["heatmap", WEEKDAYS[index], *counts]
    yield ["backlog", "age", "tickets"]
    for name, _, _ in AGE_BUCKETS:
        yield ["backlog", name, figures.backlog.by_age[name]]
    yield ["sla", "customer_tier", "target", "met", "breached", "compliance_percent"]
    for tier, by_target in figures.sla.by_customer_tier.items():
        for target, compliance in by_target.items():
            rate = compliance.rate
            yield [
                "sla",
                tier,
                target,
                compliance.met,
                compliance.breached,
                _number(None if rate is None else rate * 100, 1),
            ]
    yield ["escalations", "by", "value", "count"]
    escalated = figures.escalations.rate
    yield [
        "escalations",
        "rate",
        "escalated_of_created",
        f"{escalated.numerator}/{escalated.denominator}",
    ]
    for kind, n in sorted(figures.escalations.by_kind.items()):
        yield ["escalations", "kind", kind, n]
    for to_tier, n in sorted(figures.escalations.by_tier.items(), key=lambda kv: kv[0] or 0):
        yield ["escalations", "to_tier", "" if to_tier is None else to_tier, n]
    yield [
        "agents",
        "agent",
        "tickets_solved",
        "median_resolution_business_hours",
        "median_resolution_calendar_hours",
        "sla_compliance_percent",
        "sla_breached",
        "reopen_rate_percent",
    ]
    for agent in figures.agents:
        yield [
            "agents",
            agent.name,
            agent.tickets_solved,
            _number(agent.median_business_hours),
            _number(agent.median_calendar_hours),
            _number(None if agent.sla_compliance is None else agent.sla_compliance * 100, 1),
            agent.sla_breached,
            _number(None if agent.reopen_rate is None else agent.reopen_rate * 100, 1),
        ]
