"""The ticket's history in words: each TicketEvent as a sentence a person reads
("Priority changed from Normal to High — Raised to high: very negative tone").

What is stored stays as it is (dotted action names, raw values, people by
e-mail: the audit trail and analytics read those); only the page changes.
Statuses, priorities, tiers and channels show their labels, people their
names (from the cached staff list, tickets/reference.py), other tickets as
links, and messages as links to where they are on the page. The raw action
stays in the entry's title for those who want it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from tickets.models import AgentTier, Channel, Priority, Status, TicketEvent, parse_ticket_key
from tickets.reference import workspace_reference

register = template.Library()

FIELD_WORDS = {
    "status": "Status",
    "priority": "Priority",
    "category": "Category",
    "team": "Team",
    "tier": "Support tier",
    "assignee": "Assignee",
    "subject": "Subject",
    "tags": "Tags",
    "parent": "Parent ticket",
    "needs_triage": "Triage",
}

# SLA targets (escalation.models.Target; tickets does not import escalation).
TARGET_WORDS = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}

# Kinds of outbound e-mail (OutboundEmail.kind), as the history names them.
MAIL_WORDS = {
    "ticket.acknowledgement": "acknowledgement",
    "ticket.reply": "reply",
    "ticket.merge_notice": "merge notice",
    "sla.warning": "SLA warning",
    "sla.breach": "SLA breach notice",
    "sla.proactive_update": "status update",
    "escalation.customer": "customer escalation notice",
    "incident.opened": "major incident alert",
}

_MAIL_FAILED_NOTE = re.compile(r"^Not sent \((?P<kind>[\w.]+), (?P<attempts>\d+) attempts?\): ")


@dataclass(frozen=True)
class HistoryLine:
    """One entry of the history panel: the sentence (HTML, escaped), who did
    it, and the raw action for the entry's title."""

    event: TicketEvent
    text: SafeString
    actor: str
    raw: str


class _Words:
    """Turns stored values into words; people by name from the staff list."""

    def __init__(self) -> None:
        self.names_by_email = {
            email.lower(): name for name, email in workspace_reference().staff.values()
        }

    def person(self, email: str) -> str:
        return self.names_by_email.get(email.strip().lower(), email)

    def value(self, field: str, raw: str) -> str:
        if field == "status":
            return _label(Status, raw)
        if field == "priority":
            return _label(Priority, raw)
        if field == "channel":
            return _label(Channel, raw)
        if field == "tier":
            return _label(AgentTier, int(raw)) if raw.isdigit() else raw
        if field == "assignee":
            return self.person(raw)
        if field == "needs_triage":
            return {"True": "needed", "False": "not needed"}.get(raw, raw)
        return raw


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _ticket_link(key: str) -> SafeString | str:
    """A ticket key as a link to it (plain text when it is not a key)."""
    if parse_ticket_key(key) is None:
        return key
    return format_html('<a href="{}">{}</a>', reverse("tickets:detail", args=[key]), key)


def _message_link(raw: str, words: str) -> SafeString:
    """A message id as a link to the message on this page (never the raw id)."""
    if not raw.isdigit():
        return escape(words)
    return format_html('<a href="#m{}">{}</a>', raw, words)


def _changed(words: _Words, e: TicketEvent, what: str | None = None) -> SafeString:
    """The general sentence: "<Field> changed from <old> to <new>"."""
    what = what or FIELD_WORDS.get(e.field, e.field.replace("_", " ").capitalize())
    old, new = words.value(e.field, e.old_value), words.value(e.field, e.new_value)
    if old and new:
        return format_html("{} changed from {} to {}", what, old, new)
    if new:
        return format_html("{} set to {}", what, new)
    if old:
        return format_html("{} cleared (was {})", what, old)
    return format_html("{} changed", what)


def _assigned(words: _Words, e: TicketEvent) -> SafeString:
    new, old = words.person(e.new_value), words.person(e.old_value)
    if e.new_value and e.old_value:
        return format_html("Reassigned from {} to {}", old, new)
    if e.new_value:
        return format_html("Assigned to {}", new)
    if e.old_value:
        return format_html("Unassigned (was {})", old)
    return escape("Unassigned")


def _quoted(names: list[str]) -> str:
    return ", ".join(f"\u201c{n}\u201d" for n in names)


def _tags(words: _Words, e: TicketEvent) -> SafeString:
    """Tags before and after (ticket.tags_changed) as what was added and removed."""
    before = [n.strip() for n in e.old_value.split(",") if n.strip()]
    after = [n.strip() for n in e.new_value.split(",") if n.strip()]
    added = [n for n in after if n not in before]
    removed = [n for n in before if n not in after]
    parts = [
        f"{'Tag' if len(names) == 1 else 'Tags'} {_quoted(names)} {verb}"
        for names, verb in ((added, "added"), (removed, "removed"))
        if names
    ]
    return format_html("{}", "; ".join(parts) or "Tags changed")


def _mail_failed(words: _Words, e: TicketEvent) -> SafeString:
    recipient = words.person(e.new_value) if e.new_value else "the recipient"
    match = _MAIL_FAILED_NOTE.match(e.note)
    if match is None:
        return format_html("E-mail to {} could not be sent", recipient)
    kind = MAIL_WORDS.get(match["kind"], "e-mail")
    return format_html(
        "The {} e-mail to {} could not be sent after {} attempts: {}",
        kind,
        recipient,
        match["attempts"],
        e.note[match.end() :],
    )


def _sla(e: TicketEvent) -> SafeString:
    target = TARGET_WORDS.get(e.field, e.field.replace("_", " "))
    if e.action == "sla.breach":
        return format_html("SLA breached: {} was due {}", target, e.new_value)
    return format_html("SLA warning: {} due {}", target, e.new_value)


Describe = Callable[[_Words, TicketEvent], SafeString]

# action -> (sentence, whether the stored note adds to it)
SENTENCES: dict[str, tuple[Describe, bool]] = {
    "ticket.created": (
        lambda w, e: (
            format_html("Ticket opened via {}", w.value("channel", e.new_value))
            if e.new_value
            else escape("Ticket opened")
        ),
        True,
    ),
    "ticket.status_changed": (lambda w, e: _changed(w, e, "Status"), True),
    "ticket.reopened": (
        lambda w, e: format_html("Reopened (was {})", w.value("status", e.old_value)),
        True,
    ),
    "ticket.assigned": (_assigned, True),
    "ticket.unassigned": (_assigned, True),
    "ticket.tags_changed": (_tags, True),
    "ticket.tagged": (lambda w, e: format_html("Tag \u201c{}\u201d added", e.new_value), True),
    "ticket.untagged": (lambda w, e: format_html("Tag \u201c{}\u201d removed", e.old_value), True),
    "ticket.replied": (lambda w, e: _message_link(e.new_value, "Reply added"), True),
    "ticket.note_added": (lambda w, e: _message_link(e.new_value, "Internal note added"), True),
    "ticket.first_response": (lambda w, e: escape("First response sent"), True),
    "ticket.acknowledged": (
        lambda w, e: escape("Acknowledgement e-mailed to the requester"),
        False,
    ),
    "ticket.tier_changed": (lambda w, e: _changed(w, e, "Support tier"), True),
    "ticket.triage_needed": (lambda w, e: escape("Sent to triage"), True),
    "ticket.customer_escalation": (lambda w, e: escape("Escalated by the customer"), True),
    "ticket.linked": (
        lambda w, e: format_html("Linked to parent ticket {}", _ticket_link(e.new_value)),
        True,
    ),
    "ticket.unlinked": (
        lambda w, e: (
            format_html("Unlinked from parent ticket {}", _ticket_link(e.old_value))
            if e.old_value
            else escape("Unlinked from its parent ticket")
        ),
        True,
    ),
    "ticket.child_linked": (
        lambda w, e: format_html("{} linked to this ticket", _ticket_link(e.new_value)),
        True,
    ),
    "ticket.merged_into": (
        lambda w, e: format_html("Merged into {}", _ticket_link(e.new_value)),
        True,
    ),
    "ticket.merged": (
        lambda w, e: format_html("{} merged into this ticket", _ticket_link(e.new_value)),
        True,
    ),
    "sla.warning": (lambda w, e: _sla(e), False),
    "sla.breach": (lambda w, e: _sla(e), False),
    "sla.proactive_update": (
        lambda w, e: escape("Status update e-mailed to the requester"),
        False,
    ),
    "mail.failed": (_mail_failed, False),
}


def describe(words: _Words, e: TicketEvent) -> SafeString:
    """The event as a sentence, with its note after a dash where it adds something."""
    known = SENTENCES.get(e.action)
    if known is not None:
        sentence, with_note = known
        text = sentence(words, e)
    elif e.field:
        # Any other property change (ticket.<field>_changed, from the services
        # and the intake steps), or an action added later.
        text, with_note = _changed(words, e), True
    else:
        action = e.action.split(".", 1)[-1].replace("_", " ")
        text, with_note = format_html("{}", action.capitalize()), True
    if with_note and e.note:
        return format_html("{} \u2014 {}", text, e.note)
    return text


@register.simple_tag
def history_lines(events: Iterable[TicketEvent]) -> list[HistoryLine]:
    """`{% history_lines events as lines %}`: the history panel's entries."""
    words = _Words()
    return [
        HistoryLine(
            event=e,
            text=describe(words, e),
            actor=e.actor.full_name if e.actor is not None else "the system",
            raw=" ".join(
                part
                for part in (
                    e.action,
                    f"{e.field}: {e.old_value or '—'} → {e.new_value or '—'}" if e.field else "",
                )
                if part
            ),
        )
        for e in events
    ]
