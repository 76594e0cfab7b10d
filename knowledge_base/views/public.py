"""The public help centre: home, category, section and article pages, and
"Was this helpful?". No log-in is needed for public articles; signed-in
customers also read the articles for customers, staff the internal ones
(knowledge_base.selectors decides, through knowledge_base.pages)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST

from knowledge_base import pages, services
from knowledge_base.models import Article
from knowledge_base.suggestions import feedback_with_deflection
from tickets.errors import DomainError

SECTION_PAGE_SIZE = 30
# The session remembers what this browser answered, per article id:
# "yes"/"no", and "+" once a comment was sent too.
_FEEDBACK_SESSION_KEY = "kb_feedback"
# A signed-in customer's latest help-centre search: an article they then mark
# helpful is a deflection of that search (set by views.search).
LAST_SEARCH_SESSION_KEY = "kb_last_search"


def _reader(request: HttpRequest):
    return request.user if request.user.is_authenticated else None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    return render(
        request,
        "knowledge_base/home.html",
        {
            "categories": pages.help_home(user),
            "most_viewed": pages.most_viewed(user),
            "recently_updated": pages.recently_updated(user),
        },
    )


@require_GET
def category(request: HttpRequest, slug: str) -> HttpResponse:
    entry = pages.category_page(_reader(request), slug)
    return render(
        request,
        "knowledge_base/category.html",
        {"entry": entry, "category": entry.category, "per_section": pages.ARTICLES_PER_SECTION},
    )


@require_GET
def section(request: HttpRequest, category: str, slug: str) -> HttpResponse:
    the_section = pages.section_get(category, slug)
    paginator = pages.section_paginator(_reader(request), the_section, SECTION_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge_base/section.html",
        {"section": the_section, "category": the_section.category, "page": page},
    )


def _feedback_state(request: HttpRequest, article: Article) -> str:
    if request.session.session_key is None and not request.user.is_authenticated:
        return ""  # no session yet: nothing answered (and no session query)
    return request.session.get(_FEEDBACK_SESSION_KEY, {}).get(str(article.pk), "")


@require_GET
def article(request: HttpRequest, slug: str) -> HttpResponse:
    user = _reader(request)
    found = pages.article_lookup(user, slug)
    if found.article is None:
        return HttpResponsePermanentRedirect(reverse("kb:article", kwargs={"slug": found.moved_to}))
    the_article = found.article
    services.view_count(the_article.pk)
    description = the_article.summary or Truncator(
        " ".join(strip_tags(the_article.body_html).split())
    ).chars(160)
    return render(
        request,
        "knowledge_base/article.html",
        {
            "article": the_article,
            "section": the_article.section,
            "category": the_article.section.category if the_article.section else None,
            "tags": [t.strip() for t in the_article.tag_names.split(",") if t.strip()],
            "related": pages.related_articles(user, the_article),
            "meta_description": description,
            "feedback": _feedback_state(request, the_article),
        },
    )


@require_POST
def feedback(request: HttpRequest, slug: str) -> HttpResponse:
    """Record "Was this helpful?" (and the optional comment that follows)."""
    user = _reader(request)
    found = pages.article_lookup(user, slug)
    if found.article is None:
        return redirect("kb:article", slug=found.moved_to)
    the_article = found.article
    answer = request.POST.get("helpful", "")
    comment = request.POST.get("comment", "")[:1000]
    error = ""
    state = _feedback_state(request, the_article)
    if answer not in ("yes", "no"):
        error = "Please answer yes or no."
    else:
        if user is None and request.session.session_key is None:
            request.session.save()  # an anonymous visitor's answer is keyed by the session
        try:
            # A signed-in customer's "yes" is a deflection too.
            feedback_with_deflection(
                article=the_article,
                helpful=answer == "yes",
                user=user,
                session_key=request.session.session_key or "",
                comment=comment,
                query=request.session.get(LAST_SEARCH_SESSION_KEY, "") if user else "",
            )
        except DomainError as exc:
            error = exc.message
        else:
            state = answer + ("+" if comment.strip() or state.endswith("+") else "")
            answers = dict(request.session.get(_FEEDBACK_SESSION_KEY, {}))
            answers.pop(str(the_article.pk), None)  # to the end: the newest
            answers[str(the_article.pk)] = state
            # The newest 200 answers are remembered; older ones only in the database.
            request.session[_FEEDBACK_SESSION_KEY] = dict(list(answers.items())[-200:])
    if request.headers.get("HX-Request") == "true":
        # 200 even for a refusal: htmx swaps in only successful answers, and
        # the box is where the visitor reads what went wrong.
        return render(
            request,
            "knowledge_base/_feedback.html",
            {"article": the_article, "feedback": state, "feedback_error": error},
        )
    if error:
        messages.error(request, error)
    return redirect(reverse("kb:article", kwargs={"slug": the_article.slug}) + "#feedback")
