"""The dashboard's figures in the REST API: the same read (analytics.dashboard.
figures) and the same filters (analytics.dashboard.forms.DashboardForm) as the
page, as JSON. Same access: managers everything, agents their teams' totals and
their own row, anyone else a 404. Errors, authentication and throttling are the
tickets API's (tickets.api)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from analytics.dashboard.access import dashboard_viewer
from analytics.dashboard.figures import DashboardFigures, dashboard_figures
from analytics.dashboard.forms import MAX_DAYS, DashboardForm
from tickets.api.serializers import ErrorSerializer
from tickets.api.views import ApiView
from tickets.models import Channel, Priority, SupportTier
from tickets.selectors import logged_in_user


class ParamsSerializer(serializers.Serializer):
    """The query parameters, for the schema; DashboardForm validates them."""

    range = serializers.ChoiceField(
        choices=["7", "30", "90", "365", "custom"],
        required=False,
        help_text="Last N days up to today (default 30), or custom with start and end.",
    )
    start = serializers.DateField(required=False, help_text="First day of a custom range.")
    end = serializers.DateField(
        required=False,
        help_text=f"Last day (included) of a custom range; at most {MAX_DAYS} days.",
    )
    period = serializers.ChoiceField(
        choices=["day", "week", "month"],
        required=False,
        help_text="The trend's step; default chosen by the range's length.",
    )
    team = serializers.SlugField(required=False, help_text="A team's slug (agents: their own).")
    category = serializers.SlugField(required=False, help_text="A category's slug.")
    tier = serializers.ChoiceField(choices=SupportTier.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    agent = serializers.IntegerField(required=False, help_text="An agent's id (agents: their own).")


class CardSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.CharField(help_text="h (hours) or % (percent).")
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True, help_text="The period as long just before.")
    change = serializers.FloatField(allow_null=True, help_text="Hours or percentage points.")
    target = serializers.CharField(source="target_label")
    met = serializers.BooleanField(allow_null=True)
    detail = serializers.CharField()
    sample = serializers.IntegerField()
    basis = serializers.CharField(
        help_text='Durations: "business" (SLA calendar) or "calendar" hours; rates: "".'
    )


class PeriodCountSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    created = serializers.IntegerField()
    solved = serializers.IntegerField()


class CategorySerializer(serializers.Serializer):
    category_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    tickets = serializers.IntegerField()
    share = serializers.FloatField(help_text="Fraction 0..1.")


class ComplianceSerializer(serializers.Serializer):
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="Share met, 0..1.")


class BacklogSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    size = serializers.IntegerField()
    by_age = serializers.DictField(child=serializers.IntegerField())


class EscalationsSerializer(serializers.Serializer):
    escalated = serializers.IntegerField()
    tickets = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    by_kind = serializers.DictField(child=serializers.IntegerField())
    by_tier = serializers.DictField(
        child=serializers.IntegerField(), help_text='Tier moved to; "none": no tier change.'
    )


class AgentSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField()
    name = serializers.CharField()
    tickets_solved = serializers.IntegerField()
    median_business_hours = serializers.FloatField(allow_null=True)
    median_calendar_hours = serializers.FloatField(allow_null=True)
    sla_compliance = serializers.FloatField(allow_null=True)
    sla_breached = serializers.IntegerField()
    reopen_rate = serializers.FloatField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Included.")
    period = serializers.CharField()
    cards = CardSerializer(many=True)
    trend = PeriodCountSerializer(many=True)
    categories = CategorySerializer(many=True)
    hour_by_weekday = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="7 rows (Monday first) of 24 hourly ticket counts.",
    )
    backlog = BacklogSerializer()
    sla_by_customer_tier = serializers.DictField(
        child=serializers.DictField(child=ComplianceSerializer())
    )
    escalations = EscalationsSerializer()
    agents = AgentSerializer(many=True)


def _compliance(by_target) -> dict:
    return {
        target: {"met": c.met, "breached": c.breached, "rate": c.rate}
        for target, c in by_target.items()
    }


def _output(figures: DashboardFigures) -> dict:
    escalations = figures.escalations
    return {
        "start": figures.selection.start_date,
        "end": figures.selection.end_date,
        "period": figures.selection.period,
        "cards": figures.cards,
        "trend": figures.trend,
        "categories": figures.categories,
        "hour_by_weekday": figures.heatmap,
        "backlog": figures.backlog,
        "sla_by_customer_tier": {
            tier: _compliance(by_target) for tier, by_target in figures.sla.by_customer_tier.items()
        },
        "escalations": {
            "escalated": escalations.rate.numerator,
            "tickets": escalations.rate.denominator,
            "rate": escalations.rate.value,
            "by_kind": escalations.by_kind,
            "by_tier": {
                ("none" if tier is None else str(tier)): n
                for tier, n in escalations.by_tier.items()
            },
        },
        "agents": figures.agents,
    }


class DashboardApi(ApiView):
    @extend_schema(
        operation_id="analytics_dashboard",
        summary="Manager dashboard figures (staff only)",
        description=(
            "The dashboard's figures for a date range and filters: headline figures against "
            "the targets with the change vs the previous period of the same length, tickets "
            "created vs solved, category mix, tickets by weekday x hour, backlog aging, SLA "
            "compliance by customer tier, escalations and per-agent figures. Managers see "
            "everything; an agent sees their teams' totals and only their own agent row."
        ),
        parameters=[ParamsSerializer],
        responses={
            200: DashboardSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A bad filter."),
            401: OpenApiResponse(ErrorSerializer, description="No valid credentials."),
            404: OpenApiResponse(ErrorSerializer, description="Not staff."),
        },
    )
    def get(self, request):
        viewer = dashboard_viewer(logged_in_user(request))
        form = DashboardForm(request.query_params, viewer=viewer, today=timezone.localdate())
        if not form.is_valid():
            raise ValidationError(
                {name: [str(error) for error in errors] for name, errors in form.errors.items()}
            )
        figures = dashboard_figures(viewer, form.selection(), now=timezone.now())
        return Response(DashboardSerializer(_output(figures)).data)
