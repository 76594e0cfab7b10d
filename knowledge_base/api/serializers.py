"""Input and output shapes of the knowledge-base API.

Output serializers read rows the views loaded with their relations
(select_related / prefetch_related), so they never query per row. Every
`url` is the page of the article, section or category in the help centre.
"""

from __future__ import annotations

from rest_framework import serializers

from knowledge_base.models import Visibility
from tickets import queues
from tickets.api.pagination import BAD_CURSOR, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from tickets.api.serializers import TextField

QUERY_MAX_LENGTH = 200
DEFAULT_LIMIT = 10
MAX_LIMIT = 50


class PageUrlField(serializers.URLField):
    """The help-centre page of the object (its get_absolute_url), absolute."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("help_text", "Its page in the help centre.")
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        request = self.context.get("request")
        path = value.get_absolute_url()
        return request.build_absolute_uri(path) if request is not None else path


class TagNamesField(serializers.ListField):
    """The article's tags, from its `tag_names` text ("billing, invoices")."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(), source="tag_names", **kwargs)

    def to_representation(self, data):
        return [name.strip() for name in (data or "").split(",") if name.strip()]


# --- input: query parameters ----------------------------------------------------------


class SearchParamsSerializer(serializers.Serializer):
    q = TextField(
        max_length=QUERY_MAX_LENGTH,
        help_text='The words to look for. "Quoted words" match as a phrase, the last '
        "word also as a prefix, and a misspelt word still finds close titles.",
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=f"How many results, best first (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
    )


class ArticleListParamsSerializer(serializers.Serializer):
    cursor = serializers.RegexField(
        queues.CURSOR_PATTERN,
        required=False,
        max_length=40,
        help_text="From the `next` link of the previous page.",
        error_messages={"invalid": BAD_CURSOR},
    )
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=f"Default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}.",
    )
    # Plain text: an empty or blank filter means "not given" (parse_params).
    category = serializers.CharField(
        required=False, max_length=100, help_text="A category's id or slug."
    )
    section = serializers.CharField(
        required=False,
        max_length=100,
        help_text="A section's id or slug (a slug names the sections of that slug in "
        "every category, or in `category` when it is given).",
    )
    tag = serializers.CharField(required=False, max_length=50, help_text="A tag's name.")


# --- output ----------------------------------------------------------------------------


class KbCategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()


class KbSectionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article.id")
    title = serializers.CharField(source="article.title")
    slug = serializers.SlugField(source="article.slug")
    url = PageUrlField(source="article", help_text="The article's page in the help centre.")
    snippet = serializers.CharField(
        help_text="Safe HTML: a passage of the article with the matched words in <mark>."
    )
    score = serializers.FloatField(
        help_text="Relevance, higher is better (comparable within one answer only)."
    )


class SearchResultsSerializer(serializers.Serializer):
    results = SearchHitSerializer(many=True, help_text="Best first.")
    total = serializers.IntegerField(
        help_text="How many articles that you may read match (`results` holds the best "
        "`limit` of them)."
    )


class ArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.SlugField()
    url = PageUrlField(help_text="The article's page in the help centre.")
    summary = serializers.CharField(allow_blank=True)
    category = KbCategoryRefSerializer(source="section.category", allow_null=True)
    section = KbSectionRefSerializer(allow_null=True)
    tags = TagNamesField()
    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        help_text="Who may read it: anyone, signed-in customers, or helpdesk staff.",
    )
    published_at = serializers.DateTimeField(help_text="When its live version was published.")
    updated_at = serializers.DateTimeField()


class RelatedArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.SlugField()
    url = PageUrlField(help_text="The article's page in the help centre.")


class ArticleDetailSerializer(ArticleSerializer):
    body_html = serializers.CharField(
        help_text="The article as sanitised HTML, safe to show as it is."
    )
    body = serializers.CharField(
        allow_null=True,
        help_text="The Markdown it is written in: for knowledge-base editors; null for others.",
    )
    related = RelatedArticleSerializer(
        source="visible_related", many=True, help_text="Related articles that you may read."
    )
    helpful_count = serializers.IntegerField(help_text='Readers who answered "helpful".')
    unhelpful_count = serializers.IntegerField(help_text='Readers who answered "not helpful".')

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("is_editor"):
            data["body"] = None
        return data


class ArticlePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last.")
    results = ArticleSerializer(many=True)


class KbSectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    url = PageUrlField(help_text="The section's page in the help centre.")


class KbCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    url = PageUrlField(help_text="The category's page in the help centre.")
    sections = KbSectionSerializer(
        source="visible_sections",
        many=True,
        help_text="Its sections that hold articles you may read, in order.",
    )
