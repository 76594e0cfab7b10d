"""Server-rendered pages: the landing list per role, the ticket page, and the
forms that call services. Every ticket lookup goes through tickets.selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tickets import selectors, services
from tickets.errors import DomainError
from tickets.forms import AssignForm, ReplyForm, StatusForm, TicketCreateForm, TicketListFilter
from tickets.models import OPEN_STATUSES, Attachment, Channel, Role

PAGE_SIZE = 50


@login_required
def home(request: HttpRequest) -> HttpResponse:
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
    """The landing page: the tickets this user may see, newest first, with keyset
    pagination (`?before=<id>`) so deep pages cost the same as the first."""
    filters = TicketListFilter(request.GET)
    filters.is_valid()  # bad values fall back to defaults; the form shows them
    data = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.tickets_visible_to(request.user)
    status = data.get("status") or ""
    if status == "":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    if data.get("before"):
        qs = qs.filter(id__lt=data["before"])
    rows = list(
        qs.select_related("requester", "organization", "assignee", "team", "category").order_by(
            "-id"
        )[: PAGE_SIZE + 1]
    )
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render(
        request,
        "tickets/list.html",
        {
            "tickets": rows,
            "filters": filters,
            "status": status,
            "heading": _list_heading(request.user),
            "next_before": rows[-1].pk if has_more else None,
            "is_staff_view": request.user.has_perm("tickets.work_tickets"),
        },
    )


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    form = TicketCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(
                requester=request.user,
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                channel=Channel.PORTAL if request.user.role == Role.CUSTOMER else Channel.AGENT,
                attachments=form.cleaned_data["attachments"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Ticket {ticket.key} created. We'll be in touch soon.")
            return redirect(ticket)
    return render(request, "tickets/new.html", {"form": form}, status=400 if form.errors else 200)


def _detail_context(request, ticket, **forms):
    user = request.user
    is_staff = user.has_perm("tickets.work_tickets")
    context = {
        "ticket": ticket,
        "conversation": selectors.messages_visible_to(user, ticket),
        "is_staff": is_staff,
        "reply_form": forms.get("reply_form") or ReplyForm(),
    }
    if is_staff:
        context["events"] = ticket.events.select_related("actor").order_by("-created_at", "-id")[
            :100
        ]
        context["status_form"] = forms.get("status_form") or StatusForm(
            initial={"status": ticket.status}
        )
        context["assign_form"] = forms.get("assign_form") or AssignForm(
            initial={"assignee": ticket.assignee_id}
        )
    return context


@login_required
def ticket_detail(request: HttpRequest, key: str) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, key)
    return render(request, "tickets/detail.html", _detail_context(request, ticket))


def _rerender(request, ticket, **forms) -> HttpResponse:
    return render(
        request, "tickets/detail.html", _detail_context(request, ticket, **forms), status=400
    )


@login_required
@require_POST
def ticket_reply(request: HttpRequest, key: str) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, key)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _rerender(request, ticket, reply_form=form)
    try:
        services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=form.cleaned_data["body"],
            is_internal=form.cleaned_data["is_internal"],
            status=form.cleaned_data["status"] or None,
            channel=Channel.PORTAL if request.user.role == Role.CUSTOMER else Channel.AGENT,
            attachments=form.cleaned_data["attachments"],
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _rerender(request, ticket, reply_form=form)
    messages.success(request, "Note added." if form.cleaned_data["is_internal"] else "Reply sent.")
    return redirect(ticket)


@login_required
@require_POST
def ticket_status(request: HttpRequest, key: str) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, key)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _rerender(request, ticket, status_form=form)
    try:
        services.ticket_change_status(
            ticket=ticket, status=form.cleaned_data["status"], actor=request.user
        )
    except DomainError as exc:
        form.add_error("status", exc.message)
        messages.error(request, exc.message)
        return _rerender(request, ticket, status_form=form)
    messages.success(request, "Status updated.")
    return redirect(ticket)


@login_required
@require_POST
def ticket_assign(request: HttpRequest, key: str) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, key)
    if not request.user.has_perm("tickets.work_tickets"):
        # Customers can see their ticket but not staff its assignment.
        return HttpResponse("Only helpdesk staff can assign tickets.", status=403)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _rerender(request, ticket, assign_form=form)
    try:
        services.ticket_assign(
            ticket=ticket, assignee=form.cleaned_data["assignee"], actor=request.user
        )
    except DomainError as exc:
        form.add_error("assignee", exc.message)
        return _rerender(request, ticket, assign_form=form)
    messages.success(request, "Assignee updated.")
    return redirect(ticket)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Attachments are served only to people who can see the message."""
    attachment = Attachment.objects.select_related("message__ticket").filter(pk=pk).first()
    if attachment is None:
        raise Http404("No such attachment")
    ticket = selectors.ticket_get_for_user(request.user, attachment.message.ticket.key)
    visible = selectors.messages_visible_to(request.user, ticket).filter(pk=attachment.message_id)
    if not visible.exists():
        raise Http404("No such attachment")
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
