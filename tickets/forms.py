from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from django import forms

from core.inputs import BIGINT_MAX, parse_id
from tickets import widgets as fast
from tickets.errors import DomainError
from tickets.models import (
    AgentTier,
    Category,
    Channel,
    Organization,
    Priority,
    Status,
    SupportTier,
    Team,
    User,
)
from tickets.queues import ESCALATION_KINDS, SLA_BREACHED_CHOICES, YES_NO_CHOICES, filter_conflicts
from tickets.reference import workspace_reference

T = TypeVar("T")


class ServiceForm(forms.Form):
    """A form whose data goes to a service. `run` is the one place where an
    HTML form turns a service's refusal (DomainError) into what the person
    sees: an error on the field it names, else above the form. After a
    refusal `form.errors` is set, so the view re-renders the form (400)."""

    refusal: DomainError | None = None

    def run(self, service: Callable[..., T], /, **kwargs: Any) -> T | None:
        try:
            return service(**kwargs)
        except DomainError as exc:
            self.refusal = exc
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
            return None


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; size and type are checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class TicketCreateForm(ServiceForm):
    subject = forms.CharField(max_length=250)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField()


class AgentTicketCreateForm(TicketCreateForm):
    """An agent opening a ticket on a customer's behalf (phone, chat)."""

    requester = forms.EmailField(label="Customer's e-mail")
    priority = forms.ChoiceField(
        choices=[("", "Let intake decide"), *Priority.choices], required=False
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(), required=False, empty_label="Let intake decide"
    )
    field_order = ["requester", "subject", "description", "priority", "category", "attachments"]

    def clean_requester(self):
        email = self.cleaned_data["requester"].strip().lower()
        customer = User.objects.filter(email=email, role="customer", is_active=True).first()
        if customer is None:
            raise forms.ValidationError("No active customer has this e-mail address.")
        return customer


class ReplyForm(ServiceForm):
    """Reply or internal note. Its ids start with "reply_" because the ticket
    page also has a status form with a "status" field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "reply_%s")
        super().__init__(*args, **kwargs)

    # Python-rendered widgets (tickets.widgets): the ticket page shows this
    # form on every view.
    body = forms.CharField(label="Message", widget=fast.Textarea(attrs={"rows": 5}))
    is_internal = forms.BooleanField(
        label="Internal note (staff only)", required=False, widget=fast.CheckboxInput
    )
    status = forms.ChoiceField(
        label="Then set status",
        choices=[("", "— keep —"), *Status.choices],
        required=False,
        widget=fast.Select,
    )
    attachments = MultipleFileField()
    version = forms.CharField(widget=fast.HiddenInput, required=False)
    # Set by the page when the agent chose to send despite a newer change.
    confirm_stale = forms.BooleanField(widget=fast.HiddenInput, required=False)


class StatusForm(ServiceForm):
    status = forms.ChoiceField(choices=Status.choices)


class AssignForm(ServiceForm):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="— unassigned —"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The field declared above (each form holds its own copy of it).
        assignee = cast(forms.ModelChoiceField, self.fields["assignee"])
        assignee.queryset = User.objects.assignable().order_by("full_name")
        self.fields["assignee"].widget.choices = [
            ("", "— unassigned —"),
            *workspace_reference().agents,
        ]


class TicketListFilter(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "All open"), ("all", "Any status"), *Status.choices], required=False
    )
    before = forms.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)


YES_NO = [("", "Any"), *YES_NO_CHOICES.items()]


class QueueFilterForm(forms.Form):
    """Filters and sort of the agent's ticket lists. Every field is optional;
    bad values are reported on the page instead of being ignored. Rendered on
    every queue view, hence the Python-rendered widgets (tickets.widgets)."""

    status = forms.MultipleChoiceField(
        choices=Status.choices, required=False, widget=fast.SelectMultiple
    )
    priority = forms.MultipleChoiceField(
        choices=Priority.choices, required=False, widget=fast.SelectMultiple
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(), required=False, empty_label="Any", widget=fast.Select
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="Any", widget=fast.Select
    )
    assignee = forms.CharField(
        required=False, help_text='"me", "none" or an agent id', widget=fast.TextInput
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.all(), required=False, widget=fast.NumberInput
    )
    tier = forms.TypedChoiceField(
        choices=[("", "Any"), *AgentTier.choices],
        coerce=int,
        required=False,
        empty_value=None,
        widget=fast.Select,
    )
    channel = forms.ChoiceField(
        choices=[("", "Any"), *Channel.choices], required=False, widget=fast.Select
    )
    tag = forms.CharField(required=False, max_length=50, widget=fast.TextInput)
    created_from = forms.DateField(required=False, widget=fast.DateInput)
    created_to = forms.DateField(required=False, widget=fast.DateInput)
    updated_from = forms.DateField(required=False, widget=fast.DateInput)
    updated_to = forms.DateField(required=False, widget=fast.DateInput)
    # Final solve day (Ticket.solved_at): pair with the "any status" queue.
    solved_from = forms.DateField(required=False, widget=fast.DateInput)
    solved_to = forms.DateField(required=False, widget=fast.DateInput)
    customer_tier = forms.ChoiceField(
        choices=[("", "Any"), *SupportTier.choices],
        required=False,
        help_text="Of the organisation; no organisation counts as basic",
        widget=fast.Select,
    )
    sla_breached = forms.ChoiceField(
        label="SLA breached",
        choices=[("", "Any"), *SLA_BREACHED_CHOICES.items()],
        required=False,
        widget=fast.Select,
    )
    escalated = forms.ChoiceField(choices=YES_NO, required=False, widget=fast.Select)
    escalation_kind = forms.ChoiceField(
        choices=[("", "Any"), *((kind, label) for kind, (_, label) in ESCALATION_KINDS.items())],
        required=False,
        widget=fast.Select,
    )
    reopened = forms.ChoiceField(choices=YES_NO, required=False, widget=fast.Select)
    sort = forms.ChoiceField(
        choices=[
            ("newest", "Newest"),
            ("oldest", "Oldest"),
            ("updated", "Recently updated"),
            ("least_updated", "Least recently updated"),
            ("due", "SLA due soonest"),
        ],
        required=False,
        widget=fast.Select,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The selects list the cached rows; validation still asks the database.
        reference = workspace_reference()
        self.fields["category"].widget.choices = [("", "Any"), *reference.categories]
        self.fields["team"].widget.choices = [("", "Any"), *reference.teams]

    def clean_assignee(self):
        value = (self.cleaned_data.get("assignee") or "").strip().lower()
        if value in ("", "me", "none"):
            return value
        agent_id = parse_id(value)
        if agent_id is None:
            raise forms.ValidationError('Use "me", "none" or an agent id.')
        return agent_id

    def clean(self):
        # Form.clean returns self.cleaned_data, never None.
        data = cast(dict[str, Any], super().clean())
        for field, message in filter_conflicts(data).items():
            self.add_error(field, message)
        return data


class PropertiesForm(ServiceForm):
    """The ticket page's properties panel, edited in place."""

    version = forms.CharField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=Status.choices, widget=fast.Select)
    priority = forms.ChoiceField(choices=Priority.choices, widget=fast.Select)
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(), required=False, empty_label="— none —", widget=fast.Select
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="— none —", widget=fast.Select
    )
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="— unassigned —",
        widget=fast.Select,
    )
    tags = forms.CharField(
        required=False, max_length=500, help_text="Comma-separated", widget=fast.TextInput
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "prop_%s")
        super().__init__(*args, **kwargs)
        # The field declared above (each form holds its own copy of it).
        assignee = cast(forms.ModelChoiceField, self.fields["assignee"])
        assignee.queryset = User.objects.assignable().order_by("full_name")
        # The selects list the cached rows; validation still asks the database.
        reference = workspace_reference()
        for name, rows, empty in (
            ("category", reference.categories, "— none —"),
            ("team", reference.teams, "— none —"),
            ("assignee", reference.agents, "— unassigned —"),
        ):
            self.fields[name].widget.choices = [("", empty), *rows]


class SearchForm(forms.Form):
    """The search box (top bar and search page)."""

    q = forms.CharField(required=False, max_length=200, strip=True)


class TicketKeyForm(ServiceForm):
    """A form that names another ticket by its key (link to parent, merge into)."""

    key = forms.CharField(max_length=30, widget=fast.TextInput)


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80)
    query = forms.CharField(max_length=1000, widget=forms.HiddenInput)
