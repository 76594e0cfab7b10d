"""Staff-only parts of the agent workspace: the ticket page's side panels and
the actions behind them (properties in place, link, merge, presence), bulk
actions on a queue, and saved views. Every ticket goes through the access
helper; every write through tickets.services."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.inputs import parse_id
from tickets import presence, selectors, services
from tickets.errors import DomainError
from tickets.forms import SavedViewForm, TicketKeyForm
from tickets.models import Priority, SavedView, Status, Ticket, User
from tickets.ticket_page import (
    link_form,
    merge_form,
    properties_form,
    render_ticket_page,
    staff_ticket,
)

staff_required = permission_required("tickets.work_tickets", raise_exception=True)


@login_required
@require_POST
def ticket_properties(request: HttpRequest, key: str) -> HttpResponse:
    user = selectors.logged_in_user(request)
    ticket = staff_ticket(request, key)
    form = properties_form(ticket, services.ticket_version(ticket), request.POST)
    htmx = request.headers.get("HX-Request") == "true"
    if form.is_valid():
        data = form.cleaned_data
        form.run(
            services.ticket_set_properties,
            ticket=ticket,
            actor=user,
            expected_version=data["version"],
            status=data["status"],
            priority=data["priority"],
            category=data["category"],
            team=data["team"],
            assignee=data["assignee"],
            tags=data["tags"],
        )
        if not form.errors:
            if not htmx:
                messages.success(request, "Ticket updated.")
                return redirect(ticket)
            ticket = selectors.ticket_get_for_user(user, key)
            form = properties_form(ticket, services.ticket_version(ticket))
            return render(
                request,
                "tickets/_properties_fields.html",
                {"ticket": ticket, "properties_form": form, "saved": True},
            )
    if htmx:
        return render(
            request,
            "tickets/_properties_fields.html",
            {"ticket": ticket, "properties_form": form},
            status=400,
        )
    return render_ticket_page(request, ticket, status=400, properties_form=form)


def _other_ticket(request: HttpRequest, form: TicketKeyForm) -> Ticket | None:
    """The ticket a key form names, if this user may see it."""
    user = selectors.logged_in_user(request)
    try:
        return selectors.ticket_get_for_user(user, form.cleaned_data["key"])
    except Http404:
        form.add_error("key", f"No ticket {form.cleaned_data['key']} that you can see.")
        return None


def _with_other_ticket(
    request: HttpRequest,
    ticket: Ticket,
    form: TicketKeyForm,
    *,
    form_name: str,
    act: Callable[[Ticket], tuple[str, Ticket]],
) -> HttpResponse:
    """The flow shared by link and merge: validate the key form, find the
    ticket it names through the access helper, then `act(other)` calls the
    service and returns the success message and the ticket to go to. A
    refusal becomes an error on the form and the page is shown again (400)
    with the form under `form_name`."""
    other = _other_ticket(request, form) if form.is_valid() else None
    if other is not None:
        outcome = form.run(act, other=other)
        if outcome is not None:
            message, destination = outcome
            messages.success(request, message)
            return redirect(destination)
    return render_ticket_page(request, ticket, status=400, **{form_name: form})


@login_required
@require_POST
def ticket_link(request: HttpRequest, key: str) -> HttpResponse:
    user = selectors.logged_in_user(request)
    ticket = staff_ticket(request, key)
    if request.POST.get("unlink"):
        services.ticket_link(child=ticket, parent=None, actor=user)
        messages.success(request, "Link removed.")
        return redirect(ticket)

    def link(other: Ticket) -> tuple[str, Ticket]:
        services.ticket_link(child=ticket, parent=other, actor=user)
        return f"Linked to parent {other.key}.", ticket

    form = link_form(request.POST)
    return _with_other_ticket(request, ticket, form, form_name="link_form", act=link)


@login_required
@require_POST
def ticket_merge(request: HttpRequest, key: str) -> HttpResponse:
    user = selectors.logged_in_user(request)
    source = staff_ticket(request, key)

    def merge(other: Ticket) -> tuple[str, Ticket]:
        services.ticket_merge(source=source, target=other, actor=user)
        return f"{source.key} was merged into {other.key}.", other

    form = merge_form(request.POST)
    return _with_other_ticket(request, source, form, form_name="merge_form", act=merge)


@login_required
@require_POST
def ticket_presence(request: HttpRequest, key: str) -> HttpResponse:
    """Polled by the ticket page: report this agent, show the others."""
    user = selectors.logged_in_user(request)
    ticket = staff_ticket(request, key)
    if request.POST.get("state") == "left":
        presence.presence_leave(ticket_id=ticket.pk, user=user)
        return HttpResponse(status=204)
    others = presence.presence_report(
        ticket_id=ticket.pk, user=user, state=request.POST.get("state", "viewing")
    )
    changed = request.POST.get("version") not in (None, "", services.ticket_version(ticket))
    return render(
        request, "tickets/_presence.html", {"others": others, "changed": changed, "ticket": ticket}
    )


# --- bulk actions ---------------------------------------------------------------

BULK_ACTIONS = ("assign", "status", "priority", "tag", "merge")


@login_required
@staff_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """Apply one action to the selected tickets. Each ticket is its own
    transaction: one refusal does not undo the others, and is reported."""
    user = selectors.logged_in_user(request)
    back = request.POST.get("next", "")
    # Only back to a path of this site: "//evil.example/" starts with "/" too,
    # and redirect() would take a word without a slash for a view's name.
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("tickets:list")
    action = request.POST.get("action", "")
    ids = [pk for pk in map(parse_id, request.POST.getlist("ticket")) if pk is not None][:200]
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose an action.")
        return redirect(back)
    if not ids:
        messages.error(request, "Select at least one ticket.")
        return redirect(back)
    tickets = list(selectors.tickets_visible_to(user).filter(pk__in=ids).order_by("id"))
    value = request.POST.get(action, "")
    done, refused = [], []
    try:
        apply = _bulk_operation(request, action, value, tickets)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    for ticket in tickets:
        try:
            apply(ticket)
            done.append(ticket.key)
        except DomainError as exc:
            refused.append(f"{ticket.key}: {exc.message}")
    if done:
        messages.success(request, f"{action.title()}: {len(done)} ticket(s) updated.")
    for line in refused:
        messages.error(request, line)
    return redirect(back)


def _bulk_operation(request, action: str, value: str, tickets: list[Ticket]):
    actor = request.user
    if action == "assign":
        if value == "me":
            assignee = actor
        elif value == "none":
            assignee = None
        else:
            agent_id = parse_id(value)
            assignee = User.objects.filter(pk=agent_id).first() if agent_id else None
            if assignee is None:
                raise DomainError("Choose an agent to assign to.")
        return lambda t: services.ticket_assign(ticket=t, assignee=assignee, actor=actor)
    if action == "status":
        if value not in Status.values:
            raise DomainError("Choose a status.")
        return lambda t: services.ticket_change_status(ticket=t, status=value, actor=actor)
    if action == "priority":
        if value not in Priority.values:
            raise DomainError("Choose a priority.")
        return lambda t: services.ticket_update(ticket=t, actor=actor, priority=value)
    if action == "tag":
        if not value.strip():
            raise DomainError("Type the tag to add.")
        return lambda t: services.ticket_add_tag(ticket=t, tag=value, actor=actor)
    # merge: everything into the oldest selected ticket
    if len(tickets) < 2:
        raise DomainError("Select at least two tickets to merge.")
    target = tickets[0]
    return lambda t: (
        None if t.pk == target.pk else services.ticket_merge(source=t, target=target, actor=actor)
    )


# --- saved views ----------------------------------------------------------------


@login_required
@staff_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    user = selectors.logged_in_user(request)
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the view a name.")
        return redirect(reverse("tickets:list") + "?" + request.POST.get("query", ""))
    query = form.cleaned_data["query"].lstrip("?")
    view, created = SavedView.objects.update_or_create(
        owner=user, name=form.cleaned_data["name"].strip(), defaults={"query": query}
    )
    messages.success(request, f"View \u201c{view.name}\u201d {'saved' if created else 'updated'}.")
    return redirect(reverse("tickets:list") + "?" + query)


@login_required
@staff_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = selectors.logged_in_user(request)
    deleted, _ = SavedView.objects.filter(owner=user, pk=pk).delete()
    if not deleted:
        raise Http404("No such view")
    messages.success(request, "View deleted.")
    return redirect("tickets:list")
