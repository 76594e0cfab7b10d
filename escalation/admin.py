"""Managers edit SLA policies, calendars and escalation rules here;
escalations are read-only records. Their e-mails are in the outbox
(Tickets > Outbound e-mails), with every other mail."""

from django.contrib import admin

from escalation.models import (
    BusinessCalendar,
    ClosedDate,
    Escalation,
    EscalationRule,
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
