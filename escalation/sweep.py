"""The SLA sweep: find the clocks whose next warning or breach has come,
record each escalation once, and apply the matching rules.

Cost grows with what is due, not with the open tickets: due clocks are found
by a range scan over the partial index on TicketSLA.next_check_at, claimed in
batches with FOR UPDATE SKIP LOCKED (a second sweep running at the same time
takes other rows or none), and each escalation is inserted under the unique
key (ticket, target, threshold, next-response round), so a retried task or a
restarted beat that reaches the same threshold again records nothing and does
nothing. The escalation row, the ticket changes and the queued notifications
commit together: a worker killed mid-batch leaves all of them undone, and the
next sweep does the batch again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from escalation import clock, services
from escalation.models import Escalation, EscalationRule, Threshold, TicketSLA
from tickets import services as ticket_services
from tickets.models import AgentTier, Ticket, User

BATCH = 200


@dataclass
class SweepResult:
    claimed: int = 0
    escalations: list[int] = field(default_factory=list)
    # Tickets handed to a higher tier and left without an agent: the caller
    # routes them after the batch committed (escalation.tasks).
    to_route: list[int] = field(default_factory=list)


@dataclass
class _Batch:
    """What one batch reads once and shares: the rules, the managers, the
    notifications (one outbox INSERT)."""

    rules: list[tuple[EscalationRule, set[int]]]
    managers: list[User]
    notifications: services.Notifications
    # Their actions are written with one UPDATE at the end of the batch.
    escalations: list[Escalation] = field(default_factory=list)
    # Tier hand-overs, done together at the end of the batch.
    handovers: list = field(default_factory=list)


def _batch() -> _Batch:
    rules = EscalationRule.objects.filter(is_active=True).prefetch_related("categories")
    return _Batch(
        rules=[(rule, {c.pk for c in rule.categories.all()}) for rule in rules],
        managers=services.managers(),
        notifications=services.Notifications(),
    )


def _tickets():
    # What rules read: the customer's tier, the requester, the team's lead,
    # the assignee.
    return Ticket.objects.select_related("organization", "requester", "team__lead", "assignee")


def _ticket(pk: int) -> Ticket:
    return _tickets().get(pk=pk)


def sweep(*, now: datetime | None = None, batch: int = BATCH) -> SweepResult:
    """One batch: at most `batch` due clocks, in one transaction."""
    now = now or timezone.now()
    result = SweepResult()
    with transaction.atomic():
        due = list(
            TicketSLA.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("policy")
            .filter(next_check_at__lte=now)
            .order_by("next_check_at")[:batch]
        )
        result.claimed = len(due)
        if not due:
            return result
        batch_context = _batch()
        tickets = {t.pk: t for t in _tickets().filter(pk__in=[sla.ticket_id for sla in due])}
        for sla in due:
            result.escalations += _process(sla, tickets[sla.ticket_id], now, batch_context)
        result.to_route = services.hand_over_sla_batch(batch_context.handovers)
        Escalation.objects.bulk_update(batch_context.escalations, ["actions", "to_tier"])
        batch_context.notifications.flush()
    return result


def _process(sla: TicketSLA, ticket: Ticket, now: datetime, batch: _Batch) -> list[int]:
    fired, changed, stale = [], False, False
    for pending in clock.pending_thresholds(sla):
        if pending.at > now:
            continue
        if stale:
            ticket, stale = _ticket(ticket.pk), False
        rules = [
            rule
            for rule, category_ids in batch.rules
            if rule.matches(ticket, pending.target, pending.threshold, category_ids)
        ]
        # A priority change makes the SLA clock hook reload and save the
        # clock: store the threshold's flag first so it is not lost. (Tier
        # hand-overs wait for the end of the batch and leave the clock alone.)
        changes_ticket = any(rule.raise_priority for rule in rules)
        escalation = _record_once(sla, ticket, pending, now, persist_flag=changes_ticket)
        if escalation is None:
            continue
        fired.append(escalation.pk)
        done = []
        for rule in rules:
            if stale:
                ticket, stale = _ticket(ticket.pk), False  # the previous rule changed it
            done += _apply(rule, escalation, ticket, batch)
            if rule.raise_priority:
                changed = stale = True
        if done or escalation.to_tier:
            escalation.actions = done
            batch.escalations.append(escalation)
    if changed:
        # The priority changed and the SLA clock hook recomputed and saved the
        # clock meanwhile: continue from the stored one.
        sla.refresh_from_db()
    if stale:
        # What the clock and an update mail need, without the joins' planning.
        ticket = Ticket.objects.select_related("requester").get(pk=ticket.pk)
    if sla.update_due is not None and sla.update_due <= now and ticket.is_open:
        services.proactive_update(ticket, batch.notifications, now)
        clock.schedule_update(sla, now)
    clock.save_and_mirror(sla, ticket)
    return fired


def _record_once(
    sla: TicketSLA, ticket: Ticket, pending: clock.Pending, now: datetime, *, persist_flag: bool
) -> Escalation | None:
    """Insert the escalation unless one exists for this ticket, target,
    threshold and round; None when it did (never act twice)."""
    kind = "warned" if pending.threshold == Threshold.WARNING else "breached"
    flag = f"{pending.target}_{kind}_at"
    setattr(sla, flag, now)
    if persist_flag:
        TicketSLA.objects.filter(pk=sla.pk).update(**{flag: now})
    what = services.TARGET_WORDS[pending.target]
    reason = (
        f"{what} {'warning' if pending.threshold == Threshold.WARNING else 'breached'}, "
        f"due {timezone.localtime(pending.due):%Y-%m-%d %H:%M %Z}"
    )
    escalation = Escalation(
        ticket=ticket,
        kind=Escalation.Kind.SLA,
        target=pending.target,
        threshold=pending.threshold,
        cycle=pending.cycle,
        due_at=pending.due,
        reason=reason,
        created_at=now,
    )
    if not _insert_unless_recorded(escalation):
        return None  # recorded before (a retried or concurrent sweep): never twice
    ticket_services.record_event(
        ticket,
        actor=None,
        action=f"sla.{pending.threshold}",
        field=pending.target,
        new=timezone.localtime(pending.due).strftime("%Y-%m-%d %H:%M %Z"),
        note=f"SLA {reason}",
        at=now,
    )
    return escalation


_INSERT_ONCE = """
    INSERT INTO escalation_escalation
        (ticket_id, kind, target, threshold, cycle, due_at, reason, actions, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, '[]', %s)
    ON CONFLICT (ticket_id, target, threshold, cycle) WHERE kind = 'sla' DO NOTHING
    RETURNING id
"""


def _insert_unless_recorded(escalation: Escalation) -> bool:
    """One statement on PostgreSQL (INSERT ... ON CONFLICT DO NOTHING against
    the unique index escalate_once_per_threshold); elsewhere a savepoint
    around a plain INSERT."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_ONCE,
                [
                    escalation.ticket_id, escalation.kind, escalation.target,
                    escalation.threshold, escalation.cycle, escalation.due_at,
                    escalation.reason, escalation.created_at,
                ],
            )  # fmt: skip
            row = cursor.fetchone()
        if row is None:
            return False
        escalation.pk = row[0]
        escalation._state.adding = False
        return True
    try:
        with transaction.atomic():
            escalation.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def _apply(
    rule: EscalationRule, escalation: Escalation, ticket: Ticket, batch: _Batch
) -> list[str]:
    done = [f"rule: {rule.name}"]
    if rule.notify_assignee or rule.notify_team_lead or rule.notify_managers:
        done += services.notify_staff(escalation, ticket, rule, batch.notifications, batch.managers)
    if rule.raise_priority:
        done += services.raise_priority(escalation, ticket)
    if rule.escalate_tier and ticket.tier < AgentTier.TIER_3:
        batch.handovers.append((escalation, ticket, f"SLA {escalation.reason}"))
        done.append(f"tier {ticket.tier} \u2192 {ticket.tier + 1}, re-routed")
    if rule.notify_customer:
        done += services.notify_customer(
            escalation,
            ticket,
            "A senior agent is now on it and will reply as soon as possible.",
            batch.notifications,
        )
    return done


def sweep_until_done(*, max_batches: int = 50) -> SweepResult:
    """Batches until nothing is due (bounded, so one task never runs long)."""
    total = SweepResult()
    for _ in range(max_batches):
        result = sweep()
        total.claimed += result.claimed
        total.escalations += result.escalations
        total.to_route += result.to_route
        if result.claimed < BATCH:
            break
    return total
