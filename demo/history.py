"""Generate the demo tickets with their conversations and history, as rows.

Each ticket is planned as a whole life first (routing, first response,
questions and answers, escalation, solve, reopen, close), every step with its
time; then the steps that have happened by "now" are played into rows, exactly
as tickets.services would have written them. Planning everything before
cutting at "now" keeps the random draws independent of the clock, so a seed
always makes the same choices.

The story over the 90 days (JOURNEYS.md): the early weeks are slow (manual
triage, first responses after a day, about 48 h to resolve), then the helpdesk
improves until the recent weeks meet the targets (minutes to acknowledge, first
response within a few office hours, well under 24 h to resolve).
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

from demo import texts
from demo.people import AgentInfo, Cast, CategoryInfo, CustomerInfo
from demo.rows import Chunk, FirstIds
from demo.surveys import SurveyHistory
from demo.timeline import (
    DAY,
    HOUR,
    Stamper,
    add_working_time,
    arrivals,
    history_start,
)
from escalation.models import Escalation
from tickets.models import Channel, Priority, Status

T = TypeVar("T")

# Kinds of planned steps.
_ACK, _ASSIGN, _REPLY, _NOTE, _STATUS, _TIER, _EVENT = range(7)

_NEW, _OPEN, _PENDING, _ON_HOLD, _SOLVED, _CLOSED = (
    Status.NEW.value,
    Status.OPEN.value,
    Status.PENDING.value,
    Status.ON_HOLD.value,
    Status.SOLVED.value,
    Status.CLOSED.value,
)
_URGENT, _HIGH, _NORMAL, _LOW = (p.value for p in Priority)
_PORTAL, _EMAIL, _API, _BY_AGENT = (
    Channel.PORTAL.value,
    Channel.EMAIL.value,
    Channel.API.value,
    Channel.AGENT.value,
)
# How tickets come in, in percent.
_CHANNELS = ((_PORTAL, 45), (_EMAIL, 33), (_API, 8), (_BY_AGENT, 14))

# How a ticket got its category, written into its history as intake and the
# people would have (the classifier trains only on what people set or
# corrected: tickets.classification.training). The agent on the phone and most
# API clients give it at intake. Otherwise nobody is sure in the early weeks:
# the ticket waits in triage until a team lead files it. A third into the
# history the classifier goes live (retrained weekly); it files the tickets it
# is sure of, sends the rest to triage, and the lead of the team a wrong guess
# landed with moves the ticket to its right category.
_API_GIVES_CATEGORY = 0.6
_CLASSIFIER_FROM = 0.3  # share of the history before the classifier went live
_CLASSIFIER_SURE = (0.6, 0.85)  # share of tickets it files itself, at go-live and today
_CLASSIFIER_WRONG = 0.1  # of those, filed in a wrong (confusable) category

# Office hours to the first response, by priority, before and after the
# improvement (urgent tickets are answered around the clock: wall-clock hours),
# and office hours from an agent's step on a ticket to their next, before and
# after. Tuned with the rest of the plan for the story of issue 12: the median
# resolution time moves from about 48 h in the early weeks to about 20 h in
# the last, while first responses come to meet their SLA targets (most within
# the 4 office hours of the standard policy). The gain comes from automatic
# routing, quick first responses, first-contact solves and the
# around-the-clock shifts; the work itself still takes its time.
_FIRST_RESPONSE_HOURS = {_URGENT: (1.5, 0.25), _HIGH: (3.0, 0.75), _NORMAL: (4.5, 1.25),
                         _LOW: (6.5, 1.75)}  # fmt: skip
_WORK_HOURS = {_URGENT: (2.25, 5.0), _HIGH: (3.75, 7.5), _NORMAL: (4.5, 8.5), _LOW: (6.0, 10.0)}
# How much more likely VIP and basic accounts raise urgent/high tickets.
_TIER_URGENCY = {"vip": 1.6, "standard": 1.0, "basic": 0.7}
_MANUAL = Escalation.Kind.MANUAL.value
_SYSTEM = None  # actor of automatic changes (routing, acknowledgement, auto-close)
_SENDER_DOMAIN = "helpdesk.localhost"


class Picker(Generic[T]):
    """Weighted random choice by bisecting cumulative weights: cheaper than
    random.choices for one draw at a time."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self._items = list(items)
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]

    def __call__(self, rng: random.Random) -> T:
        return self._items[bisect.bisect(self._cumulative, rng.random() * self._total)]


class HistoryGenerator:
    def __init__(
        self,
        cast: Cast,
        rng: random.Random,
        now: int,
        first_ids: FirstIds,
        stamp: Stamper,
        surveys: SurveyHistory | None = None,
    ) -> None:
        self._rng = rng
        # The CSAT rounds of each solve; None leaves the surveys out.
        self._surveys = surveys
        self._now = now
        self._start = history_start(now)
        self._span = now - self._start
        self._stamp = stamp
        self._ticket_id = first_ids.ticket
        self._message_id = first_ids.message
        self._event_id = first_ids.event
        self._escalation_id = first_ids.escalation
        self._category = Picker(cast.categories, [c.volume for c in cast.categories])
        self._customer = Picker(cast.customers, [c.volume for c in cast.customers])
        self._channel = Picker([c for c, _ in _CHANNELS], [w for _, w in _CHANNELS])
        # What a wrong guess of the classifier files a ticket under: a category
        # whose requests read alike (texts.AMBIGUOUS).
        by_slug = {c.slug: c for c in cast.categories}
        self._confusable = {
            c.slug: [by_slug[o] for o in texts.confusable(c.slug) if o in by_slug]
            or [o for o in cast.categories if o is not c]
            for c in cast.categories
        }
        self._live_from = self._start + int(_CLASSIFIER_FROM * self._span)
        # Who takes a ticket of a category at a tier: agents of its team with at
        # least that tier, three times likelier with the category's skill; the
        # lead takes a few.
        self._assignees: dict[tuple[int, int], Picker] = {}
        for category in cast.categories:
            for tier in (1, 2, 3):
                agents = [a for a in category.team.agents if a.tier >= tier]
                if agents:
                    weights = [
                        (3.0 if category.slug in a.skills else 1.0) * (0.3 if a.is_lead else 1.0)
                        for a in agents
                    ]
                    self._assignees[category.id, tier] = Picker(agents, weights)

    def chunks(self, count: int, chunk_size: int) -> Iterator[Chunk]:
        """The rows of `count` tickets, `chunk_size` tickets at a time."""
        chunk = Chunk()
        for created in arrivals(self._rng, self._now, count):
            self._ticket(created, chunk)
            if len(chunk.tickets) == chunk_size:
                yield chunk
                chunk = Chunk()
        if chunk.tickets:
            yield chunk

    # --- planning -----------------------------------------------------------

    def _ticket(self, created: int, chunk: Chunk) -> None:
        rng = self._rng
        rnd = rng.random
        category: CategoryInfo = self._category(rng)
        customer: CustomerInfo = self._customer(rng)
        channel: str = self._channel(rng)
        priority = self._priority(category, customer)
        tier = category.required_tier
        filler = texts.Filler(rng)
        words = texts.TEXTS[category.slug]
        subject, description = texts.customer_request(
            rng, category.slug, filler, customer.first_name
        )
        # 0 in the early weeks ("before"), rising to 1 over the middle of the
        # history ("after").
        progress = (created - self._start) / self._span
        f = min(1.0, max(0.0, (progress - 0.3) / 0.6))
        # Urgent tickets are worked around the clock; the improved helpdesk also
        # added evening and weekend shifts that pick up part of the rest.
        around_the_clock = priority == _URGENT or rnd() < 0.6 * f
        reply_channel = _EMAIL if channel == _EMAIL else _PORTAL

        steps: list[tuple] = []
        # Acknowledgement: a person used to do it; now the system does at once.
        # Every seeded ticket is acknowledged, the newest ones right up to now.
        t = created + int(_lognormal(rng, 2400.0, 20.0, f, 0.6))
        steps.append((min(t, self._now), _ACK))
        # Who files the ticket, if intake could not: (person, category it had).
        filing = self._category_at_intake(created, category, channel, steps)

        agent = self._assignees[category.id, tier](rng)
        if filing is not None or (priority != _URGENT and rnd() < 0.75 - 0.63 * f):
            # Triage queue: the team lead assigns by hand in office hours (and
            # files the ticket in its category first when intake could not).
            t = add_working_time(t, int(rng.expovariate(1.0 / (2400 - 1500 * f))))
            if filing is not None:
                person, had = filing
                steps.append(
                    (t, _EVENT, person, "ticket.category_changed", "category", had, category.name,
                     "")
                )  # fmt: skip
            steps.append((t, _ASSIGN, category.team.lead.id, agent))
        else:
            t += rng.randrange(1, 30)
            steps.append((t, _ASSIGN, _SYSTEM, agent))
        # An agent on the phone opens the ticket on the customer's behalf.
        creator = agent.id if channel == _BY_AGENT else customer.id

        def agent_reply(at: int, author: AgentInfo, body: str, status: str | None) -> None:
            text = (
                f"{rng.choice(texts.GREETINGS)} {customer.first_name},\n\n{body}\n\n"
                f"{rng.choice(texts.AGENT_SIGNOFFS)},\n{author.first_name}"
            )
            steps.append((at, _REPLY, author, text, status))

        def customer_reply(at: int, body: str, status: str | None) -> None:
            steps.append((at, _REPLY, None, f"{body}\n\n{customer.first_name}", status))

        def note(at: int, author: AgentInfo, body: str) -> None:
            steps.append((at, _NOTE, author, body))

        # First response.
        before, after = _FIRST_RESPONSE_HOURS[priority]
        delay = int(_lognormal(rng, before * HOUR, after * HOUR, f, 0.6) * agent.speed)
        first_response = t + delay if around_the_clock else add_working_time(t, delay)
        if first_response - created > 8 * HOUR and rnd() < 0.5:
            # Nobody has answered for a while: the customer chases.
            chase = created + int((first_response - created) * rng.uniform(0.4, 0.9))
            customer_reply(max(chase, t), rng.choice(texts.CHASERS), None)
        t = first_response
        first_contact_resolution = (0.25 + 0.2 * f) if tier == 1 else (0.1 + 0.1 * f)
        # A quick agent also solves more at once (the fastest one visibly so).
        first_contact_resolution *= min(1.5, 1.0 / agent.speed)
        draw = rnd()
        if category.slug == "feature-request":
            if draw < 0.65:
                agent_reply(t, agent, rng.choice(words.questions).format_map(filler), _PENDING)
                status = _PENDING
            else:
                agent_reply(t, agent, rng.choice(texts.ON_HOLD), _ON_HOLD)
                status = _ON_HOLD
        elif draw < first_contact_resolution:
            agent_reply(t, agent, rng.choice(words.solutions).format_map(filler), _SOLVED)
            status = _SOLVED
        elif draw < first_contact_resolution + 0.3:
            agent_reply(t, agent, rng.choice(words.questions).format_map(filler), _PENDING)
            status = _PENDING
        else:
            agent_reply(t, agent, rng.choice(texts.PROGRESS), _OPEN)
            status = _OPEN

        work_before, work_after = _WORK_HOURS[priority]

        def work_time(after_t: int, who: AgentInfo) -> int:
            hours = _lognormal(rng, work_before * HOUR, work_after * HOUR, f, 0.7) * who.speed
            if around_the_clock:
                return after_t + int(hours)
            return add_working_time(after_t, int(hours))

        rounds = 0
        reopened = False
        while status != _SOLVED:
            rounds += 1
            if status == _PENDING:
                if rnd() < 0.9:
                    t = add_working_time(t, int(rng.lognormvariate(math.log(2 * HOUR), 1.0)))
                    customer_reply(t, rng.choice(words.answers).format_map(filler), _OPEN)
                    status = _OPEN
                else:
                    # The customer went quiet: solved after three days.
                    t = add_working_time(t + 3 * DAY, rng.randrange(2 * HOUR))
                    agent_reply(t, agent, rng.choice(texts.NO_REPLY), _SOLVED)
                    status = _SOLVED
            elif status == _ON_HOLD:
                # Waiting for the roadmap review.
                t += int(rng.lognormvariate(math.log(3 * DAY), 0.5))
                agent_reply(t, agent, rng.choice(words.solutions).format_map(filler), _SOLVED)
                status = _SOLVED
            else:
                if rnd() < 0.3:
                    note(work_time(t, agent) - 1, agent, rng.choice(words.notes).format_map(filler))
                if tier < 3 and rounds == 1 and rnd() < 0.2 - 0.1 * f:
                    # Escalation to the next tier, within the team.
                    t = work_time(t, agent)
                    tier += 1
                    reason = rng.choice(texts.ESCALATIONS).format(tier=tier)
                    note(t, agent, reason)
                    steps.append((t, _TIER, agent, tier, reason))
                    handed_from, agent = agent, self._assignees[category.id, tier](rng)
                    steps.append((t, _ASSIGN, handed_from.id, agent))
                t = max(work_time(t, agent), max(step[0] for step in steps))
                if rounds >= 3 or rnd() < 0.65:
                    if rnd() < agent.quality * 0.3:
                        customer_reply(t, rng.choice(texts.CONFIRMATIONS), None)
                        t += rng.randrange(5 * 60, 2 * HOUR)
                    agent_reply(t, agent, rng.choice(words.solutions).format_map(filler), _SOLVED)
                    status = _SOLVED
                else:
                    agent_reply(t, agent, rng.choice(words.questions).format_map(filler), _PENDING)
                    status = _PENDING
            if (
                status == _SOLVED
                and not reopened
                and rnd() < (1.2 - agent.quality) * (0.3 - 0.15 * f)
            ):
                # The fix did not hold: the customer answers and the ticket reopens.
                reopened = True
                t += int(rng.lognormvariate(math.log(20 * HOUR), 0.6))
                customer_reply(t, rng.choice(texts.REOPENS), _OPEN)
                status = _OPEN
        # Solved tickets close automatically a few days later.
        steps.append((t + 3 * DAY + rng.randrange(12 * HOUR), _STATUS, _SYSTEM, _CLOSED))

        steps.sort(key=_when)
        self._play(
            chunk, steps, created, subject, description, customer, category, priority, channel,
            reply_channel, creator,
        )  # fmt: skip

    def _category_at_intake(
        self, created: int, category: CategoryInfo, channel: str, steps: list[tuple]
    ) -> tuple[int, str] | None:
        """Plan intake's category decision (see _CLASSIFIER_FROM) as steps at the
        creation time; return who files the ticket by hand and what category it
        had then, or None when it needs nobody."""
        rng = self._rng
        if channel == _BY_AGENT or (channel == _API and rng.random() < _API_GIVES_CATEGORY):
            return None  # given at intake: ticket_create stores it, no event
        live = created >= self._live_from
        if live:
            version = 1 + (created - self._live_from) // (7 * DAY)
            progress = (created - self._live_from) / max(self._now - self._live_from, 1)
            sure_share = (
                _CLASSIFIER_SURE[0] + (_CLASSIFIER_SURE[1] - _CLASSIFIER_SURE[0]) * progress
            )
            if rng.random() < sure_share:
                wrong = rng.random() < _CLASSIFIER_WRONG
                filed = rng.choice(self._confusable[category.slug]) if wrong else category
                note = f"Classifier v{version}: {filed.name} ({rng.uniform(0.6, 0.99):.2f})"
                steps.append(
                    (created, _EVENT, _SYSTEM, "ticket.category_changed", "category", "",
                     filed.name, note)
                )  # fmt: skip
                # The lead of the team it wrongly landed with moves it.
                return (filed.team.lead.id, filed.name) if wrong else None
            guess = rng.choice([category, *self._confusable[category.slug]])
            reason = (
                f"classifier v{version} unsure: {guess.name} ({rng.uniform(0.3, 0.6):.2f}) "
                "is below 0.60"
            )
        else:
            reason = "no trained classifier"
        steps.append(
            (created, _EVENT, _SYSTEM, "ticket.triage_needed", "needs_triage", "False", "True",
             f"Needs triage: {reason}; no keyword rule matched")
        )  # fmt: skip
        return category.team.lead.id, ""

    def _priority(self, category: CategoryInfo, customer: CustomerInfo) -> str:
        draw = self._rng.random()
        boost = _TIER_URGENCY[customer.support_tier]
        if draw < category.urgent * boost:
            return _URGENT
        if draw < (category.urgent + category.high) * boost:
            return _HIGH
        if draw > 0.8:
            return _LOW
        return _NORMAL

    # --- playing the plan into rows -------------------------------------------

    def _play(
        self,
        chunk: Chunk,
        steps: list[tuple],
        created: int,
        subject: str,
        description: str,
        customer: CustomerInfo,
        category: CategoryInfo,
        priority: str,
        channel: str,
        reply_channel: str,
        creator: int,
    ) -> None:
        """Apply the steps that happened by now, writing the rows the services
        would have written (same actions, fields and values)."""
        stamp = self._stamp
        now = self._now
        ticket_id = self._ticket_id
        self._ticket_id += 1
        messages = chunk.messages
        events = chunk.events
        message_id = self._message_id
        event_id = self._event_id
        email = channel == _EMAIL
        inbound_domain = "mail." + customer.domain

        def event(at: str, actor: int | None, action: str, field: str = "", old: str = "",
                  new: str = "", note: str = "") -> None:  # fmt: skip
            nonlocal event_id
            events.append((event_id, ticket_id, actor, action, field, old, new, note, at))
            event_id += 1

        # (time, assignee) of each solve, and the time of each reopen after one:
        # the survey rounds.
        solves: list[tuple[int, AgentInfo | None]] = []
        reopens: list[int] = []

        def status_to(moment: int, at: str, actor: int | None, new: str) -> None:
            nonlocal status, solved_at, closed_at
            if new == status:
                return
            reopen = new == _OPEN and status == _SOLVED
            action = "ticket.reopened" if reopen else "ticket.status_changed"
            event(at, actor, action, "status", status, new)
            if reopen:
                reopens.append(moment)
            if new == _SOLVED:
                solves.append((moment, assignee))
                solved_at = at
            elif new == _CLOSED:
                closed_at = at
            elif status == _SOLVED:
                solved_at = None
            status = new

        created_at = stamp(created)
        messages.append((
            message_id, ticket_id, customer.id, False, channel, description,
            f"<{message_id}.{ticket_id}@{inbound_domain}>" if email else "", created_at,
        ))  # fmt: skip
        message_id += 1
        event(created_at, creator, "ticket.created", new=channel)

        status = _NEW
        assignee: AgentInfo | None = None
        tier = category.required_tier
        acknowledged_at = first_response_at = solved_at = closed_at = None
        updated = created
        for step in steps:
            t = step[0]
            if t > now:
                break
            at = stamp(t)
            kind = step[1]
            if kind == _REPLY:
                author: AgentInfo | None = step[2]
                wanted: str | None = step[4]
                if author is None:
                    author_id = customer.id
                    mail_id = f"<{message_id}.{ticket_id}@{inbound_domain}>"
                else:
                    author_id = author.id
                    mail_id = f"<HD-{ticket_id}.{message_id}@{_SENDER_DOMAIN}>"
                # Agents reply in the workspace (the customer gets it by
                # e-mail); customers by the channel they wrote in.
                messages.append((
                    message_id, ticket_id, author_id, False,
                    reply_channel if author is None else _BY_AGENT, step[3],
                    mail_id if email else "", at,
                ))  # fmt: skip
                event(at, author_id, "ticket.replied", new=str(message_id))
                message_id += 1
                if author is not None and first_response_at is None:
                    first_response_at = at
                    event(at, author_id, "ticket.first_response")
                if wanted is not None:
                    status_to(t, at, author_id, wanted)
            elif kind == _NOTE:
                author_id = step[2].id
                messages.append(
                    (message_id, ticket_id, author_id, True, _BY_AGENT, step[3], "", at)
                )
                event(at, author_id, "ticket.note_added", new=str(message_id))
                message_id += 1
            elif kind == _ASSIGN:
                new_assignee: AgentInfo = step[3]
                event(at, step[2], "ticket.assigned", "assignee",
                      assignee.email if assignee else "", new_assignee.email)  # fmt: skip
                assignee = new_assignee
            elif kind == _STATUS:
                status_to(t, at, step[2], step[3])
            elif kind == _TIER:
                event(at, step[2].id, "ticket.tier_changed", "tier", str(tier), str(step[3]))
                tier = step[3]
                # The escalation record escalation_manual writes with the move.
                chunk.escalations.append((
                    self._escalation_id, ticket_id, _MANUAL, "", "", 0, None, tier, step[2].id,
                    step[4][:500], json.dumps([f"tier \u2192 {tier}"]), at,
                ))  # fmt: skip
                self._escalation_id += 1
            elif kind == _EVENT:
                event(at, *step[2:])
            else:
                acknowledged_at = at
                event(at, _SYSTEM, "ticket.acknowledged", note="Acknowledgement e-mailed")
            updated = t

        chunk.tickets.append((
            ticket_id, subject, description, customer.id, customer.organization_id, channel,
            status, priority, category.id, tier, category.team.id,
            assignee.id if assignee else None, created_at, stamp(updated), acknowledged_at,
            first_response_at, solved_at, closed_at,
        ))  # fmt: skip
        self._message_id = message_id
        self._event_id = event_id
        if self._surveys is not None and solves:
            self._surveys.ticket(
                chunk,
                ticket_id=ticket_id,
                customer_id=customer.id,
                team_id=category.team.id,
                created=created,
                solves=solves,
                reopens=reopens,
            )


def _when(step: tuple) -> int:
    return step[0]


def _lognormal(rng: random.Random, before: float, after: float, f: float, sigma: float) -> float:
    """A duration whose median moves from `before` to `after` as the helpdesk
    improves (f from 0 to 1), interpolated on a log scale."""
    median = math.exp(math.log(before) * (1.0 - f) + math.log(after) * f)
    return rng.lognormvariate(math.log(median), sigma)
