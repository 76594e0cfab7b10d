"""The knowledge-base API's views: search, articles, categories.

Anyone may call them: an anonymous client reads public articles, a signed-in
customer also those for customers, helpdesk staff internal ones too
(knowledge_base.selectors decides; an article the caller may not read is a
404 like one that does not exist). Errors, authentication and the JSON 404
are the tickets API's (tickets.api); anonymous searches have their own rate
(HELPDESK_KB_SEARCH_ANON_RATE) so a public search box cannot use up the
rest of the API's anonymous allowance, nor the other way round.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import throttling
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.inputs import parse_id, unstorable_text_problem
from knowledge_base import selectors
from knowledge_base.api import serializers as s
from knowledge_base.models import Article, Category, Section, Tag
from knowledge_base.search import search_articles
from tickets import queues
from tickets.api.filters import parse_params
from tickets.api.pagination import BAD_CURSOR, DEFAULT_PAGE_SIZE
from tickets.api.schema import ApiAutoSchema
from tickets.api.views import ERRORS, ApiView, UserRateThrottle

# --- policy ---------------------------------------------------------------------------


class KbAutoSchema(ApiAutoSchema):
    """As the API's, except that a required parameter (search's `q`) may not
    be sent empty: empty means "not given", which a required one cannot be."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("required") and parameter["in"] == "query":
                parameter.pop("allowEmptyValue", None)
        return operation


class KbSearchAnonThrottle(throttling.AnonRateThrottle):
    """Anonymous searches, per client address (HELPDESK_KB_SEARCH_ANON_RATE,
    read per request so a changed setting takes effect)."""

    scope = "kb_search"

    def get_rate(self):
        return settings.HELPDESK_KB_SEARCH_ANON_RATE


class KbApiView(ApiView):
    permission_classes = [AllowAny]
    schema = KbAutoSchema()


def _errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


def _context(request) -> dict:
    return {"request": request, "is_editor": selectors.can_edit(request.user)}


# --- search ----------------------------------------------------------------------------

SEARCH_EXAMPLE = {
    "results": [
        {
            "id": 12,
            "title": "Reset your password",
            "slug": "reset-your-password",
            "url": "https://help.example.com/help/articles/reset-your-password/",
            "snippet": "Choose <mark>Forgot</mark> <mark>password</mark> on the sign-in "
            "page and follow the link we e-mail you…",
            "score": 0.0328,
        }
    ],
    "total": 1,
}


class SearchApi(KbApiView):
    throttle_classes = [KbSearchAnonThrottle, UserRateThrottle]

    @extend_schema(
        operation_id="kb_search",
        summary="Search the knowledge base",
        description="The articles you may read that match `q`, best first: title matches "
        "above summary and tag matches above body matches, with stemming, phrases, "
        "prefixes and typo tolerance (and meaning, when semantic search is on). "
        "Anonymous callers search public articles, at most "
        f"{settings.HELPDESK_KB_SEARCH_ANON_RATE} per client address "
        "(HELPDESK_KB_SEARCH_ANON_RATE); signed-in callers at the API's own rate.",
        parameters=[s.SearchParamsSerializer],
        responses={
            200: OpenApiResponse(
                s.SearchResultsSerializer,
                examples=[
                    OpenApiExample("Found", value=SEARCH_EXAMPLE, response_only=True),
                    OpenApiExample(
                        "Nothing found", value={"results": [], "total": 0}, response_only=True
                    ),
                ],
            ),
            400: OpenApiResponse(
                ERRORS[400].response,
                description="`q` is missing, blank or longer than "
                f"{s.QUERY_MAX_LENGTH} characters, or `limit` is out of range.",
                examples=[
                    OpenApiExample(
                        "No q",
                        value={
                            "error": "Invalid input.",
                            "fields": {"q": ["This field is required."]},
                        },
                        response_only=True,
                        status_codes=["400"],
                    )
                ],
            ),
            **_errors(401, 406, 429),
        },
    )
    def get(self, request):
        params = parse_params(s.SearchParamsSerializer, request.query_params)
        found = search_articles(
            request.user,
            params["q"],
            limit=params.get("limit", s.DEFAULT_LIMIT),
            record=True,
        )
        body = s.SearchResultsSerializer(
            {"results": found.hits, "total": found.total}, context={"request": request}
        )
        return Response(body.data)


# --- articles --------------------------------------------------------------------------

ARTICLE_EXAMPLE = {
    "id": 12,
    "title": "Reset your password",
    "slug": "reset-your-password",
    "url": "https://help.example.com/help/articles/reset-your-password/",
    "summary": "Set a new password when you cannot sign in.",
    "category": {"id": 1, "slug": "your-account", "name": "Your account"},
    "section": {"id": 3, "slug": "signing-in", "name": "Signing in"},
    "tags": ["password", "sign-in"],
    "visibility": "public",
    "published_at": "2026-11-02T09:30:00Z",
    "updated_at": "2026-11-02T09:30:00Z",
}
ARTICLE_DETAIL_EXAMPLE = {
    **ARTICLE_EXAMPLE,
    "body_html": "<h2>Steps</h2>\n<ol>\n<li>Choose <strong>Forgot password</strong>.</li>\n"
    "<li>Follow the link we e-mail you.</li>\n</ol>\n",
    "body": None,
    "related": [
        {
            "id": 14,
            "title": "Verify your account",
            "slug": "verify-your-account",
            "url": "https://help.example.com/help/articles/verify-your-account/",
        }
    ],
    "helpful_count": 41,
    "unhelpful_count": 3,
}
REF_PARAMETER = OpenApiParameter(
    "ref", str, OpenApiParameter.PATH, description="The id or the slug."
)


def _one_of(qs: QuerySet, ref: str, *, old_slugs: bool = False) -> Any:
    """The row of `qs` with id `ref`, else the one with slug `ref` (or, with
    `old_slugs`, the article that had it before a rename); None when none
    has, and for a `ref` no row could hold (a NUL character)."""
    if unstorable_text_problem(ref) is not None:
        return None
    pk = parse_id(ref)
    if pk is not None:
        found = qs.filter(pk=pk).first()
        if found is not None:
            return found
    found = qs.filter(slug=ref).first()
    if found is None and old_slugs:
        found = qs.filter(old_slugs__slug=ref).first()
    return found


def _filtered(articles: QuerySet[Article], params: dict) -> QuerySet[Article]:
    """`articles` in the category, section and tag the parameters name (each
    looked up first: a name that matches nothing is a 400, not an empty list)."""
    category = None
    if params.get("category"):
        category = _one_of(Category.objects.all(), params["category"])
        if category is None:
            raise ValidationError({"category": ["No category has this id or slug."]})
        articles = articles.filter(section__category=category)
    if params.get("section"):
        sections = Section.objects.all()
        if category is not None:
            sections = sections.filter(category=category)
        ref = params["section"]
        pk = parse_id(ref)
        ids = list(
            sections.filter(Q(slug=ref) | Q(pk=pk) if pk is not None else Q(slug=ref)).values_list(
                "pk", flat=True
            )
        )
        if not ids:
            raise ValidationError({"section": ["No section has this id or slug."]})
        articles = articles.filter(section_id__in=ids)
    if params.get("tag"):
        tag = Tag.objects.filter(name=params["tag"].strip()).first()
        if tag is None:
            raise ValidationError({"tag": ["No tag has this name."]})
        articles = articles.filter(tags=tag)
    return articles


def _after(articles: QuerySet[Article], cursor: str) -> QuerySet[Article]:
    """The articles after `cursor` ("<published_at µs>_<id>") in the list's order."""
    position = queues.parse_cursor(cursor)
    if position is None:
        raise ValidationError({"cursor": [BAD_CURSOR]})
    if position.time is None:
        return articles.none()  # every live article has a publication time
    return articles.filter(
        Q(published_at__lt=position.time) | Q(published_at=position.time, id__lt=position.pk)
    )


def _cursor_of(article: Article) -> str:
    if article.published_at is None:  # never for a live article (services._make_live)
        return f"n_{article.pk}"
    micros = (article.published_at - queues.EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{article.pk}"


class ArticleListApi(KbApiView):
    @extend_schema(
        operation_id="kb_articles_list",
        summary="List articles",
        description="The published articles you may read, most recently published first, "
        "a page at a time: follow `next` until it is null.",
        parameters=[s.ArticleListParamsSerializer],
        responses={
            200: OpenApiResponse(
                s.ArticlePageSerializer,
                examples=[
                    OpenApiExample(
                        "A page",
                        value={
                            "next": "https://help.example.com/api/v1/kb/articles/"
                            "?cursor=1793611800000000_12",
                            "results": [ARTICLE_EXAMPLE],
                        },
                        response_only=True,
                    )
                ],
            ),
            **_errors(400, 401, 406, 429),
        },
    )
    def get(self, request):
        params = parse_params(s.ArticleListParamsSerializer, request.query_params)
        articles = _filtered(selectors.articles_visible_to(request.user), params)
        if params.get("cursor"):
            articles = _after(articles, params["cursor"])
        size = params.get("page_size", DEFAULT_PAGE_SIZE)
        rows = list(
            articles.select_related("section__category")
            .defer("body", "body_html", "embedding")
            .order_by("-published_at", "-id")[: size + 1]
        )
        next_url = None
        if len(rows) > size:
            rows = rows[:size]
            next_url = replace_query_param(
                request.build_absolute_uri(), "cursor", _cursor_of(rows[-1])
            )
        results = s.ArticleSerializer(rows, many=True, context=_context(request))
        return Response({"next": next_url, "results": results.data})


class ArticleDetailApi(KbApiView):
    @extend_schema(
        operation_id="kb_articles_retrieve",
        summary="Get an article",
        description="By id or slug (an old slug from before a rename finds it too). "
        "An article you may not read answers 404, like one that does not exist.",
        parameters=[REF_PARAMETER],
        responses={
            200: OpenApiResponse(
                s.ArticleDetailSerializer,
                examples=[
                    OpenApiExample("An article", value=ARTICLE_DETAIL_EXAMPLE, response_only=True)
                ],
            ),
            **_errors(401, 404, 406, 429),
        },
    )
    def get(self, request, ref: str):
        visible = selectors.articles_visible_to(request.user)
        articles = (
            visible.select_related("section__category")
            .defer("embedding")
            .prefetch_related(
                Prefetch(
                    "related",
                    queryset=visible.only("id", "title", "slug").order_by("title"),
                    to_attr="visible_related",
                )
            )
        )
        article = _one_of(articles, ref, old_slugs=True)
        if article is None:
            raise Http404("No such article")
        return Response(s.ArticleDetailSerializer(article, context=_context(request)).data)


# --- categories ------------------------------------------------------------------------

CATEGORY_EXAMPLE = {
    "id": 1,
    "slug": "your-account",
    "name": "Your account",
    "description": "Signing in, your profile and your settings.",
    "url": "https://help.example.com/help/categories/your-account/",
    "sections": [
        {
            "id": 3,
            "slug": "signing-in",
            "name": "Signing in",
            "description": "",
            "url": "https://help.example.com/help/categories/your-account/signing-in/",
        }
    ],
}


def _categories_for(user) -> QuerySet[Category]:
    """The categories with a section that holds an article `user` may read,
    each with those sections (`visible_sections`): nothing else shows, so an
    internal-only section's name stays internal."""
    visible = selectors.articles_visible_to(user)
    sections = (
        Section.objects.filter(Exists(visible.filter(section=OuterRef("pk"))))
        .select_related("category")
        .order_by("position", "name", "id")
    )
    return (
        Category.objects.filter(Exists(sections.filter(category=OuterRef("pk"))))
        .prefetch_related(Prefetch("sections", queryset=sections, to_attr="visible_sections"))
        .order_by("position", "name", "id")
    )


class CategoryListApi(KbApiView):
    @extend_schema(
        operation_id="kb_categories_list",
        summary="List categories",
        description="The help centre's categories, in order, with their sections: those "
        "holding articles you may read.",
        responses={
            200: OpenApiResponse(
                s.KbCategorySerializer(many=True),
                examples=[
                    OpenApiExample("Categories", value=[CATEGORY_EXAMPLE], response_only=True)
                ],
            ),
            **_errors(401, 406, 429),
        },
    )
    def get(self, request):
        categories = _categories_for(request.user)
        return Response(
            s.KbCategorySerializer(categories, many=True, context=_context(request)).data
        )


class CategoryDetailApi(KbApiView):
    @extend_schema(
        operation_id="kb_categories_retrieve",
        summary="Get a category",
        description="By id or slug, with its sections that hold articles you may read "
        "(404 when it has none).",
        parameters=[REF_PARAMETER],
        responses={
            200: OpenApiResponse(
                s.KbCategorySerializer,
                examples=[OpenApiExample("A category", value=CATEGORY_EXAMPLE, response_only=True)],
            ),
            **_errors(401, 404, 406, 429),
        },
    )
    def get(self, request, ref: str):
        category = _one_of(_categories_for(request.user), ref)
        if category is None:
            raise Http404("No such category")
        return Response(s.KbCategorySerializer(category, context=_context(request)).data)
