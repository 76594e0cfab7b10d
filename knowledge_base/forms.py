"""Forms of the knowledge-base editor. They parse input; the services decide
(a DomainError they raise shows on the field it names, tickets.forms.ServiceForm)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone

from knowledge_base.models import Article, ArticleStatus, ArticleVersion, Section, Visibility
from tickets.forms import ServiceForm
from tickets.models import STAFF_ROLES, User

MAX_RELATED = 20


class SectionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Section) -> str:
        return f"{obj.category.name} › {obj.name}"


class ArticleForm(ServiceForm):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(
        max_length=300,
        required=False,
        help_text="One or two sentences: shown in lists and search results, and as the "
        "page's description for search engines.",
    )
    body = forms.CharField(
        label="Body (Markdown)",
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "true", "class": "kb-body"}),
        help_text="Headings (##), lists, **bold**, [links](https://…), images, `code`, "
        "code blocks and tables. HTML is shown as text.",
    )
    section = SectionChoiceField(
        queryset=Section.objects.select_related("category").order_by(
            "category__position", "category__name", "position", "name"
        ),
        required=False,
        empty_label="— no section —",
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PUBLIC)
    tags = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. login, password."
    )
    related = forms.CharField(
        label="Related articles",
        max_length=2000,
        required=False,
        help_text="Slugs of other articles (the end of their address), comma-separated.",
    )
    slug = forms.SlugField(
        max_length=200,
        required=False,
        help_text="The address: /help/articles/<slug>/. Old addresses redirect after a rename.",
    )
    note = forms.CharField(
        label="What changed",
        max_length=300,
        required=False,
        help_text="Kept with this version (optional).",
    )

    def clean_related(self) -> list[Article]:
        slugs = [
            s.strip().strip("/").rsplit("/", 1)[-1] for s in self.cleaned_data["related"].split(",")
        ]
        slugs = [s for s in dict.fromkeys(slugs) if s]
        if len(slugs) > MAX_RELATED:
            raise forms.ValidationError(f"At most {MAX_RELATED} related articles.")
        found = {
            a.slug: a for a in Article.objects.filter(slug__in=slugs).only("id", "slug", "title")
        }
        missing = [s for s in slugs if s not in found]
        if missing:
            raise forms.ValidationError(f"No article has the slug {', '.join(missing)}.")
        return [found[s] for s in slugs]


class PublishForm(forms.Form):
    publish_at = forms.DateTimeField(
        label="Publish at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to publish now.",
    )
    note = forms.CharField(max_length=300, required=False)


UPDATED_CHOICES = [
    ("", "Any time"),
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("old", "Over 90 days ago"),
]


class ManageFilter(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Title")
    status = forms.ChoiceField(choices=[("", "Any status"), *ArticleStatus.choices], required=False)
    visibility = forms.ChoiceField(
        choices=[("", "Any visibility"), *Visibility.choices], required=False
    )
    updated = forms.ChoiceField(choices=UPDATED_CHOICES, required=False)
    author = forms.ModelChoiceField(
        queryset=User.objects.filter(role__in=STAFF_ROLES).order_by("full_name"),
        required=False,
        empty_label="Anyone",
    )

    def apply(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data["q"]:
            qs = qs.filter(title__icontains=data["q"])
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["visibility"]:
            qs = qs.filter(visibility=data["visibility"])
        if data["author"]:
            # Who created it or saved any version of it.
            saved = ArticleVersion.objects.filter(author=data["author"]).values("article_id")
            qs = qs.filter(Q(author=data["author"]) | Q(pk__in=saved))
        if data["updated"] == "old":
            qs = qs.filter(updated_at__lt=timezone.now() - timedelta(days=90))
        elif data["updated"]:
            qs = qs.filter(updated_at__gte=timezone.now() - timedelta(days=int(data["updated"])))
        return qs
