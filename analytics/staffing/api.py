"""The staffing plan in the REST API: the figures of the staffing page (both
weeks, one row per hour) with the model, its backtest error and the Erlang C
inputs. Same access as the page: managers every team, agents their own teams,
anyone else a 404. Errors, authentication and throttling are the tickets
API's (tickets.api)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from analytics.staffing import selectors
from analytics.staffing.forecast import MODEL_LABELS
from analytics.staffing.forms import WHAT_IF_MAX, WHAT_IF_MIN
from analytics.staffing.plan import StaffingPlan, staffing_plan
from tickets.api.filters import parse_params
from tickets.api.serializers import ErrorSerializer
from tickets.api.views import ApiView
from tickets.models import Category, Channel
from tickets.selectors import logged_in_user


class ParamsSerializer(serializers.Serializer):
    team = serializers.SlugField(
        required=False, help_text="A team's slug; default every team you may plan for."
    )
    category = serializers.SlugField(required=False, help_text="A category's slug.")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    what_if = serializers.FloatField(
        required=False,
        min_value=WHAT_IF_MIN,
        max_value=WHAT_IF_MAX,
        help_text="Change the forecast volume by this many percent (e.g. 20).",
    )


class HourSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Start of the hour (UTC).")
    local_start = serializers.DateTimeField(help_text="Start of the hour, local time.")
    forecast_tickets = serializers.FloatField(source="forecast")
    planned_tickets = serializers.FloatField(
        source="planned", help_text="The forecast with the what-if change applied."
    )
    workload_tickets = serializers.FloatField(
        source="workload",
        help_text=(
            "Tickets the hour must answer: its arrivals while the SLA calendar is open plus "
            "its share of those that arrived while closed (0 while closed)."
        ),
    )
    open_share = serializers.FloatField(
        help_text="Share of the hour the SLA calendar is open (0 closed .. 1 open)."
    )
    agents_needed = serializers.IntegerField()
    agents_on_shift = serializers.FloatField(source="on_shift")
    gap_agents = serializers.FloatField(source="gap", help_text="Needed minus on shift.")
    service_level = serializers.FloatField(
        help_text="Share answered within the target with agents_needed."
    )


class BacktestSerializer(serializers.Serializer):
    folds = serializers.IntegerField()
    wape = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text="Per model, as a share."
    )
    wape_by_day = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True))
    )
    chosen = serializers.CharField()


class StaffingSerializer(serializers.Serializer):
    model = serializers.CharField()
    model_label = serializers.CharField()
    quality = serializers.CharField(help_text="backtested, short, very_short or empty.")
    notes = serializers.ListField(child=serializers.CharField())
    history_hours = serializers.IntegerField()
    history_tickets = serializers.IntegerField()
    backtest = BacktestSerializer(allow_null=True)
    handling_minutes = serializers.FloatField()
    handling_source = serializers.CharField(help_text="setting, measured or default.")
    measured_handling_minutes = serializers.FloatField(allow_null=True)
    target_minutes = serializers.FloatField()
    target_source = serializers.CharField()
    service_level_goal = serializers.FloatField()
    max_occupancy = serializers.FloatField()
    what_if_percent = serializers.FloatField()
    time_zone = serializers.CharField()
    totals = serializers.DictField(child=serializers.FloatField())
    hours = HourSerializer(many=True)


def _output(plan: StaffingPlan) -> dict:
    predicted = plan.forecast
    return {
        "model": predicted.model,
        "model_label": MODEL_LABELS[predicted.model],
        "quality": predicted.quality,
        "notes": predicted.notes,
        "history_hours": predicted.history_hours,
        "history_tickets": predicted.history_tickets,
        "backtest": predicted.backtest,
        "handling_minutes": plan.handling.minutes,
        "handling_source": plan.handling.source,
        "measured_handling_minutes": plan.handling.measured_minutes,
        "target_minutes": plan.target.minutes,
        "target_source": plan.target.source,
        "service_level_goal": plan.service_level_goal,
        "max_occupancy": plan.max_occupancy,
        "what_if_percent": plan.what_if_percent,
        "time_zone": str(plan.zone),
        "totals": plan.totals,
        "hours": plan.hours,
    }


class StaffingApi(ApiView):
    @extend_schema(
        operation_id="analytics_staffing",
        summary="Staffing plan for the next two weeks (staff only)",
        description=(
            "Tickets forecast per hour from the arrival history (model chosen by a "
            "rolling-origin backtest, WAPE against a seasonal-naive baseline), the agents "
            "Erlang C needs per hour to answer the first-response target, and the agents on "
            "the roster. Managers may plan for every team, agents for their own."
        ),
        parameters=[ParamsSerializer],
        responses={
            200: StaffingSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A bad filter or what-if value."),
            401: OpenApiResponse(ErrorSerializer, description="No valid credentials."),
            404: OpenApiResponse(ErrorSerializer, description="Not staff, or not your team."),
        },
    )
    def get(self, request):
        scope = selectors.staffing_scope(logged_in_user(request))
        params = parse_params(ParamsSerializer, request.query_params)
        team_ids: list[int] | None
        if params.get("team"):
            teams = {team.slug: team.pk for team in scope.teams}
            if params["team"] not in teams:
                raise ValidationError({"team": ["No such team, or not one of yours."]})
            team_ids = [teams[params["team"]]]
        else:
            team_ids = None if scope.sees_all else scope.team_ids()
        category_id = None
        if params.get("category"):
            category_id = (
                Category.objects.filter(slug=params["category"])
                .values_list("pk", flat=True)
                .first()
            )
            if category_id is None:
                raise ValidationError({"category": ["No such category."]})
        plan = staffing_plan(
            filters=selectors.Filters(
                team_ids=team_ids, category_id=category_id, channel=params.get("channel")
            ),
            what_if_percent=params.get("what_if", 0.0),
            now=timezone.now(),
            zone=timezone.get_current_timezone(),
        )
        return Response(StaffingSerializer(_output(plan)).data)
