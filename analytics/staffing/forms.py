"""The staffing page's filters and "what if" input (GET parameters), shared by
the page and its CSV export; the API validates the same fields with
analytics.staffing.api.ParamsSerializer."""

from __future__ import annotations

from typing import cast

from django import forms

from analytics.staffing.selectors import Filters, Scope
from tickets.models import Category, Channel

WHAT_IF_MIN = -90
WHAT_IF_MAX = 500
ALL = ""


class StaffingForm(forms.Form):
    team = forms.ChoiceField(required=False)
    category = forms.ChoiceField(required=False)
    channel = forms.ChoiceField(choices=[(ALL, "All channels"), *Channel.choices], required=False)
    what_if = forms.DecimalField(
        label="What if volume changes by (%)",
        required=False,
        min_value=WHAT_IF_MIN,
        max_value=WHAT_IF_MAX,
        decimal_places=1,
        max_digits=5,
        help_text=f"From {WHAT_IF_MIN} to {WHAT_IF_MAX}; e.g. 20 for 20 % more tickets.",
    )
    week = forms.ChoiceField(
        choices=[("1", "Next 7 days"), ("2", "The 7 days after")], required=False
    )

    def __init__(self, data, *, scope: Scope, categories: list[Category]):
        super().__init__(data)
        self.scope = scope
        everyone = "All teams" if scope.sees_all else "All my teams"
        team_field = cast(forms.ChoiceField, self.fields["team"])
        team_field.choices = [(ALL, everyone)] + [(t.slug, t.name) for t in scope.teams]
        # The list read once for the page's select also validates the input.
        category_field = cast(forms.ChoiceField, self.fields["category"])
        category_field.choices = [(ALL, "All categories")] + [(c.slug, c.name) for c in categories]
        self.categories = {c.slug: c for c in categories}

    def filters(self) -> Filters:
        data = self.cleaned_data
        teams = {t.slug: t.pk for t in self.scope.teams}
        if data.get("team"):
            team_ids: list[int] | None = [teams[data["team"]]]
        elif self.scope.sees_all:
            team_ids = None
        else:
            team_ids = list(teams.values())
        category = self.categories.get(data.get("category") or "")
        return Filters(
            team_ids=team_ids,
            category_id=category.pk if category else None,
            channel=data.get("channel") or None,
        )

    def what_if_percent(self) -> float:
        value = self.cleaned_data.get("what_if")
        return float(value) if value is not None else 0.0

    def chosen_week(self) -> int:
        return int(self.cleaned_data.get("week") or 1)
