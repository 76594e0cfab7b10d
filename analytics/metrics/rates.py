"""Shares of tickets, aggregated in SQL (one query each unless said):
first-contact resolution, reopen rate, Tier 1 resolution, escalations, and
the knowledge base's self-service and deflection rates."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from analytics.metrics.filters import MetricFilter, filter_tickets, range_q, tier_q
from analytics.metrics.stats import Rate
from analytics.metrics.timeline import STAFF_AUTHOR, STATUS_ACTIONS, conversation_messages
from escalation.models import Escalation, Threshold
from tickets.models import AgentTier, Deflection, ShownArticle, Status, TicketEvent


def reopened() -> Exists:
    """SQL: the ticket (the outer row) was reopened at least once."""
    return Exists(TicketEvent.objects.filter(ticket_id=OuterRef("pk"), action="ticket.reopened"))


def public_staff_replies() -> Coalesce:
    """SQL: the number of public staff replies of the ticket (the outer row)."""
    replies = (
        conversation_messages()
        .filter(STAFF_AUTHOR, ticket_id=OuterRef("pk"))
        .order_by()
        .values("ticket_id")
        .annotate(replies=Count("id"))
        .values("replies")
    )
    return Coalesce(Subquery(replies, output_field=IntegerField()), Value(0))


def _rate(aggregate: dict[str, int | None]) -> Rate:
    return Rate(numerator=aggregate["numerator"] or 0, denominator=aggregate["denominator"] or 0)


def first_contact_resolution_rate(metric_filter: MetricFilter) -> Rate:
    """First-contact resolution (FCR): of the tickets solved in [start, end)
    (final solve, `Ticket.solved_at`), the share solved with exactly one
    public staff reply and never reopened. Internal notes do not count; a
    ticket solved without any public staff reply is not first-contact
    resolved. Unit: fraction 0..1."""
    tickets = filter_tickets(metric_filter, date_field="solved_at").annotate(
        staff_replies=public_staff_replies(), reopened=reopened()
    )
    return _rate(
        tickets.aggregate(
            denominator=Count("id"),
            numerator=Count("id", filter=Q(staff_replies=1, reopened=False)),
        )
    )


def reopen_rate(metric_filter: MetricFilter) -> Rate:
    """Reopen rate: of the tickets created in [start, end) that were ever
    solved (a status change to solved, or a solve time: a merge closes and
    solves), the share reopened at least once (a `ticket.reopened` event:
    solved -> open, by a person or by the customer's reply). Unit: fraction
    0..1."""
    tickets = filter_tickets(metric_filter).annotate(ever_solved=solved_once(), reopened=reopened())
    solved = Q(ever_solved=True) | Q(solved_at__isnull=False)
    return _rate(
        tickets.aggregate(
            denominator=Count("id", filter=solved),
            numerator=Count("id", filter=solved & Q(reopened=True)),
        )
    )


def solved_once() -> Exists:
    """SQL: the ticket (the outer row) had a status change to solved."""
    return Exists(
        TicketEvent.objects.filter(
            ticket_id=OuterRef("pk"),
            action__in=STATUS_ACTIONS,
            field="status",
            new_value=Status.SOLVED.value,
        )
    )


def left_tier1() -> Exists:
    """SQL: the ticket (the outer row) was moved to a tier other than 1."""
    return Exists(
        TicketEvent.objects.filter(ticket_id=OuterRef("pk"), action="ticket.tier_changed").exclude(
            new_value=str(AgentTier.TIER_1.value)
        )
    )


def tier1_resolution_rate(metric_filter: MetricFilter) -> Rate:
    """Tier 1 resolution rate: of the tickets solved in [start, end), the
    share that never left Tier 1 — still at Tier 1 and never moved to a
    higher tier (no `ticket.tier_changed` event to Tier 2 or 3, whether by
    intake routing, a manual escalation or the SLA rules). Unit: fraction
    0..1."""
    tickets = filter_tickets(metric_filter, date_field="solved_at").annotate(left=left_tier1())
    return _rate(
        tickets.aggregate(
            denominator=Count("id"),
            numerator=Count("id", filter=Q(tier=AgentTier.TIER_1, left=False)),
        )
    )


def counted_escalations() -> Q:
    # An SLA warning is a heads-up to the assignee, not an escalation.
    return ~Q(kind=Escalation.Kind.SLA, threshold=Threshold.WARNING)


def escalated() -> Exists:
    """SQL: the ticket (the outer row) has an escalation record (not a warning)."""
    return Exists(Escalation.objects.filter(counted_escalations(), ticket_id=OuterRef("pk")))


@dataclass(frozen=True)
class Escalations:
    """`rate`: escalated tickets among the tickets; `by_kind` and `by_tier`
    count escalation records (by_tier keys are the tier moved to, None for
    an escalation that moved no tier)."""

    rate: Rate
    by_kind: dict[str, int]
    by_tier: dict[int | None, int]


def escalations(metric_filter: MetricFilter) -> Escalations:
    """Escalation rate: of the tickets created in [start, end), the share
    with at least one escalation record (escalation.models.Escalation: SLA
    breaches, manual tier requests, customer (VIP, complaint, sentiment) and
    major-incident escalations; SLA *warnings* are not escalations). By kind
    and by tier: the number of those records for these tickets, by
    `Escalation.kind` and by `Escalation.to_tier` (the tier the ticket was
    moved to). Unit: fraction 0..1 and counts. Queries: 2."""
    tickets = filter_tickets(metric_filter)
    rate = _rate(
        tickets.annotate(escalated=escalated()).aggregate(
            denominator=Count("id"), numerator=Count("id", filter=Q(escalated=True))
        )
    )
    rows = (
        Escalation.objects.filter(counted_escalations(), ticket_id__in=tickets.values("id"))
        .order_by()
        .values_list("kind", "to_tier")
        .annotate(n=Count("id"))
    )
    by_kind: dict[str, int] = {}
    by_tier: dict[int | None, int] = {}
    for kind, to_tier, n in rows:
        by_kind[kind] = by_kind.get(kind, 0) + n
        by_tier[to_tier] = by_tier.get(to_tier, 0) + n
    return Escalations(rate=rate, by_kind=by_kind, by_tier=by_tier)


@dataclass(frozen=True)
class SelfService:
    """Deflections and the tickets they are compared with; the rates are
    None when a ticket-only dimension is filtered (see self_service)."""

    deflections: int
    tickets: int
    tickets_shown_articles: int
    self_service_rate: float | None
    deflection_rate: float | None


def shown_articles() -> Exists:
    """SQL: the portal showed articles while the ticket (the outer row) was written."""
    return Exists(ShownArticle.objects.filter(ticket_id=OuterRef("pk")))


def self_service(metric_filter: MetricFilter) -> SelfService:
    """Knowledge-base self-service, from `tickets.models.Deflection` (a
    customer said a suggested article answered the question, so no ticket
    was opened) and `ShownArticle` (the portal suggested articles while the
    customer wrote a request that became a ticket anyway).

    - deflections: Deflection rows created in [start, end);
    - self-service rate = deflections / (deflections + tickets created in
      [start, end)): the share of all requests answered by the knowledge
      base;
    - deflection rate = deflections / (deflections + tickets created in
      [start, end) with at least one ShownArticle): of the requests that saw
      suggestions, the share the suggestions answered.

    The customer-tier filter applies to deflections through the customer's
    organisation (none: basic). Team, category, channel, priority and agent
    describe tickets, which a deflection never became: with any of them set
    the counts are given and both rates are None. Unit: fraction 0..1.
    Queries: 2."""
    deflections = Deflection.objects.filter(range_q(metric_filter, "created_at"))
    if metric_filter.customer_tiers:
        deflections = deflections.filter(tier_q(metric_filter.customer_tiers, "user__"))
    deflected = deflections.count()
    counts = (
        filter_tickets(metric_filter)
        .annotate(was_shown=shown_articles())
        .aggregate(tickets=Count("id"), shown=Count("id", filter=Q(was_shown=True)))
    )
    opened, shown_count = counts["tickets"] or 0, counts["shown"] or 0
    ticket_only = metric_filter.has_ticket_only_dimensions
    return SelfService(
        deflections=deflected,
        tickets=opened,
        tickets_shown_articles=shown_count,
        self_service_rate=None if ticket_only else Rate(deflected, deflected + opened).value,
        deflection_rate=None if ticket_only else Rate(deflected, deflected + shown_count).value,
    )
