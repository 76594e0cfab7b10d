"""The dashboard's figures shaped for the page (rows with drill-down links and
the charts' data) and for the CSV export (one section per figure). Labels and
units are written once here."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from django.urls import reverse

from analytics.dashboard import links
from analytics.dashboard.figures import CSAT_TARGET_PERCENT, DashboardFigures
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
# The agent scatter's point radii in pixels: the busiest agent's point is the
# largest; areas grow with tickets solved (radius with its square root).
POINT_RADIUS_MIN = 5
POINT_RADIUS_MAX = 20


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
            "solved_url": links.solved_list_url(
                selection, solved=links.period_days(row.period_start, selection.period, selection)
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
                {
                    "name": TARGET_NAMES[target],
                    "compliance": compliance,
                    "breached_url": links.breached_list_url(
                        selection, target=target, customer_tier=tier
                    ),
                }
                for target, compliance in by_target.items()
            ],
            "all": by_target["all"],
            "url": links.breached_list_url(selection, target="all", customer_tier=tier),
        }
        for tier, by_target in figures.sla.by_customer_tier.items()
    ]
    escalation_kinds = [
        {
            "kind": _kind_label(kind),
            "count": n,
            "url": links.escalated_list_url(selection, kind=kind),
        }
        for kind, n in sorted(figures.escalations.by_kind.items(), key=lambda kv: -kv[1])
    ]
    escalation_tiers = [
        {
            "tier": _tier_label(tier),
            "count": n,
            "url": links.escalated_list_url(selection, to_tier=tier) if tier else None,
        }
        for tier, n in sorted(
            figures.escalations.by_tier.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)
        )
    ]
    agents = [
        {
            "row": row,
            "url": links.solved_list_url(selection, overrides={"assignee": str(row.agent_id)}),
        }
        for row in figures.agents
    ]
    csat_months = [
        {
            "start": row.period_start,
            "answers": row.csat.answers,
            "satisfied": row.csat.satisfied,
            "percent": row.csat.percent,
            "average": row.csat.average,
        }
        for row in figures.csat_by_month
    ]
    return {
        "csat_months": csat_months,
        "follow_up": None
        if figures.follow_up is None
        else {"count": figures.follow_up, "url": reverse("surveys:follow_up")},
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
        "solved_url": links.solved_list_url(selection),
        "escalated_url": links.escalated_list_url(selection),
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
        "csat_month": {
            "labels": [row.period_start.strftime("%b %Y") for row in figures.csat_by_month],
            "percent": [
                None if row.csat.percent is None else round(row.csat.percent, 1)
                for row in figures.csat_by_month
            ],
            "answers": [row.csat.answers for row in figures.csat_by_month],
            "target": CSAT_TARGET_PERCENT,
        },
    }


def _scatter(figures: DashboardFigures) -> dict[str, Any]:
    """Each agent a point: median resolution time (x; business hours when any
    agent's tickets have an SLA calendar, else calendar hours) against CSAT
    (y, percent rated 4-5), the point's area growing with tickets solved, and
    labelled with the name. Agents lacking either figure are named in
    `unplotted` (the table has them)."""
    business = any(row.median_business_hours is not None for row in figures.agents)
    busiest = max((row.tickets_solved for row in figures.agents), default=0)
    points, unplotted = [], []
    for row in figures.agents:
        hours = row.median_business_hours if business else row.median_calendar_hours
        if hours is None or row.csat is None:
            unplotted.append(row.name)
            continue
        share = math.sqrt(row.tickets_solved / busiest) if busiest else 0
        points.append(
            {
                "label": row.name,
                "x": round(hours, 2),
                "y": round(row.csat * 100, 1),
                "r": round(POINT_RADIUS_MIN + (POINT_RADIUS_MAX - POINT_RADIUS_MIN) * share, 1),
                "solved": row.tickets_solved,
                "answers": row.csat_answers,
            }
        )
    basis = "business" if business else "calendar"
    return {
        "points": points,
        "unplotted": unplotted,
        "x_title": f"median resolution time ({basis} hours)",
        "y_title": "CSAT (% of answers rated 4–5)",
        "target": CSAT_TARGET_PERCENT,
    }


def _number(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def csv_rows(figures: DashboardFigures) -> Iterator[list[object]]:
    """One CSV with a section per figure: a `section` column first, then the
    section's own columns (its header row repeats the section name)."""
    selection = figures.selection
    yield ["section", "field", "value"]
    yield ["range", "from", selection.start_date.isoformat()]
    yield ["range", "to_included", selection.end_date.isoformat()]
    as_of = figures.facts_as_of
    yield ["range", "ticket_figures_as_of", as_of.isoformat() if as_of else ""]
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
            card.target_label or "",
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
        "csat_answers",
        "csat_percent",
        "csat_average_rating",
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
            agent.csat_answers,
            _number(None if agent.csat is None else agent.csat * 100, 1),
            _number(agent.csat_average),
        ]
    yield from _satisfaction_csv(figures)


def _satisfaction_csv(figures: DashboardFigures) -> Iterator[list[object]]:
    csat, ces, nps = figures.satisfaction.csat, figures.satisfaction.ces, figures.satisfaction.nps
    yield ["satisfaction", "measure", "answers", "value", "unit"]
    yield ["satisfaction", "csat_rated_4_5", csat.answers, _number(csat.percent, 1), "percent"]
    yield ["satisfaction", "csat_average_rating", csat.answers, _number(csat.average), "1-5"]
    yield ["satisfaction", "ces_average", ces.answers, _number(ces.average), "1-7"]
    yield ["satisfaction", "nps", nps.answers, _number(nps.score, 1), "-100..100"]
    yield ["satisfaction", "nps_promoters", nps.answers, nps.promoters, "answers"]
    yield ["satisfaction", "nps_passives", nps.answers, nps.passives, "answers"]
    yield ["satisfaction", "nps_detractors", nps.answers, nps.detractors, "answers"]
    if figures.follow_up is not None:
        yield ["satisfaction", "bad_ratings_awaiting_follow_up", figures.follow_up, "", "answers"]
    yield ["csat_by_month", "month", "answers", "rated_4_5", "csat_percent", "average_rating"]
    for row in figures.csat_by_month:
        yield [
            "csat_by_month",
            row.period_start.isoformat(),
            row.csat.answers,
            row.csat.satisfied,
            _number(row.csat.percent, 1),
            _number(row.csat.average),
        ]
