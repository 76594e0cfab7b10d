"""Django admin for the whole ticket domain, usable by an admin on day one.

Changes to tickets made here go through the services too (status, assignee
and properties), so the history stays complete; history itself is read-only.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from tickets import services
from tickets.errors import DomainError
from tickets.models import (
    AgentShift,
    Attachment,
    CannedResponse,
    Category,
    ClassifierModel,
    Deflection,
    InboundEmail,
    KeywordRule,
    Mailbox,
    Message,
    Organization,
    OutboundEmail,
    ShownArticle,
    Skill,
    Tag,
    Team,
    Ticket,
    TicketEvent,
    User,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "adds_senders_by_domain", "support_tier", "created_at")
    list_filter = ("support_tier", "adds_senders_by_domain")
    search_fields = ("name", "domain")

    def save_model(self, request, obj, form, change):
        """A new support tier goes through its service, so the open tickets'
        SLA clocks follow (lifecycle hooks)."""
        new_tier = obj.support_tier
        if change and "support_tier" in form.changed_data:
            obj.support_tier = form.initial["support_tier"]
            super().save_model(request, obj, form, change)
            services.organization_set_tier(
                organization=obj, support_tier=new_tier, actor=request.user
            )
        else:
            super().save_model(request, obj, form, change)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "lead")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("lead",)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "required_tier", "skill", "default_team")
    list_filter = ("required_tier", "default_team")
    prepopulated_fields = {"slug": ("name",)}


class HelpdeskUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class HelpdeskUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = HelpdeskUserChangeForm
    add_form = HelpdeskUserCreationForm
    ordering = ("full_name",)
    list_display = ("email", "full_name", "role", "organization", "tier", "is_active")
    list_filter = ("role", "tier", "is_active", "teams")
    search_fields = ("email", "full_name")
    autocomplete_fields = ("organization",)
    filter_horizontal = ("skills", "teams", "groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name", "role", "is_active")}),
        ("Customer", {"fields": ("organization", "sees_organization_tickets")}),
        ("Agent", {"fields": ("tier", "teams", "skills", "capacity", "is_available")}),
        (
            "Permissions",
            {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "role", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Keep the role's group (and so its permissions) in step with the field.
        if not change or "role" in form.changed_data:
            services.user_set_role(user=obj, role=obj.role)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("created_at", "author", "is_internal", "channel", "body")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # One query for all rows' authors, however long the conversation.
        return super().get_queryset(request).select_related("author")


class EventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ("created_at", "actor", "action", "field", "old_value", "new_value", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "key",
        "subject",
        "status",
        "priority",
        "organization",
        "team",
        "assignee",
        "created_at",
    )
    list_filter = ("status", "priority", "channel", "tier", "team", "category")
    list_select_related = ("organization", "team", "assignee")
    search_fields = ("subject",)
    show_full_result_count = False  # no COUNT(*) over every ticket on each page
    # Every foreign key to a big table is a raw id: a select would list
    # every ticket or person (tests/tickets/test_admin.py counts the queries).
    raw_id_fields = ("requester", "assignee", "parent", "merged_into", "organization")
    readonly_fields = (
        "created_at",
        "updated_at",
        "acknowledged_at",
        "first_response_at",
        "solved_at",
        "closed_at",
        "description",
        "requester",
        "organization",
        "channel",
    )
    inlines = (MessageInline, EventInline)

    def has_add_permission(self, request):
        # Tickets are opened through intake (portal, e-mail, API, agents), which
        # runs the whole flow; the admin edits them.
        return False

    def save_model(self, request, obj, form, change):
        """Route every change through the services so it lands in the history."""
        original = Ticket.objects.get(pk=obj.pk)
        try:
            props = {
                f: form.cleaned_data[f] for f in services.UPDATABLE_FIELDS if f in form.changed_data
            }
            if props:
                services.ticket_update(ticket=original, actor=request.user, **props)
            if "assignee" in form.changed_data:
                services.ticket_assign(ticket=original, assignee=obj.assignee, actor=request.user)
            if "status" in form.changed_data:
                services.ticket_change_status(
                    ticket=original, status=obj.status, actor=request.user
                )
            if "parent" in form.changed_data:
                services.ticket_link(child=original, parent=obj.parent, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "ticket", "author", "is_internal", "channel", "created_at")
    list_filter = ("is_internal", "channel")
    raw_id_fields = ("ticket", "author")
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "content_type", "size", "message", "created_at")
    raw_id_fields = ("message",)


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "ticket", "action", "actor", "field", "old_value", "new_value")
    list_filter = ("action",)
    raw_id_fields = ("ticket", "actor")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("title", "team", "owner")
    list_filter = ("team",)
    search_fields = ("title", "body")
    raw_id_fields = ("owner",)


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    """Managers' keyword rules: they classify while no trained model is sure."""

    list_display = ("phrase", "category", "priority", "is_active")
    list_filter = ("is_active", "category")
    search_fields = ("phrase",)


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("address", "category", "team")


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "created_at",
        "source",
        "samples",
        "accuracy",
        "macro_f1",
        "baseline_version",
        "baseline_macro_f1",
        "is_active",
    )
    # What it was measured on, and the version that was active then measured
    # on the same held-out examples (the comparison that decided activation).
    readonly_fields = (
        "version",
        "created_at",
        "source",
        "samples",
        "eval_samples",
        "accuracy",
        "macro_f1",
        "baseline_version",
        "baseline_accuracy",
        "baseline_macro_f1",
        "labels",
        "artifact",
    )

    def has_add_permission(self, request):
        # Models are made by `manage.py train_classifier` or the retrain job.
        return False


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Every e-mail received and what intake did with it; failures show here."""

    list_display = ("received_at", "sender", "subject", "outcome", "reason", "ticket")
    list_filter = ("outcome",)
    search_fields = ("message_id", "sender", "subject")
    raw_id_fields = ("ticket",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Deflection)
class DeflectionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "article_title", "query")
    raw_id_fields = ("user",)

    def has_add_permission(self, request):
        return False


@admin.register(ShownArticle)
class ShownArticleAdmin(admin.ModelAdmin):
    """The articles the portal suggested to requests submitted anyway (with
    Deflection, the self-service rate). Intake writes them with the ticket."""

    list_display = ("shown_at", "ticket", "article_title", "position")
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket",)
    search_fields = ("article_title", "article_ref")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The outbox: every e-mail the helpdesk sends, with its state. A failed
    one shows its error here (and in its ticket's history); "Send again"
    requeues it once the cause is fixed."""

    list_display = (
        "created_at",
        "kind",
        "recipient",
        "subject",
        "state",
        "attempts",
        "last_error",
        "sent_at",
    )
    list_filter = ("state", "kind", "audience")
    search_fields = ("recipient", "subject")
    raw_id_fields = ("ticket", "message")
    show_full_result_count = False
    actions = ["send_again"]
    readonly_fields = (
        "kind",
        "ticket",
        "message",
        "audience",
        "recipient",
        "subject",
        "body",
        "headers",
        "state",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send again (failed mail)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        count = services.outbound_retry(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} e-mail(s) queued to be sent again.")


@admin.register(AgentShift)
class AgentShiftAdmin(admin.ModelAdmin):
    """The weekly roster the staffing view counts as "on shift"."""

    list_display = ("agent", "weekday", "starts", "ends", "time_zone")
    list_filter = ("weekday", "agent__teams")
    search_fields = ("agent__full_name", "agent__email")
    autocomplete_fields = ("agent",)
