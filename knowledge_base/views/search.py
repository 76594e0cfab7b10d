"""The help centre's search page and the managers' content-gaps page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from knowledge_base import gaps as gap_reads
from knowledge_base.search import MAX_DEPTH, MAX_TOTAL, search_articles
from knowledge_base.selectors import can_approve
from knowledge_base.views.public import LAST_SEARCH_SESSION_KEY

PAGE_SIZE = 10
MAX_QUERY_CHARS = 200


def _page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return max(1, min(number, MAX_DEPTH // PAGE_SIZE))


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = " ".join(request.GET.get("q", "")[:MAX_QUERY_CHARS].split())
    page = _page_number(request.GET.get("page"))
    user = request.user if request.user.is_authenticated else None
    results = None
    if query:
        # Logged once per search (its first page), for the content gaps.
        results = search_articles(
            user, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, record=page == 1
        )
        if (
            user is not None
            and not user.has_perm("tickets.work_tickets")
            and request.session.get(LAST_SEARCH_SESSION_KEY) != query
        ):
            # Only when it changed: a session write per search page is not needed.
            request.session[LAST_SEARCH_SESSION_KEY] = query
    pages = 0
    if results is not None:
        pages = min(-(-results.total // PAGE_SIZE), MAX_DEPTH // PAGE_SIZE)
    return render(
        request,
        "knowledge_base/search.html",
        {
            "q": query,
            "results": results,
            "page": page,
            "pages": pages,
            "first": (page - 1) * PAGE_SIZE + 1,
            "max_total": MAX_TOTAL,
        },
    )


@require_GET
@login_required
def content_gaps(request: HttpRequest) -> HttpResponse:
    if not can_approve(request.user):
        raise PermissionDenied("Only reviewers of the knowledge base see its content gaps.")
    try:
        days = int(request.GET.get("days", gap_reads.PERIODS[0]))
    except ValueError:
        days = gap_reads.PERIODS[0]
    return render(
        request,
        "knowledge_base/gaps.html",
        {"gaps": gap_reads.content_gaps(days), "periods": gap_reads.PERIODS},
    )
