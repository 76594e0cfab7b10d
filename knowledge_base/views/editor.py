"""The knowledge-base editor for staff, under /help/manage/: the list of
articles, writing and editing (every save a version, through
knowledge_base.services), the live preview, versions with their diff and
restore, and the workflow (submit for review; publish, now or at a time, and
archive for reviewers). Who may do what is knowledge_base.selectors.can_edit /
can_approve, checked here for the page and again by each service."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from knowledge_base import services
from knowledge_base.forms import ArticleForm, ManageFilter, PublishForm
from knowledge_base.markdown import render_markdown
from knowledge_base.models import Article, ArticleEvent, ArticleVersion
from knowledge_base.selectors import articles_editable_by, can_approve, can_edit
from tickets.errors import DomainError
from tickets.selectors import logged_in_user

MANAGE_PAGE_SIZE = 25
# What a new article's form may be prefilled with from the address (the
# ticket page's "Create article from this ticket" sends the question and answer).
PREFILL_MAX_CHARS = 20_000


def editor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_edit(request.user):
            raise PermissionDenied("Only knowledge-base editors can do this.")
        return view(request, *args, **kwargs)

    return wrapper


def _article_for_editor(request: HttpRequest, pk: int) -> Article:
    article = (
        articles_editable_by(logged_in_user(request))
        .select_related("section__category")
        .filter(pk=pk)
        .first()
    )
    if article is None:
        raise Http404("No such article.")
    return article


def _newest(article: Article) -> ArticleVersion:
    return ArticleVersion.objects.select_related("section__category").get(
        article=article, number=article.version
    )


@editor_required
def manage(request: HttpRequest) -> HttpResponse:
    """Every article, drafts and archived ones too, with filters."""
    user = logged_in_user(request)
    filters = ManageFilter(request.GET)
    newest = ArticleVersion.objects.filter(article=OuterRef("pk"), number=OuterRef("version"))
    articles = (
        filters.apply(articles_editable_by(user))
        .select_related("author", "section__category")
        .defer("body", "body_html", "embedding")
        # The list names the newest version (what editors work on), which
        # is not yet the article's own title when it waits to be published.
        .annotate(draft_title=Subquery(newest.values("title")[:1]))
        .order_by("-updated_at", "-id")
    )
    page = Paginator(articles, MANAGE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "knowledge_base/manage.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "can_approve": can_approve(user),
        },
    )


def _save(
    request: HttpRequest, form: ArticleForm, article: Article | None
) -> ArticleVersion | None:
    data = form.cleaned_data
    return form.run(
        services.article_save,
        actor=logged_in_user(request),
        article=article,
        title=data["title"],
        body=data["body"],
        summary=data["summary"],
        section=data["section"],
        tags=data["tags"],
        visibility=data["visibility"],
        slug=data["slug"],
        related=data["related"],
        note=data["note"],
    )


@editor_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            version = _save(request, form, None)
            if version is not None:
                messages.success(request, "Draft saved as version 1.")
                return redirect("kb:edit", pk=version.article_id)
        status = 400
    else:
        form = ArticleForm(
            initial={
                "title": request.GET.get("title", "")[:200],
                "body": request.GET.get("body", "")[:PREFILL_MAX_CHARS],
                "summary": request.GET.get("summary", "")[:300],
            }
        )
        status = 200
    return render(
        request,
        "knowledge_base/edit.html",
        {"form": form, "article": None, "can_approve": can_approve(request.user)},
        status=status,
    )


@editor_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = logged_in_user(request)
    article = _article_for_editor(request, pk)
    newest = _newest(article)
    related = list(article.related.order_by("title").only("id", "title", "slug"))
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            version = _save(request, form, article)
            if version is not None:
                messages.success(request, f"Saved as version {version.number} (a draft).")
                return redirect("kb:edit", pk=article.pk)
        status = 400
    else:
        form = ArticleForm(
            initial={
                "title": newest.title,
                "summary": newest.summary,
                "body": newest.body,
                "section": newest.section_id,
                "visibility": newest.visibility,
                "tags": newest.tags,
                "slug": newest.slug,
                "related": ", ".join(a.slug for a in related),
            }
        )
        status = 200
    return render(
        request,
        "knowledge_base/edit.html",
        {
            "form": form,
            "article": article,
            "newest": newest,
            "related": related,
            "can_approve": can_approve(user),
            "publish_form": PublishForm(),
            "events": ArticleEvent.objects.filter(article=article)
            .select_related("actor")
            .order_by("-created_at", "-id")[:8],
        },
        status=status,
    )


@editor_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The sanitised rendering of what is being typed (an htmx fragment)."""
    return render(
        request,
        "knowledge_base/_preview.html",
        {
            "title": request.POST.get("title", "")[:200],
            "summary": request.POST.get("summary", "")[:300],
            "body_html": render_markdown(request.POST.get("body", "")[: services.MAX_BODY_CHARS]),
        },
    )


@editor_required
def versions(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article_for_editor(request, pk)
    rows = list(
        ArticleVersion.objects.filter(article=article)
        .select_related("author")
        .defer("body")
        .order_by("-number")
    )
    return render(
        request,
        "knowledge_base/versions.html",
        {"article": article, "versions": rows, "can_approve": can_approve(request.user)},
    )


def _number(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@editor_required
def diff(request: HttpRequest, pk: int) -> HttpResponse:
    """A unified diff of two versions (`?from=1&to=3`; by default the newest
    against the one before it)."""
    article = _article_for_editor(request, pk)
    newer = _number(request.GET.get("to")) or article.version
    older = _number(request.GET.get("from")) or max(newer - 1, 1)
    if older > newer:
        older, newer = newer, older
    try:
        lines = services.version_diff(article, older, newer)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    kinds = []
    for line in lines:
        if line.startswith(("+++", "---")):
            kinds.append(("file", line))
        elif line.startswith("@@"):
            kinds.append(("hunk", line))
        elif line.startswith("+"):
            kinds.append(("add", line))
        elif line.startswith("-"):
            kinds.append(("del", line))
        else:
            kinds.append(("same", line))
    return render(
        request,
        "knowledge_base/diff.html",
        {
            "article": article,
            "older": older,
            "newer": newer,
            "lines": kinds,
            "numbers": range(article.version, 0, -1),
            "can_approve": can_approve(request.user),
        },
    )


def _workflow(
    request: HttpRequest, pk: int, service: Callable[..., Any], done: str, **kwargs: Any
) -> HttpResponse:
    """Run one step of the workflow; a refusal is shown on the editor page."""
    article = _article_for_editor(request, pk)
    try:
        service(article=article, actor=logged_in_user(request), **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("kb:edit", pk=article.pk)


@editor_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _workflow(
        request,
        pk,
        services.article_submit,
        "Submitted for review: a reviewer will publish it.",
        note=request.POST.get("note", "")[:300],
    )


@editor_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_approve(request.user):
        raise PermissionDenied("Publishing needs a reviewer.")
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("kb:edit", pk=pk)
    when = form.cleaned_data["publish_at"]
    scheduled = when is not None and when > timezone.now()
    done = (
        f"Approved: it will be published {timezone.localtime(when):%d %b %Y at %H:%M}."
        if scheduled
        else "Published: visitors now see this version."
    )
    return _workflow(
        request,
        pk,
        services.article_publish,
        done,
        publish_at=when,
        note=form.cleaned_data["note"],
    )


@editor_required
@require_POST
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_approve(request.user):
        raise PermissionDenied("Archiving needs a reviewer.")
    return _workflow(
        request,
        pk,
        services.article_archive,
        "Archived: it is no longer in the help centre.",
        note=request.POST.get("note", "")[:300],
    )


@editor_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    number = _number(request.POST.get("number"))
    article = _article_for_editor(request, pk)
    if number is None:
        messages.error(request, "Which version?")
        return redirect("kb:versions", pk=article.pk)
    try:
        version = services.article_restore(
            article=article, actor=logged_in_user(request), number=number
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("kb:versions", pk=article.pk)
    messages.success(
        request, f"Version {number} restored as version {version.number} (a draft to publish)."
    )
    return redirect("kb:edit", pk=article.pk)
