from django import forms

from tickets.models import Status, User


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


class TicketCreateForm(forms.Form):
    subject = forms.CharField(max_length=250)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField()


class ReplyForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 5}))
    is_internal = forms.BooleanField(label="Internal note (staff only)", required=False)
    status = forms.ChoiceField(
        label="Then set status",
        choices=[("", "— keep —"), *Status.choices],
        required=False,
    )
    attachments = MultipleFileField()


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="— unassigned —"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, role__in=["agent", "manager"]
        ).order_by("full_name")
        self.fields["assignee"].label_from_instance = lambda user: user.full_name


class TicketListFilter(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "All open"), ("all", "Any status"), *Status.choices], required=False
    )
    before = forms.IntegerField(required=False, min_value=1)
