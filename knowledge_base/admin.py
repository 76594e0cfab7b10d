"""The knowledge base in the Django admin.

Saving an article here goes through the same services as the staff editor:
every save is a new version (a draft), and publishing, archiving and
scheduling are actions that need the approve permission. The fields the admin
shows are the newest version's; the article's own fields are what visitors
see (see knowledge_base/models.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from knowledge_base import services
from knowledge_base.models import (
    Article,
    ArticleEvent,
    ArticleFeedback,
    ArticleVersion,
    Category,
    SearchTerm,
    Section,
    Tag,
    Visibility,
)
from tickets.errors import DomainError


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "slug", "position"]
    list_filter = ["category"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ArticleAdminForm(forms.ModelForm):
    """The newest version's content; saved as a new version by the service."""

    title = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=200, required=False, help_text="Empty: from the title.")
    summary = forms.CharField(max_length=300, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 20}), help_text="Markdown.")
    tags_text = forms.CharField(
        label="Tags", max_length=500, required=False, help_text="Separated by commas."
    )
    visibility = forms.ChoiceField(choices=Visibility.choices)
    note = forms.CharField(
        max_length=300, required=False, help_text="What changed (kept with the version)."
    )

    class Meta:
        model = Article
        fields = ["section", "related"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if {"title", "body", "visibility"} <= data.keys():
            try:
                services.article_validate(data["title"], data["body"], data["visibility"])
            except DomainError as error:
                self.add_error(error.field, error.message)
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        article = self.instance
        if article.pk:
            newest = article.versions.order_by("-number").first()
            if newest is not None:
                self.initial.update(
                    title=newest.title,
                    slug=newest.slug,
                    summary=newest.summary,
                    body=newest.body,
                    tags_text=newest.tags,
                    visibility=newest.visibility,
                    section=newest.section_id,
                )


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    fields = readonly_fields = ("number", "title", "author", "note", "created_at")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = ArticleEvent
    fields = readonly_fields = ("action", "actor", "note", "created_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = [
        "title",
        "section",
        "visibility",
        "status",
        "version",
        "live_version",
        "updated_at",
    ]
    list_filter = ["status", "visibility", "section__category"]
    search_fields = ["title", "slug"]
    list_select_related = ["section"]
    autocomplete_fields = ["related"]
    readonly_fields = [
        "status",
        "version",
        "live_version",
        "published_at",
        "publish_at",
        "view_count",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["title", "slug", "section", "summary", "body", "tags_text", "visibility"]},
        ),
        ("Related articles", {"fields": ["related"]}),
        ("This save", {"fields": ["note"]}),
        (
            "State",
            {
                "fields": [
                    "status",
                    "version",
                    "live_version",
                    "publish_at",
                    "published_at",
                    "view_count",
                ]
            },
        ),
    ]
    inlines = [VersionInline, EventInline]
    actions = ["publish_now", "archive"]

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        data = form.cleaned_data
        version = services.article_save(
            actor=request.user,  # type: ignore[arg-type]
            article=obj if change else None,
            title=data["title"],
            body=data["body"],
            summary=data["summary"],
            section=data["section"],
            tags=data["tags_text"],
            visibility=data["visibility"],
            slug=data["slug"],
            note=data["note"],
        )
        # The admin goes on with the saved article (its id for the redirect).
        obj.pk = version.article_id
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Only the related articles: tags are the version's, set on publish.
        form.instance.related.set(
            [a for a in form.cleaned_data["related"] if a.pk != form.instance.pk]
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Publish the newest version now")
    def publish_now(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._each(request, queryset, services.article_publish, "published")

    @admin.action(description="Archive (withdraw from the help centre)")
    def archive(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._each(request, queryset, services.article_archive, "archived")

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Article], service: Any, done: str
    ) -> None:
        count = 0
        for article in queryset:
            try:
                service(article=article, actor=request.user)
            except DomainError as error:
                messages.error(request, f"{article}: {error.message}")
            else:
                count += 1
        if count:
            messages.success(request, f"{count} article(s) {done}.")


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(admin.ModelAdmin):
    list_display = ["article", "helpful", "comment", "created_at"]
    list_filter = ["helpful"]
    list_select_related = ["article"]
    readonly_fields = ["article", "user", "visitor", "helpful", "comment", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SearchTerm)
class SearchTermAdmin(admin.ModelAdmin):
    list_display = ["term", "day", "searches", "without_results"]
    search_fields = ["term"]
    readonly_fields = ["term", "day", "searches", "without_results"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
