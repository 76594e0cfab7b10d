"""Ticket facts: one analytics.models.TicketFact row per ticket, computed by
the metric code itself, so that figures read from the facts equal the
written definitions (analytics.metrics; README.md, "Metric definitions").

    compute_facts(ticket_ids, now) -> list[TicketFact]   (not saved)
    refresh_facts(ticket_ids, now) -> int                 (upserted)
    catch_up(now) -> int          (what changed since the last run: a beat job)
    rebuild_facts(now, progress=False) -> Rebuilt         (every ticket: nightly)

Kept current without signals: services stamp `Ticket.updated_at` on every
change (status, messages, properties, intake's enrichment), so the catch-up
job (every minute) refreshes the tickets stamped since its last run, with an
overlap for transactions that committed late, plus the tickets that got an
escalation record and those whose running SLA target fell due. The nightly
rebuild recomputes every ticket and counts the facts it found different:
0 when the catch-up kept them current.

A batch costs a constant number of queries whatever its size: the metric
timelines (analytics.metrics.timeline.load_timelines: three), one query for
the per-ticket flags of the rate metrics, one for the escalation records,
one for the CSAT answers, and the upsert (with the rollup blocks' update:
analytics.rollups.blocks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef

from analytics.metrics.rates import (
    counted_escalations,
    left_tier1,
    public_staff_replies,
    reopened,
    shown_articles,
    solved_once,
)
from analytics.metrics.sla import next_decision, target_outcomes
from analytics.metrics.timeline import load_timelines
from analytics.models import (
    CSATResponse,
    RollupRun,
    TicketFact,
    escalation_kind_field,
    escalation_tier_field,
)
from analytics.rollups import blocks, cells
from escalation.models import Escalation
from tickets.models import Ticket

# Tickets per batch of the rebuild: bounded memory, a few statements each.
BATCH = 2000
# The catch-up re-reads what was stamped this long before its last run: a
# transaction stamps `updated_at` when it starts its change and may commit
# later than a run that started meanwhile.
OVERLAP = timedelta(minutes=5)
# Without a previous run, the catch-up looks back this far (the nightly
# rebuild covers the rest).
FIRST_LOOK_BACK = timedelta(hours=24)
CATCH_UP = "ticket-facts.catch-up"
REBUILD = "ticket-facts.rebuild"
ROLLUPS = "ticket-rollups.rebuild"

_FIELDS = [f.name for f in TicketFact._meta.concrete_fields if not f.primary_key]


def compute_facts(ticket_ids: Sequence[int], now: datetime) -> list[TicketFact]:
    """The facts of these tickets as of `now` (SLA targets still running
    are judged at `now`, as analytics.metrics.sla does)."""
    tickets = Ticket.objects.filter(pk__in=list(ticket_ids))
    timelines = {t.id: t for t in load_timelines(tickets)}
    if not timelines:
        return []
    flags = {
        row["id"]: row
        for row in tickets.annotate(
            was_solved=solved_once(),
            was_reopened=reopened(),
            staff_replies=public_staff_replies(),
            moved_up=left_tier1(),
            was_shown=shown_articles(),
        ).values(
            "id",
            "team_id",
            "category_id",
            "channel",
            "tier",
            "was_solved",
            "was_reopened",
            "staff_replies",
            "moved_up",
            "was_shown",
        )
    }
    escalations: dict[int, Counter[str]] = {}
    for ticket_id, kind, to_tier in (
        Escalation.objects.filter(counted_escalations(), ticket_id__in=list(timelines))
        .order_by()
        .values_list("ticket_id", "kind", "to_tier")
    ):
        counts = escalations.setdefault(ticket_id, Counter())
        counts[escalation_kind_field(kind)] += 1
        counts[escalation_tier_field(to_tier)] += 1

    answers: dict[int, list[list]] = {}
    for ticket_id, answered, rating, effort, agent_id in (
        CSATResponse.objects.filter(ticket_id__in=list(timelines))
        .order_by("ticket_id", "round")
        .values_list("ticket_id", "answered_at", "rating", "effort", "agent_id")
    ):
        answers.setdefault(ticket_id, []).append(
            [int(answered.timestamp()), rating, effort, agent_id]
        )

    facts = []
    for ticket_id, t in timelines.items():
        row = flags[ticket_id]
        decided = Counter(target_outcomes(t, now))  # (target, met) -> how many
        facts.append(
            TicketFact(
                ticket_id=ticket_id,
                created_at=t.created_at,
                solved_at=t.solved_at,
                team_id=row["team_id"],
                category_id=row["category_id"],
                customer_tier=t.customer_tier,
                channel=row["channel"],
                priority=t.priority,
                agent_id=t.assignee_id,
                tier=row["tier"],
                first_response_business_s=(
                    None
                    if t.first_response_at is None
                    else t.business_seconds(t.created_at, t.first_response_at)
                ),
                first_response_calendar_s=(
                    None
                    if t.first_response_at is None
                    else (t.first_response_at - t.created_at).total_seconds()
                ),
                resolution_business_s=(
                    None if t.solved_at is None else t.business_seconds(t.created_at, t.solved_at)
                ),
                resolution_calendar_s=(
                    None if t.solved_at is None else (t.solved_at - t.created_at).total_seconds()
                ),
                next_responses=[
                    [t.business_seconds(start, end), (end - start).total_seconds()]
                    for start, end in t.rounds
                    if end is not None
                ],
                first_response_met=decided[("first_response", True)],
                first_response_breached=decided[("first_response", False)],
                next_response_met=decided[("next_response", True)],
                next_response_breached=decided[("next_response", False)],
                resolution_met=decided[("resolution", True)],
                resolution_breached=decided[("resolution", False)],
                sla_refresh_at=next_decision(t, now),
                ever_solved=bool(row["was_solved"]) or t.solved_at is not None,
                solve_times=[int(moment.timestamp()) for moment in t.solves],
                csat_answers=answers.get(ticket_id, []),
                reopened=bool(row["was_reopened"]),
                public_staff_replies=row["staff_replies"],
                left_tier1=bool(row["moved_up"]),
                **escalations.get(ticket_id, Counter()),
                shown_articles=bool(row["was_shown"]),
                computed_at=now,
            )
        )
    return facts


def refresh_facts(ticket_ids: Iterable[int], now: datetime) -> int:
    """Compute and store the facts of these tickets (an upsert; a ticket
    deleted meanwhile has none), and add what changed to the rollup blocks
    in the same transaction. Returns how many rows were written."""
    facts = compute_facts(list(dict.fromkeys(ticket_ids)), now)
    _store(facts, rollups=True)
    return len(facts)


def _store(facts: list[TicketFact], *, rollups: bool) -> None:
    """Upsert the rows (one statement). With `rollups`, under the rollups'
    lock, read the rows replaced first and add the difference to the
    blocks (analytics.rollups.blocks: two or three statements more)."""
    if not facts:
        return
    with transaction.atomic():
        if rollups:
            blocks.lock_for_facts()
            old = {
                row["ticket_id"]: row
                for row in TicketFact.objects.filter(
                    pk__in=[fact.ticket_id for fact in facts]
                ).values(*cells.FIELDS)
            }
        TicketFact.objects.bulk_create(
            facts, update_conflicts=True, unique_fields=["ticket"], update_fields=_FIELDS
        )
        if rollups:
            changes = []
            for fact in facts:
                new, before = cells.row_of(fact), old.get(fact.ticket_id)
                if new != before:
                    changes.append((before, new))
            blocks.apply_changes(changes, blocks.rollup_zone())


def due_for_sla(now: datetime) -> list[int]:
    """Tickets whose facts hold a running SLA target that is due by `now`."""
    return list(
        TicketFact.objects.filter(sla_refresh_at__lte=now)
        .order_by("sla_refresh_at")
        .values_list("ticket_id", flat=True)
    )


def changed_since(since: datetime, now: datetime) -> list[int]:
    """Tickets stamped since `since`, given an escalation record or a CSAT
    answer (new or changed) since then, or holding a running SLA target due
    by `now`."""
    ids = set(Ticket.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    ids |= set(Escalation.objects.filter(created_at__gte=since).values_list("ticket_id", flat=True))
    ids |= set(
        CSATResponse.objects.filter(updated_at__gte=since).values_list("ticket_id", flat=True)
    )
    ids |= set(due_for_sla(now))
    return sorted(ids)


def catch_up(now: datetime) -> int:
    """Refresh the facts of what changed since the last catch-up (minus
    OVERLAP), in batches. Returns how many tickets were refreshed."""
    last = RollupRun.objects.filter(name=CATCH_UP).values_list("ran_at", flat=True).first()
    since = (last - OVERLAP) if last else now - FIRST_LOOK_BACK
    ids = changed_since(since, now)
    for start in range(0, len(ids), BATCH):
        refresh_facts(ids[start : start + BATCH], now)
    RollupRun.objects.update_or_create(
        name=CATCH_UP, defaults={"ran_at": now, "tickets": len(ids), "differing": 0}
    )
    return len(ids)


@dataclass(frozen=True)
class State:
    # When the facts were last brought up to date (the later of the last
    # catch-up and the last rebuild); None before either ever ran.
    as_of: datetime | None
    # The rollup blocks were summed from the facts at least once (until
    # then, e.g. just after an upgrade, the dashboard reads the facts).
    rollups_built: bool


def state() -> State:
    """One query."""
    runs = dict(
        RollupRun.objects.filter(name__in=[CATCH_UP, REBUILD, ROLLUPS]).values_list(
            "name", "ran_at"
        )
    )
    facts_runs = [runs[name] for name in (CATCH_UP, REBUILD) if name in runs]
    return State(as_of=max(facts_runs, default=None), rollups_built=ROLLUPS in runs)


@dataclass(frozen=True)
class Rebuilt:
    tickets: int
    # Facts whose recomputed row differed from the stored one (or was
    # missing): 0 when the catch-up had kept every fact current.
    differing: int
    # Rollup blocks summed afresh from the facts, and those that differed
    # from the kept ones (0 when the catch-up had kept them right; all of
    # them the first time, or where the facts themselves differed).
    rollup_rows: int = 0
    rollups_differing: int = 0


def _comparable(fact: TicketFact) -> tuple:
    return tuple(getattr(fact, name) for name in _FIELDS if name != "computed_at")


def rebuild_facts(now: datetime, *, progress: bool = False) -> Rebuilt:
    """Recompute every ticket's facts in batches (a progress bar on stderr
    with progress=True), count those that differ from the stored rows,
    store them all, and delete the facts of tickets that are gone."""
    from tqdm import tqdm

    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    differing = 0
    with tqdm(total=len(ids), unit="ticket", desc="Ticket facts", disable=not progress) as bar:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            fresh = compute_facts(chunk, now)
            stored = {f.ticket_id: _comparable(f) for f in TicketFact.objects.filter(pk__in=chunk)}
            differing += sum(1 for f in fresh if stored.get(f.ticket_id) != _comparable(f))
            # The blocks are summed afresh below: adding each difference
            # would rewrite every block once per batch.
            _store(fresh, rollups=False)
            bar.update(len(chunk))
    # An anti-join: NOT IN (all ticket ids) is a subplan per row once the
    # ids outgrow work_mem (234 s at 100,000 tickets).
    TicketFact.objects.filter(~Exists(Ticket.objects.filter(pk=OuterRef("ticket_id")))).delete()
    RollupRun.objects.update_or_create(
        name=REBUILD, defaults={"ran_at": now, "tickets": len(ids), "differing": differing}
    )
    summed = rebuild_rollups(now, progress=progress)
    return Rebuilt(
        tickets=len(ids),
        differing=differing,
        rollup_rows=summed.rows,
        rollups_differing=summed.differing,
    )


def rebuild_rollups(now: datetime, *, progress: bool = False) -> blocks.Rebuilt:
    """Sum the rollup blocks afresh from the facts (the end of the nightly
    rebuild; alone after an upgrade) and record how many rows differed."""
    summed = blocks.rebuild(progress=progress)
    RollupRun.objects.update_or_create(
        name=ROLLUPS,
        defaults={"ran_at": now, "tickets": summed.rows, "differing": summed.differing},
    )
    return summed
