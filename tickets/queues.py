"""The agent workspace's queues and list filters.

A queue is a named, permission-checked slice of `tickets_visible_to(user)`;
filters and sorts narrow it further. Every filter and sort here is served by
an index on Ticket (see Ticket.Meta.indexes), and pages are keyset-paginated
on (sort value, id), so a deep page costs what the first page costs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from core.inputs import parse_int
from tickets.models import (
    OPEN_STATUSES,
    Organization,
    Role,
    Status,
    SupportTier,
    Ticket,
    TicketEvent,
    User,
)
from tickets.reference import attach_named_relations
from tickets.selectors import user_team_ids

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Counts above this are shown as "1,000+": an exact COUNT(*) over a million
# rows costs far more than the page itself.
COUNT_BOUND = 1000


@dataclass(frozen=True)
class Queue:
    slug: str
    title: str
    scope: Callable[[User, QuerySet[Ticket]], QuerySet[Ticket]]
    # The sort used when the agent has not chosen one.
    default_sort: str = "newest"


def _mine(user, qs):
    return qs.filter(assignee_id=user.pk, status__in=[Status.NEW, Status.OPEN, Status.ON_HOLD])


def _unassigned(user, qs):
    return qs.filter(
        Q(team_id__in=user_team_ids(user)) | Q(team__isnull=True),
        assignee__isnull=True,
        status__in=OPEN_STATUSES,
    )


def _team(user, qs):
    return qs.filter(team_id__in=user_team_ids(user), status__in=OPEN_STATUSES)


def _waiting(user, qs):
    return qs.filter(
        Q(assignee_id=user.pk) | Q(team_id__in=user_team_ids(user)), status=Status.PENDING
    )


def _recently_solved(user, qs):
    since = timezone.now() - timedelta(days=7)
    return qs.filter(
        Q(assignee_id=user.pk) | Q(team_id__in=user_team_ids(user)),
        status=Status.SOLVED,
        updated_at__gte=since,
    )


def _triage(user, qs):
    # Tickets the classifier was unsure about, waiting for a person to set the
    # category (served by the partial index ticket_triage).
    return qs.filter(needs_triage=True, status__in=OPEN_STATUSES)


# "Breaching soon": an SLA target (any running one: Ticket.sla_due_at is the
# nearest) overdue or due within this window. The one definition of "due soon",
# shared by the queue and the agent's load, and shown with the same words.
DUE_SOON_WINDOW = timedelta(hours=4)
DUE_SOON_TITLE = "Breaching soon"
DUE_SOON_HELP = f"SLA overdue or due within {DUE_SOON_WINDOW // timedelta(hours=1)} h"


def due_soon_before(now: datetime | None = None) -> datetime:
    """Tickets whose SLA is due before this moment are due soon."""
    return (now or timezone.now()) + DUE_SOON_WINDOW


def _breaching(user, qs):
    # Open tickets of mine or my teams that are due soon, nearest due first
    # (a range over the partial index ticket_open_due).
    return qs.filter(
        Q(assignee_id=user.pk) | Q(team_id__in=user_team_ids(user)),
        sla_due_at__lt=due_soon_before(),
        status__in=OPEN_STATUSES,
    )


def _all_open(user, qs):
    return qs.filter(status__in=OPEN_STATUSES)


def _any_status(user, qs):
    # Every ticket the viewer may see, solved and closed included: where the
    # managers' dashboard drills down to (created or solved in a range).
    return qs


ANY_STATUS_QUEUE = "any"

# The sidebar's work queues, each counted on the page.
QUEUES: dict[str, Queue] = {
    q.slug: q
    for q in (
        Queue("mine", "My open tickets", _mine),
        Queue("breaching", DUE_SOON_TITLE, _breaching, default_sort="due"),
        Queue("unassigned", "Unassigned in my teams", _unassigned),
        Queue("team", "My team", _team),
        Queue("waiting", "Waiting on customer", _waiting),
        Queue("solved", "Recently solved", _recently_solved),
        Queue("triage", "Triage", _triage),
        Queue("all", "All open tickets", _all_open),
    )
}
# Queues reached by link only, not counted: a count of the whole history would
# be "1,000+" and cost a query on every page.
LINK_QUEUES: dict[str, Queue] = {
    ANY_STATUS_QUEUE: Queue(ANY_STATUS_QUEUE, "All tickets, any status", _any_status),
}


def queue_named(slug: str) -> Queue | None:
    """The work queue or link-only queue called `slug`, None when there is none."""
    return QUEUES.get(slug) or LINK_QUEUES.get(slug)


# Where each role lands. Agents start from their own tickets; managers own few
# tickets (their "My open tickets" is usually empty) and watch everybody's.
DEFAULT_QUEUE: dict[str, str] = {
    Role.AGENT: "mine",
    Role.MANAGER: "all",
    Role.ADMIN: "all",
}


def default_queue(user: User) -> str:
    return DEFAULT_QUEUE.get(user.role, "mine")


# sort key -> (model field, descending?)
SORTS: dict[str, tuple[str, bool]] = {
    "newest": ("id", True),
    "oldest": ("id", False),
    "updated": ("updated_at", True),
    "least_updated": ("updated_at", False),
    # Nearest SLA due time first; tickets with no running target come last.
    "due": ("sla_due_at", False),
}
DEFAULT_SORT = "newest"


def bounded_count(qs: QuerySet) -> int:
    """COUNT over at most COUNT_BOUND + 1 rows (a LIMITed subquery)."""
    return qs.order_by()[: COUNT_BOUND + 1].count()


# Queue counts are cached per user for this long: counting seven queues on
# every page view costs more than the page itself. The user's own writes clear
# their entry (QueueCountsMiddleware), so only other people's changes can be up
# to this many seconds late in the sidebar; the lists themselves are always live.
COUNT_CACHE_SECONDS = 20


def _counts_key(user_id: int) -> str:
    return f"queue-counts:{user_id}"


def queue_counts(user: User, visible: QuerySet[Ticket]) -> list[tuple[Queue, int]]:
    """(queue, bounded count) for every queue, from the cache when fresh."""
    counts = cache.get(_counts_key(user.pk))
    if counts is None or counts.keys() != QUEUES.keys():
        counts = {slug: bounded_count(q.scope(user, visible)) for slug, q in QUEUES.items()}
        cache.set(_counts_key(user.pk), counts, COUNT_CACHE_SECONDS)
    return [(q, counts[slug]) for slug, q in QUEUES.items()]


def forget_queue_counts(user_id: int) -> None:
    cache.delete(_counts_key(user_id))


def apply_sort(qs: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    field, descending = SORTS[sort]
    if field == "sla_due_at":
        return qs.order_by(F("sla_due_at").asc(nulls_last=True), "id")
    if field == "id":
        return qs.order_by("-id" if descending else "id")
    return qs.order_by(f"-{field}", "-id") if descending else qs.order_by(field, "id")


def sort_rows(rows: list[Ticket], sort: str) -> list[Ticket]:
    """Rows already loaded (a page of search results) in `sort` order, as
    apply_sort would order them."""
    field, descending = SORTS[sort]
    if field == "sla_due_at":
        return sorted(rows, key=lambda t: (t.sla_due_at is None, t.sla_due_at or EPOCH, t.pk))
    return sorted(rows, key=lambda t: (getattr(t, field), t.pk), reverse=descending)


def encode_cursor(ticket: Ticket, sort: str) -> str:
    field, _ = SORTS[sort]
    if field == "id":
        return str(ticket.pk)
    value: datetime | None = getattr(ticket, field)
    if value is None:
        return f"n_{ticket.pk}"  # past the last due time: the nulls, by id
    # Whole microseconds since the epoch: exact, unlike a float timestamp.
    return f"{(value - EPOCH) // timedelta(microseconds=1)}_{ticket.pk}"


_MICROSECOND = timedelta(microseconds=1)

# The cursors every list hands out and reads (the workspace's queues, the API):
# "<time>_<id>" for the time sorts (whole microseconds since the epoch, the
# sort value of the page's last row), "n_<id>" past the rows without a time,
# "<id>" for the id sorts. Any cursor of this shape is read in any sort, so a
# client can never send one the API documents and be refused: the id sorts use
# only its id, and one without a time is past every row that has a time.
_CURSOR = re.compile(r"(?:(n|[0-9]{1,17})_)?([0-9]{1,18})")
CURSOR_PATTERN = f"^{_CURSOR.pattern}$"
# 17 digits of microseconds reach the year 5138; a datetime holds up to 9999.
_LAST_MICROS = 10**17 - 1


@dataclass(frozen=True)
class Cursor:
    time: datetime | None  # None: past every row that has a time
    pk: int


def parse_cursor(text: str) -> Cursor | None:
    """The position a cursor names, or None when it is not a cursor."""
    match = _CURSOR.fullmatch(text)
    if match is None:
        return None
    time_text, pk_text = match.groups()
    pk = parse_int(pk_text)
    micros = parse_int(time_text or "", maximum=_LAST_MICROS)
    if pk is None or (micros is None and time_text not in (None, "n")):
        return None
    return Cursor(time=None if micros is None else EPOCH + micros * _MICROSECOND, pk=pk)


def apply_cursor(qs: QuerySet[Ticket], sort: str, cursor: str) -> QuerySet[Ticket] | None:
    """Rows after `cursor` in `sort` order; None when the cursor is malformed."""
    field, descending = SORTS[sort]
    position = parse_cursor(cursor)
    if position is None:
        return None
    pk = position.pk
    if field == "id":
        return qs.filter(id__lt=pk) if descending else qs.filter(id__gt=pk)
    if position.time is None:
        if field == "sla_due_at":
            return qs.filter(sla_due_at__isnull=True, id__gt=pk)
        return qs.none()  # every ticket has this time: nothing lies past them
    value = position.time
    if field == "sla_due_at":
        # Ascending with nulls last: later due times, then the ones without.
        return qs.filter(
            Q(sla_due_at__gt=value) | Q(sla_due_at=value, id__gt=pk) | Q(sla_due_at__isnull=True)
        )
    # "(value, id) after the cursor", spelt so that the first condition is a
    # plain range the index scan starts from; the OR only trims the ties.
    if descending:
        return qs.filter(
            Q(**{f"{field}__lte": value}),
            Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk}),
        )
    return qs.filter(
        Q(**{f"{field}__gte": value}),
        Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk}),
    )


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _day_bound(day: date, *, days_after: int = 0) -> datetime | None:
    """The start of `day` (plus `days_after` days) in the current time zone,
    or None past the ends of the calendar (1 January of year 1, 31 December
    9999): no ticket lies beyond them, so that end of a range is open."""
    try:
        start = _day_start(day + timedelta(days=days_after))
        start.astimezone(UTC)  # as the database gets it
    except OverflowError:
        return None
    return start


# What a ticket's own history (TicketEvent) says of how it went, for the list
# filters the managers' dashboard drills down with. tickets imports nothing
# from escalation: the escalation app writes these events through
# tickets.services.record_event (escalation.sweep records an SLA breach as
# "sla.breach" with the target as the field; a manual or rule hand-over to a
# higher tier is "ticket.tier_changed"; a customer escalation at intake is
# "ticket.customer_escalation"). A major-incident escalation leaves no event
# of its own on the ticket, so the escalation filter does not see it.
SLA_BREACH_ACTION = "sla.breach"
REOPENED_ACTION = "ticket.reopened"
SLA_TARGETS: dict[str, str] = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}
ESCALATION_KINDS: dict[str, tuple[str, str]] = {
    "sla": (SLA_BREACH_ACTION, "SLA breach"),
    "tier": ("ticket.tier_changed", "Handed to a higher tier"),
    "customer": ("ticket.customer_escalation", "Customer (complaint, VIP)"),
}
# The actions the event_outcome partial index holds (TicketEvent.Meta.indexes).
OUTCOME_ACTIONS = (REOPENED_ACTION, *(action for action, _ in ESCALATION_KINDS.values()))

# The values of the list filters, shared by the workspace's QueueFilterForm and
# the API's TicketListParamsSerializer so that both mean the same thing.
# Ranges of whole days: <name>_from and <name>_to, both inclusive.
DATE_RANGES = ("created", "updated", "solved")
SLA_BREACHED_CHOICES: dict[str, str] = {"any": "Any target", **SLA_TARGETS}
YES_NO_CHOICES: dict[str, str] = {"yes": "Yes", "no": "No"}
RANGE_ENDS_EARLY = "The end date is before the start date."
KIND_NEEDS_ESCALATED = "A kind of escalation needs escalated tickets."


def filter_conflicts(data: dict) -> dict[str, str]:
    """Filters that contradict each other in valid data, as {field: message}
    (the field the error belongs to): a range that ends before it starts, a
    kind of escalation asked of tickets never escalated."""
    conflicts = {}
    for name in DATE_RANGES:
        start, end = data.get(f"{name}_from"), data.get(f"{name}_to")
        if start and end and start > end:
            conflicts[f"{name}_to"] = RANGE_ENDS_EARLY
    if data.get("escalation_kind") and data.get("escalated") == "no":
        conflicts["escalation_kind"] = KIND_NEEDS_ESCALATED
    return conflicts


def _has_event(action: str | list[str], field: str = "") -> Exists:
    actions = [action] if isinstance(action, str) else action
    events = TicketEvent.objects.filter(ticket_id=OuterRef("pk"), action__in=actions)
    if field:
        events = events.filter(field=field)
    return Exists(events)


def customer_tier_q(tier: str) -> Q:
    """Tickets whose organisation has this support tier; a ticket without an
    organisation counts as basic, as the SLA clock does (escalation.clock)."""
    condition = Q(organization_id__in=Organization.objects.filter(support_tier=tier).values("id"))
    if tier == SupportTier.BASIC:
        condition |= Q(organization__isnull=True)
    return condition


def _yes_no(qs: QuerySet[Ticket], answer: str, exists: Exists) -> QuerySet[Ticket]:
    if answer == "yes":
        return qs.filter(exists)
    if answer == "no":
        return qs.filter(~exists)
    return qs


def _apply_outcome_filters(qs: QuerySet[Ticket], data: dict) -> QuerySet[Ticket]:
    """SLA outcome, escalation and reopen filters (each an EXISTS over the
    ticket's events, served by the event_outcome index)."""
    if data.get("customer_tier"):
        qs = qs.filter(customer_tier_q(data["customer_tier"]))
    breached = data.get("sla_breached")
    if breached:
        qs = qs.filter(_has_event(SLA_BREACH_ACTION, "" if breached == "any" else breached))
    kind = data.get("escalation_kind")
    if kind:
        qs = qs.filter(_has_event(ESCALATION_KINDS[kind][0]))
    else:
        every_kind = [action for action, _ in ESCALATION_KINDS.values()]
        qs = _yes_no(qs, data.get("escalated") or "", _has_event(every_kind))
    return _yes_no(qs, data.get("reopened") or "", _has_event(REOPENED_ACTION))


def apply_filters(qs: QuerySet[Ticket], data: dict, user: User) -> QuerySet[Ticket]:
    """Narrow a queue by the cleaned filters: QueueFilterForm's data in the
    workspace, TicketListParamsSerializer's in the API."""
    if data.get("status"):
        qs = qs.filter(status__in=data["status"])
    if data.get("priority"):
        qs = qs.filter(priority__in=data["priority"])
    for field in ("category", "team", "organization"):
        if data.get(field):
            qs = qs.filter(**{field: data[field]})
    if data.get("tier"):
        qs = qs.filter(tier=data["tier"])
    if data.get("channel"):
        qs = qs.filter(channel=data["channel"])
    if data.get("tag"):
        # Tag names are stored lower-case (services._tag_names).
        qs = qs.filter(tags__name=data["tag"].strip().lower())
    assignee = data.get("assignee")
    if assignee == "me":
        qs = qs.filter(assignee_id=user.pk)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif isinstance(assignee, int):
        qs = qs.filter(assignee_id=assignee)
    for field in DATE_RANGES:
        start, end = data.get(f"{field}_from"), data.get(f"{field}_to")
        since = _day_bound(start) if start else None
        before = _day_bound(end, days_after=1) if end else None
        if since is not None:
            qs = qs.filter(**{f"{field}_at__gte": since})
        if before is not None:
            qs = qs.filter(**{f"{field}_at__lt": before})
    return _apply_outcome_filters(qs, data)


@dataclass(frozen=True)
class AgentLoad:
    open: int
    pending: int
    on_hold: int
    capacity: int
    # Due soon (see DUE_SOON_WINDOW): what "Breaching soon" lists of the agent's own.
    breaching_soon: int = 0


def agent_load(user: User) -> AgentLoad:
    """The agent's own load, in one grouped query over their assigned tickets."""
    from django.db.models import Count

    soon = due_soon_before()
    rows = {
        status: (n, due)
        for status, n, due in Ticket.objects.filter(assignee_id=user.pk, status__in=OPEN_STATUSES)
        .values_list("status")
        .annotate(n=Count("id"), due=Count("id", filter=Q(sla_due_at__lt=soon)))
        .values_list("status", "n", "due")
    }
    return AgentLoad(
        open=rows.get(Status.NEW, (0, 0))[0] + rows.get(Status.OPEN, (0, 0))[0],
        pending=rows.get(Status.PENDING, (0, 0))[0],
        on_hold=rows.get(Status.ON_HOLD, (0, 0))[0],
        capacity=user.capacity,
        breaching_soon=sum(due for _, due in rows.values()),
    )


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    next_cursor: str | None


def queue_page(qs: QuerySet[Ticket], *, sort: str, cursor: str, size: int) -> QueuePage | None:
    """One page of a queue after `cursor`; None for a malformed cursor."""
    qs = apply_sort(qs, sort)
    if cursor:
        after = apply_cursor(qs, sort, cursor)
        if after is None:
            return None
        qs = after
    rows = list(qs.select_related("requester", "organization")[: size + 1])
    attach_named_relations(rows)
    more = len(rows) > size
    rows = rows[:size]
    return QueuePage(rows, encode_cursor(rows[-1], sort) if more and rows else None)
