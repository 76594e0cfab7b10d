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
    unit = serializers.ChoiceField(
        choices=["h", "%", "nps", "ces"],
        help_text=(
            "h (hours), % (percent), nps (Net Promoter Score, -100..100) or ces (mean "
            "Customer Effort Score, 1 very hard .. 7 very easy)."
        ),
    )
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True, help_text="The period as long just before.")
    change = serializers.FloatField(
        allow_null=True, help_text="Hours, percentage points or score points."
    )
    target = serializers.CharField(
        source="target_label", allow_null=True, help_text="Null: no target set (NPS, CES)."
    )
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
    csat_answers = serializers.IntegerField(
        help_text="CSAT answers in the range credited to the agent (who solved that round)."
    )
    csat = serializers.FloatField(allow_null=True, help_text="Share rated 4-5, 0..1.")
    csat_average = serializers.FloatField(allow_null=True, help_text="Mean rating, 1..5.")


class CSATSerializer(serializers.Serializer):
    answers = serializers.IntegerField()
    satisfied = serializers.IntegerField(help_text="Answers rated 4 or 5.")
    rate = serializers.FloatField(allow_null=True, help_text="Share rated 4-5, 0..1.")
    average = serializers.FloatField(allow_null=True, help_text="Mean rating, 1..5.")


class CESSerializer(serializers.Serializer):
    answers = serializers.IntegerField(help_text="Answers with an effort score.")
    average = serializers.FloatField(
        allow_null=True, help_text="Mean score, 1 very hard .. 7 very easy."
    )


class NPSSerializer(serializers.Serializer):
    defined = serializers.BooleanField(
        help_text="False with a team, category, channel, priority or agent filter: NPS "
        "answers belong to customers, not tickets."
    )
    answers = serializers.IntegerField()
    promoters = serializers.IntegerField(help_text="Scores 9-10.")
    passives = serializers.IntegerField(help_text="Scores 7-8.")
    detractors = serializers.IntegerField(help_text="Scores 0-6.")
    score = serializers.FloatField(
        allow_null=True, help_text="% promoters minus % detractors, -100..100."
    )


class SatisfactionSerializer(serializers.Serializer):
    csat = CSATSerializer()
    ces = CESSerializer()
    nps = NPSSerializer()
    bad_ratings_awaiting_follow_up = serializers.IntegerField(
        allow_null=True,
        help_text="Bad ratings (1-2) nobody followed up yet, whenever given; null for agents.",
    )


class CSATMonthSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="First day of the month (settings time zone).")
    csat = CSATSerializer()


class DashboardSerializer(serializers.Serializer):
    figures_as_of = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "When the ticket facts behind the ticket figures were last brought up to date "
            "(every minute by the worker); null before they were ever computed."
        ),
    )
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
    satisfaction = SatisfactionSerializer(help_text="Answers given in the range.")
    csat_by_month = CSATMonthSerializer(many=True)


def _csat(found) -> dict:
    return {
        "answers": found.answers,
        "satisfied": found.satisfied,
        "rate": found.rate.value,
        "average": found.average,
    }


def _compliance(by_target) -> dict:
    return {
        target: {"met": c.met, "breached": c.breached, "rate": c.rate}
        for target, c in by_target.items()
    }


def _output(figures: DashboardFigures) -> dict:
    escalations = figures.escalations
    return {
        "figures_as_of": figures.facts_as_of,
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
        "satisfaction": {
            "csat": _csat(figures.satisfaction.csat),
            "ces": {
                "answers": figures.satisfaction.ces.answers,
                "average": figures.satisfaction.ces.average,
            },
            "nps": {
                "defined": figures.satisfaction.nps.defined,
                "answers": figures.satisfaction.nps.answers,
                "promoters": figures.satisfaction.nps.promoters,
                "passives": figures.satisfaction.nps.passives,
                "detractors": figures.satisfaction.nps.detractors,
                "score": figures.satisfaction.nps.score,
            },
            "bad_ratings_awaiting_follow_up": figures.follow_up,
        },
        "csat_by_month": [
            {"month": row.period_start, "csat": _csat(row.csat)} for row in figures.csat_by_month
        ],
    }


class DashboardApi(ApiView):
    @extend_schema(
        operation_id="analytics_dashboard",
        summary="Manager dashboard figures (staff only)",
        description=(
            "The dashboard's figures for a date range and filters: headline figures against "
            "the targets with the change vs the previous period of the same length, tickets "
            "created vs solved, category mix, tickets by weekday x hour, backlog aging, SLA "
            "compliance by customer tier, escalations, per-agent figures with their CSAT, and "
            "satisfaction (CSAT, NPS, CES, CSAT by month). Managers see "
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
