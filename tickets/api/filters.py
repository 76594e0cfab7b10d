"""Query parameters of the list endpoints, validated before any query runs.

A bad value answers 400 naming the parameter (through the exception handler)
instead of being ignored: a client that misspells a status should not get
every ticket back and think the filter worked. The ticket filters are applied
by tickets.queues.apply_filters, the same code as the agent workspace's
queues, so every filter here is served by an index on Ticket.
"""

from __future__ import annotations

from django.http import QueryDict
from rest_framework import serializers

from core.inputs import BIGINT_MAX, parse_id
from tickets import queues
from tickets.api.pagination import BAD_CURSOR, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from tickets.api.serializers import SlugOrIdField
from tickets.errors import DomainError
from tickets.models import AgentTier, Category, Channel, Priority, Status, SupportTier, Team

ASSIGNEE_HELP = 'Use "me", "none" or an agent id.'

# Filters on what the helpdesk knows of a ticket and its customer but does not
# show the customer (the history of SLA breaches, escalations and reopenings,
# the organisation's support tier): a customer's list refuses them (403), as
# the customers' web list offers none of them.
STAFF_ONLY_FILTERS = ("customer_tier", "sla_breached", "escalated", "escalation_kind", "reopened")
_ESCALATION = "an SLA breach, a hand-over to a higher tier or a customer escalation"


class ChoiceListField(serializers.ListField):
    """Several choices, repeated (`?status=new&status=open`) or comma-separated
    (`?status=new,open`)."""

    def __init__(self, *, choices, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=choices), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        if isinstance(data, list):
            data = [part.strip() for item in data for part in str(item).split(",")]
            data = [part for part in data if part]
        return super().to_internal_value(data)


class PageParamsSerializer(serializers.Serializer):
    cursor = serializers.RegexField(
        queues.CURSOR_PATTERN,
        required=False,
        max_length=40,
        help_text="From the `next` link of the previous page.",
        error_messages={"invalid": BAD_CURSOR},
    )
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=f"Default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}.",
    )


class TicketListParamsSerializer(PageParamsSerializer):
    status = ChoiceListField(choices=Status.choices, required=False)
    priority = ChoiceListField(choices=Priority.choices, required=False)
    category = SlugOrIdField(queryset=Category.objects.all(), required=False)
    team = SlugOrIdField(queryset=Team.objects.all(), required=False)
    assignee = serializers.RegexField(
        r"^(me|none|[1-9][0-9]{0,17})$",
        required=False,
        help_text='"me", "none" (unassigned) or an agent\'s id.',
        error_messages={"invalid": ASSIGNEE_HELP},
    )
    organization = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
    tier = serializers.ChoiceField(choices=AgentTier.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    tag = serializers.CharField(required=False, max_length=50)
    created_from = serializers.DateField(required=False, help_text="First day, inclusive.")
    created_to = serializers.DateField(required=False, help_text="Last day, inclusive.")
    updated_from = serializers.DateField(required=False)
    updated_to = serializers.DateField(required=False)
    solved_from = serializers.DateField(
        required=False,
        help_text="First day of the final solve (`solved_at`), inclusive: a ticket "
        "reopened since has none.",
    )
    solved_to = serializers.DateField(
        required=False, help_text="Last day of the final solve, inclusive."
    )
    customer_tier = serializers.ChoiceField(
        choices=SupportTier.choices,
        required=False,
        help_text="Staff only. The support tier of the ticket's organisation; a "
        "ticket without an organisation counts as basic, as its SLA does.",
    )
    sla_breached = serializers.ChoiceField(
        choices=list(queues.SLA_BREACHED_CHOICES.items()),
        required=False,
        help_text="Staff only. Tickets whose history records a breach of this SLA "
        "target (`any`: of any target).",
    )
    escalated = serializers.ChoiceField(
        choices=list(queues.YES_NO_CHOICES.items()),
        required=False,
        help_text=f"Staff only. `yes`: escalated by {_ESCALATION}; `no`: never. "
        "A link to a major incident is not counted.",
    )
    escalation_kind = serializers.ChoiceField(
        choices=[(kind, label) for kind, (_, label) in queues.ESCALATION_KINDS.items()],
        required=False,
        help_text="Staff only. Escalated this way (implies `escalated=yes`); with "
        "`escalated=no` it is a 400.",
    )
    reopened = serializers.ChoiceField(
        choices=list(queues.YES_NO_CHOICES.items()),
        required=False,
        help_text="Staff only. `yes`: reopened after being solved at least once; `no`: never.",
    )
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Full-text search (key, subject, public conversation): the best "
        "`page_size` matches come back in one page, most relevant first unless `sort` "
        "orders them, and `next` is null (with a `cursor`, the page after it is empty).",
    )
    sort = serializers.ChoiceField(
        choices=list(queues.SORTS),
        required=False,
        help_text=f"Default {queues.DEFAULT_SORT} (with `q`: most relevant first).",
    )

    def validate_assignee(self, value: str) -> str | int:
        if value in ("me", "none"):
            return value
        agent_id = parse_id(value)
        if agent_id is None:
            raise serializers.ValidationError(ASSIGNEE_HELP)
        return agent_id

    def validate(self, data):
        # The same rules as the workspace's filter form.
        conflicts = queues.filter_conflicts(data)
        if conflicts:
            raise serializers.ValidationError(conflicts)
        return data


def refuse_staff_only_filters(params: dict) -> None:
    """For a customer's list: a DomainError (403 naming the parameter) when
    `params` holds a staff-only filter."""
    for name in STAFF_ONLY_FILTERS:
        if params.get(name):
            raise DomainError(
                f"Only helpdesk staff can filter by {name}.",
                field=name,
                code="permission_denied",
            )


def _without_blanks(params: QueryDict) -> QueryDict:
    """Empty parameters (`?status=&q=`, as HTML forms send them) mean "no filter"."""
    kept = QueryDict(mutable=True)
    for name in params:
        values = [value for value in params.getlist(name) if value.strip()]
        if values:
            kept.setlist(name, values)
    return kept


def parse_params(serializer_class: type[serializers.Serializer], params: QueryDict) -> dict:
    """The validated query parameters, or a ValidationError (400) naming the bad ones."""
    serializer = serializer_class(data=_without_blanks(params))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
