"""Survey rows in the admin: read-mostly. Answers come from customers and
rounds from the sweep, so nothing here creates or edits them; a manager may
look them up (and the follow-up list is where bad ratings are handled)."""

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import (
    CSATResponse,
    NPSInvite,
    NPSResponse,
    RollupRun,
    SentReport,
    SurveyInvite,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SurveyInvite)
class SurveyInviteAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "round", "state", "due_at", "sent_at", "agent", "team")
    list_filter = ("state",)
    raw_id_fields = ("ticket", "agent", "team")
    list_select_related = ("ticket", "agent", "team")
    search_fields = ("ticket__id",)


@admin.register(CSATResponse)
class CSATResponseAdmin(ReadOnlyAdmin):
    list_display = (
        "ticket",
        "round",
        "rating",
        "effort",
        "source",
        "answered_at",
        "followed_up_at",
    )
    list_filter = ("rating", "source")
    date_hierarchy = "answered_at"
    raw_id_fields = ("ticket", "customer", "agent", "team", "followed_up_by")
    list_select_related = ("ticket",)


@admin.register(NPSInvite)
class NPSInviteAdmin(ReadOnlyAdmin):
    list_display = ("customer", "period_start", "sent_at")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)


@admin.register(NPSResponse)
class NPSResponseAdmin(ReadOnlyAdmin):
    list_display = ("customer", "period_start", "score", "answered_at")
    raw_id_fields = ("customer", "invite")
    list_select_related = ("customer",)


@admin.register(SentReport)
class SentReportAdmin(ReadOnlyAdmin):
    """Which manager got which weekly report and monthly CSAT review; the
    outbox row says whether it left."""

    list_display = ("kind", "period_start", "recipient", "email", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("recipient", "email")
    list_select_related = ("recipient", "email")


@admin.register(RollupRun)
class RollupRunAdmin(ReadOnlyAdmin):
    """When the facts' catch-up and nightly rebuild last ran; a rebuild that
    found facts differing from the stored ones says how many."""

    list_display = ("name", "ran_at", "tickets", "differing")
