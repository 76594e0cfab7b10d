"""Server-rendered pages: the landing list per role, the ticket page, and the
forms that call services. Every ticket lookup goes through tickets.selectors."""

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tickets import queues, selectors, services, suggestions
from tickets.forms import (
    AgentTicketCreateForm,
    AssignForm,
    QueueFilterForm,
    ReplyForm,
    SearchForm,
    StatusForm,
    TicketCreateForm,
    TicketListFilter,
)
from tickets.intake import intake_ticket
from tickets.models import OPEN_STATUSES, Attachment, Channel, Role, Ticket
from tickets.reference import workspace_reference
from tickets.ticket_page import render_ticket_page

PAGE_SIZE = 25


def home(request: HttpRequest) -> HttpResponse:
    """`/`: people who are signed in go to their tickets; anonymous visitors
    to the public help centre (HELPDESK_PUBLIC_HOME_URL), which links the
    log-in page."""
    if not request.user.is_authenticated:
        return redirect(settings.HELPDESK_PUBLIC_HOME_URL)
    return redirect("tickets:list")


def _list_heading(user) -> str:
    if user.has_perm("tickets.view_all_tickets"):
        return "All tickets"
    if user.has_perm("tickets.work_tickets"):
        return "My teams' tickets"
    if user.sees_organization_tickets:
        return f"{user.organization} tickets" if user.organization else "My tickets"
    return "My tickets"


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    """The landing page: staff get the queue workspace, customers their requests."""
    if request.user.has_perm("tickets.work_tickets"):
        return _agent_queues(request)
    return _customer_list(request)


def _customer_list(request: HttpRequest) -> HttpResponse:
    """A customer's requests, newest first, keyset-paginated (`?before=<id>`)."""
    user = selectors.logged_in_user(request)
    filters = TicketListFilter(request.GET)
    data = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.tickets_visible_to(user)
    status = data.get("status") or ""
    if status == "":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    if data.get("before"):
        qs = qs.filter(id__lt=data["before"])
    # None only for a malformed cursor, and there is no cursor.
    page = cast(queues.QueuePage, queues.queue_page(qs, sort="newest", cursor="", size=PAGE_SIZE))
    return render(
        request,
        "tickets/list.html",
        {
            "tickets": page.tickets,
            "filters": filters,
            "status": status,
            "heading": _list_heading(user),
            "next_before": page.tickets[-1].pk if page.next_cursor else None,
            "is_staff_view": False,
        },
    )


def _agent_queues(request: HttpRequest) -> HttpResponse:
    """Queues with counts, filters, sorts and keyset pages (`?cursor=`)."""
    user = selectors.logged_in_user(request)
    slug = request.GET.get("queue") or queues.default_queue(user)
    queue = queues.queue_named(slug)
    if queue is None:
        raise Http404("No such queue")
    visible = selectors.tickets_visible_to(user)
    form = QueueFilterForm(request.GET)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
    else:
        data, status = {}, 400
    sort = data.get("sort") or queue.default_sort
    filtered = queues.apply_filters(queue.scope(user, visible), data, user)
    page = queues.queue_page(
        filtered, sort=sort, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
    )
    if page is None:
        form.add_error(None, "That page link is no longer valid; showing the first page.")
        # None only for a malformed cursor, and there is no cursor.
        page = cast(
            queues.QueuePage, queues.queue_page(filtered, sort=sort, cursor="", size=PAGE_SIZE)
        )
        status = 400
    counts = queues.queue_counts(user, visible)
    params = request.GET.copy()
    params.pop("cursor", None)
    from tickets.models import Priority, SavedView, Status

    saved_views = list(SavedView.objects.filter(owner=user).order_by("name"))
    return render(
        request,
        "tickets/queue.html",
        {
            "queue": queue,
            "queue_counts": counts,
            "count_bound": queues.COUNT_BOUND,
            "form": form,
            "tickets": page.tickets,
            "next_cursor": page.next_cursor,
            "base_query": params.urlencode(),
            "is_first_page": not request.GET.get("cursor"),
            "filtering": any(k not in ("queue", "cursor") for k in request.GET),
            "saved_views": saved_views,
            "load": queues.agent_load(user),
            "due_soon_title": queues.DUE_SOON_TITLE,
            "due_soon_help": queues.DUE_SOON_HELP,
            "current_query": params.urlencode(),
            "bulk_statuses": Status.choices,
            "bulk_priorities": Priority.choices,
            "bulk_agents": workspace_reference().agents,
        },
        status=status,
    )


@login_required
def ticket_search(request: HttpRequest) -> HttpResponse:
    """Search the tickets this user may see by key, subject and conversation."""
    from tickets.search import search_tickets

    user = selectors.logged_in_user(request)
    form = SearchForm(request.GET)
    if not form.is_valid():
        # A NUL or an over-long query: say so rather than search for part of it.
        for error in form.errors.get("q", []):
            messages.error(request, f"Search: {error}")
        context = {"query": "", "tickets": [], "is_staff_view": False}
        return render(request, "tickets/search.html", context, status=400)
    query = form.cleaned_data["q"]
    if query and not request.GET.get("all"):
        # a key on its own goes straight to the ticket
        from tickets.models import parse_ticket_key

        pk = parse_ticket_key(query)
        if pk is not None and selectors.tickets_visible_to(user).filter(pk=pk).exists():
            return redirect(Ticket(pk=pk))
    results = search_tickets(selectors.tickets_visible_to(user), query) if query else []
    return render(
        request,
        "tickets/search.html",
        {
            "query": query,
            "tickets": results,
            "is_staff_view": user.has_perm("tickets.work_tickets"),
        },
    )


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Customers submit a request; agents open one on a customer's behalf."""
    on_behalf = request.user.has_perm("tickets.work_tickets")
    form_class = AgentTicketCreateForm if on_behalf else TicketCreateForm
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ticket = form.run(
            intake_ticket,
            requester=data["requester"] if on_behalf else request.user,
            subject=data["subject"],
            description=data["description"],
            channel=Channel.AGENT if on_behalf else Channel.PORTAL,
            priority=data.get("priority") or None,
            category=data.get("category"),
            attachments=data["attachments"],
            actor=request.user,
            # The articles the form showed, as signed by ticket_suggestions.
            shown_articles=(
                ()
                if on_behalf
                else suggestions.shown_read(
                    request.POST.get("shown", ""), selectors.logged_in_user(request)
                ).articles
            ),
        )
        if ticket is not None:
            if not on_behalf:
                messages.success(request, f"Ticket {ticket.key} created. We'll be in touch soon.")
                return redirect(ticket)
            opened = f"Ticket {ticket.key} opened for {ticket.requester.full_name}"
            visible = selectors.tickets_visible_to(selectors.logged_in_user(request))
            if visible.filter(pk=ticket.pk).exists():
                messages.success(request, f"{opened}.")
                return redirect(ticket)
            # Routed to a team this agent does not work: say where it went
            # instead of sending them to a page they may not see.
            team = ticket.team.name if ticket.team is not None else "another team"
            messages.success(request, f"{opened} and routed to {team}, whose queue it is now in.")
            return redirect("tickets:new")
    return render(
        request,
        "tickets/new.html",
        {"form": form, "on_behalf": on_behalf},
        status=400 if form.errors else 200,
    )


@login_required
def ticket_suggestions(request: HttpRequest) -> HttpResponse:
    """Articles that may answer what the customer is typing (an htmx fragment).

    The form sends back its signed record of what it has shown (`shown`); the
    answer adds what it shows now. When the articles are the ones already on
    screen the answer is 204 and htmx leaves the list alone (no flicker, no
    repeated announcement by screen readers)."""
    user = selectors.logged_in_user(request)
    text = f"{request.GET.get('subject', '')} {request.GET.get('description', '')}"[:1000]
    found = suggestions.suggest(text, user)
    before = suggestions.shown_read(request.GET.get("shown", ""), user)
    if before.current == tuple(s.ref for s in found) and (found or before.articles):
        return HttpResponse(status=204)
    shown = suggestions.shown_add(before, found)
    return render(
        request,
        "tickets/_suggestions.html",
        {
            "suggestions": [(s, suggestions.suggestion_token(s, user)) for s in found],
            "query": text.strip(),
            "shown_token": suggestions.shown_token(shown, user),
        },
    )


@login_required
@require_POST
def ticket_deflected(request: HttpRequest) -> HttpResponse:
    """ "This answered my question": count the deflection, open no ticket.
    (A refusal is shown by tickets.middleware.DomainErrorMiddleware.)"""
    user = selectors.logged_in_user(request)
    suggestions.deflection_from_token(
        user=user,
        query=request.POST.get("query", ""),
        token=request.POST.get("suggestion", ""),
    )
    messages.success(request, "Glad that helped! No request was opened.")
    return redirect("tickets:home")


@login_required
def ticket_detail(request: HttpRequest, key: str) -> HttpResponse:
    user = selectors.logged_in_user(request)
    ticket = selectors.ticket_get_for_user(user, key)
    return render_ticket_page(request, ticket)


@login_required
@require_POST
def ticket_reply(request: HttpRequest, key: str) -> HttpResponse:
    user = selectors.logged_in_user(request)
    ticket = selectors.ticket_get_for_user(user, key)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        form.run(
            services.ticket_reply,
            ticket=ticket,
            author=user,
            body=form.cleaned_data["body"],
            is_internal=form.cleaned_data["is_internal"],
            status=form.cleaned_data["status"] or None,
            channel=Channel.PORTAL if user.role == Role.CUSTOMER else Channel.AGENT,
            attachments=form.cleaned_data["attachments"],
            expected_version=None
            if form.cleaned_data["confirm_stale"]
            else form.cleaned_data["version"],
        )
    if isinstance(form.refusal, services.StaleTicket):
        # Keep what the agent typed; the next submit sends it anyway.
        data = request.POST.copy()
        data["confirm_stale"] = "1"
        data["version"] = services.ticket_version(ticket)
        stale_form = ReplyForm(data)
        stale_form.is_valid()
        stale_form.add_error(None, form.refusal.message)
        return render_ticket_page(request, ticket, status=400, reply_form=stale_form, stale=True)
    if form.errors:
        return render_ticket_page(request, ticket, status=400, reply_form=form)
    messages.success(request, "Note added." if form.cleaned_data["is_internal"] else "Reply sent.")
    return redirect(ticket)


@login_required
@require_POST
def ticket_status(request: HttpRequest, key: str) -> HttpResponse:
    user = selectors.logged_in_user(request)
    ticket = selectors.ticket_get_for_user(user, key)
    form = StatusForm(request.POST)
    if form.is_valid():
        form.run(
            services.ticket_change_status,
            ticket=ticket,
            status=form.cleaned_data["status"],
            actor=user,
        )
    if form.errors:
        return render_ticket_page(request, ticket, status=400, status_form=form)
    messages.success(request, "Status updated.")
    return redirect(ticket)


@login_required
@require_POST
def ticket_assign(request: HttpRequest, key: str) -> HttpResponse:
    user = selectors.logged_in_user(request)
    ticket = selectors.ticket_get_for_user(user, key)
    if not user.has_perm("tickets.work_tickets"):
        # Customers can see their ticket but not staff its assignment.
        raise PermissionDenied("Only helpdesk staff can assign tickets.")
    form = AssignForm(request.POST)
    if form.is_valid():
        form.run(
            services.ticket_assign,
            ticket=ticket,
            assignee=form.cleaned_data["assignee"],
            actor=user,
        )
    if form.errors:
        return render_ticket_page(request, ticket, status=400, assign_form=form)
    messages.success(request, "Assignee updated.")
    return redirect(ticket)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Attachments are served only to people who can see the message."""
    user = selectors.logged_in_user(request)
    attachment = Attachment.objects.select_related("message__ticket").filter(pk=pk).first()
    if attachment is None:
        raise Http404("No such attachment")
    ticket = selectors.ticket_get_for_user(user, attachment.message.ticket.key)
    visible = selectors.messages_visible_to(user, ticket).filter(pk=attachment.message_id)
    if not visible.exists():
        raise Http404("No such attachment")
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
