"""Canned responses: which ones an agent may use, and their placeholders."""

import re

from django.db.models import Q, QuerySet

from tickets.models import CannedResponse, Ticket, User

# The placeholders a canned response may use, with what each stands for.
PLACEHOLDERS = {
    "requester_name": "the requester's full name",
    "requester_first_name": "the requester's first name",
    "ticket_key": "the ticket key, e.g. HD-1042",
    "ticket_subject": "the ticket's subject",
    "organization": "the requester's organisation",
    "agent_name": "your name",
    "agent_first_name": "your first name",
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def canned_responses_for(user: User) -> QuerySet[CannedResponse]:
    """The agent's personal responses and those of their teams."""
    return CannedResponse.objects.filter(
        Q(owner_id=user.pk) | Q(team__in=user.teams.all())
    ).order_by("title")


def render_canned(body: str, *, ticket: Ticket, agent: User) -> str:
    """Fill the placeholders; unknown ones are left as typed so a typo shows."""
    values = {
        "requester_name": ticket.requester.full_name,
        "requester_first_name": ticket.requester.get_short_name(),
        "ticket_key": ticket.key,
        "ticket_subject": ticket.subject,
        "organization": ticket.organization.name if ticket.organization else "",
        "agent_name": agent.full_name,
        "agent_first_name": agent.get_short_name(),
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)
