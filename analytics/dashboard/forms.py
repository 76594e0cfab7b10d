"""The dashboard's filters (GET parameters), shared by the page, the CSV export
and the API. Bad input is a form error (the page shows it with a 400, the API
answers 400 JSON), never a 500.

The choices offered are the viewer's: an agent may pick only their own teams
and only themselves as the agent, so a hand-written URL asking for a
colleague is refused as an invalid choice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import cast

from django import forms
from django.utils import timezone

from analytics.dashboard.access import Viewer
from analytics.dashboard.figures import Selection
from analytics.metrics.volume import Period
from tickets.models import ASSIGNABLE_ROLES, Category, Channel, Priority, SupportTier, User

PRESETS = {"7": 7, "30": 30, "90": 90, "365": 365}
CUSTOM = "custom"
# The longest custom range: two years keeps the trend and the previous period
# (as long again) within what the metrics read quickly.
MAX_DAYS = 731
ALL = ""


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def auto_period(days: int) -> Period:
    """The trend's default step: a readable number of points for the range."""
    if days <= 31:
        return "day"
    if days <= 183:
        return "week"
    return "month"


# The range shown when none is chosen.
DEFAULT_RANGE = "30"


class DashboardForm(forms.Form):
    range = forms.ChoiceField(
        label="Date range",
        choices=[
            ("7", "Last 7 days"),
            ("30", "Last 30 days"),
            ("90", "Last 90 days"),
            ("365", "Last 365 days"),
            (CUSTOM, "Custom"),
        ],
        required=False,
    )
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To (included)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period = forms.ChoiceField(
        label="Trend by",
        choices=[(ALL, "Automatic"), ("day", "Day"), ("week", "Week"), ("month", "Month")],
        required=False,
    )
    team = forms.ChoiceField(required=False)
    category = forms.ChoiceField(required=False)
    tier = forms.ChoiceField(
        label="Customer tier",
        choices=[(ALL, "All tiers"), *SupportTier.choices],
        required=False,
    )
    channel = forms.ChoiceField(choices=[(ALL, "All channels"), *Channel.choices], required=False)
    priority = forms.ChoiceField(
        choices=[(ALL, "All priorities"), *Priority.choices], required=False
    )
    agent = forms.ChoiceField(required=False)

    def __init__(self, data, *, viewer: Viewer, today: date):
        # Bound with the default range when none is given, so the page's range
        # menu shows the range its figures are for (not its first choice), for
        # the page, its CSV and the API alike.
        if not data.get("range"):
            data = data.copy()
            data["range"] = DEFAULT_RANGE
        super().__init__(data)
        self.viewer = viewer
        self.today = today
        self.teams = {team.slug: team for team in viewer.teams}
        team_field = cast(forms.ChoiceField, self.fields["team"])
        everyone = "All teams" if viewer.sees_everyone else "All my teams"
        team_field.choices = [(ALL, everyone)] + [(t.slug, t.name) for t in viewer.teams]
        self.categories = {c.slug: c for c in Category.objects.order_by("name")}
        category_field = cast(forms.ChoiceField, self.fields["category"])
        category_field.choices = [(ALL, "All categories")] + [
            (c.slug, c.name) for c in self.categories.values()
        ]
        agents = User.objects.filter(role__in=ASSIGNABLE_ROLES).order_by("full_name", "pk")
        if not viewer.sees_everyone:
            agents = agents.filter(pk=viewer.user_id)
        agent_field = cast(forms.ChoiceField, self.fields["agent"])
        agent_field.choices = [(ALL, "All agents" if viewer.sees_everyone else "My team")] + [
            (str(pk), name or f"Agent {pk}") for pk, name in agents.values_list("pk", "full_name")
        ]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("range") == CUSTOM:
            start, end = data.get("start"), data.get("end")
            if start is None and "start" not in self.errors:
                self.add_error("start", "Choose the first day of a custom range.")
            if end is None and "end" not in self.errors:
                self.add_error("end", "Choose the last day of a custom range.")
            if start is not None and end is not None:
                if start > end:
                    self.add_error("end", "The last day must not be before the first.")
                elif (end - start).days + 1 > MAX_DAYS:
                    self.add_error("end", f"A range may cover at most {MAX_DAYS} days.")
        return data

    def selection(self) -> Selection:
        """The validated choice; call after is_valid()."""
        data = self.cleaned_data
        chosen = data["range"]
        if chosen == CUSTOM:
            start_date, end_date = data["start"], data["end"]
        else:
            end_date = self.today
            start_date = end_date - timedelta(days=PRESETS[chosen] - 1)
        days = (end_date - start_date).days + 1
        team = self.teams.get(data.get("team") or "")
        category = self.categories.get(data.get("category") or "")
        return Selection(
            start=_day_start(start_date),
            end=_day_start(end_date + timedelta(days=1)),
            start_date=start_date,
            end_date=end_date,
            period=cast(Period, data.get("period") or auto_period(days)),
            team_id=team.pk if team else None,
            category_id=category.pk if category else None,
            customer_tier=data.get("tier") or None,
            channel=data.get("channel") or None,
            priority=data.get("priority") or None,
            agent_id=int(data["agent"]) if data.get("agent") else None,
        )

    def error_text(self) -> str:
        return "; ".join(
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in self.errors.items()
        )
