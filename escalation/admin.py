"""Managers edit SLA policies, calendars and escalation rules here; escalations
and notifications are read-only records (a failed notification shows its
error)."""

from django.contrib import admin

from escalation.models import (
    BusinessCalendar,
    ClosedDate,
    Escalation,
    EscalationRule,
    Notification,
    OpeningSlot,
    SLAPolicy,
)


class OpeningSlotInline(admin.TabularInline):
    model = OpeningSlot
    extra = 0


class ClosedDateInline(admin.TabularInline):
    model = ClosedDate
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "always_open", "holiday_country")
    inlines = [OpeningSlotInline, ClosedDateInline]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "support_tier",
        "priority",
        "calendar",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "warning_percent",
    )
    list_filter = ("support_tier", "priority", "calendar")


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "target", "threshold")
    list_filter = ("is_active", "target", "threshold")
    filter_horizontal = ("categories",)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(ReadOnly):
    list_display = ("ticket", "kind", "target", "threshold", "cycle", "created_at")
    list_filter = ("kind", "target", "threshold")
    raw_id_fields = ("ticket", "actor")


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ("ticket", "audience", "recipient", "state", "attempts", "created_at", "sent_at")
    list_filter = ("state", "audience")
    search_fields = ("recipient", "subject")
    raw_id_fields = ("ticket", "escalation")
