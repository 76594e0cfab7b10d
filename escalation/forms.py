from typing import cast

from django import forms

from tickets import widgets as fast
from tickets.forms import ServiceForm
from tickets.models import AgentTier


class ManualEscalationForm(ServiceForm):
    """An agent hands a ticket to a higher support tier, saying why."""

    # Python-rendered widgets: the form is on every staff ticket page.
    to_tier = forms.TypedChoiceField(coerce=int, label="Escalate to", widget=fast.Select)
    reason = forms.CharField(
        max_length=500,
        widget=fast.Textarea(attrs={"rows": 2}),
        help_text="What was tried, why it needs them.",
    )

    def __init__(self, *args, ticket, **kwargs):
        kwargs.setdefault("auto_id", "esc_%s")
        super().__init__(*args, **kwargs)
        # The field declared above (each form holds its own copy of it).
        to_tier = cast(forms.TypedChoiceField, self.fields["to_tier"])
        to_tier.choices = [
            (value, label) for value, label in AgentTier.choices if value > ticket.tier
        ]
